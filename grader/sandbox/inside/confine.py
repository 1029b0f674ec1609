"""Confine a freshly forked worker before any student code runs (loaded by path, see worker.py).

With namespaces, one forked process becomes three::

    zygote ─ outer (setsid; unshares user, mount, PID, net, IPC and UTS namespaces, waits)
               └─ init, PID 1 of the new namespace (private mounts, /proc, host folders
                  hidden, tmpfs; reaps)
                    └─ worker, PID 2 (rlimits, no capabilities, no_new_privs, Landlock,
                       seccomp; then it serves the trusted side)

The student's code is not PID 1 because the kernel protects a namespace's init from signals
its own namespace sends (``os.kill(os.getpid(), SIGKILL)``, SIGXCPU at the CPU limit, SIGXFSZ
at the file size limit would all be ignored) and because init must reap orphans. When the
worker ends, init ends, and the kernel kills everything left in the namespace (children that
called setsid() included); the outer process then ends the way the worker did, so the zygote
reports the worker's own exit status. The trusted side's SIGKILL to the outer process's group
reaches init too, and each level dies with its parent (PR_SET_PDEATHSIG).

The worker reports what was applied in a first frame, ``{"ready": true, ...facts}``, before
any student code runs; a requested layer that fails ends it with ``{"ready": false, "layer":
..., "error": ...}`` instead (fail closed).
"""

from __future__ import annotations

import importlib.util
import os
import resource
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any, NoReturn

LINUX = sys.platform.startswith("linux")
HERE = Path(__file__).resolve().parent


def _sibling(name: str) -> Any:
    """Load a sibling module by path (the grader package is not importable in workers)."""
    key = f"_grader_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, HERE / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    return sys.modules[key]


# ctypes over Linux's own calls: loaded on Linux only, and used only there.
ns: Any = _sibling("namespaces") if LINUX else None
landlock: Any = _sibling("landlock") if LINUX else None
mounts: Any = _sibling("mounts") if LINUX else None
newroot: Any = _sibling("newroot") if LINUX else None
cgroup: Any = _sibling("cgroup") if LINUX else None
_seccomp_filter: Any = _sibling("seccomp_filter") if LINUX else None


def _load_seccomp() -> tuple[Any, str]:
    """pyseccomp, imported in the zygote (it runs ldconfig to find libseccomp, once)."""
    if _seccomp_filter is None:
        return None, "not Linux"
    try:
        return _seccomp_filter.load_library(), ""
    except (ImportError, OSError) as exc:
        return None, f"{type(exc).__name__}: {exc}"


SECCOMP, SECCOMP_MISSING = _load_seccomp()
RUNTIME = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
           *(p for p in sys.path if Path(p).name in ("site-packages", "dist-packages"))]


SYSTEM_DIRS = (*landlock.SYSTEM_READ_EXEC, "/bin", "/sys/devices/system/cpu") if LINUX else ()


class LayerFailed(Exception):
    def __init__(self, layer: str, error: BaseException) -> None:
        super().__init__(f"{layer}: {error}")
        self.layer = layer
        self.error = f"{type(error).__name__}: {error}"


def enter(request: dict[str, Any], chan_fd: int, protocol: Any) -> dict[str, Any]:
    """Apply the requested layers; returns (in the confined worker only) what was applied.

    Any failure is sent on the channel as a not-ready frame and ends the process.
    """
    layers = request.get("layers", {})
    facts: dict[str, Any] = {"ready": True}
    try:
        limits = dict(request["limits"])
        if LINUX and "budget" in request:  # before the namespaces: the cgroups must be seen
            facts["budget"] = cgroup.apply(request["budget"], limits,
                                           bool(layers.get("namespaces")))
        if LINUX and layers.get("namespaces"):
            hidden = _namespaces(request, chan_fd, layers)
            facts.update(namespaces=True, scratch_size=request["scratch_size"],
                         scratch_inodes=request["scratch_inodes"], hidden=hidden)
            if layers.get("new_root"):
                facts["new_root"] = True
        _workspace(request["scratch"])
        _apply_limits(limits)
        if LINUX:
            facts.update(_restrict(request["scratch"], layers))
    except LayerFailed as exc:
        _fail(chan_fd, protocol, exc.layer, exc.error)
    except Exception as exc:
        _fail(chan_fd, protocol, "setup", f"{type(exc).__name__}: {exc}")
    protocol.write_frame(chan_fd, facts)
    return facts


def _fail(chan_fd: int, protocol: Any, layer: str, error: str) -> NoReturn:
    try:
        protocol.write_frame(chan_fd, {"ready": False, "layer": layer, "error": error[:1000]})
    finally:
        os._exit(1)


