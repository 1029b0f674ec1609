"""The unisolated ceiling: an assignment's checks with the submission in the same process.

Each submission is imported into this process and called directly through the worker's own
request handlers (``sandbox/inside/worker.py``'s ``Worker``: the argument conversion and result
encoding the checks expect), under the grader's own pytest session and plugin
(:func:`grader.run_checks`). Only the
isolation is missing: no fork, no import in a worker, no socket, no JSON, no rlimits, no time
limits (so a submission that hangs would hang this process). Used by ``batch.py``.
"""

from __future__ import annotations

import multiprocessing
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader import load_assignment, run_checks  # noqa: E402  (after the checkout is on the path)
from grader.sandbox.inside import protocol  # noqa: E402
from grader.sandbox.inside import worker as _worker  # noqa: E402
from grader.student import (  # noqa: E402
    Session,
    StudentFailure,
    call_failure,
    describe_import_error,
)
from grader.submission import read_submission, stage  # noqa: E402

A1 = ROOT / "assignments" / "a1"


class InProcessSession(Session):
    """A Session whose "worker" is this process: the submission's functions called directly."""

    runner: Any = None
    imported = False

    def ensure_worker(self) -> Any:
        if self.import_failure is not None:
            raise self.import_failure
        if self.imported:
            return self.runner
        if self.submission.error is not None:
            self.import_failure = StudentFailure(self.submission.error)
            raise self.import_failure
        scratch = Path(tempfile.mkdtemp(prefix="ceiling-"))
        self._scratch.append(scratch)
        main = stage(self.submission, scratch)
        reply = self.runner.do_import({"path": str(main), "module": main.stem})
        if not reply.get("ok"):
            self.import_failure = StudentFailure(describe_import_error(reply.get("error")))
            raise self.import_failure
        self.names, self.imported = tuple(reply["names"]), True
        return self.runner

    def ensure_copy(self) -> Any:
        return self.ensure_worker()  # one process, no copies: the ceiling has no isolation

    def request(self, function: str, message: dict[str, Any]) -> dict[str, Any]:
        runner = self.ensure_worker()
        handler = runner.do_call if message["op"] == "call" else runner.do_method
        reply: dict[str, Any] = handler(message)
        if not reply.get("ok"):
            raise call_failure(function, reply.get("error"), self.names)
        return reply


class Ceiling:
    """The checks of one assignment, run on submissions imported into this process."""

    def __init__(self) -> None:
        self.assignment = load_assignment(A1)
        self.memo: dict[object, object] = {}  # as a Grader's: reference values once per run
        # The trusted side's protocol module: the worker loads the same file by path.
        self.runner = _worker.Worker(-1, protocol)
        # One core, as each worker (OMP_NUM_THREADS=1) and each grading process has: the
        # batch's parallelism is one submission per core, and this is the per-core cost.
        self.runner.torch.set_num_threads(1)

    def score(self, path: Path) -> float:
        sub = read_submission(path, self.assignment.submission_name)
        session = InProcessSession(self.assignment, sub, None, None)  # type: ignore[arg-type]
        session.runner = self.runner
        try:
            session.ensure_worker()
        except StudentFailure:
            return 0.0
        try:
            tests, _errors = run_checks(self.assignment, session, memo=self.memo)
        finally:
            session.close()
            self.runner.handles.clear()  # the trained models of this submission
        return sum(t.score for t in tests)


def run_ceiling(paths: list[Path]) -> tuple[float, dict[str, float], dict[str, float]]:
    """Total wall time, and each submission's score and seconds."""
    ceiling = Ceiling()
    scores, seconds = {}, {}
    for path in paths:
        start = time.perf_counter()
        scores[path.stem] = ceiling.score(path)
        seconds[path.stem] = time.perf_counter() - start
    return sum(seconds.values()), scores, seconds


def _ceiling_share(paths: list[Path]) -> dict[str, float]:
    return run_ceiling(paths)[1]


def run_parallel_ceiling(paths: list[Path], jobs: int) -> float:
    """The ceiling with the batch's parallelism: ``jobs`` processes, each grading its share
    unisolated (start-up included), so both meet the same competition for the cores."""
    start = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(jobs, mp_context=context) as pool:
        list(pool.map(_ceiling_share, [paths[i::jobs] for i in range(jobs)]))
    return time.perf_counter() - start
