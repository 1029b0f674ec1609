"""How fast a class is graded: the five figures of issue 14, each from one run, with the load.

Run from the checkout: ``.venv/bin/python benchmarks/batch.py [--n 200] [--jobs 2] [--mix]``.
It writes ``--n`` A1 submissions into a temporary folder (solution-like ones: the solution and
the correct example, each with a unique header; with ``--mix`` a third of them, the rest every
example bug, one whose ``mse`` never returns and one that crashes on import) and prints a
Markdown table of:

1. the batch (``grader grade --jobs N``, timed with nothing sampling it): wall time per
   submission, amortised (start-up and the reference's training included), and the
   steady-state marginal cost: the slope of the completion times over the second half of the
   batch (what one more submission costs once every process is warm);
2. the grader's overhead per submission: by the issue's definition, wall x jobs / n minus the
   time inside the student's calls, in steady state (the target's figure) and amortised; and from
   CPU time (robust to other programs on the machine): the CPU seconds of the command's whole
   process tree (a cpuacct cgroup of its own where cgroup v1 lets us make one; else
   ``getrusage(RUSAGE_CHILDREN)``, which counts only reaped processes) per submission, minus the
   time inside the student's calls (the ``timings`` of each result: the round trip of each call;
   fork and import count as overhead); amortised, and in steady state (the slope of CPU against
   completed submissions over the second half, cgroup only);
3. ``grader check`` of a correct file next to ``python -c 'import torch'`` (min of repeats of
   each, alternated), wall and CPU;
4. peak PSS of a ``--jobs N`` batch (the process tree sampled every 0.2 s), in a separate run
   of ``--memory-n`` submissions with the reference cache the timed batch filled (as every
   batch but the first of an assignment version finds it): the sampler reads ``smaps_rollup``
   of every process, which costs CPU, so it never runs during a timed batch; beside it, the
   peak drop of the machine's ``MemAvailable`` (read every 0.05 s), which needs no sum over
   processes and is exact when nothing else runs;
5. sandboxed against unisolated: ``--jobs 1`` over a sample, per submission, against the same
   checks in one process without isolation (``ceiling.py``).

Each row gives the 1-minute load average before and after its run: the machine may be shared.
README.md, "Scale", says what each measures and why.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
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

from ceiling import Ceiling  # noqa: E402  (beside this file)

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
    at_peak: dict[str, tuple[int, int]] = field(default_factory=dict)
    """At the PSS peak: process kind -> (processes, PSS bytes)."""
    unique: int = 0
    """Peak of private pages of every process plus, per zygote family (a zygote and what it
    forked), its largest shared set once: what the pages cost. The PSS sum is read process by
    process while copies fork and exit every few ms, so a shared page's divisor changes under
    it (a zygote read before its copies fork counts its pages almost whole), and it reads high."""
    system: int = 0
    """Peak drop of the machine's MemAvailable below its level just before the batch: what the
    batch's pages cost the machine, read directly (every 0.05 s), kernel structures included;
    anything else running on the machine counts too, so it is exact on an idle machine only."""

    def breakdown(self) -> str:
        return ", ".join(f"{kind} {n} x {pss / n / 2**20:.0f} MiB"
                         for kind, (n, pss) in sorted(self.at_peak.items(),
                                                      key=lambda kv: -kv[1][1]))


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _kind(cmd: bytes, parent_kind: str | None) -> str:
    """What a process of the batch is, from its command line and its parent's kind."""
    if b"multiprocessing.spawn" in cmd:
        return "grading process"
    if b"sandbox/inside" in cmd:
        return "zygote" if parent_kind == "grading process" else "sandbox (worker, copies)"
    if b"resource_tracker" in cmd:
        return "resource tracker"
    if parent_kind is None:
        return "command"
    return "sandbox (worker, copies)" if parent_kind.startswith(("zygote", "sandbox")) else (
        f"other ({cmd[:40].decode(errors='replace')!r})")


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants, parents before children."""
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
        cmds = [_cmdline(p) for p in pids]
        rss = [_kib(f"/proc/{p}/status", "VmRSS:") for p in pids]
        pss = [_kib(f"/proc/{p}/smaps_rollup", "Pss:") or r for p, r in zip(pids, rss, strict=True)]
        if sum(pss) > memory.pss:
            memory.at_peak = _kinds(pids, cmds, pss)
        memory.rss, memory.pss = max(memory.rss, sum(rss)), max(memory.pss, sum(pss))
        memory.unique = max(memory.unique, _unique(pids, cmds))
        memory.largest = max([memory.largest, *rss])
        memory.samples += 1
        memory.pids.update(pids)


def mem_available() -> int:
    return _kib("/proc/meminfo", "MemAvailable:")


def _sample_system(baseline: int, memory: Memory, stop: threading.Event) -> None:
    while not stop.wait(0.05):
        memory.system = max(memory.system, baseline - mem_available())


def _unique(pids: list[int], cmds: list[bytes]) -> int:
    """Private bytes of each process, plus each zygote family's shared bytes once (the most
    any member shares: forks share the zygote's pages); other processes count their PSS."""
    family: dict[int, int] = {}
    shared: dict[int, int] = {}
    total = 0
    for pid, cmd in zip(pids, cmds, strict=True):
        fields = _rollup(pid)
        parent = _parent(pid)
        if parent in family or (b"sandbox/inside" in cmd and b"multiprocessing" not in cmd):
            family[pid] = family.get(parent, pid)
            own = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
            total += own
            shared[family[pid]] = max(shared.get(family[pid], 0), fields.get("Rss", 0) - own)
        else:
            total += fields.get("Pss", 0)
    return total + sum(shared.values())


