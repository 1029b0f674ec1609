"""How fast a class is graded: the five figures of issue 14, each from one run, with the load.

Run from the checkout: ``.venv/bin/python benchmarks/batch.py [--n 200] [--jobs 2] [--mix]``.
It writes ``--n`` A1 submissions into a temporary folder (solution-like ones: the solution and
the correct example, each with a unique header; with ``--mix`` a third of them, the rest every
example bug, one whose ``mse`` never returns and one that crashes on import) and prints a
Markdown table of:

1. the batch (``grader grade --jobs N``): wall time per submission, amortised;
2. the grader's overhead per submission: wall x jobs / n minus the time inside the student's
   calls (the ``timings`` of each result: the round trip of each call, as the trusted side
   waits for it; fork and import count as overhead);
3. ``grader check`` of a correct file next to ``python -c 'import torch'`` (min of repeats of
   each, alternated);
4. the batch's peak PSS (the process tree, sampled);
5. sandboxed against unisolated: ``--jobs 1`` over a sample, per submission, against the same
   checks in one process without isolation (``ceiling.py``).

Each row gives the 1-minute load average before and after its run: the machine may be shared.
README.md, "Scale", says what each measures and why.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ceiling import run_ceiling  # noqa: E402  (beside this file)

from grader.results import read_result  # noqa: E402  (after the checkout is on the path)

A1 = ROOT / "assignments" / "a1"
BUGS = ["sign_error", "missing_mean", "unstable_softmax", "no_factor_two", "log_zero",
        "transposed_gradient", "probabilities_not_logits", "forgot_step"]
HANG = "\n\ndef mse(y_hat, y):\n    while True:\n        pass\n"
CRASH = "import torch\nraise RuntimeError('crashes on import')\n"
GRADER = [sys.executable, "-c", "from grader.cli import main; main()"]


def make_submissions(folder: Path, n: int, mix: bool = False) -> list[Path]:
    """``n`` solution-like submissions; with ``mix``, a third of them, the rest each known
    bug, one hang and one crash."""
    styles = [(A1 / "solution.py").read_text(), (A1 / "examples" / "correct.py").read_text()]
    sources = [(A1 / "examples" / f"{b}.py").read_text() for b in BUGS]
    paths = []
    if mix:
        paths = [folder / "hangs.py", folder / "crashes.py"]
        paths[0].write_text(styles[0] + HANG)
        paths[1].write_text(CRASH)
    for i in range(n - len(paths)):
        # A unique header: a distinct file (id, sha256) like every real student's.
        source = styles[i % 2] if not mix or i % 3 == 0 else sources[i % len(sources)]
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
    """Wall seconds of ``grader grade`` over ``paths`` (a fresh reference cache: the batch
    pays for the reference once, as a new assignment version would) and its memory."""
    shutil.rmtree(out.parent / "cache", ignore_errors=True)
    memory, stop = Memory(), threading.Event()
    start = time.perf_counter()
    proc = subprocess.Popen([*GRADER, "grade", "-a", str(A1), "--quiet", "--force",
                             "--jobs", str(jobs), "--out", str(out), *map(str, paths)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, GRADER_CACHE_DIR=str(out.parent / "cache")))
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


def fastest(cmd: list[str], repeat: int) -> float:
    """The least wall time of ``repeat`` runs of ``cmd`` (the one least slowed by others)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return min(times)


def row(what: str, value: str, target: str, met: bool | None, how: str) -> str:
    verdict = "" if met is None else ("yes" if met else "**no**")
    return f"| {what} | {value} | {target} | {verdict} | {how} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="submissions (default 200)")
    parser.add_argument("--jobs", type=int, default=2, help="grader grade --jobs (default 2)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of the single commands")
    parser.add_argument("--sample", type=int, default=10,
                        help="submissions graded with --jobs 1 and without isolation")
    parser.add_argument("--mix", action="store_true",
                        help="every example bug, a hang and a crash among the submissions")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="grader-bench-"))
    try:
        report(measure(tmp, args), args.repeat)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load() -> float:
    return os.getloadavg()[0]


@dataclass
class Measured:
    n: int
    jobs: int
    loads: dict[str, tuple[float, float]] = field(default_factory=dict)
    """The 1-minute load average before and after each phase (other programs skew them)."""
    batch: float = 0.0
    memory: Memory = field(default_factory=Memory)
    results: dict[str, Any] = field(default_factory=dict)
    sequential: dict[str, Any] = field(default_factory=dict)
    """The results of the sample graded with --jobs 1."""
    scores: dict[str, float] = field(default_factory=dict)
    one_core: tuple[float, float] = (0.0, 0.0)
    """Seconds per submission on one core: isolated (--jobs 1 wall / n), unisolated."""
    ceiling_median: float = 0.0
    """The median of the ceiling's seconds per submission (steady state)."""
    torch: float = 0.0
    check: float = 0.0


