"""The resource limits of one worker, and this machine's defaults.

An assignment's rubric may change them (``[limits]``, read by ``grader/assignment.py``).
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Limits:
    """Resource limits applied inside each worker (see ``resource.setrlimit``)."""

    cpu_seconds: int = 600
    address_space: int = 2 * 1024**3
    """Each process's address space (a torch worker reserves about 650 MiB of it)."""
    file_size: int = 16 * 1024**2
    open_files: int = 256
    extra_processes: int = 64
    """How many processes a worker may add to those its user already runs."""
    scratch_size: int = 64 * 1024**2
    """The scratch tmpfs's size: the worker's disk quota (with namespaces)."""
    scratch_inodes: int = 4096
    memory: int = 8 * 1024**3
    """The submission's memory budget, all its processes together (see :meth:`budget`): without
    a cgroup, room for four processes at the address-space limit (the worker, the check's copy,
    and a spare copy or the submission's own thread or child)."""
    cpu_share: float = 1.0
    """The cores all the submission's processes together may use (with a cgroup)."""

    def rlimit_processes(self) -> int:
        """Without a cgroup, how many processes (the worker's included) the submission may run:
        so many that each at its address-space limit stay within the memory budget together."""
        return max(1, min(self.extra_processes + 1, self.memory // self.address_space))

    def budget(self, parents: dict[str, str]) -> dict[str, Any]:
        """The ``budget`` field of a fork request: a cgroup in ``parents`` (``cgroup.place``),
        if any, else rlimits alone (:meth:`rlimit_processes`)."""
        return {"cgroups": parents, "memory": self.memory, "processes": self.extra_processes + 1,
                "cpu": self.cpu_share, "rlimit_processes": self.rlimit_processes(),
                "address_space": self.address_space}

    def rlimits(self) -> dict[str, int]:
        """The rlimits of a worker; the process cap is the worker's own (``inside/confine.py``
        lowers it to :meth:`rlimit_processes` when there is no cgroup)."""
        return {
            "RLIMIT_CPU": self.cpu_seconds,
            "RLIMIT_AS": min(self.address_space, self.memory),
            "RLIMIT_FSIZE": self.file_size,
            "RLIMIT_NOFILE": self.open_files,
            "RLIMIT_CORE": 0,
            "RLIMIT_NPROC": _processes_of_this_user() + self.extra_processes,
        }


def _processes_of_this_user() -> int:
    uid = os.getuid()
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                count += entry.stat().st_uid == uid
            except OSError:
                pass
    return count


def worker_limits() -> Limits:
    """Limits for this machine: never more address space than this process may have."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or soft >= Limits.address_space:
        return Limits()
    return Limits(address_space=soft)
