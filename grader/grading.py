"""Grading one submission: a :class:`Grader` runs an assignment's checks (pytest, in this
trusted process) against a submission imported in a sandboxed worker, and
:func:`write_submission_files` writes what it gives.

:func:`run_checks` runs the checks against any :class:`~grader.student.Session`, for
benchmarks that compare the sandbox with an unisolated run. The policy (who may grade with
reduced isolation, how batches run) is in :mod:`grader.api`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import sys
import time
from pathlib import Path
from types import TracebackType

import pytest

from grader.assignment import Assignment
from grader.errors import AssignmentError
from grader.plugin import GradingPlugin, InternalErrors
from grader.refcache import ReferenceCache
from grader.report import render_report
from grader.results import (
    CheckResult,
    OutputBlock,
    SubmissionResult,
    write_atomic,
    write_result,
)
from grader.sandbox.isolation import Isolation, combine, describe, planned, probe
from grader.sandbox.zygote import Limits, Zygote, worker_limits
from grader.student import Session, StudentFailure
from grader.submission import Submission
from grader.version import __version__

PYTEST_INI = Path(__file__).with_name("pytest-grading.ini")
# pytest plugins whose work the grader never reads, at a cost per session: the unraisable-
# exception plugin runs gc.collect() twice (0.1 to 0.3 s with torch loaded; its warnings are
# filtered out anyway), logging capture adds and removes a handler per logger per phase, and
# plugins installed beside the grader (found through entry points each session) have no say
# in how checks run.
QUIET_PLUGINS = ("-p", "no:unraisableexception", "-p", "no:logging", "--disable-plugin-autoload")
NOT_RUN = "not graded: the submission could not run (see the message above)"


class Grader:
    """Grades submissions of one assignment with workers forked from one warm zygote."""

    def __init__(self, assignment: Assignment, public_only: bool = False,
                 limits: Limits | None = None, isolation: Isolation | None = None,
                 many: bool = True) -> None:
        """``many``: this grader will grade more than one submission (``grader check`` grades
        one, and its zygote then skips the huge pages that make later forks cheaper)."""
        self.assignment = assignment
        self.public_only = public_only
        self.many = many
        self.limits = limits or assignment.worker_limits(worker_limits())
        # Started first: it imports torch while this process probes the sandbox (Zygote does,
        # when given no isolation: whatever this machine can apply;
        # grader.sandbox.isolation.require gates official grading) and imports the checks.
        self.zygote = Zygote(isolation=isolation, warmup=assignment.warmup, huge_pages=many)
        self.isolation = self.zygote.isolation
        self._first_fork = 0
        # The reference's values: computed once per assignment version, kept on disk.
        self.memo = ReferenceCache(assignment)

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
            self.zygote = Zygote(isolation=self.isolation, warmup=self.assignment.warmup,
                                 huge_pages=self.many)
        self._first_fork = len(self.zygote.applied)
        if self.zygote.ready is None:
            # The first submission: import what the checks import (torch, say) while the
            # zygote warms up on another core, instead of after it.
            collect_checks(self.assignment, self.public_only)
        session = Session(self.assignment, submission, self.zygote, self.limits)
        try:
            try:
                session.ensure_worker()
            except StudentFailure:
                tests, errors = self._not_run(), InternalErrors()
            else:
                tests, errors = self._run_checks(session)
        finally:
            session.close()
        return self._result(submission, session, tests, errors, time.monotonic() - start)

    def _run_checks(self, session: Session) -> tuple[tuple[CheckResult, ...], InternalErrors]:
        return run_checks(self.assignment, session, public_only=self.public_only,
                          memo=self.memo)

    def _not_run(self) -> tuple[CheckResult, ...]:
        return tuple(
            CheckResult(c.id, c.name, c.function, c.tags, c.visibility, "failed", 0.0, c.points,
                        NOT_RUN)
            for c in self.assignment.checks if c.public or not self.public_only
        )

    def _result(self, sub: Submission, session: Session, tests: tuple[CheckResult, ...],
                errors: InternalErrors, elapsed: float) -> SubmissionResult:
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
            error_details=tuple(errors.details),
            budget=combine(self.zygote.applied[self._first_fork:]).get("budget", {}),
        )

    def _layers(self) -> tuple[str, ...]:
        """What this submission's workers applied (the plan, if none was started)."""
        applied = self.zygote.applied[self._first_fork:]
        return describe(combine(applied) if applied else planned(
            self.isolation, self.limits.scratch_size, self.limits.scratch_inodes))