def measure(tmp: Path, args: argparse.Namespace) -> Measured:
    (tmp / "subs").mkdir()
    paths = make_submissions(tmp / "subs", args.n, args.mix)
    m = Measured(args.n, args.jobs)
    before = load()
    m.batch, m.memory = run_batch(paths, tmp / "out" / "grades", args.jobs)
    m.loads["batch"] = (before, load())
    m.results = {p.parent.name: read_result(p)
                 for p in (tmp / "out" / "grades").glob("*/result.json")}
    # One core each, so little else on the machine can skew the comparison: the same sample
    # graded sandboxed (one grading process) and without isolation (one process).
    sample = [p for p in paths if p.stem.startswith("student")][:args.sample]
    before = load()
    sequential, _ = run_batch(sample, tmp / "seq" / "grades", 1)
    ceiling, m.scores, seconds = run_ceiling_fresh(sample)
    m.one_core = (sequential / len(sample), ceiling / len(sample))
    m.ceiling_median = statistics.median(seconds.values())
    m.loads["one core"] = (before, load())
    before = load()
    torch_cmd = [sys.executable, "-c", "import torch"]
    check_cmd = [*GRADER, "check", str(A1 / "examples" / "correct.py"), "-a", str(A1),
                 "--out", str(tmp / "check")]
    torch_times, check_times = [], []
    for _ in range(args.repeat):  # alternated, so both meet the same load
        torch_times.append(fastest(torch_cmd, 1))
        check_times.append(fastest(check_cmd, 1))
    m.torch, m.check = min(torch_times), min(check_times)
    m.loads["check"] = (before, load())
    m.sequential = {p.parent.name: read_result(p)
                    for p in (tmp / "seq" / "grades").glob("*/result.json")}
    return m


def run_ceiling_fresh(paths: list[Path]) -> tuple[float, dict[str, float], dict[str, float]]:
    """The ceiling in a fresh process, start-up and reference included, as the batch pays."""
    start = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        _, scores, seconds = pool.submit(run_ceiling, paths).result()
    return time.perf_counter() - start, scores, seconds


def student_seconds(result: Any) -> float:
    """Time inside the student's calls: every timing but the worker's start and import."""
    return float(sum(v for k, v in result.timings.items()
                     if k not in ("zygote_ready", "worker_start", "import")))


def report(m: Measured, repeat: int) -> None:
    per = m.batch / m.n
    inside = statistics.mean(student_seconds(r) for r in m.results.values())
    overhead = per * m.jobs - inside
    differ = [s for s, v in m.scores.items() if m.sequential[s].score != v]
    loads = {k: f"load {a:.1f} → {b:.1f}" for k, (a, b) in m.loads.items()}
    print(f"{m.n} submissions, --jobs {m.jobs}, {os.cpu_count()} CPUs, "
          f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC; the ceiling's scores "
          f"{'equal the sandbox' if not differ else f'DIFFER for {differ}'}\n")
    print("| what | measured | target | met | how |\n| --- | --- | --- | --- | --- |")
    print(row("A1 batch, amortised per submission", f"{per:.2f} s ({m.batch:.0f} s for {m.n})",
              "≤ 0.6 s", per <= 0.6,
              f"`grader grade --jobs {m.jobs}`, wall / n, fresh reference cache; "
              f"{loads['batch']}"))
    print(row("grader overhead per submission", f"{overhead:.2f} s (student calls "
              f"{inside:.2f} s)", "≤ 0.15 s", overhead <= 0.15,
              f"wall x jobs / n - mean time in the student's calls (the results' timings); "
              f"same batch, {loads['batch']}"))
    print(row("`grader check` of one correct file", f"{m.check:.2f} s",
              f"≤ import torch + 1.0 = {m.torch + 1.0:.2f} s", m.check <= m.torch + 1.0,
              f"min of {repeat}, alternated with `python -c 'import torch'` ({m.torch:.2f} s); "
              f"{loads['check']}"))
    print(row("peak memory of the batch", f"{m.memory.pss / 2**30:.2f} GiB PSS "
              f"({m.memory.rss / 2**30:.2f} GiB RSS)", "≤ 1 GiB", m.memory.pss <= 2**30,
              f"process tree sampled every 0.2 s ({m.memory.samples} samples, "
              f"{len(m.memory.pids)} processes; largest {m.memory.largest / 2**20:.0f} MiB "
              f"RSS); same batch, {loads['batch']}"))
    ratio = m.one_core[0] / m.one_core[1]
    steady = statistics.median(r.execution_time for r in m.sequential.values())
    print(row("sandboxed against unisolated, per submission", f"{m.one_core[0]:.2f} s against "
              f"{m.one_core[1]:.2f} s ({ratio:.2f}x)", "≤ 1.2x", ratio <= 1.2,
              f"{len(m.scores)} submissions: `grader grade --jobs 1` wall / n against "
              f"`ceiling.py` in a fresh process, start-up included (medians, steady state: "
              f"{steady:.2f} s `execution_time` against {m.ceiling_median:.2f} s, "
              f"{steady / m.ceiling_median:.2f}x); {loads['one core']}"))


if __name__ == "__main__":
    main()
