"""A pids cgroup for a root grader's worker (loaded by path inside the worker, see confine.py).

The kernel exempts uid 0 from RLIMIT_NPROC, so a worker of a root grader is capped here instead.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PIDS_CGROUPS = ("/sys/fs/cgroup/pids", "/sys/fs/cgroup")


def join_pids_cgroup(limit: int) -> bool:
    """Cap this worker's tasks with a pids cgroup: RLIMIT_NPROC does not bind uid 0.

    Best effort, for root only (an ordinary user is bound by RLIMIT_NPROC); the folders of
    workers that have ended are removed here too, since nothing else outlives them.
    """
    for base in PIDS_CGROUPS:
        parent = os.path.join(base, "dl-grader")
        if base.endswith("pids"):
            if not os.path.exists(os.path.join(base, "cgroup.procs")):
                continue
        elif "pids" not in _read(os.path.join(base, "cgroup.subtree_control")).split():
            continue
        try:
            os.makedirs(parent, exist_ok=True)
            for stale in os.listdir(parent):
                with contextlib.suppress(OSError):  # busy: a live worker's
                    os.rmdir(os.path.join(parent, stale))
            mine = os.path.join(parent, f"w{os.getpid()}")
            os.mkdir(mine)
            Path(mine, "pids.max").write_text(str(limit))
            Path(mine, "cgroup.procs").write_text(str(os.getpid()))
            return True
        except OSError:
            continue
    return False


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""
