"""Worker start-up and call cost, with every isolation layer and without any.

Run from the checkout: ``.venv/bin/python benchmarks/worker_start.py [--runs 50]``. For each
configuration it starts one zygote (not timed), then times ``Zygote.fork`` until the worker
has reported its layers (fork to ready, what a new submission or a restart after a timeout
costs), and the round trip of a call to a trivial function (one JSON frame each way). It
prints the median and the 90th percentile of ``--runs`` measurements of each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader.sandbox.isolation import NONE, Isolation, describe, probe
from grader.sandbox.zygote import Zygote, worker_limits

SOURCE = "def f(x):\n    return x\n"
CALL = {"op": "call", "name": "f", "args": [1], "kwargs": {"$": "dict", "items": []}}


def measure(isolation: Isolation, runs: int) -> tuple[list[float], list[float], tuple[str, ...]]:
    """Fork-to-ready times and call round trips (seconds), and the layers applied."""
    limits = worker_limits()
    zygote = Zygote(isolation=isolation)
    starts, calls, layers = [], [], ()
    try:
        zygote.wait_ready()
        with tempfile.TemporaryDirectory(prefix="grader-bench-") as tmp:
            scratch = Path(tmp)
            (scratch / "submission.py").write_text(SOURCE)
            request = {"op": "import", "path": str(scratch / "submission.py"), "module": "s"}
            for _ in range(runs):
                start = time.perf_counter()
                worker = zygote.fork(scratch, limits)
                starts.append(time.perf_counter() - start)
                layers = describe(worker.facts)
                worker.close()
            worker = zygote.fork(scratch, limits)
            assert worker.request(request, 30)["ok"]
            for _ in range(runs):
                start = time.perf_counter()
                assert worker.request(CALL, 10)["value"] == 1
                calls.append(time.perf_counter() - start)
            worker.close()
    finally:
        zygote.close()
    return starts, calls, layers


def summary(times: list[float]) -> str:
    ms = sorted(t * 1000 for t in times)
    return f"median {statistics.median(ms):6.2f} ms, p90 {ms[int(0.9 * (len(ms) - 1))]:6.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    runs = parser.parse_args().runs
    full = probe()
    print(f"probe: {full}")
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    for label, isolation in (("all layers", full), ("no layers", NONE)):
        starts, calls, layers = measure(isolation, runs)
        print(f"\n{label}: {', '.join(layers)}")
        print(f"  worker start (fork to ready): {summary(starts)}")
        print(f"  call round trip:              {summary(calls)}")
    print("\nload average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
