"""An honest submission graded beside a CPU-hungry one: how much slower than alone?

Run from the checkout: ``.venv/bin/python benchmarks/neighbours.py [--runs 3] [--spinners 50]
[--control]``. It grades assignment 1's solution (public and hidden checks) ``--runs`` times
alone, then as many times while a worker of another submission (forked from its own zygote,
with the same limits and budget as in a batch) runs ``--spinners`` processes that spin
forever, and prints the medians and their ratio (the target: at most 2x). The hungry worker's
budget decides: a cgroup caps all its processes at one core (``cpu.max``), rlimits cap how
many it may start. ``--control`` repeats the measurement with the hungry worker left without
a budget (no cgroup, a process cap above the spinners), to show what the budget prevents.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader.assignment import load_assignment
from grader.grading import Grader
from grader.sandbox.worker import WorkerProcess
from grader.sandbox.zygote import Zygote, worker_limits
from grader.submission import read_submission

ROOT = Path(__file__).resolve().parents[1]
HUNGRY = """\
import os

def _spin():
    while True:
        pass

# One child forks the spinners and then spins too, so the import itself returns at once.
if os.fork() == 0:
    for _ in range({n} - 1):
        try:
            if os.fork() == 0:
                _spin()
        except OSError:
            break
    _spin()
"""


def grade_times(grader: Grader, path: Path, runs: int) -> list[float]:
    """Wall seconds of ``runs`` gradings of the submission at ``path``."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = grader.grade(read_submission(path))
        times.append(time.perf_counter() - start)
        assert result.score == result.max_score, "the honest submission lost points"
    return times


def start_hungry(zygote: Zygote, spinners: int, unbudgeted: bool) -> WorkerProcess:
    """A worker that has started ``spinners`` spinning processes (as many as it could)."""
    limits = worker_limits()
    if unbudgeted:  # no cgroup, and a process cap above the spinners
        zygote.cgroups = {}
        limits = dataclasses.replace(limits, memory=limits.address_space * (spinners + 2))
    scratch = Path(tempfile.mkdtemp(prefix="grader-bench-hungry-"))
    (scratch / "hungry.py").write_text(HUNGRY.format(n=spinners))
    worker = zygote.fork(scratch, limits)
    reply = worker.request({"op": "import", "path": str(scratch / "hungry.py"),
                            "module": "hungry"}, 60)
    assert reply["ok"], reply
    return worker


def measure(grader: Grader, path: Path, runs: int, spinners: int, unbudgeted: bool
            ) -> tuple[list[float], dict[str, object]]:
    zygote = Zygote()
    try:
        worker = start_hungry(zygote, spinners, unbudgeted)
        time.sleep(1.0)  # let the spinners reach the run queue
        try:
            return grade_times(grader, path, runs), worker.facts.get("budget", {})
        finally:
            worker.close()
    finally:
        zygote.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--spinners", type=int, default=50)
    parser.add_argument("--control", action="store_true")
    args = parser.parse_args()
    path = ROOT / "assignments" / "a1" / "solution.py"
    print("cores: {}, load average before: {:.2f} {:.2f} {:.2f}".format(
        os.cpu_count(), *os.getloadavg()))
    with Grader(load_assignment(ROOT / "assignments" / "a1")) as grader:
        grade_times(grader, path, 1)  # warm: the zygote, the reference values
        alone = statistics.median(grade_times(grader, path, args.runs))
        print(f"alone:                         median {alone:6.2f} s")
        cases = [("beside the hungry one", False)] + (
            [("beside it, without a budget", True)] if args.control else [])
        for label, unbudgeted in cases:
            times, spent = measure(grader, path, args.runs, args.spinners, unbudgeted)
            beside = statistics.median(times)
            print(f"{label + ':':30} median {beside:6.2f} s = {beside / alone:5.2f}x alone "
                  f"(the hungry worker's budget: {spent})")
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
