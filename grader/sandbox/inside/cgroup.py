"""A cgroup per worker: one budget of memory, processes and CPU for a whole submission.

Loaded by path inside the worker (it must import nothing from the grader); the trusted side
imports it too. Rlimits bind each process on its own (three children under the address-space
limit hold three times it); a cgroup binds them together: ``memory.max``, ``pids.max`` and a
``cpu.max`` share of one core, whatever the submission forks.

:func:`place` (trusted side, once per process) finds where workers' cgroups can go:

- cgroup v2, as root: ``/sys/fs/cgroup/dl-grader`` (the root cgroup may hold processes and
  still hand controllers down);
- cgroup v2, as an ordinary user, in a subtree delegated to them (``systemd-run --user --scope
  -p Delegate=yes ...``): the grader's own cgroup. A cgroup that hands controllers down may not
  hold processes itself, so the grader's processes move into a leaf of it first
  (:data:`TRUSTED`);
- cgroup v1 (hybrid machines), as root: ``/sys/fs/cgroup/{memory,pids,cpu}/dl-grader``.

:func:`apply` (in the forked worker, before its namespaces) joins one: :func:`join` creates
``w<pid>`` there, writes the budget and moves the worker in; everything it forks is born inside.
Without one, :func:`apply` lowers the worker's process cap instead. The trusted side reads
whether the kernel killed a process for memory (:func:`oom_kills`) and removes the cgroup once
the worker is gone (:func:`remove`).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

NAME = "dl-grader"
TRUSTED = "dl-grader-trusted"
V2 = "v2"
CONTROLLERS = ("memory", "pids", "cpu")
PERIOD = 100_000
V1_ROOT = "/sys/fs/cgroup"
DELEGATE_HINT = ("run the grader in a delegated cgroup: systemd-run --user --scope "
                 "-p Delegate=yes grader ...")

Parents = dict[str, str]
"""Where workers' cgroups go: ``{"v2": folder}`` or ``{controller: folder}`` (cgroup v1)."""


def place() -> tuple[Parents, str]:
    """The parents of workers' cgroups, or ``({}, why not)``; see the module docstring."""
    mount = _v2_mount()
    why = "no cgroup v2 hierarchy with the memory, pids and cpu controllers"
    if mount is not None:
        try:
            return _place_v2(mount), ""
        except OSError as exc:
            why = f"cgroup v2 at {mount}: {exc}"
    if os.geteuid() == 0 and all(os.path.exists(f"{V1_ROOT}/{c}/cgroup.procs")
                                 for c in CONTROLLERS):
        try:
            return _place_v1(), ""
        except OSError as exc:
            why = f"cgroup v1: {exc}"
    return {}, why


def _v2_mount() -> str | None:
    """The cgroup2 mount point whose hierarchy has the controllers (not a hybrid's unified)."""
    for line in _read("/proc/self/mountinfo").splitlines():
        left, _, right = line.partition(" - ")
        if right.split(" ")[:1] == ["cgroup2"]:
            mount = left.split(" ")[4]
            if set(CONTROLLERS) <= set(_read(f"{mount}/cgroup.controllers").split()):
                return mount
    return None


def _own_v2(mount: str) -> str:
    for line in _read("/proc/self/cgroup").splitlines():
        if line.startswith("0::"):
            own = os.path.join(mount, line[3:].lstrip("/"))
            return os.path.dirname(own) if os.path.basename(own) == TRUSTED else own
    raise OSError("this process is in no cgroup v2")


def _place_v2(mount: str) -> Parents:
    if os.geteuid() == 0:
        _enable(mount)
        parent = os.path.join(mount, NAME)
        os.makedirs(parent, exist_ok=True)
        _enable(parent)
    else:
        parent = _own_v2(mount)
        if not os.access(os.path.join(parent, "cgroup.procs"), os.W_OK):
            raise OSError(f"{parent} is not delegated to this user; {DELEGATE_HINT}")
        leaf = os.path.join(parent, TRUSTED)
        os.makedirs(leaf, exist_ok=True)
        for pid in _read(os.path.join(parent, "cgroup.procs")).split():
            with contextlib.suppress(ProcessLookupError):
                Path(leaf, "cgroup.procs").write_text(pid)
        _enable(parent)
    _sweep([parent])
    return {V2: parent}


def _place_v1() -> Parents:
    parents = {c: os.path.join(V1_ROOT, c, NAME) for c in CONTROLLERS}
    for parent in parents.values():
        os.makedirs(parent, exist_ok=True)
    _sweep(parents.values())
    return parents


def _enable(folder: str) -> None:
    control = os.path.join(folder, "cgroup.subtree_control")
    missing = [c for c in CONTROLLERS if c not in _read(control).split()]
    if missing:
        Path(control).write_text(" ".join(f"+{c}" for c in missing))


