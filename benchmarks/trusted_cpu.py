"""The trusted side's own cost per A1 submission: CPU, memory, and whether it imports torch.

Run from the checkout: ``.venv/bin/python benchmarks/trusted_cpu.py [--n 6] [--hidden]``.
Two fresh processes (multiprocessing's spawn), one after the other, each the trusted side of
one grading process: one :class:`grader.Grader` grades the correct example ``--n`` times. The
first fills a fresh reference cache; the second finds it warm, as every later grading process
of a batch, a later run or the service does. Each prints the CPU seconds of that process alone
(``time.process_time``: start-up, the checks' own code, pytest, encoding and decoding; the
worker's and the zygote's CPU are not in it), in all, for its first submission and (median)
for later ones, with their wall time and the student's calls (the results' timings), whether
torch was imported in it, and its peak RSS. CPU time does not depend on what else runs on the
machine, so two trees can be compared on a shared one.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader import Grader, load_assignment, read_submission  # noqa: E402

A1 = ROOT / "assignments" / "a1"


def student_seconds(timings: dict[str, float]) -> float:
    return sum(v for k, v in timings.items()
               if k not in ("zygote_ready", "worker_start", "import"))


def grade_runs(grader: Grader, path: Path, n: int) -> list[tuple[float, float, float, float]]:
    """(CPU, wall, student calls, score) of each of ``n`` gradings of ``path``."""
    sub = read_submission(path, grader.assignment.submission_name)
    runs = []
    for _ in range(n):
        cpu, wall = time.process_time(), time.perf_counter()
        result = grader.grade(sub)
        runs.append((time.process_time() - cpu, time.perf_counter() - wall,
                     student_seconds(result.timings), result.score))
    return runs


def line(label: str, runs: list[tuple[float, float, float, float]]) -> str:
    cpu = statistics.median(r[0] for r in runs)
    wall = statistics.median(r[1] for r in runs)
    calls = statistics.median(r[2] for r in runs)
    scores = sorted({r[3] for r in runs})
    return (f"{label}: trusted CPU {cpu:.3f} s, wall {wall:.2f} s, student calls {calls:.2f} s "
            f"(medians of {len(runs)}); scores {scores}")


Runs = list[tuple[float, float, float, float]]


def phase(hidden: bool, path: Path, n: int) -> tuple[Runs, bool, float]:
    """In a fresh process: ``n`` gradings by one grader, whether torch got imported here, and
    this process's peak RSS in MiB."""
    with Grader(load_assignment(A1), public_only=not hidden) as grader:
        runs = grade_runs(grader, path, n)
    # process_time counts from the process's start: its imports are in the total
    runs.insert(0, (time.process_time(), 0.0, 0.0, runs[0][3]))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return runs, "torch" in sys.modules, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=6, help="gradings per process (default 6)")
    parser.add_argument("--hidden", action="store_true",
                        help="public and hidden checks (grader grade); default: public only "
                             "(grader check)")
    parser.add_argument("--submission", type=Path, default=A1 / "examples" / "correct.py")
    args = parser.parse_args()
    os.environ["GRADER_CACHE_DIR"] = tempfile.mkdtemp(prefix="grader-trusted-cpu-")
    context = multiprocessing.get_context("spawn")
    print(f"load {os.getloadavg()[0]:.1f}; {'public and hidden' if args.hidden else 'public'} "
          f"checks of {args.submission.name}, {args.n} gradings per grading process")
    for label in ("a grading process, fresh reference cache",
                  "a later grading process, warm cache"):
        with ProcessPoolExecutor(1, mp_context=context) as pool:
            runs, torch, peak = pool.submit(phase, args.hidden, args.submission, args.n).result()
        total, first, later = runs[0][0], runs[1], runs[2:] or runs[1:]
        print(f"{label}: {total:.2f} s CPU in all, first submission {first[0]:.2f} s; "
              + line("later ones", later).split(": ", 1)[1]
              + f"; torch imported: {'yes' if torch else 'no'}; peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