def _step(layer: str, fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception as exc:
        raise LayerFailed(layer, exc) from None


def _namespaces(request: dict[str, Any], chan_fd: int, layers: dict[str, Any]) -> list[str]:
    """Become the worker inside fresh namespaces (see the module docstring).

    Returns the host folders the worker cannot see: all but its runtime with a new root
    (``newroot.py``), else those hidden under empty read-only tmpfs (``mounts.py``) if asked.
    """
    uid, gid = os.getuid(), os.getgid()
    _step("namespaces", ns.unshare, ns.ALL)
    _step("namespaces", ns.map_own_ids, uid, gid)
    status_r, status_w = os.pipe()
    init = os.fork()
    if init:
        os.close(status_w)
        os.close(chan_fd)
        _relay(init, status_r)
    os.close(status_r)
    _step("namespaces", ns.die_with_parent, int(signal.SIGKILL))
    _step("namespaces", ns.private_proc)
    scratch = request["scratch"]
    below = _step("scratch tmpfs", os.open, scratch, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    runtime = landlock.runtime_paths(RUNTIME, str(HERE))
    if layers.get("new_root"):
        hidden = _step("new root", _new_root, scratch, runtime)
    elif layers.get("hide_host_dirs", True):
        hidden = _step("hidden host folders", mounts.hide, ns.mount, scratch, runtime)
    else:
        hidden = []
    _step("scratch tmpfs", ns.scratch_tmpfs, below, scratch, int(request["scratch_size"]),
          int(request["scratch_inodes"]))
    worker = os.fork()
    if worker:
        os.close(chan_fd)
        _init(worker, status_w)
    os.close(status_w)
    _step("namespaces", ns.die_with_parent, int(signal.SIGKILL))
    if os.getppid() != 1:  # init died before the line above: nothing would kill us with it
        os._exit(1)
    return list(hidden)


def _new_root(scratch: str, runtime: list[str]) -> list[str]:
    """Pivot into a root of read-only bind mounts of the runtime (``newroot.py``); the scratch
    folder's path, empty there, is where the caller mounts the scratch tmpfs."""
    # As sys.path names them (perhaps through a link): the new root makes the links again.
    named = [p for p in RUNTIME if any(os.path.realpath(p) == r or
                                       os.path.realpath(p).startswith(r + "/") for r in runtime)]
    dirs = [*runtime, *named, str(HERE), *newroot.system_dirs(SYSTEM_DIRS)]
    files = [f"/etc/{name}" for name in landlock.ETC_FILES]
    hidden = mounts.targets()
    newroot.build(ns.mount, scratch, dirs, files, scratch)
    newroot.pivot(scratch)
    return list(hidden)


def _init(worker: int, status_w: int) -> NoReturn:
    """PID 1: reap orphans until the worker ends, then pass its wait status on and end."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT,
                signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(sig, signal.SIG_IGN)
    ns.undumpable()  # after the fork: the worker keeps its own /proc files readable
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            os._exit(1)
        if pid == worker:
            os.write(status_w, str(status).encode())
            os._exit(0)


def _relay(init: int, status_r: int) -> NoReturn:
    """The outer process: wait for init, then end exactly as the worker ended."""
    _, init_status = os.waitpid(init, 0)
    data = os.read(status_r, 32)  # empty when init was killed before it could write
    end_like(int(data) if data else init_status)


def end_like(status: int) -> NoReturn:
    """Exit with the code, or die by the signal, of a wait status."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if sig not in (signal.SIGKILL, signal.SIGSTOP):
            signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [sig])
        os.kill(os.getpid(), sig)
        os._exit(128 + sig)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def _workspace(scratch: str) -> None:
    # After the tmpfs mount: a working directory opened before it would reach the disk below.
    os.chdir(scratch)
    os.environ["HOME"] = scratch
    os.environ["TMPDIR"] = os.path.join(scratch, "tmp")
    os.makedirs(os.environ["TMPDIR"], exist_ok=True)
    # Settled now: gettempdir() would otherwise probe for a writable folder on first use, and
    # fail for an honest function once an earlier one has filled the scratch.
    tempfile.tempdir = os.environ["TMPDIR"]
    # torch.optim makes sure its compiler cache folder exists; made now, before any student
    # code can use up the scratch's inodes, that check needs none.
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = os.path.join(scratch, "tmp", "torchinductor")
    os.makedirs(os.environ["TORCHINDUCTOR_CACHE_DIR"], exist_ok=True)
    # After site-packages, so a submission's numpy.py cannot shadow the real numpy.
    sys.path.append(scratch)


def _apply_limits(limits: dict[str, int]) -> None:
    for name, value in limits.items():
        which = getattr(resource, name)
        _soft, hard = resource.getrlimit(which)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (value, value))


def _restrict(scratch: str, layers: dict[str, Any]) -> dict[str, Any]:
    """Capabilities, no_new_privs, Landlock, then seccomp (last: it forbids mount, unshare)."""
    facts: dict[str, Any] = {}
    _step("capabilities", ns.drop_capabilities)
    facts["capabilities_dropped"] = True
    _step("no_new_privs", ns.no_new_privs)
    facts["no_new_privs"] = True
    if layers.get("landlock"):
        abi = landlock.abi_version()
        if abi < 1:
            raise LayerFailed("landlock", OSError("Landlock is not enabled in this kernel"))
        rules = landlock.plan(scratch, landlock.runtime_paths(RUNTIME, str(HERE)))
        _step("landlock", landlock.restrict, rules, abi)
        facts["landlock"] = abi
    if layers.get("seccomp"):
        if SECCOMP is None:
            raise LayerFailed("seccomp", OSError(SECCOMP_MISSING))
        _step("seccomp", _seccomp_filter.install, SECCOMP)
        facts["seccomp"] = True
    return facts
