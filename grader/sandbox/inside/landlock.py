"""Landlock through ctypes: confine a worker's file system and TCP access, and its scopes.

Loaded by path inside the worker (it must import nothing from the grader). A ruleset handles
every file-system right the kernel's ABI knows, so whatever no rule grants is denied: the
worker may read and execute beneath the Python runtime and system libraries, read a few files
of ``/etc``, ``/proc`` and ``/dev``, and read and write beneath its scratch directory only.
From ABI 4 on, TCP bind and connect are handled with no rule (denied); from ABI 6 on, abstract
UNIX sockets and signals are scoped to the worker's own domain.
"""

from __future__ import annotations

import ctypes
import os
import stat
from collections.abc import Iterable

SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446  # same on every arch
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
MAKE_REG, MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = 1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 12
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15  # ABI 2, 3 and 5
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1  # ABI 4
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1  # ABI 6

FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV
"""The rights that apply to a file (a rule on a file with any other right is invalid)."""
READ = READ_FILE | READ_DIR
READ_EXEC = READ | EXECUTE
# Everything a scratch directory needs; no execute (it is mounted noexec too), no devices.
READ_WRITE = (READ | WRITE_FILE | REMOVE_DIR | REMOVE_FILE | MAKE_DIR | MAKE_REG | MAKE_SOCK
              | MAKE_FIFO | MAKE_SYM | REFER | TRUNCATE)

# The few files of /etc that libc and Python read; not /etc as a whole (shadow, ssh keys, ...).
ETC_FILES = ("ld.so.cache", "localtime", "nsswitch.conf", "passwd", "group", "hosts",
             "resolv.conf", "host.conf", "gai.conf", "services", "protocols", "mime.types")
DEVICES = {"/dev/null": READ_FILE | WRITE_FILE | IOCTL_DEV, "/dev/zero": READ_FILE,
           "/dev/urandom": READ_FILE, "/dev/random": READ_FILE}
SYSTEM_READ_EXEC = ("/usr", "/lib", "/lib64", "/lib32")
SYSTEM_READ = ("/proc", "/sys/devices/system/cpu")


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


_libc = ctypes.CDLL(None, use_errno=True)


def _syscall(number: int, *args: object) -> int:
    result = int(_libc.syscall(number, *args))
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"landlock syscall {number}: {os.strerror(errno)}")
    return result


def abi_version() -> int:
    """The kernel's Landlock ABI version, 0 when Landlock is missing or disabled."""
    try:
        return _syscall(SYS_CREATE_RULESET, None, 0, CREATE_RULESET_VERSION)
    except OSError:
        return 0


def fs_rights(abi: int) -> int:
    """Every file-system right the ABI knows (all are handled, so all are denied by default)."""
    rights = (1 << 13) - 1
    if abi >= 2:
        rights |= REFER
    if abi >= 3:
        rights |= TRUNCATE
    if abi >= 5:
        rights |= IOCTL_DEV
    return rights


def runtime_paths(prefixes: Iterable[str], package_dir: str) -> list[str]:
    """The Python runtime directories to allow: never ``/``, nor a folder holding a checkout.

    ``prefixes`` are ``sys.prefix``, ``sys.base_prefix`` and the ``site-packages`` entries of
    ``sys.path``. When the grader runs from a checkout (``reference/`` and ``assignments/``
    beside the package), the checkout may hold the venv but no allowed folder may hold it; an
    installed grader (a wheel in site-packages) carries no answers.
    """
    parent = os.path.realpath(os.path.dirname(package_dir))
    checkout = any(os.path.exists(os.path.join(parent, name))
                   for name in ("reference", "assignments", "pyproject.toml"))
    allowed: list[str] = []
    for path in prefixes:
        real = os.path.realpath(path)
        holds_checkout = checkout and (parent + "/").startswith(real.rstrip("/") + "/")
        if os.path.isdir(real) and real != "/" and not holds_checkout and real not in allowed:
            allowed.append(real)
    return allowed


def plan(scratch: str, runtime: Iterable[str]) -> list[tuple[str, int]]:
    """The (path, rights) rules of a worker; paths that do not exist are left out later."""
    rules = [(p, READ_EXEC) for p in (*runtime, *SYSTEM_READ_EXEC)]
    rules += [(p, READ) for p in SYSTEM_READ]
    rules += [(f"/etc/{name}", READ_FILE) for name in ETC_FILES]
    rules += list(DEVICES.items())
    rules.append((scratch, READ_WRITE))
    return rules


def restrict(rules: Iterable[tuple[str, int]], abi: int) -> None:
    """Create the ruleset, add ``rules`` and restrict this thread (and its future children).

    no_new_privs must already be set. Raises OSError if any step fails.
    """
    handled = fs_rights(abi)
    attr = _RulesetAttr(handled, NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0,
                        SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0)
    ruleset = _syscall(SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.sizeof(attr), 0)
    try:
        for path, rights in rules:
            _add_path_rule(ruleset, path, rights & handled)
        _syscall(SYS_RESTRICT_SELF, ruleset, 0)
    finally:
        os.close(ruleset)


def _add_path_rule(ruleset: int, path: str, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            rights &= FILE_RIGHTS
        rule = _PathBeneathAttr(rights, fd)
        _syscall(SYS_ADD_RULE, ruleset, RULE_PATH_BENEATH, ctypes.byref(rule), 0)
    finally:
        os.close(fd)
