"""Batch grading: many submissions, in parallel, resumable, with progress.

One batch, three ways to run it, the same files in the end:

- ``jobs == 1``: one :class:`~grader.grading.Grader` in this process, submission after
  submission (the sequential baseline);
- ``jobs >= 2``: a :class:`~grader.pool.LocalPool` of trusted child processes, each holding one
  Grader (one warm zygote) for its share of the batch;
- ``scheduler``: a Dask cluster (:mod:`grader.cluster`).

Only this process writes files: each submission's ``report.html`` and then ``result.json``, each
atomically, as soon as it is graded. ``result.json`` goes last because it marks the submission
done: a batch killed at any moment (even SIGKILL) and started again with ``resume`` grades only
the submissions without a matching result. ``grades.csv`` and ``summary.html`` are rebuilt at
the end from the results of every submission of the batch, kept or new.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from grader import __version__
from grader.assignment import Assignment, AssignmentError
from grader.grading import Grader, crashed_result
from grader.progress import Progress
from grader.report import render_report, render_summary
from grader.results import SubmissionResult, grades_csv, read_result, write_atomic, write_result
from grader.submission import Submission, read_submission, unique_ids

LOCK = ".grader-batch.lock"
# The files write_atomic stages as ".NAME.XXXXXX.tmp" next to their target.
_STAGED = ("result.json", "report.html", "grades.csv", "summary.html")

Todo = list[tuple[int, Submission]]
"""Submissions to grade, each with its index in the batch."""
Emit = Callable[[int, SubmissionResult], None]
"""Called (in this process) with a submission's index and result as soon as it is graded."""


class BatchError(Exception):
    """The batch cannot run (the output folder is busy, the workers cannot start, ...)."""


def run_batch(assignment: Assignment, paths: Sequence[Path], out: Path, *, jobs: int = 1,
              resume: bool = False, scheduler: str | None = None,
              progress: Progress | None = None) -> list[SubmissionResult]:
    """Grade ``paths`` into ``out``; the results in input order, one per submission.

    With ``resume``, a submission whose ``out/<id>/result.json`` matches it (see
    :func:`kept_result`) is not graded again. Raises AssignmentError when the checks cannot
    run, BatchError when the batch cannot.
    """
    progress = progress if progress is not None else Progress()
    subs = unique_ids(read_submission(p, assignment.submission_name) for p in paths)
    out.mkdir(parents=True, exist_ok=True)
    with _locked(out):
        remove_staged_files(out)
        results = [kept_result(s, out, assignment) if resume else None for s in subs]
        todo = [(i, sub) for i, (sub, r) in enumerate(zip(subs, results, strict=True)) if r is None]
        progress.start(len(todo), len(subs) - len(todo))

        def emit(index: int, result: SubmissionResult) -> None:
            results[index] = result
            progress.graded(result, write_submission(result, assignment, out))

        try:
            _dispatch(assignment, todo, emit, progress, jobs, scheduler)
        finally:
            progress.finish()
        final = [r for r in results if r is not None]
        if len(final) != len(subs):  # a dispatcher returned without grading everything
            raise BatchError(f"{len(subs) - len(final)} submission(s) got no result")
        write_atomic(out / "grades.csv", grades_csv(final, assignment.names))
        write_atomic(out / "summary.html", render_summary(final, assignment))
    return final


def available_cpus() -> int:
    """The CPUs this process may run on (a container or taskset may allow fewer than exist)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def _dispatch(assignment: Assignment, todo: Todo, emit: Emit, progress: Progress, jobs: int,
              scheduler: str | None) -> None:
    if scheduler is not None:
        from grader.cluster import grade_on_cluster

        grade_on_cluster(scheduler, assignment, todo, emit)
    elif jobs <= 1 or len(todo) <= 1:
        # One submission gains nothing from a child process: grade it here.
        grade_here(assignment, todo, emit)
    else:
        from grader.pool import LocalPool

        LocalPool(assignment, jobs).run(todo, emit, progress.tick)


def grade_here(assignment: Assignment, todo: Todo, emit: Emit) -> None:
    """Grade one after another in this process (no zygote is started for an empty batch)."""
    if not todo:
        return
    with Grader(assignment) as grader:
        for index, sub in todo:
            emit(index, grade_one(grader, sub))


def grade_one(grader: Grader, sub: Submission) -> SubmissionResult:
    """A result whatever happens, except for broken checks (AssignmentError), which stop all."""
    try:
        return grader.grade(sub)
    except AssignmentError:
        raise
    except Exception:
        return crashed_result(grader.assignment, sub, traceback.format_exc(), False)


def write_submission(result: SubmissionResult, assignment: Assignment, out: Path) -> Path:
    """Write ``out/<id>/report.html``, then ``result.json`` (the mark of a finished submission)."""
    folder = out / result.submission_id
    report = folder / "report.html"
    write_atomic(report, render_report(result, assignment))
    write_result(result, folder / "result.json")
    return report


def kept_result(sub: Submission, out: Path, assignment: Assignment) -> SubmissionResult | None:
    """The result an earlier run wrote for ``sub``, if it still holds; else None (grade it).

    It holds when ``out/<id>/result.json`` parses and names the same submission id, content
    (sha256), assignment, grader version and mode. A result the grader failed on (``errors``)
    and one of an unreadable submission (no sha256: a fixed archive would look the same) are
    graded again. A missing ``report.html`` is rendered again from the result.
    """
    folder = out / sub.id
    try:
        result = read_result(folder / "result.json")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    same = ((result.submission_id, result.sha256, result.assignment, result.grader_version,
             result.mode) == (sub.id, sub.sha256, assignment.name, __version__, "grade"))
    if not same or not sub.sha256 or result.errors:
        return None
    if not (folder / "report.html").is_file():
        write_atomic(folder / "report.html", render_report(result, assignment))
    return result


def remove_staged_files(out: Path) -> None:
    """Delete the temporary files of writes a killed run left half-done (never read)."""
    for folder in (out, *(d for d in out.iterdir() if d.is_dir())):
        for name in _STAGED:
            for path in folder.glob(f".{name}.*.tmp"):
                path.unlink(missing_ok=True)


@contextlib.contextmanager
def _locked(out: Path) -> Iterator[None]:
    """Hold ``out``'s lock: two batches writing one folder would regrade and overwrite."""
    path = out / LOCK
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BatchError(f"another `grader grade` is writing {out}; wait for it to finish "
                             "or choose another --out") from None
        try:
            yield
        finally:
            # The kernel drops the lock of a killed process, so the file is only tidiness.
            path.unlink(missing_ok=True)
