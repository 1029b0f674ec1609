"""Helpers for the hostile-submission suite: building submissions, and looking for what an
attack may have left behind (processes, files, secrets in the grader's output).

Every hostile submission is the A1 model solution with a small *tail* appended: a file in
``submissions/`` that redefines one or more functions or runs code at import. Python keeps the
last definition of a name, so the tail's functions replace the solution's. Each tail starts
with a docstring (the attack and what the grader must do) and two comment lines::

    # lost: mse softmax     the names that must score 0 ("*": the submission cannot run at
                            all; "-": none, every name keeps the solution's points)
    # batch: main           main (default) | env | cache | tamper | subprocess (conftest.py)

Tails may use placeholders, filled in per test session: ``@@RUN@@`` (a random id; processes
an attack starts carry ``hm<id>`` in their command line or thread name), ``@@CANARY@@`` (a
folder outside every scratch directory), ``@@PORT@@`` (a loopback TCP and UDP port the test
listens on), ``@@UNIX@@`` (a Python list of the UNIX socket addresses the test listens on:
pathname sockets in the host's /tmp, /dev/shm and, as root, /run; abstract ones) and
``@@TRUSTED_PID@@`` (the pid of the pytest process).
"""

from __future__ import annotations

import html
import json
import os
import re
import signal
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from grader.results import SubmissionResult

ROOT = Path(__file__).resolve().parents[2]
A1 = ROOT / "assignments" / "a1"
SUBMISSIONS = Path(__file__).with_name("submissions")
SOLUTION = (A1 / "solution.py").read_text(encoding="utf-8")
NAMES = ("mse", "softmax", "cross_entropy", "mse_gradients", "sgd_step", "fit_line",
         "softmax_regression_gradients", "build_vocab", "bag_of_words", "LogisticRegression",
         "train_classifier")
BATCH_FILES = ("result.json", "report.html", "grades.csv", "summary.html")


@dataclass(frozen=True)
class Hostile:
    """One hostile submission: its tail file and what the grader must make of it."""

    name: str
    tail: Path
    lost: frozenset[str] | None
    """Names that must score 0; None when the whole submission must fail to run."""
    batch: str


def parse_hostile(path: Path) -> Hostile:
    text = path.read_text(encoding="utf-8")
    fields = dict(re.findall(r"^# (lost|batch): *(.*?) *$", text, flags=re.M))
    if "lost" not in fields or not text.startswith('"""'):
        raise ValueError(f"{path.name}: needs a docstring and a '# lost:' line")
    lost_text = fields["lost"]
    lost = None if lost_text == "*" else frozenset() if lost_text == "-" else frozenset(
        lost_text.split())
    unknown = (lost or frozenset()) - set(NAMES)
    if unknown:
        raise ValueError(f"{path.name}: '# lost:' names unknown functions {sorted(unknown)}")
    return Hostile(path.stem, path, lost, fields.get("batch", "main"))


def load_hostiles(everything: bool = False) -> dict[str, Hostile]:
    """The hostile submissions by name; only those named in $HOSTILE_ONLY (comma-separated)
    if it is set, for debugging one attack without grading them all."""
    only = set(filter(None, os.environ.get("HOSTILE_ONLY", "").split(",")))
    found = (parse_hostile(p) for p in sorted(SUBMISSIONS.glob("*.py")))
    return {h.name: h for h in found if everything or not only or h.name in only}


@dataclass(frozen=True)
class Run:
    """The values of one test session that are written into the submissions."""

    id: str
    canary: Path
    port: int
    trusted_pid: int
    unix: tuple[str, ...] = ()

    @property
    def marker(self) -> str:
        """What processes and threads started by attacks carry (fits a 15-character comm)."""
        return f"hm{self.id}"

    def fill(self, text: str) -> str:
        for key, value in (("RUN", self.id), ("CANARY", str(self.canary)),
                           ("PORT", str(self.port)), ("TRUSTED_PID", str(self.trusted_pid)),
                           ("UNIX", repr(list(self.unix)))):
            text = text.replace(f"@@{key}@@", value)
        return text


def build(hostile: Hostile, run: Run, folder: Path) -> Path:
    """Write the submission (solution + tail) as ``folder/<name>.py``."""
    tail = run.fill(hostile.tail.read_text(encoding="utf-8"))
    path = folder / f"{hostile.name}.py"
    path.write_text(f"{SOLUTION}\n\n# ---- hostile tail: {hostile.name}\n{tail}", encoding="utf-8")
    return path


def copy_of_solution(folder: Path, name: str, extra: str = "") -> Path:
    """An honest submission: the model solution (plus ``extra`` text, e.g. a comment)."""
    path = folder / f"{name}.py"
    path.write_text(SOLUTION + extra, encoding="utf-8")
    return path


