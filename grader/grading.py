"""The Python API: grade one submission, or a batch, and write the results.

The CLI is a thin layer over :class:`Grader`, :func:`check_submission` and :func:`grade_batch`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

import pytest

from grader import __version__
from grader.assignment import Assignment, AssignmentError
from grader.isolation import Isolation, combine, describe, planned, probe
from grader.plugin import GradingPlugin
from grader.progress import Progress
from grader.report import render_report
from grader.results import (
    CheckResult,
    OutputBlock,
    SubmissionResult,
    write_atomic,
    write_result,
)
from grader.sandbox import Limits, Zygote, worker_limits
from grader.student import Session, StudentFailure
from grader.submission import Submission, read_submission

PYTEST_INI = Path(__file__).with_name("pytest-grading.ini")
NOT_RUN = "not graded: the submission could not run (see the message above)"


class Grader:
    """Grades submissions of one assignment with workers forked from one warm zygote."""

    def __init__(self, assignment: Assignment, public_only: bool = False,
                 limits: Limits | None = None, isolation: Isolation | None = None) -> None:
        self.assignment = assignment
        self.public_only = public_only
        self.limits = limits or worker_limits()
        # Whatever this machine can apply (grader.isolation.require gates official grading).
        self.isolation = isolation if isolation is not None else probe()
        self.zygote = Zygote(isolation=self.isolation)
        self._first_fork = 0
        self.memo: dict[object, object] = {}

    def __enter__(self) -> Grader:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self.zygote.close()

    def grade(self, submission: Submission) -> SubmissionResult:
        """Run the checks on one submission; never raises for anything the submission does."""
        start = time.monotonic()
        if not self.zygote.alive():
            self.zygote.close()
            self.zygote = Zygote(isolation=self.isolation)
        self._first_fork = len(self.zygote.applied)
        session = Session(self.assignment, submission, self.zygote, self.limits)
        try:
            try:
                session.ensure_worker()
            except StudentFailure:
                tests, errors = self._not_run(), list[str]()
            else:
                tests, errors = self._run_checks(session)
        finally:
            session.close()
        return self._result(submission, session, tests, errors, time.monotonic() - start)

    def _run_checks(self, session: Session) -> tuple[tuple[CheckResult, ...], list[str]]:
        plugin = GradingPlugin(self.assignment, session, self.public_only, self.memo)
        args = [str(d) for d in self.assignment.check_dirs(self.public_only)] + [
            "-c", str(PYTEST_INI), "--rootdir", str(self.assignment.root / "checks"),
            "-p", "no:cacheprovider", "-p", "no:terminal", "--import-mode=importlib",
            "--capture=no",
        ]
        log = io.StringIO()
        before = set(sys.modules)
        try:
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                code = pytest.main(args, plugins=[plugin])
        finally:
            # pytest would otherwise reuse these modules in the next session, even if they
            # came from another assignment folder with the same relative paths.
            for name in set(sys.modules) - before:
                if _under(sys.modules[name], self.assignment.root / "checks"):
                    del sys.modules[name]
        if plugin.config_errors:
            raise AssignmentError("\n".join(plugin.config_errors))
        if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
            raise AssignmentError(f"the checks of {self.assignment.root} could not run "
                                  f"(pytest exit {int(code)}):\n{log.getvalue()[-3000:]}")
        return plugin.results(), plugin.internal_errors

    def _not_run(self) -> tuple[CheckResult, ...]:
        return tuple(
            CheckResult(c.id, c.name, c.function, c.tags, c.visibility, "failed", 0.0, c.points,
                        NOT_RUN)
            for c in self.assignment.checks if c.public or not self.public_only
        )

    def _result(self, sub: Submission, session: Session, tests: tuple[CheckResult, ...],
                errors: list[str], elapsed: float) -> SubmissionResult:
        failure = session.import_failure.message if session.import_failure else ""
        visibility = {c.id: c.visibility for c in self.assignment.checks}
        blocks = tuple(
            OutputBlock(o.check_id or "import", o.label, visibility.get(o.check_id, "visible"),
                        o.stdout, o.stderr)
            for o in session.output
        )
        return SubmissionResult(
            submission_id=sub.id, assignment=self.assignment.name,
            score=sum(t.score for t in tests), max_score=sum(t.max_score for t in tests),
            tests=tests, output="\n".join([failure, *sub.notes]).strip(), sha256=sub.sha256,
            grader_version=__version__, isolation=self._layers(), execution_time=round(elapsed, 3),
            graded_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            mode="check" if self.public_only else "grade", failure=failure,
            timings={k: round(v, 4) for k, v in session.timings.items()},
            student_output=blocks, errors=tuple(errors), timed_out=tuple(session.broken),
        )


    def _layers(self) -> tuple[str, ...]:
        """What this submission's workers applied (the plan, if none was started)."""
        applied = self.zygote.applied[self._first_fork:]
        return describe(combine(applied) if applied else planned(
            self.isolation, self.limits.scratch_size, self.limits.scratch_inodes))


