"""Batch grading: many submissions, in parallel, resumable, with progress.

One batch, three ways to run it, the same files in the end:

- ``jobs == 1``: one :class:`~grader.grading.Grader` in this process, submission after
  submission (the sequential baseline);
- ``jobs >= 2``: a :class:`~grader.batch.pool.LocalPool` of trusted child processes, each
  holding one Grader (one warm zygote) for its share of the batch;
- ``scheduler``: a Dask cluster (:mod:`grader.batch.cluster`).

Only this process writes files: each submission's ``report.html`` and then ``result.json``, each
atomically, as soon as it is graded. ``result.json`` goes last because it marks the submission
done: a batch killed at any moment (even SIGKILL) and started again with ``resume`` grades only
the submissions without a matching result. ``grades.csv`` and ``summary.html`` are rebuilt at
the end from the results of every submission of the batch, kept or new, and those earlier runs
left in the folder for other submissions (:mod:`grader.batch.gradebook`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from grader.assignment import Assignment
from grader.batch.executor import Executor, InProcess
from grader.batch.gradebook import BatchRun, check_batch_files, earlier_results, merged
from grader.batch.progress import Progress
from grader.errors import BatchError
from grader.grading import write_submission_files
from grader.outdir import ERRORS_LOG, GRADES, LOCK, STAFF_LOG, SUBMISSION_FILES, SUMMARY
from grader.report import render_report, render_summary
from grader.results import (
    SubmissionResult,
    grades_csv,
    log_hidden_details,
    log_internal_errors,
    read_result,
    write_atomic,
)
from grader.submission import Submission, read_submission, unique_ids
from grader.version import __version__

# The files write_atomic stages as ".NAME.XXXXXX.tmp" next to their target.
_STAGED = (*SUBMISSION_FILES, GRADES, SUMMARY)
GradebookWriter = Callable[[Sequence[SubmissionResult]], Sequence[str]]
"""Rewrites ``grades.csv`` from the gradebook's rows in another layout; returns notes."""
Adjust = Callable[[SubmissionResult], SubmissionResult]
"""Changes a graded result before it is written (the late-work penalty); applied again to a
kept result, it must give the same result when nothing changed."""


def run_batch(assignment: Assignment, paths: Sequence[Path], out: Path, *, jobs: int = 1,
              resume: bool = False, scheduler: str | None = None,
              progress: Progress | None = None,
              write_grades: GradebookWriter | None = None,
              adjust: Adjust | None = None,
              names: Mapping[str, str] | None = None) -> BatchRun:
    """Grade ``paths`` into ``out``; the results in input order, one per submission.

    With ``resume``, a submission whose ``out/<id>/result.json`` matches it (see
    :func:`kept_result`) is not graded again. ``grades.csv`` and ``summary.html`` list every
    submission graded into ``out`` (:mod:`grader.batch.gradebook`), ``write_grades`` (under the
    lock) choosing the layout of ``grades.csv``; ``adjust`` changes each result (new or kept)
    before it is written; ``summary.html`` shows the students' ``names`` (by submission id)
    where given. A submission whose files cannot be written
    keeps its row, marked (``unwritten``). Raises AssignmentError when the checks cannot run,
    BatchError when the batch cannot.
    """
    progress = progress if progress is not None else Progress()
    subs = unique_ids(read_submission(p, assignment.submission_name) for p in paths)
    out.mkdir(parents=True, exist_ok=True)
    with _locked(out):
        remove_staged_files(out)
        check_batch_files(out)
        earlier, notes = earlier_results(out, assignment, {s.id for s in subs})
        results = [kept_result(s, out, assignment) if resume else None for s in subs]
        if adjust is not None:
            results = [_readjusted(r, adjust, assignment, out) if r else r for r in results]
        todo = [(i, sub) for i, (sub, r) in enumerate(zip(subs, results, strict=True)) if r is None]
        progress.start(len(todo), len(subs) - len(todo))

        def emit(index: int, result: SubmissionResult) -> None:
            log_internal_errors(result, out / ERRORS_LOG)
            log_hidden_details(result, out / STAFF_LOG)
            result = adjust(result) if adjust is not None else result
            written, report = write_files(result, assignment, out)
            results[index] = written
            progress.graded(written, report)

        try:
            executor(assignment, len(todo), jobs, scheduler).run(todo, emit, progress.tick)
        finally:
            progress.finish()
        final = [r for r in results if r is not None]
        if len(final) != len(subs):  # a dispatcher returned without grading everything
            raise BatchError(f"{len(subs) - len(final)} submission(s) got no result")
        book, merge_notes = merged(final, earlier, out)
        write_atomic(out / GRADES, grades_csv(book, assignment.names))
        write_atomic(out / SUMMARY, render_summary(book, assignment, names))
        notes += [*merge_notes, *(unwritten_note(r) for r in final if r.unwritten)]
        if write_grades is not None:
            notes += write_grades(book)
    return BatchRun(final, book, notes)


def write_files(result: SubmissionResult, assignment: Assignment, out: Path
                ) -> tuple[SubmissionResult, Path]:
    """Write ``out/<id>/``; on an OSError the result comes back marked ``unwritten``.

    One submission's folder (a file in its place, a full disk) must not cost the batch its
    gradebook: the grade is known, so its row is kept and says the files are missing.
    """
    folder = out / result.submission_id
    try:
        return result, write_submission_files(result, assignment, folder)
    except OSError as exc:
        why = f"{exc.strerror or exc} ({exc.filename or folder})"
        return dataclasses.replace(result, unwritten=why), folder / "report.html"


def _readjusted(result: SubmissionResult, adjust: Adjust, assignment: Assignment,
                out: Path) -> SubmissionResult:
    """A kept result adjusted again (a roster's extension may have changed), rewritten if so."""
    new = adjust(result)
    return result if new == result else write_files(new, assignment, out)[0]


def unwritten_note(result: SubmissionResult) -> str:
    return (f"could not write the files of {result.submission_id}: {result.unwritten}; "
            f"{GRADES} has its grade, run again to write them")


def executor(assignment: Assignment, count: int, jobs: int, scheduler: str | None) -> Executor:
    """The executor for ``count`` submissions: the cluster, a pool, or this process."""
    if scheduler is not None:
        from grader.batch.cluster import DaskCluster  # imports Dask only when asked to

        return DaskCluster(scheduler, assignment)
    if jobs <= 1 or count <= 1:  # one submission gains nothing from a child process
        return InProcess(assignment)
    from grader.batch.pool import LocalPool

    return LocalPool(assignment, jobs)


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
        try:
            write_atomic(folder / "report.html", render_report(result, assignment))
        except OSError:
            return None  # graded again, and write_files records why it cannot be written
    return result


def remove_staged_files(out: Path) -> None:
    """Delete the temporary files of writes a killed run left half-done (never read)."""
    for folder in (out, *(d for d in out.iterdir() if d.is_dir())):
        for name in _STAGED:
            for path in folder.glob(f".{name}.*.tmp"):
                # One undeletable leftover must not stop the batch (it is never read).
                with contextlib.suppress(OSError):
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