def run_checks(assignment: Assignment, session: Session, *, public_only: bool = False,
               memo: ReferenceCache | dict[object, object] | None = None
               ) -> tuple[tuple[CheckResult, ...], InternalErrors]:
    """Run the assignment's checks against ``session``'s submission in this process.

    Returns one result per check and the internal errors (short lines, and the tracebacks
    for the instructor's log in their ``details``). Raises
    AssignmentError when the checks themselves are broken. ``memo`` keeps reference values
    between calls (pass the same cache, or dict, for every submission of a batch).
    """
    if not isinstance(memo, ReferenceCache):
        memo = ReferenceCache.in_memory(assignment, {} if memo is None else memo)
    plugin = GradingPlugin(assignment, session, public_only, memo)
    code, log = _pytest_main(assignment, public_only, plugin)
    if plugin.config_errors:
        raise AssignmentError("\n".join(plugin.config_errors))
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise AssignmentError(f"the checks of {assignment.root} could not run "
                              f"(pytest exit {int(code)}):\n{log[-3000:]}")
    return plugin.results(), plugin.internal_errors


def collect_checks(assignment: Assignment, public_only: bool = False) -> None:
    """Collect the checks without running them: imports what they import.

    Nothing is reported: a broken check fails the same way in the session that runs it.
    """
    _pytest_main(assignment, public_only, None, "--collect-only")


def _pytest_main(assignment: Assignment, public_only: bool, plugin: GradingPlugin | None,
                 *extra: str) -> tuple[int | pytest.ExitCode, str]:
    """One pytest session over the assignment's checks: its exit code and its output."""
    args = [str(d) for d in assignment.check_dirs(public_only)] + [
        "-c", str(PYTEST_INI), "--rootdir", str(assignment.root / "checks"),
        "-p", "no:cacheprovider", "-p", "no:terminal", "--import-mode=importlib",
        "--capture=no", *QUIET_PLUGINS, *extra,
    ]
    log = io.StringIO()
    before = set(sys.modules)
    checks = assignment.root / "checks"
    # Helper modules in checks/ (``import w2v_helpers``) are importable while checks run.
    sys.path.insert(0, str(checks))
    try:
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            code = pytest.main(args, plugins=[plugin] if plugin is not None else [])
    finally:
        sys.path.remove(str(checks))
        # pytest would otherwise reuse these modules in the next session, even if they
        # came from another assignment folder with the same relative paths.
        for name in set(sys.modules) - before:
            if _under(sys.modules[name], checks):
                del sys.modules[name]
    return code, log.getvalue()


def _under(module: object, folder: Path) -> bool:
    file = getattr(module, "__file__", None)
    return isinstance(file, str) and Path(file).resolve().is_relative_to(folder)


def crashed_result(assignment: Assignment, sub: Submission, error: str,
                   public_only: bool, detail: str = "") -> SubmissionResult:
    """The result for a submission the grader itself failed on: 0, and the error for staff.

    ``error`` is one short line (it is stored in ``result.json``); ``detail`` (a traceback)
    goes only to the instructor's log. Its isolation is what workers would have had here
    (none may have run).
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
        error_details=(f"{error}\n{detail}",) if detail else (),
    )


def grader_failure(exc: BaseException) -> str:
    """The short line for an exception of the grader's own (no message: it may quote a check)."""
    return (f"the grader failed on this submission ({type(exc).__name__}); the traceback is "
            "in the instructor's log (grader-errors.log)")


def write_submission_files(result: SubmissionResult, assignment: Assignment,
                           folder: Path) -> Path:
    """Write ``folder/report.html``, then ``folder/result.json``; returns the report's path.

    Each file is written atomically, and ``result.json`` last: it marks the submission done,
    so a batch killed at any moment and resumed grades only what has no result.
    """
    report = folder / "report.html"
    write_atomic(report, render_report(result, assignment))
    write_result(result, folder / "result.json")
    return report
