"""How fast a class is graded: ``grader grade --jobs N`` against an unisolated ceiling.

Run from the checkout: ``.venv/bin/python benchmarks/batch.py [--n 200] [--jobs 2]``. It writes
``--n`` A1 submissions into a temporary folder (correct ones in two styles and variants, every
example bug, one whose ``mse`` never returns, one that crashes on import) and prints a Markdown
table of: the batch's wall time per submission and its peak memory (the process tree, sampled);
the same checks without isolation in one process, and in ``--jobs`` processes (the ceilings);
one submission on one core, isolated and not; ``grader check`` next to ``import torch``; worker
start. README.md, "Scale", says what each measures and why.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ceiling import run_ceiling, run_parallel_ceiling  # noqa: E402  (beside this file)

from grader.results import read_result  # noqa: E402  (after the checkout is on the path)

A1 = ROOT / "assignments" / "a1"
BUGS = ["sign_error", "missing_mean", "unstable_softmax", "no_factor_two", "log_zero",
        "transposed_gradient", "probabilities_not_logits", "forgot_step"]
HANG = "\n\ndef mse(y_hat, y):\n    while True:\n        pass\n"
CRASH = "import torch\nraise RuntimeError('crashes on import')\n"
GRADER = [sys.executable, "-c", "from grader.cli import main; main()"]


def make_submissions(folder: Path, n: int) -> list[Path]:
    """``n`` submissions: about a third correct, the rest each known bug; one hang, one crash."""
    styles = [(A1 / "solution.py").read_text(), (A1 / "examples" / "correct.py").read_text()]
    sources = [(A1 / "examples" / f"{b}.py").read_text() for b in BUGS]
    paths = [folder / "hangs.py", folder / "crashes.py"]
    paths[0].write_text(styles[0] + HANG)
    paths[1].write_text(CRASH)
    for i in range(n - 2):
        # A unique header: a distinct file (id, sha256) like every real student's.
        source = styles[i % 2] if i % 3 == 0 else sources[i % len(sources)]
        path = folder / f"student{i:03d}.py"
        path.write_text(f"# student {i:03d}\n{source}")
        paths.append(path)
    return paths[:n]


# ---------------------------------------------------------------- the batch and its memory


@dataclass
class Memory:
    """Peaks over the samples: sum of RSS (counts shared pages once per process) and of PSS
    (shared pages divided among their sharers: the honest total), and the largest process."""

    rss: int = 0
    pss: int = 0
    largest: int = 0
    samples: int = 0
    pids: set[int] = field(default_factory=set)


def _tree(pid: int) -> list[int]:
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    found, todo = [pid], [pid]
    while todo:
        parent = todo.pop()
        kids = [p for p, pp in parents.items() if pp == parent]
        found += kids
        todo += kids
    return found


def _kib(path: str, key: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _sample(pid: int, memory: Memory, stop: threading.Event) -> None:
    while not stop.wait(0.2):
        pids = _tree(pid)
        rss = [_kib(f"/proc/{p}/status", "VmRSS:") for p in pids]
        pss = [_kib(f"/proc/{p}/smaps_rollup", "Pss:") or r for p, r in zip(pids, rss, strict=True)]
        memory.rss, memory.pss = max(memory.rss, sum(rss)), max(memory.pss, sum(pss))
        memory.largest = max([memory.largest, *rss])
        memory.samples += 1
        memory.pids.update(pids)


def run_batch(paths: list[Path], out: Path, jobs: int) -> tuple[float, Memory]:
    memory, stop = Memory(), threading.Event()
    start = time.perf_counter()
    proc = subprocess.Popen([*GRADER, "grade", "-a", str(A1), "--quiet", "--force",
                             "--jobs", str(jobs), "--out", str(out), *map(str, paths)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    sampler = threading.Thread(target=_sample, args=(proc.pid, memory, stop))
    sampler.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - start
    stop.set()
    sampler.join()
    if proc.returncode != 0:
        sys.exit(f"grader grade failed ({proc.returncode}):\n{err[-3000:]}")
    return wall, memory


# ---------------------------------------------------------------- single commands


def wall(cmd: list[str], repeat: int) -> float:
    """The median wall time of ``repeat`` runs of ``cmd``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def row(what: str, value: str, target: str, met: bool | None, how: str) -> str:
    verdict = "" if met is None else ("yes" if met else "**no**")
    return f"| {what} | {value} | {target} | {verdict} | {how} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="submissions (default 200)")
    parser.add_argument("--jobs", type=int, default=2, help="grader grade --jobs (default 2)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the single commands")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="grader-bench-"))
    try:
        report(measure(tmp, args.n, args.jobs, args.repeat), args.repeat)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@dataclass