def _rollup(pid: int) -> dict[str, int]:
    fields = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            key, value = line.split(":", 1)
            fields[key] = int(value.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return fields


def _kinds(pids: list[int], cmds: list[bytes], pss: list[int]) -> dict[str, tuple[int, int]]:
    kinds: dict[int, str] = {}
    totals: dict[str, tuple[int, int]] = {}
    for pid, cmd, size in zip(pids, cmds, pss, strict=True):
        parent = _parent(pid)
        kinds[pid] = _kind(cmd, kinds.get(parent) if parent in kinds else None)
        n, total = totals.get(kinds[pid], (0, 0))
        totals[kinds[pid]] = (n + 1, total + size)
    return totals


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


CPUACCT = Path("/sys/fs/cgroup/cpuacct")


class CpuMeter:
    """CPU seconds of a command's whole process tree.

    A cpuacct cgroup (v1) of its own counts every process the command starts, reaped or not
    (a zygote killed at the end is never waited for). The grader moves workers into cgroups of
    the cpu, memory and pids hierarchies, never cpuacct, unless cpu and cpuacct are one
    hierarchy: then, and without a writable cpuacct, ``getrusage(RUSAGE_CHILDREN)``, which
    counts the processes each parent reaped.
    """

    def __init__(self) -> None:
        self.cgroup: Path | None = None
        separate = CPUACCT.is_dir() and CPUACCT.resolve() != (CPUACCT.parent / "cpu").resolve()
        if separate and os.access(CPUACCT, os.W_OK):
            path = CPUACCT / f"grader-bench-{os.getpid()}-{time.monotonic_ns()}"
            try:
                path.mkdir()
                self.cgroup = path
            except OSError:
                pass
        self.start = self._rusage()

    @property
    def source(self) -> str:
        return "a cpuacct cgroup" if self.cgroup else "getrusage(RUSAGE_CHILDREN)"

    def join(self) -> None:
        """``preexec_fn``: the child joins the cgroup before it runs the command."""
        if self.cgroup is not None:
            (self.cgroup / "cgroup.procs").write_text(str(os.getpid()))

    def seconds(self) -> float:
        if self.cgroup is not None:
            return int((self.cgroup / "cpuacct.usage").read_text()) / 1e9
        return self._rusage() - self.start

    @staticmethod
    def _rusage() -> float:
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        return r.ru_utime + r.ru_stime

    def close(self) -> None:
        if self.cgroup is None:
            return
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:  # processes killed at the end may still be exiting
            try:
                self.cgroup.rmdir()
                return
            except OSError:
                time.sleep(0.05)


@dataclass
class Batch:
    """One ``grader grade`` run: wall and CPU seconds, and (time, results written, CPU)
    polled every 0.25 s (a directory listing and one file read: no measurable cost)."""

    n: int
    wall: float = 0.0
    cpu: float = 0.0
    cpu_source: str = ""
    progress: list[tuple[float, int, float]] = field(default_factory=list)
    memory: Memory | None = None

    def marginal(self) -> tuple[float, float]:
        """Wall and CPU seconds per submission over the second half of the batch (the slope
        between the first poll with half the results written and the first with all)."""
        half = next(p for p in self.progress if p[1] >= self.n // 2)
        last = next(p for p in self.progress if p[1] >= self.n)
        done = max(1, last[1] - half[1])
        return (last[0] - half[0]) / done, (last[2] - half[2]) / done


def _poll(out: Path, meter: CpuMeter, start: float, batch: Batch,
          stop: threading.Event) -> None:
    while not stop.wait(0.25):
        count = sum(1 for _ in out.glob("*/result.json")) if out.exists() else 0
        batch.progress.append((time.perf_counter() - start, count, meter.seconds()))


def run_batch(paths: list[Path], out: Path, jobs: int, memory: bool = False,
              cache: Path | None = None) -> Batch:
    """``grader grade`` over ``paths``: its wall and CPU time, progress, and with ``memory``
    its sampled memory (which then skews its times). Without ``cache``, a fresh reference
    cache: the batch pays for the reference once, as a new assignment version would; with it,
    that cache as it is (warm: every later batch of the version, and the service)."""
    if cache is None:
        cache = out.parent / "cache"
        shutil.rmtree(cache, ignore_errors=True)
    batch, meter, stop = Batch(len(paths)), CpuMeter(), threading.Event()
    baseline = mem_available()
    start = time.perf_counter()
    proc = subprocess.Popen([*GRADER, "grade", "-a", str(A1), "--quiet", "--force",
                             "--jobs", str(jobs), "--out", str(out), *map(str, paths)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, GRADER_CACHE_DIR=str(cache)),
                            preexec_fn=meter.join)
    if memory:
        batch.memory = Memory()
        watches = [threading.Thread(target=_sample, args=(proc.pid, batch.memory, stop)),
                   threading.Thread(target=_sample_system, args=(baseline, batch.memory, stop))]
    else:
        watches = [threading.Thread(target=_poll, args=(out, meter, start, batch, stop))]
    for watch in watches:
        watch.start()
    _, err = proc.communicate()
    batch.wall = time.perf_counter() - start
    stop.set()
    for watch in watches:
        watch.join()
    batch.cpu, batch.cpu_source = meter.seconds(), meter.source
    batch.progress.append((batch.wall, len(paths), batch.cpu))
    meter.close()
    if proc.returncode != 0:
        sys.exit(f"grader grade failed ({proc.returncode}):\n{err[-3000:]}")
    return batch


# ---------------------------------------------------------------- single commands


def fastest(cmd: list[str], repeat: int) -> tuple[float, float]:
    """The least wall time of ``repeat`` runs of ``cmd`` (the one least slowed by others),
    with that run's CPU seconds (its whole process tree)."""
    runs = []
    for _ in range(repeat):
        meter = CpuMeter()
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       preexec_fn=meter.join)
        runs.append((time.perf_counter() - start, meter.seconds()))
        meter.close()
    return min(runs)


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
    parser.add_argument("--memory-n", type=int, default=10,
                        help="submissions of the separate, sampled batch that measures memory")
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
    batch: Batch = field(default_factory=lambda: Batch(0))
    memory: Memory = field(default_factory=Memory)
    memory_n: int = 0
    results: dict[str, Any] = field(default_factory=dict)
    sequential: dict[str, Any] = field(default_factory=dict)
    """The results of the sample graded with --jobs 1."""
    scores: dict[str, float] = field(default_factory=dict)
    one_core: tuple[float, float] = (0.0, 0.0)
    """Seconds per submission on one core: isolated (--jobs 1 wall / n), unisolated."""
    ceiling_median: float = 0.0
    """The median of the ceiling's seconds per submission (steady state)."""
    ceiling_cpu: float = 0.0
    """The median of the ceiling's CPU seconds per submission after the first."""
    torch: tuple[float, float] = (0.0, 0.0)
    check: tuple[float, float] = (0.0, 0.0)
    """Wall and CPU seconds of ``import torch`` and of ``grader check``."""


def measure(tmp: Path, args: argparse.Namespace) -> Measured:
    (tmp / "subs").mkdir()
    paths = make_submissions(tmp / "subs", args.n, args.mix)
    m = Measured(args.n, args.jobs)
    before = load()
    m.batch = run_batch(paths, tmp / "out" / "grades", args.jobs)
    m.loads["batch"] = (before, load())
    m.results = {p.parent.name: read_result(p)
                 for p in (tmp / "out" / "grades").glob("*/result.json")}
    before = load()
    m.memory_n = min(args.memory_n, len(paths))
    sampled = run_batch(paths[:m.memory_n], tmp / "mem" / "grades", args.jobs, memory=True,
                        cache=tmp / "out" / "cache")
    assert sampled.memory is not None
    m.memory = sampled.memory
    m.loads["memory"] = (before, load())
    # One core each, so little else on the machine can skew the comparison: the same sample
    # graded sandboxed (one grading process) and without isolation (one process).
    sample = [p for p in paths if p.stem.startswith("student")][:args.sample]
    before = load()
    sequential = run_batch(sample, tmp / "seq" / "grades", 1).wall
    ceiling, m.scores, seconds, cpu = run_ceiling_fresh(sample)
    m.one_core = (sequential / len(sample), ceiling / len(sample))
    m.ceiling_median = statistics.median(seconds.values())
    # the first submission pays for the reference (and first-call imports) unless alone
    m.ceiling_cpu = statistics.median(list(cpu.values())[1:] or cpu.values())
    m.loads["one core"] = (before, load())
    before = load()
    torch_cmd = [sys.executable, "-c", "import torch"]
    check_cmd = [*GRADER, "check", str(A1 / "examples" / "correct.py"), "-a", str(A1),
                 "--out", str(tmp / "check")]
    torch_runs, check_runs = [], []
    for _ in range(args.repeat):  # alternated, so both meet the same load
        torch_runs.append(fastest(torch_cmd, 1))
        check_runs.append(fastest(check_cmd, 1))
    m.torch, m.check = min(torch_runs), min(check_runs)
    m.loads["check"] = (before, load())
    m.sequential = {p.parent.name: read_result(p)
                    for p in (tmp / "seq" / "grades").glob("*/result.json")}
    return m


def run_ceiling_fresh(paths: list[Path]) -> tuple[float, dict[str, float], dict[str, float],
                                                   dict[str, float]]:
    """The ceiling in a fresh process, start-up and reference included, as the batch pays:
    its wall time, and each submission's score, wall and CPU seconds."""
    start = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        scores, seconds, cpu = pool.submit(ceiling_with_cpu, paths).result()
    return time.perf_counter() - start, scores, seconds, cpu


def ceiling_with_cpu(paths: list[Path]) -> tuple[dict[str, float], ...]:
    """``ceiling.run_ceiling`` with each submission's CPU seconds too (this process's, all its
    threads: torch gets one, as in a worker, so its idle threads' spinning does not count)."""
    import torch

    torch.set_num_threads(1)
    ceiling = Ceiling()
    scores, seconds, cpu = {}, {}, {}
    for path in paths:
        wall, used = time.perf_counter(), time.process_time()
        scores[path.stem] = ceiling.score(path)
        seconds[path.stem] = time.perf_counter() - wall
        cpu[path.stem] = time.process_time() - used
    return scores, seconds, cpu


def student_seconds(result: Any) -> float:
    """Time inside the student's calls: every timing but the worker's start and import."""
    return float(sum(v for k, v in result.timings.items()
                     if k not in ("zygote_ready", "worker_start", "import")))


def report(m: Measured, repeat: int) -> None:
    b = m.batch
    per = b.wall / m.n
    marginal_wall, marginal_cpu = b.marginal()
    inside = statistics.mean(student_seconds(r) for r in m.results.values())
    cpu_per = b.cpu / m.n
    overhead, steady = cpu_per - inside, marginal_cpu - inside
    beyond = marginal_cpu - m.ceiling_cpu
    wall_overhead, steady_wall = per * m.jobs - inside, marginal_wall * m.jobs - inside
    differ = [s for s, v in m.scores.items() if m.sequential[s].score != v]
    loads = {k: f"load {a:.1f} → {b:.1f}" for k, (a, b) in m.loads.items()}
    print(f"{m.n} submissions, --jobs {m.jobs}, {os.cpu_count()} CPUs, "
          f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC; the ceiling's scores "
          f"{'equal the sandbox' if not differ else f'DIFFER for {differ}'}\n")
    print("| what | measured | target | met | how |\n| --- | --- | --- | --- | --- |")
    print(row("A1 batch, amortised per submission", f"{per:.2f} s ({b.wall:.0f} s for {m.n}); "
              f"steady state {marginal_wall:.2f} s", "≤ 0.6 s", per <= 0.6,
              f"`grader grade --jobs {m.jobs}`, wall / n, fresh reference cache, nothing "
              f"sampling it; steady state: the marginal cost, the slope of completion times "
              f"over the second half; {loads['batch']}"))
    # Met by the definition (wall x jobs - the student's calls), in steady state.
    print(row("grader overhead per submission", f"wall x jobs - the student's calls: "
              f"{steady_wall:.2f} s in steady state, {wall_overhead:.2f} s amortised; by CPU: "
              f"{beyond:.2f} s beyond the unisolated run, {steady:.2f} s beyond the student's "
              f"calls in steady state ({overhead:.2f} s amortised; CPU {marginal_cpu:.2f} s "
              f"per submission in steady state, {cpu_per:.2f} s amortised; student calls "
              f"{inside:.2f} s)", "≤ 0.15 s", steady_wall <= 0.15,
              f"CPU seconds of the command's process tree ({b.cpu_source}) per submission, "
              f"amortised and as the slope over the second half (steady state), minus the "
              f"unisolated run's CPU per submission (`ceiling.py`, median after the first: "
              f"{m.ceiling_cpu:.2f} s), or minus the mean time in the student's calls (the "
              f"results' timings: wall, so load inflates them and the figure reads low "
              f"unless the machine is idle); same batch, {loads['batch']}"))
    print(row("`grader check` of one correct file", f"{m.check[0]:.2f} s ({m.check[1]:.2f} s "
              f"CPU)", f"≤ import torch + 1.0 = {m.torch[0] + 1.0:.2f} s",
              m.check[0] <= m.torch[0] + 1.0,
              f"min of {repeat}, alternated with `python -c 'import torch'` ({m.torch[0]:.2f} "
              f"s, {m.torch[1]:.2f} s CPU); {loads['check']}"))
    print(row("peak memory of the batch", f"{m.memory.pss / 2**30:.2f} GiB PSS "
              f"({m.memory.rss / 2**30:.2f} GiB RSS)", "≤ 1 GiB", m.memory.pss <= 2**30,
              f"a separate `--jobs {m.jobs}` batch of {m.memory_n} (the reference cache warm "
              f"from the timed batch), its process tree sampled "
              f"every 0.2 s ({m.memory.samples} samples, {len(m.memory.pids)} processes; "
              f"largest {m.memory.largest / 2**20:.0f} MiB RSS; PSS at the peak: "
              f"{m.memory.breakdown()}; private pages plus each zygote family's shared "
              f"pages once: {m.memory.unique / 2**30:.2f} GiB at most; the machine's "
              f"MemAvailable at most {m.memory.system / 2**30:.2f} GiB below its level before "
              f"the batch); {loads['memory']}"))
    ratio = m.one_core[0] / m.one_core[1]
    steady_seq = statistics.median(r.execution_time for r in m.sequential.values())
    print(row("sandboxed against unisolated, per submission", f"{m.one_core[0]:.2f} s against "
              f"{m.one_core[1]:.2f} s ({ratio:.2f}x)", "≤ 1.2x", ratio <= 1.2,
              f"{len(m.scores)} submissions: `grader grade --jobs 1` wall / n against "
              f"`ceiling.py` in a fresh process, start-up included (medians, steady state: "
              f"{steady_seq:.2f} s `execution_time` against {m.ceiling_median:.2f} s, "
              f"{steady_seq / m.ceiling_median:.2f}x); {loads['one core']}"))


if __name__ == "__main__":
    main()
