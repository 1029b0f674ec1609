"""Fixtures for the grader's unit tests: one warm zygote for the session, workers per test."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from grader.api import grade_batch
from grader.assignment import Assignment, load_assignment
from grader.results import SubmissionResult
from grader.sandbox.zygote import Limits, WorkerProcess, Zygote, worker_limits


@pytest.fixture(scope="session")
def zygote() -> Iterator[Zygote]:
    """One warm zygote (it imports torch: ~2 s) shared by every sandbox test."""
    z = Zygote()
    try:
        z.wait_ready()
        yield z
    finally:
        z.close()


@pytest.fixture(scope="session")
def a1(a1_dir: Path) -> Assignment:
    """Assignment 1's rubric (settings for sessions and checks)."""
    return load_assignment(a1_dir)


@pytest.fixture(scope="session")
def limits() -> Limits:
    return worker_limits()


def write_module(folder: Path, source: str, name: str = "submission.py") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


Spawn = Callable[..., tuple[WorkerProcess, Path]]


@pytest.fixture
def spawn(zygote: Zygote, limits: Limits, tmp_path: Path) -> Iterator[Spawn]:
    """Write a submission into a fresh scratch dir, fork a worker and import it there.

    Returns ``(worker, scratch)``; every worker is killed at teardown.
    """
    workers: list[WorkerProcess] = []
    count = 0

    def _spawn(source: str, lim: Limits | None = None, z: Zygote | None = None,
               import_timeout: float = 10.0) -> tuple[WorkerProcess, Path]:
        nonlocal count
        count += 1
        scratch = tmp_path / f"scratch{count}"
        scratch.mkdir()
        path = write_module(scratch, source)
        worker = (z or zygote).fork(scratch, lim or limits)
        workers.append(worker)
        reply = worker.request({"op": "import", "path": str(path), "module": "submission"},
                               import_timeout)
        assert reply["ok"], reply
        return worker, scratch

    yield _spawn
    for w in workers:
        w.close()


A1 = Path(__file__).resolve().parents[2] / "assignments" / "a1"
GOLDEN_NAMES = ("correct", "sign_error", "missing_mean", "unstable_softmax", "no_factor_two",
                "log_zero", "transposed_gradient", "probabilities_not_logits", "forgot_step")


@pytest.fixture(scope="session")
def graded_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The solution, the starter and every example of A1, graded once for the whole run."""
    out = tmp_path_factory.mktemp("graded")
    paths = [A1 / "solution.py", A1 / "submission.py"]
    paths += [A1 / "examples" / f"{name}.py" for name in GOLDEN_NAMES]
    grade_batch(load_assignment(A1), paths, out)
    return out


@pytest.fixture(scope="session")
def graded(graded_dir: Path) -> dict[str, SubmissionResult]:
    """The results of :func:`graded_dir`, by submission id."""
    results = (SubmissionResult.from_json(json.loads(p.read_text()))
               for p in graded_dir.glob("*/result.json"))
    return {r.submission_id: r for r in results}
