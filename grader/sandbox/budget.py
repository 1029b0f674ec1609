"""A submission's budget (memory, processes, CPU for all its processes together), seen from
the trusted side: where workers' cgroups go, how a result names the budget that applied, and
what a worker the kernel killed for memory is told.

The worker joins its cgroup itself (``inside/confine.py``, ``inside/cgroup.py``); without one
its process cap is lowered instead (:meth:`grader.sandbox.limits.Limits.rlimit_processes`).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from grader.sandbox.inside import cgroup

LINUX = sys.platform.startswith("linux")


@functools.cache
def cgroups() -> tuple[dict[str, str], str]:
    """Where this process's workers' cgroups go (``{}`` if nowhere), and why not (once)."""
    if not LINUX:
        return {}, f"not Linux ({sys.platform})"
    return cgroup.place()


@dataclass
class WorkerCgroup:
    """One worker's cgroup: whether the kernel killed one of its processes for memory."""

    parents: dict[str, str]
    pid: int
    memory: int

    def oom_killed(self) -> bool:
        return cgroup.oom_kills(self.parents, self.pid) > 0

    def remove(self) -> None:
        cgroup.remove(self.parents, self.pid)

    def message(self) -> str:
        return (f"the submission went over its memory budget ({self.memory // 2**20} MiB for "
                "all its processes together), so the kernel stopped it")


def describe(budget: Mapping[str, Any]) -> str:
    """The budget as an entry of a result's ``isolation`` list ("" if none was reported)."""
    kind = budget.get("kind")
    if kind == "cgroup":
        return (f"per-submission cgroup ({budget.get('memory_mb')} MiB, "
                f"{budget.get('processes')} processes, {budget.get('cpu')} CPU)")
    if kind == "rlimit" and budget.get("processes") is None:
        return "per-process rlimits only (root without a cgroup: no process cap)"
    if kind == "rlimit":
        return (f"per-submission cap by rlimits ({budget.get('processes')} processes x address "
                f"space <= {budget.get('memory_mb')} MiB)")
    return ""
