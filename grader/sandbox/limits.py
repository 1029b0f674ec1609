"""The resource limits of one worker, and this machine's defaults.

An assignment's rubric may change them (``[limits]``, read by ``grader/assignment.py``).
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Resource limits applied inside each worker (see ``resource.setrlimit``)."""

    cpu_seconds: int = 600
    address_space: int = 8 * 1024**3
    file_size: int = 16 * 1024**2
    open_files: int = 256
    extra_processes: int = 64
    """How many processes a worker may add to those its user already runs."""
    scratch_size: int = 64 * 1024**2
    """The scratch tmpfs's size: the worker's disk quota (with namespaces)."""
    scratch_inodes: int = 4096

    def rlimits(self) -> dict[str, int]:
        return {
            "RLIMIT_CPU": self.cpu_seconds,
            "RLIMIT_AS": self.address_space,
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
    """Limits for this machine: the address space cap leaves room for torch's reservations."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    return Limits() if soft == resource.RLIM_INFINITY else Limits(address_space=soft)
