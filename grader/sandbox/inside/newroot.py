"""A new root for a worker's mount namespace: only what it needs, read-only (``pivot_root``).

Loaded by path inside the worker (it must import nothing from the grader). Runs in the new
PID namespace's init, after its own ``/proc`` (``namespaces.private_proc``) and before the
worker is forked. The new root is a small tmpfs, mounted for the time of its building on the
scratch folder's path (a mount point that exists, and that nothing else uses), and holding:

- read-only bind mounts of the Python runtime (prefixes, site-packages) and the system's
  libraries and programs (``/usr``, ``/lib``, ...; links such as ``/bin -> usr/bin`` as links),
  of a few files of ``/etc`` and of the CPU facts in ``/sys`` that numpy and torch read;
- ``/dev`` with ``null``, ``zero``, ``random`` and ``urandom`` bound from the host's;
- a fresh ``/proc`` (mounted before ``pivot_root``: in a user namespace procfs may only be
  mounted while a fully visible one is in the namespace, and the old root holds that one);
- empty ``/tmp``, ``/var/tmp``, ``/run``, ``/var/run`` and ``/dev/shm``, and the scratch
  folder's path, where the caller mounts the scratch tmpfs.

Then ``pivot_root`` makes it the root, the old root is detached (``umount2(MNT_DETACH)``) and
the new root remounted read-only. No path leads to the host's ``/tmp``, ``/run``, ``/home``,
``/root`` or the grader's checkout afterwards: their sockets cannot be connected to, their
files cannot be read, whatever Landlock and seccomp allow.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import platform
from collections.abc import Callable, Iterable

ROOT_OPTIONS = "size=256k,nr_inodes=4096,mode=0755"
EMPTY = ("/tmp", "/var/tmp", "/run", "/var/run", "/dev/shm")
DEVICES = ("/dev/null", "/dev/zero", "/dev/random", "/dev/urandom")
DEV_LINKS = {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1",
             "stderr": "/proc/self/fd/2"}
PUT_OLD = ".old-root"

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC = 32, 1024, 2048, 4096, 1 << 14
MS_RELATIME = 1 << 21
# statvfs's ST_* flags -> mount's MS_* flags: those a bind mount's remount must keep (in a user
# namespace, mounts that came from the parent namespace have them locked).
KEPT_FLAGS = {2: MS_NOSUID, 4: MS_NODEV, 8: MS_NOEXEC, 1024: MS_NOATIME, 2048: MS_NODIRATIME,
              4096: MS_RELATIME}
MNT_DETACH = 2
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}

Mount = Callable[..., None]
_libc = ctypes.CDLL(None, use_errno=True)


def build(mount: Mount, root: str, dirs: Iterable[str], files: Iterable[str],
          keep: str) -> None:
    """Mount a tmpfs on ``root`` and fill it (see the module docstring).

    ``dirs`` and ``files`` are host paths to bind read-only at the same paths (missing ones
    are left out); links on the way to a folder of ``dirs`` are made again (``sys.path`` may
    name a venv through one). ``keep`` is a path to create as an empty folder (the scratch
    mount point). ``mount`` is ``mount(source, target, fstype, flags, data=None)``.
    """
    dirs = list(dirs)
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, ROOT_OPTIONS)
    for path in outermost(dirs):
        _bind_dir(mount, root, path)
    for path in dirs:
        _links_on_the_way(root, path)
    for path in (*files, *DEVICES):
        if os.path.isfile(path) or (path in DEVICES and os.path.exists(path)):
            _bind_file(mount, root, path)
    for path in EMPTY:
        if path == "/var/run" and os.path.islink(path):
            _link(root, path, os.readlink(path))
        elif not os.path.exists(root + path):
            os.makedirs(root + path, 0o755)
    for name, target in DEV_LINKS.items():
        _link(root, f"/dev/{name}", target)
    os.makedirs(root + "/proc", 0o555, exist_ok=True)
    mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.makedirs(root + os.path.realpath(keep), 0o700, exist_ok=True)


def system_dirs(candidates: Iterable[str]) -> list[str]:
    """The folders of ``candidates`` that exist, and the top-level links (``/bin``, ``/lib``
    on a merged-/usr system) as their own paths: :func:`build` recreates those as links."""
    return [p for p in candidates if os.path.isdir(p) or os.path.islink(p)]


def pivot(root: str) -> None:
    """Make ``root`` the root, detach the old one, and remount the new one read-only."""
    os.makedirs(os.path.join(root, PUT_OLD), 0o700)
    os.chdir(root)
    number = SYS_PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise OSError(38, f"pivot_root: unknown system call number on {platform.machine()}")
    _check(_libc.syscall(number, b".", PUT_OLD.encode()), "pivot_root")
    os.chdir("/")
    _check(_libc.umount2(f"/{PUT_OLD}".encode(), MNT_DETACH), "umount2 of the old root")
    os.rmdir(f"/{PUT_OLD}")
    _remount_read_only(_mount_checked, "/", MS_NOSUID | MS_NODEV)


def outermost(paths: Iterable[str]) -> list[str]:
    """The paths (links kept as given, folders resolved), without those beneath another."""
    found: list[str] = []
    norm = {p if os.path.islink(p) and os.path.dirname(p) == "/" else os.path.realpath(p)
            for p in paths}
    for path in sorted(norm, key=len):
        if not any(path == f or path.startswith(f.rstrip("/") + "/") for f in found):
            found.append(path)
    return found


def _bind_dir(mount: Mount, root: str, path: str) -> None:
    if os.path.islink(path):  # /bin -> usr/bin: the target is bound on its own
        _link(root, path, os.readlink(path))
        return
    if not os.path.isdir(path):
        return
    os.makedirs(root + path, 0o755, exist_ok=True)
    mount(path, root + path, None, MS_BIND | MS_REC)
    _remount_read_only(mount, root + path)


def _bind_file(mount: Mount, root: str, path: str) -> None:
    os.makedirs(os.path.dirname(root + path), 0o755, exist_ok=True)
    os.close(os.open(root + path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644))
    mount(path, root + path, None, MS_BIND)
    # Read-only: for a device, only its node; /dev/null still takes writes.
    _remount_read_only(mount, root + path)


def _links_on_the_way(root: str, path: str) -> None:
    """Make again, in the new root, the links through which ``path`` leads to its folder."""
    current = "/"
    for part in os.path.abspath(path).strip("/").split("/"):
        current = os.path.join(current, part)
        if os.path.islink(current):
            if not os.path.lexists(root + current):
                with contextlib.suppress(OSError):  # beneath a bound folder: already there
                    _link(root, current, os.readlink(current))
            current = os.path.realpath(current)


def _link(root: str, path: str, target: str) -> None:
    os.makedirs(os.path.dirname(root + path), 0o755, exist_ok=True)
    if not os.path.lexists(root + path):
        os.symlink(target, root + path)


def _remount_read_only(mount: Mount, target: str, extra: int = 0) -> None:
    flags = os.statvfs(target).f_flag
    kept = sum(ms for st, ms in KEPT_FLAGS.items() if flags & st)
    mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | kept | extra)


def _mount_checked(source: str | None, target: str, fstype: str | None, flags: int,
                   data: str | None = None) -> None:
    enc = [s.encode() if s is not None else None for s in (source, target, fstype, data)]
    _check(_libc.mount(enc[0], enc[1], enc[2], ctypes.c_ulong(flags), enc[3]),
           f"mount on {target}")


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")
