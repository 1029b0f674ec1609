"""What a fresh copy of the submission per check costs, against one worker for every check.

Run from the checkout: ``.venv/bin/python benchmarks/copy_per_check.py [--runs 50]``. It starts
one zygote (with Assignment 1's warm-up, which imports ``torch._dynamo``, as a batch's zygote
does; ``--no-warmup``: torch only) and one worker with every isolation layer this machine has
(not timed), imports a submission that imports torch, then times, ``--runs`` times each:

- *before* (one worker serves every check): a call of a trivial function, answered by the
  worker itself;
- *fork per check*: what a check adds now, the ``fork`` of its copy (the worker ends the
  previous copy and forks a new one) and the first call, relayed by the worker to the copy;
- *relayed call*: a later call of the same check (the relay's cost alone);
- *first real call*: the first call of a function that does some torch work (a softmax of a
  64x64 tensor) in a fresh copy, against the same call in the worker (copy-on-write faults).

It prints the median and the 90th percentile of each, in milliseconds, and the machine's
load (``os.getloadavg``): on a loaded machine every figure grows, since each step waits for a
core. So it also prints the CPU time per check (Linux): the worker's own and that of the
copies it reaped (``/proc/PID/stat``), per fork-per-check round less per "before" round, which
load changes much less. And it times a fork-per-check round that starts 30 ms after the last
one (a check's own work between calls), when the spare copy is ready.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader.sandbox.isolation import describe, probe
from grader.sandbox.worker import WorkerProcess
from grader.sandbox.zygote import Zygote, worker_limits

WARMUP = Path(__file__).resolve().parents[1] / "assignments" / "a1" / "warmup.py"
SOURCE = """\
import torch
def f(x):
    return x
def work(n):
    return torch.softmax(torch.arange(n * n, dtype=torch.float32).reshape(n, n), -1).sum()
"""
CALL = {"op": "call", "name": "f", "args": [1], "kwargs": {"$": "dict", "items": []},
        "timeout": 10}
WORK = {"op": "call", "name": "work", "args": [64], "kwargs": {"$": "dict", "items": []},
        "timeout": 10}


def timed(fn: Callable[[], Any], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def measure(runs: int, huge_pages: bool = True, warmup: Path | None = WARMUP
            ) -> tuple[dict[str, list[float]], tuple[str, ...]]:
    zygote = Zygote(isolation=probe(), huge_pages=huge_pages, warmup=warmup)
    try:
        zygote.wait_ready()
        with tempfile.TemporaryDirectory(prefix="grader-bench-") as tmp:
            scratch = Path(tmp)
            (scratch / "submission.py").write_text(SOURCE)
            worker = zygote.fork(scratch, worker_limits())
            request = {"op": "import", "path": str(scratch / "submission.py"), "module": "s"}
            assert worker.request(request, 60)["ok"]
            try:
                return _figures(worker, runs), describe(worker.facts)
            finally:
                worker.close()
    finally:
        zygote.close()


def _figures(worker: WorkerProcess, runs: int) -> dict[str, list[float]]:
    def ask(message: dict[str, Any]) -> None:
        assert worker.request(message, 30)["ok"]

    def after_a_pause() -> None:
        time.sleep(0.03)
        start = time.perf_counter()
        ask({"op": "fork"})
        ask(CALL)
        paused.append(time.perf_counter() - start)

    cpu = _CpuClock(worker)
    figures = {"before: a call answered by the worker": timed(lambda: ask(CALL), runs)}
    before_cpu = cpu.lap() / runs
    figures["before: a work() call (in the worker)"] = timed(lambda: ask(WORK), runs)
    cpu.lap()
    figures["fork per check: fork + first call"] = timed(
        lambda: (ask({"op": "fork"}), ask(CALL)), runs)
    ask({"op": "end"})
    fork_cpu = cpu.lap() / runs
    figures["relayed call (a later call of a check)"] = timed(lambda: ask(CALL), runs)
    figures["fork per check: fork + first work() call"] = timed(
        lambda: (ask({"op": "fork"}), ask(WORK)), runs)
    paused: list[float] = []
    timed(after_a_pause, runs)
    figures["fork + first call, 30 ms after the last check"] = paused
    ask({"op": "end"})
    if cpu.pid is not None:
        figures["CPU per check added (worker + its copies)"] = [fork_cpu - before_cpu]
    return figures


class _CpuClock:
    """CPU seconds of the worker (the process that imported the submission) and of the
    copies it has reaped, read from /proc (Linux only; ``pid`` is None elsewhere)."""

    def __init__(self, worker: WorkerProcess) -> None:
        pid: int | None = worker.pid
        if worker.facts.get("namespaces"):  # outer -> init -> worker
            for _ in range(2):
                pid = _only_child(pid)
        self.pid = pid
        self.last = self.read()

    def read(self) -> float:
        if self.pid is None:
            return 0.0
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")

    def lap(self) -> float:
        now = self.read()
        took, self.last = now - self.last, now
        return took


def _only_child(pid: int | None) -> int | None:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return None
    return int(children[0]) if len(children) == 1 else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--huge-pages", choices=("on", "off", "both"), default="both",
                        help="the zygote's memory in huge pages, as a batch's (on), as "
                        "`grader check`'s (off), or one run of each, off first (default)")
    parser.add_argument("--no-warmup", action="store_true",
                        help="a zygote that imports torch only (no assignment warm-up)")
    args = parser.parse_args()
    for huge in {"on": [True], "off": [False], "both": [False, True]}[args.huge_pages]:
        figures, layers = measure(args.runs, huge, None if args.no_warmup else WARMUP)
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"zygote with huge pages: {'yes' if huge else 'no'}; warm-up: "
              f"{'none' if args.no_warmup else WARMUP.name + ' of a1'}")
        print(f"layers: {', '.join(layers)}")
        print(f"load average: {load}; {args.runs} runs each; milliseconds")
        for name, times in figures.items():
            ordered = sorted(times)
            p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
            print(f"  {name:<46} median {1000 * statistics.median(times):7.2f}   "
                  f"p90 {1000 * p90:7.2f}")


if __name__ == "__main__":
    main()
