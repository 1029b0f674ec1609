"""A seccomp filter for workers, built with libseccomp through ``pyseccomp``.

Loaded by path inside the worker (it must import nothing from the grader). Everything is
allowed except what a numerical submission never needs and kernel exploits and escapes do:
debugging other processes, mounting, new namespaces, BPF, perf, keyrings, io_uring, module
and kexec loading, file handles. Denied calls fail with EPERM rather than killing the worker,
so a library probing for a feature sees "not permitted" and carries on. Libraries may call
``personality(0xffffffff)`` to read the persona, so only changing it is denied (turning off
address randomisation, for one). ``clone3``
fails with ENOSYS (its flags are in memory, out of seccomp's reach), so libc falls back to
``clone``, whose namespace flags the filter can see and refuses.

Sockets: ``socket()`` may only create AF_INET and AF_INET6 sockets (the network namespace has no
route anyway); every other family fails with EPERM: AF_UNIX (a pathname socket is a way out of
every namespace: D-Bus, Docker, containerd, systemd), AF_NETLINK, AF_PACKET, AF_VSOCK, AF_ALG
and the rest, and so does the obsolete (AF_INET, SOCK_PACKET), which the kernel turns into
AF_PACKET. ``socketpair()`` keeps working for stream and seqpacket pairs (Python and torch use
them; a connected pair cannot be pointed elsewhere) but not for datagram pairs, which could
``sendto()`` any path. Arguments are compared on their low 32 bits, all the kernel reads.
"""

from __future__ import annotations

import errno
from typing import Any

DENIED = (
    "ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2", "pivot_root",
    "chroot", "bpf", "perf_event_open", "keyctl", "add_key", "request_key", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "kexec_load", "kexec_file_load",
    "init_module", "finit_module", "delete_module", "unshare", "setns", "swapon", "swapoff",
    "reboot", "open_by_handle_at", "name_to_handle_at", "acct", "quotactl",
    # The new mount API, the same power as mount(2).
    "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
)
CLONE_NAMESPACE_FLAGS = (
    0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000,
    0x00000080,
)
"""CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET and NEWTIME."""
AF_INET, AF_INET6 = 2, 10
SOCKET_FAMILIES = 64
"""Families 0..63 are checked (the kernel knows fewer; it refuses larger ones itself)."""
SOCK_DGRAM, SOCK_RAW, SOCK_PACKET = 2, 3, 10
SOCK_TYPE_MASK = 0xF  # the rest of socket()'s type is SOCK_NONBLOCK and SOCK_CLOEXEC
LOW_32 = 0xFFFFFFFF


def load_library() -> Any:
    """The pyseccomp module; raises ImportError or OSError when it or libseccomp is missing."""
    try:
        import pyseccomp
    except RuntimeError as exc:  # pyseccomp raises this when libseccomp.so is not found
        raise OSError(str(exc)) from None
    return pyseccomp


def install(seccomp: Any) -> None:
    """Load the filter into this thread (and its future children); no_new_privs is set too."""
    scmp = seccomp
    deny = scmp.ERRNO(errno.EPERM)
    flt = scmp.SyscallFilter(scmp.ALLOW)
    for name in DENIED:
        number = scmp.resolve_syscall(scmp.Arch.NATIVE, name)
        if number != -1:  # -1: a name this libseccomp does not know (older than the call)
            flt.add_rule(deny, number)
    # The kernel reads the low 32 bits only; any of them clear means a change, not the query.
    # (Rules are OR'ed and take one comparison per argument: no "!=" on 32 bits otherwise.)
    for bit in range(32):
        flt.add_rule(deny, "personality", scmp.Arg(0, scmp.MASKED_EQ, 1 << bit, 0))
    for flag in CLONE_NAMESPACE_FLAGS:
        flt.add_rule(deny, "clone", scmp.Arg(0, scmp.MASKED_EQ, flag, flag))
    _deny_sockets(scmp, flt, deny)
    clone3 = scmp.resolve_syscall(scmp.Arch.NATIVE, "clone3")
    if clone3 != -1:
        flt.add_rule(scmp.ERRNO(errno.ENOSYS), clone3)
    flt.load()


def _deny_sockets(scmp: Any, flt: Any, deny: Any) -> None:
    """socket() for AF_INET and AF_INET6 only; socketpair() for stream and seqpacket only."""
    for family in range(SOCKET_FAMILIES):
        if family not in (AF_INET, AF_INET6):
            flt.add_rule(deny, "socket", scmp.Arg(0, scmp.MASKED_EQ, LOW_32, family))
    flt.add_rule(deny, "socket", scmp.Arg(0, scmp.MASKED_EQ, LOW_32, AF_INET),
                 scmp.Arg(1, scmp.MASKED_EQ, SOCK_TYPE_MASK, SOCK_PACKET))
    for kind in (SOCK_DGRAM, SOCK_RAW):  # AF_UNIX treats SOCK_RAW as SOCK_DGRAM
        flt.add_rule(deny, "socketpair", scmp.Arg(1, scmp.MASKED_EQ, SOCK_TYPE_MASK, kind))
