"""Linux namespaces, mounts, capabilities and prctl flags for a worker, through ctypes.

Loaded by path inside the worker (it must import nothing from the grader). Every call here
works unprivileged: a new user namespace (mapping only the worker's own uid and gid) is what
grants the right to create the others and to mount ``/proc`` and a tmpfs inside them.
"""

from __future__ import annotations

import ctypes
import os
import shutil

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
ALL = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS

MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 1 << 14, 1 << 18
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP = 1, 4, 24
PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 38, 47, 4
LINUX_CAPABILITY_VERSION_3 = 0x20080522

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def prctl(option: int, arg: int = 0, what: str = "prctl") -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(arg), 0, 0, 0), what)


def unshare(flags: int) -> None:
    """unshare(2) (``os.unshare`` is Python 3.12+); the process must have one thread."""
    _check(_libc.unshare(flags), "unshare")


def map_own_ids(uid: int, gid: int) -> None:
    """Map the caller's uid and gid to themselves in its new user namespace.

    An unprivileged process may map only its own ids, and the gid only after ``setgroups``
    is denied (so nobody can drop a group that guards a file from them).
    """
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{uid} {uid} 1\n")
    _write("/proc/self/gid_map", f"{gid} {gid} 1\n")


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def mount(source: str | None, target: str, fstype: str | None, flags: int,
          data: str | None = None) -> None:
    enc = [s.encode() if s is not None else None for s in (source, target, fstype, data)]
    _check(_libc.mount(enc[0], enc[1], enc[2], ctypes.c_ulong(flags), enc[3]),
           f"mount {fstype or ''} on {target}")


def private_proc() -> None:
    """Stop mount events from leaking out, then show only this PID namespace in ``/proc``.

    Must run in the new PID namespace (procfs shows the mounting process's namespace).
    """
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)


def scratch_tmpfs(below: int, scratch: str, size: int, inodes: int) -> None:
    """Mount a size-capped tmpfs over ``scratch`` and copy what was staged there into it.

    ``below`` is the staged folder, opened before anything was mounted over it (or over the
    folder holding it); it is closed here. The cap is the worker's disk quota: a full tmpfs
    fails writes with ENOSPC; nothing reaches the disk.
    """
    try:
        mount("tmpfs", scratch, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              f"size={size},nr_inodes={inodes},mode=0700")
        _copy_tree(below, scratch)
    finally:
        os.close(below)


def _copy_tree(src_fd: int, dst: str) -> None:
    for entry in os.scandir(src_fd):
        target = os.path.join(dst, entry.name)
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
        if entry.is_dir(follow_symlinks=False):
            os.mkdir(target, 0o700)
            sub = os.open(entry.name, flags | os.O_DIRECTORY, dir_fd=src_fd)
            try:
                _copy_tree(sub, target)
            finally:
                os.close(sub)
        elif entry.is_file(follow_symlinks=False):
            fd = os.open(entry.name, flags, dir_fd=src_fd)
            with os.fdopen(fd, "rb") as src, open(target, "xb") as out:
                shutil.copyfileobj(src, out)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def drop_capabilities() -> None:
    """Give up every capability, also for programs the worker might execute.

    A new user namespace grants all capabilities inside it (and a root grader starts with all
    of them), which would override file modes and the trusted process's non-dumpable flag.
    The bounding set can only be emptied with CAP_SETPCAP, which an unprivileged worker
    without a user namespace lacks, but then it has no capability to drop either.
    """
    for cap in range(64):
        if _libc.prctl(PR_CAPBSET_DROP, ctypes.c_ulong(cap), 0, 0, 0) != 0:
            if ctypes.get_errno() == 22:  # EINVAL: past the last capability
                break
    _libc.prctl(PR_CAP_AMBIENT, ctypes.c_ulong(PR_CAP_AMBIENT_CLEAR_ALL), 0, 0, 0)
    header = _CapHeader(LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")


def no_new_privs() -> None:
    """Nothing this process executes may gain privileges (set-uid bits, file capabilities)."""
    prctl(PR_SET_NO_NEW_PRIVS, 1, "prctl(PR_SET_NO_NEW_PRIVS)")


def die_with_parent(signal_number: int) -> None:
    prctl(PR_SET_PDEATHSIG, signal_number, "prctl(PR_SET_PDEATHSIG)")


def undumpable() -> None:
    prctl(PR_SET_DUMPABLE, 0, "prctl(PR_SET_DUMPABLE)")
