"""The Python API of the grader, with the CLI's policy: ``cli.py`` calls only this.

Python callers get the guarantees the command line gives: official grading refuses a machine
that cannot apply every sandbox layer unless told otherwise, a batch accepts an LMS export and
writes its gradebook in the layout asked for, and every error is a
:class:`~grader.errors.GraderError` that names the file or option and the fix.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.assignment import Assignment
from grader.batch.executor import available_cpus
from grader.batch.gradebook import BatchRun
from grader.batch.progress import Progress
from grader.batch.run import run_batch
from grader.errors import GraderError
from grader.grading import Grader, write_submission_files
from grader.integrations.lateness import late_work, without_late
from grader.integrations.lms import CSV_FORMATS, open_batch
from grader.integrations.similarity import require_copydetect
from grader.integrations.similarity_pages import batch_similarity
from grader.results import SubmissionResult, log_internal_errors
from grader.sandbox.isolation import probe, require
from grader.submission import read_submission

__all__ = ["CSV_FORMATS", "BatchResults", "GradebookFormat", "check_submission", "grade_batch"]


@dataclass(frozen=True)
class GradebookFormat:
    """How ``grades.csv`` is written: ``plain`` (the grader's columns), ``moodle`` or
    ``canvas`` (their grade imports), with names and ids from a roster CSV if given."""

    csv_format: str = "plain"
    roster: Path | None = None


class BatchResults(BatchRun):
    """The results of a batch in input order, with the whole gradebook, notes for staff
    (students missing from the roster, files that could not be written, rows kept from earlier
    runs, ...) and the LMS export the submissions came in, if any."""

    def __init__(self, run: BatchRun, export: str | None = None) -> None:
        super().__init__(run, run.gradebook, run.notes)
        self.export = export
        """``moodle`` or ``canvas`` when the submissions came as that LMS's export."""


def check_submission(path: Path, assignment: Assignment, out: Path | None = None
                     ) -> tuple[SubmissionResult, Path]:
    """A student's self-check: public checks only; the report goes next to the submission
    (or into ``out``). Runs with whatever isolation this machine has: it is the student's own
    code on the student's own machine."""
    sub = read_submission(path, assignment.submission_name)
    with Grader(assignment, public_only=True, many=False) as grader:
        result = grader.grade(sub)
    log_internal_errors(result)
    folder = out if out is not None else (path if path.is_dir() else path.parent)
    return result, write_submission_files(result, assignment, folder)


def grade_batch(assignment: Assignment, paths: Sequence[Path], out: Path,
                on_result: Callable[[SubmissionResult, Path], None] | None = None, *,
                jobs: int | None = 1, resume: bool = False, scheduler: str | None = None,
                progress: Progress | None = None, gradebook: GradebookFormat | None = None,
                allow_reduced_isolation: bool = False, similarity: bool = False
                ) -> BatchResults:
    """Grade every submission (public and hidden checks) into ``out``.

    ``paths`` are submissions (.py, .ipynb, folders, .zip) or one Moodle or Canvas export.
    Writes ``out/<id>/report.html`` and ``result.json`` as each submission finishes, then
    ``out/grades.csv`` (in ``gradebook``'s layout) and ``out/summary.html``, which list every
    submission of the assignment graded into ``out``, by this run or an earlier one. ``jobs``
    grading processes run in parallel (None: one per CPU; 1: in this process), or the Dask cluster
    at ``scheduler`` does. With ``resume``, results an earlier run left in ``out`` for the same
    submissions are kept. ``on_result`` is called with each new result and its report, unless
    ``progress`` is given (then ``progress.on_result`` is). With ``similarity``, the
    submissions are also compared with each other (:mod:`grader.integrations.similarity`):
    pages in ``out/similarity/`` and a section in ``summary.html``.

    Raises ReducedIsolation when this machine cannot apply every sandbox layer and
    ``allow_reduced_isolation`` is false (on a cluster, each result records its worker's).
    """
    if scheduler is not None and jobs not in (None, 1):
        raise GraderError("jobs is for grading here; on a cluster its workers grade (start "
                          "more workers for more parallelism)")
    if scheduler is None:
        require(probe(), allow_reduced_isolation)
    if similarity:
        require_copydetect()  # before grading, not after
    book = gradebook or GradebookFormat()
    batch = open_batch(list(paths), book.roster, book.csv_format)
    try:
        late = late_work(assignment, batch.roster, book.roster, batch.students)

        def write_grades(rows: Sequence[SubmissionResult]) -> list[str]:
            notes = batch.write_grades(out, rows, assignment)
            return notes + (late.notes(rows) if late is not None else [])

        results = run_batch(assignment, batch.paths, out, jobs=jobs or available_cpus(),
                            resume=resume, scheduler=scheduler,
                            progress=progress if progress is not None else Progress(on_result),
                            write_grades=write_grades, names=batch.names(),
                            adjust=late.apply if late is not None else without_late)
        if similarity:
            batch_similarity(assignment, batch.paths, out, results.gradebook, batch.names())
    finally:
        batch.close()
    return BatchResults(results, batch.export.layout if batch.export else None)