class Measured:
    n: int
    jobs: int
    loads: list[float] = field(default_factory=list)
    """The 1-minute load average before and after each phase (other programs skew them)."""
    batch: float = 0.0
    memory: Memory = field(default_factory=Memory)
    results: dict[str, Any] = field(default_factory=dict)
    ceiling: float = 0.0
    parallel: float = 0.0
    scores: dict[str, float] = field(default_factory=dict)
    one_core: tuple[float, float] = (0.0, 0.0)
    """Median seconds of one submission on one core: isolated (--jobs 1), unisolated."""
    torch: float = 0.0
    check: float = 0.0


def measure(tmp: Path, n: int, jobs: int, repeat: int) -> Measured:
    (tmp / "subs").mkdir()
    paths = make_submissions(tmp / "subs", n)
    unhung = [p for p in paths if p.stem != "hangs"]
    m = Measured(n, jobs, [os.getloadavg()[0]])
    m.batch, m.memory = run_batch(paths, tmp / "out", jobs)
    m.results = {p.parent.name: read_result(p) for p in (tmp / "out").glob("*/result.json")}
    m.loads.append(os.getloadavg()[0])
    m.ceiling, m.scores, seconds = run_ceiling(unhung)
    m.loads.append(os.getloadavg()[0])
    m.parallel = run_parallel_ceiling(unhung, jobs)
    m.loads.append(os.getloadavg()[0])
    # One core each, so little else on the machine can skew the comparison.
    sample = [p for p in paths if p.stem.startswith("student")][:10]
    run_batch(sample, tmp / "sequential", 1)
    isolated = [read_result(tmp / "sequential" / p.stem / "result.json").execution_time
                for p in sample]
    m.one_core = (statistics.median(isolated), statistics.median(seconds[p.stem] for p in sample))
    m.torch = wall([sys.executable, "-c", "import torch"], repeat)
    m.check = wall([*GRADER, "check", str(A1 / "examples" / "correct.py"), "-a", str(A1),
                    "--out", str(tmp / "check")], repeat)
    return m


def report(m: Measured, repeat: int) -> None:
    starts = [r.timings["worker_start"] for r in m.results.values() if "worker_start" in r.timings]
    differ = [s for s, v in m.scores.items() if m.results[s].score != v]
    per, ceil, parallel = m.batch / m.n, m.ceiling / len(m.scores), m.parallel / len(m.scores)
    print(f"{m.n} submissions, --jobs {m.jobs}, {os.cpu_count()} CPUs; load average (1 min) "
          f"before and after the batch and the two ceilings: "
          f"{', '.join(f'{x:.1f}' for x in m.loads)}; ceiling scores "
          f"{'equal the batch' if not differ else f'DIFFER for {differ}'}\n")
    print("| what | measured | target | met | how |\n| --- | --- | --- | --- | --- |")
    print(row("batch, amortised per submission", f"{per:.2f} s ({m.batch:.0f} s for {m.n})",
              f"≤ 1.2 x ceiling = {1.2 * ceil:.2f} s", per <= 1.2 * ceil,
              f"`grader grade --jobs {m.jobs}`, wall / n"))
    print(row("unisolated ceiling, per submission", f"{ceil:.2f} s (one process, one core)",
              "", None, f"same checks in one process, {len(m.scores)} submissions (no hang)"))
    print(row(f"unisolated ceiling, {m.jobs} processes", f"{parallel:.2f} s per submission "
              f"(batch: {per / parallel:.2f}x)", "", None,
              f"the same, {m.jobs} processes in parallel, each its share, start-up included"))
    print(row("one submission on one core", f"{m.one_core[0]:.2f} s isolated, "
              f"{m.one_core[1]:.2f} s not", "", None,
              "medians over 10: `execution_time` of `--jobs 1`, and the ceiling's"))
    print(row("`grader check` of one correct file", f"{m.check:.2f} s",
              f"≤ import torch + 1.5 = {m.torch + 1.5:.2f} s", m.check <= m.torch + 1.5,
              f"median of {repeat}; `python -c 'import torch'` {m.torch:.2f} s"))
    print(row("worker start (fork → ready)", f"{1000 * statistics.median(starts):.1f} ms "
              f"median, {1000 * max(starts):.1f} ms max", "≤ 30 ms",
              statistics.median(starts) <= 0.030, f"timings.worker_start of {len(starts)} results"))
    print(row("peak memory of the batch", f"{m.memory.pss / 2**30:.2f} GiB PSS "
              f"({m.memory.rss / 2**30:.2f} GiB RSS)", "≤ 2 GB", m.memory.pss <= 2e9,
              f"process tree sampled every 0.2 s ({m.memory.samples} samples, "
              f"{len(m.memory.pids)} processes); largest {m.memory.largest / 2**20:.0f} MiB RSS"))


if __name__ == "__main__":
    main()