# ---------------------------------------------------------------- outcomes


def point_problems(result: SubmissionResult, baseline: SubmissionResult,
                   lost: frozenset[str] | None) -> list[str]:
    """How ``result`` differs from what the expectations allow (empty: as required).

    Attacked names (``lost``; every name when None) must score 0; every other check must have
    exactly the status and points it has for the model solution.
    """
    base = {t.id: t for t in baseline.tests}
    problems = []
    if sorted(t.id for t in result.tests) != sorted(base):
        problems.append(f"checks differ from the solution's: {[t.id for t in result.tests]}")
    if result.errors:
        problems.append(f"{len(result.errors)} internal grader error(s); the first ends: "
                        f"{result.errors[0][-600:]}")
    for test in result.tests:
        ref = base.get(test.id)
        if lost is None or test.function in lost:
            if test.score != 0:
                problems.append(f"{test.id}: the attacked {test.function} scored {test.score}")
        elif ref is not None and (test.status, test.score) != (ref.status, ref.score):
            problems.append(f"{test.id}: the honest {test.function} got {test.status} "
                            f"{test.score:g} (the solution: {ref.status} {ref.score:g}): "
                            f"{test.output[:400]}")
    return problems


def printed(result: SubmissionResult) -> str:
    """Everything the submission printed (stdout and stderr of every call), as recorded."""
    return "\n".join(f"{b.stdout}\n{b.stderr}" for b in result.student_output)


# ---------------------------------------------------------------- processes


def marked_processes(marker: str) -> list[tuple[int, str]]:
    """Processes whose command line, or one of whose threads' names, holds ``marker``."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        texts = []
        try:
            texts.append((Path(entry.path) / "cmdline").read_bytes().replace(b"\0", b" "))
            for task in os.scandir(Path(entry.path) / "task"):
                texts.append((Path(task.path) / "comm").read_bytes())
        except OSError:
            continue
        text = b" ".join(texts).decode(errors="replace")
        if marker in text:
            found.append((int(entry.name), text.strip()[:200]))
    return found


def kill_all(processes: Iterable[tuple[int, str]]) -> None:
    for pid, _ in processes:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


# ---------------------------------------------------------------- files and secrets


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (relative path -> content)."""
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


def _strings(node: object) -> Iterable[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def readable_text(path: Path) -> str:
    """A batch file's text as a reader sees it: JSON strings decoded, HTML entities resolved."""
    raw = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".json":
        try:
            return "\n".join(_strings(json.loads(raw)))
        except ValueError:
            return raw
    if path.suffix == ".html":
        return html.unescape(raw)
    return raw


def batch_files(out: Path) -> list[Path]:
    return sorted(p for name in BATCH_FILES for p in out.rglob(name))


def leaks(out: Path, secrets: Mapping[str, Iterable[str]],
          more: Mapping[str, str] | None = None) -> list[str]:
    """Which secrets (kind -> strings) appear in which of the batch's output files (and in
    ``more`` texts, by label)."""
    texts = {str(p.relative_to(out)): readable_text(p) for p in batch_files(out)}
    texts.update(more or {})
    found = []
    for label, text in texts.items():
        for kind, values in secrets.items():
            hits = [v for v in values if v in text]
            if hits:
                found.append(f"{label}: {kind}: {hits[0]!r}"
                             + (f" and {len(hits) - 1} more" if len(hits) > 1 else ""))
    return found


def _lines(paths: Iterable[Path]) -> set[str]:
    return {line.strip() for p in paths for line in p.read_text(encoding="utf-8").splitlines()}


def secret_lines() -> dict[str, list[str]]:
    """Distinctive lines of the hidden checks and of the reference (the instructor's secrets).

    Hidden checks: their ``def test_...`` lines (the code, never shown to students). Reference:
    lines of 30+ characters that are not also in the solution, the public checks or the
    handout (so a student's own code or a public text cannot count as a leak).
    """
    public = _lines([A1 / "solution.py", A1 / "handout.md", A1 / "checks" / "conftest.py",
                     *(A1 / "checks" / "public").glob("*.py"), *SUBMISSIONS.glob("*.py")])
    hidden = sorted(line for line in _lines((A1 / "checks" / "hidden").glob("*.py"))
                    if line.startswith("def test_") and line not in public)
    reference = sorted(line for line in _lines((ROOT / "reference").glob("*.py"))
                       if len(line) >= 30 and line not in public
                       and not line.startswith(("import ", "from ", "return ", '"""', "@")))
    return {"hidden check": hidden, "reference": reference}