def _under(module: object, folder: Path) -> bool:
    file = getattr(module, "__file__", None)
    return isinstance(file, str) and Path(file).resolve().is_relative_to(folder)


def crashed_result(assignment: Assignment, sub: Submission, error: str,
                   public_only: bool) -> SubmissionResult:
    """The result for a submission the grader itself failed on: 0, and the error for staff.

    Its isolation is what workers would have had here (none may have run).
    """
    tests = tuple(
        CheckResult(c.id, c.name, c.function, c.tags, c.visibility, "failed", 0.0, c.points,
                    "not graded: the grader failed on this submission (reported to staff)")
        for c in assignment.checks if c.public or not public_only
    )
    return SubmissionResult(
        sub.id, assignment.name, 0.0, sum(t.max_score for t in tests), tests,
        "the grader failed on this submission", sub.sha256, __version__,
        describe(planned(probe(), Limits.scratch_size, Limits.scratch_inodes)), 0.0,
        dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "check" if public_only else "grade", failure="grader error", errors=(error,),
    )


def write_submission_files(result: SubmissionResult, assignment: Assignment, folder: Path) -> Path:
    """Write ``result.json`` and ``report.html`` into ``folder``; returns the report's path."""
    write_result(result, folder / "result.json")
    report = folder / "report.html"
    write_atomic(report, render_report(result, assignment))
    return report


def check_submission(path: Path, assignment: Assignment, out: Path | None = None
                     ) -> tuple[SubmissionResult, Path]:
    """A student's self-check: public checks only; the report goes next to the submission."""
    sub = read_submission(path, assignment.submission_name)
    with Grader(assignment, public_only=True) as grader:
        result = grader.grade(sub)
    folder = out if out is not None else (path if path.is_dir() else path.parent)
    return result, write_submission_files(result, assignment, folder)


def grade_batch(assignment: Assignment, paths: Sequence[Path], out: Path,
                on_result: Callable[[SubmissionResult, Path], None] | None = None, *,
                jobs: int = 1, resume: bool = False, scheduler: str | None = None,
                progress: Progress | None = None) -> list[SubmissionResult]:
    """Grade every submission (public and hidden checks) into ``out``; results in input order.

    Writes ``out/<id>/report.html`` and ``result.json`` as each submission finishes, then
    ``out/grades.csv`` and ``out/summary.html``. ``jobs`` grading processes run in parallel
    (1: in this process), or the Dask cluster at ``scheduler`` does; with ``resume``, results
    an earlier run left in ``out`` for the same submissions are kept (see :mod:`grader.batch`).
    ``on_result`` is called with each new result and its report, unless ``progress`` is given
    (then ``progress.on_result`` is).
    """
    from grader.batch import run_batch  # grader.batch builds on this module

    if progress is None:
        progress = Progress(on_result)
    return run_batch(assignment, paths, out, jobs=jobs, resume=resume, scheduler=scheduler,
                     progress=progress)
