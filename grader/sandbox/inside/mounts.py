"""Hide the host's shared folders from a worker: empty read-only tmpfs over them.

Loaded by path inside the worker (it must import nothing from the grader); the trusted side
imports it too, for :func:`targets` only. Runs in the worker's own mount namespace, after its
``/proc`` and before its scratch tmpfs, Landlock and seccomp. ``/tmp``, ``/var/tmp``, ``/run``
(``/var/run`` when it is not a link to it) and ``/dev/shm`` are where a machine keeps its
pathname sockets (D-Bus, Docker, containerd, systemd, X11) and other users' files: no path in
the worker leads to them afterwards, so a socket there cannot be connected to, whatever else
fails: Landlock (ABI 7 on this kernel, and every earlier one) cannot stop a connect() to an
existing pathname socket.

Whatever the worker needs beneath a hidden folder is put back at its own path: its scratch
directory (an empty mount point, the scratch tmpfs goes on it) and the Python runtime when it
lives there (a read-only bind mount of the folder, opened before it was hidden).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

HIDDEN = ("/tmp", "/var/tmp", "/run", "/var/run", "/dev/shm")
MASK_OPTIONS = "size=16k,nr_inodes=1024,mode=0755"

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC = 32, 1024, 2048, 4096, 1 << 14
MS_RELATIME = 1 << 21
# statvfs's ST_* flags -> mount's MS_* flags: those a bind mount's remount must keep (in a user
# namespace, mounts that came from the parent namespace have them locked).
KEPT_FLAGS = {2: MS_NOSUID, 4: MS_NODEV, 8: MS_NOEXEC, 1024: MS_NOATIME, 2048: MS_NODIRATIME,
              4096: MS_RELATIME}

Mount = Callable[..., None]


def targets(hidden: Iterable[str] = HIDDEN) -> list[str]:
    """The real folders to hide, each once, none beneath another (``/var/run`` -> ``/run``)."""
    found: list[str] = []
    for path in hidden:
        real = os.path.realpath(path)
        if os.path.isdir(real) and real != "/" and not any(_beneath(real, f) for f in found):
            found = [f for f in found if not _beneath(f, real)] + [real]
    return found


def _beneath(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def hide(mount: Mount, scratch: str, runtime: Iterable[str]) -> list[str]:
    """Hide :func:`targets`, keeping ``scratch`` (as a mount point) and ``runtime`` folders.

    ``mount`` is ``mount(source, target, fstype, flags, data=None)``. Returns what was hidden.
    Leaves the caller in ``/`` (a working directory beneath a hidden folder would still
    reach what it hides).
    """
    masks = targets()
    scratch = os.path.realpath(scratch)
    kept = [(real, os.open(real, os.O_PATH | os.O_CLOEXEC)) for real in _outermost(runtime)
            if os.path.isdir(real) and any(_beneath(real, m) for m in masks)]
    try:
        for mask in masks:
            mount("tmpfs", mask, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, MASK_OPTIONS)
        for real, fd in kept:
            os.makedirs(real, 0o755, exist_ok=True)
            _bind_read_only(mount, fd, real)
        if any(_beneath(scratch, m) for m in masks):
            os.makedirs(scratch, 0o700, exist_ok=True)
        for mask in masks:
            mount(None, mask, None,
                  MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
    finally:
        for _real, fd in kept:
            os.close(fd)
    os.chdir("/")
    return masks


def _outermost(paths: Iterable[str]) -> list[str]:
    """The real paths, without those beneath another one."""
    found: list[str] = []
    for real in sorted({os.path.realpath(p) for p in paths}, key=len):
        if not any(_beneath(real, f) for f in found):
            found.append(real)
    return found


def _bind_read_only(mount: Mount, fd: int, target: str) -> None:
    """Bind the folder open as ``fd`` on ``target`` and make that read-only."""
    mount(f"/proc/self/fd/{fd}", target, None, MS_BIND | MS_REC)
    flags = os.statvfs(target).f_flag
    kept = sum(ms for st, ms in KEPT_FLAGS.items() if flags & st)
    mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | kept)