def _sweep(parents: Iterable[str]) -> None:
    """Remove the cgroups of workers that are gone (a grader killed before it removed them)."""
    for parent in parents:
        for entry in os.scandir(parent):
            pid = entry.name[1:]
            if entry.name.startswith("w") and pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
                with contextlib.suppress(OSError):
                    os.rmdir(entry.path)


def leaves(parents: Parents, pid: int) -> dict[str, str]:
    return {kind: os.path.join(parent, f"w{pid}") for kind, parent in parents.items()}


def settings(kind: str, memory: int, processes: int, cpu: float) -> dict[str, str]:
    """The files to write for one hierarchy (``v2`` or a v1 controller) and their values."""
    quota = str(max(1000, int(cpu * PERIOD)))
    if kind == V2:
        return {"memory.max": str(memory), "memory.swap.max": "0", "memory.oom.group": "1",
                "pids.max": str(processes), "cpu.max": f"{quota} {PERIOD}"}
    return {"memory": {"memory.limit_in_bytes": str(memory)},
            "pids": {"pids.max": str(processes)},
            "cpu": {"cpu.cfs_period_us": str(PERIOD), "cpu.cfs_quota_us": quota}}[kind]


OPTIONAL = {"memory.swap.max", "memory.oom.group"}
"""Files an older kernel or a machine without swap may lack."""


def join(parents: Parents, memory: int, processes: int, cpu: float) -> None:
    """Create this process's cgroups, write the budget, and move this process in."""
    for kind, leaf in leaves(parents, os.getpid()).items():
        os.mkdir(leaf, 0o755)
        for name, value in settings(kind, memory, processes, cpu).items():
            try:
                Path(leaf, name).write_text(value)
            except FileNotFoundError:
                if name not in OPTIONAL:
                    raise
        Path(leaf, "cgroup.procs").write_text(str(os.getpid()))


def apply(budget: dict[str, Any], limits: dict[str, int], namespaces: bool) -> dict[str, Any]:
    """In the forked worker: join the submission's cgroup; without one, cap the processes so that
    together, each at its address-space limit, they stay within the memory budget.

    Sets ``limits["RLIMIT_NPROC"]``; returns the budget that applies (``result.json``'s
    ``budget``). The kernel does not hold uid 0 to RLIMIT_NPROC: a root grader without a
    cgroup has no process cap, and says so (``None``).
    """
    processes, memory = int(budget["processes"]), int(budget["memory"])
    # The user's processes before this one (``Limits.rlimits``): the cap counts them too.
    before = limits["RLIMIT_NPROC"] - processes + 1
    if budget.get("cgroups"):
        try:
            # The outer process and init of the namespaces are in the cgroup too.
            join(budget["cgroups"], memory, processes + 2, float(budget["cpu"]))
        except OSError:
            pass  # a full hierarchy, a permission: rlimits then, as on any other machine
        else:
            # The kernel counts a user namespace's processes on their own: here the outer
            # process, init and the worker's, not the user's others outside.
            limits["RLIMIT_NPROC"] = processes + 2 if namespaces else limits["RLIMIT_NPROC"]
            return {"kind": "cgroup", "memory_mb": memory // 2**20, "processes": processes,
                    "cpu": float(budget["cpu"])}
    processes = int(budget["rlimit_processes"])
    limits["RLIMIT_NPROC"] = processes + 2 if namespaces else before + processes
    if os.geteuid() == 0:
        return {"kind": "rlimit", "memory_mb": None, "processes": None, "cpu": None}
    space = min(int(budget["address_space"]), memory)
    return {"kind": "rlimit", "memory_mb": processes * space // 2**20, "processes": processes,
            "cpu": float(processes)}


def oom_kills(parents: Parents, pid: int) -> int:
    """How many processes of worker ``pid``'s cgroup the kernel killed for memory."""
    kind = V2 if V2 in parents else "memory"
    leaf = leaves(parents, pid).get(kind)
    if leaf is None:
        return 0
    name = "memory.events" if kind == V2 else "memory.oom_control"
    for line in _read(os.path.join(leaf, name)).splitlines():
        key, _, value = line.partition(" ")
        if key == "oom_kill" and value.strip().isdigit():
            return int(value)
    return 0


def remove(parents: Parents, pid: int, wait: float = 2.0) -> None:
    """Remove worker ``pid``'s cgroups, once the last of its processes has exited."""
    deadline = time.monotonic() + wait
    for leaf in leaves(parents, pid).values():
        while os.path.isdir(leaf):
            try:
                os.rmdir(leaf)
            except OSError:
                if time.monotonic() > deadline:  # left for the next grader's sweep
                    break
                time.sleep(0.005)


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""
