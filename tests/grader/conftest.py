"""Fixtures for the grader's unit tests: one warm zygote for the session, workers per test, a
Dask cluster per module that asks for one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from grader.api import grade_batch
from grader.assignment import Assignment, load_assignment
from grader.results import SubmissionResult
from grader.sandbox.zygote import Limits, WorkerProcess, Zygote, worker_limits


@pytest.fixture(scope="session")
def zygote() -> Iterator[Zygote]:
    """One warm zygote (it imports torch: ~2 s) shared by every sandbox test; with huge
    pages, as a batch's zygotes are (the hostile tests run against what batches run)."""
    z = Zygote(huge_pages=True)
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


# ---- a Dask cluster (grader grade --scheduler, grader serve --scheduler) -----------------

DASK = [sys.executable, "-m", "dask"]


def _start_dask(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as f:
        # Its own session: the nanny's worker process goes with it at teardown.
        return subprocess.Popen([*DASK, *args], stdout=f, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def _stop_dask(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _wait_dask(condition: Callable[[], bool], timeout: float, what: str,
               logs: list[Path]) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            text = "\n".join(p.read_text(errors="replace")[-2000:] for p in logs)
            pytest.fail(f"timed out waiting for {what}:\n{text}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address of a scheduler with two single-threaded workers, started as the README
    says (``dask scheduler``, ``dask worker``) on ports the system picks. Per module: the
    workers keep a warm Grader per assignment, which the next module's tests need not carry."""
    tmp = tmp_path_factory.mktemp("dask")
    info = tmp / "scheduler.json"
    logs = [tmp / "scheduler.log", tmp / "worker1.log", tmp / "worker2.log"]
    procs = [_start_dask(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                          "--scheduler-file", str(info)], logs[0])]
    try:
        _wait_dask(lambda: info.is_file() and info.stat().st_size > 0, 60, "the scheduler",
                   logs)
        address: str = json.loads(info.read_text())["address"]
        for log in logs[1:]:
            procs.append(_start_dask(["worker", address, "--nworkers", "1", "--nthreads", "1",
                                      "--host", "127.0.0.1", "--no-dashboard"], log))
        _wait_dask(lambda: all("Registered to" in p.read_text(errors="replace")
                               for p in logs[1:]), 90, "two workers", logs)
        yield address
    finally:
        _stop_dask(procs[::-1])
