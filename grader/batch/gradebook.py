"""The gradebook of an output folder: every submission graded into it, not only this run's.

``grader grade --force --out DIR one.py`` regrades one submission of a class; its
``grades.csv`` and ``summary.html`` must still list the class. So they are built from this
run's results and every valid ``DIR/<id>/result.json`` an earlier run left for a submission
not in this run (this run's results take precedence). A result of another assignment in
``DIR`` is an error, raised before anything is graded: one folder holding two assignments
would overwrite one's ``alice/`` with the other's, and no gradebook could hold both.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

from grader.assignment import Assignment
from grader.errors import BatchError
from grader.outdir import GRADES, SUMMARY, reserved
from grader.results import SubmissionResult, read_result

_UNREADABLE = (OSError, ValueError, KeyError, TypeError, AttributeError)


class BatchRun(list[SubmissionResult]):
    """This run's results in input order, with the whole gradebook and notes for staff."""

    def __init__(self, results: Iterable[SubmissionResult],
                 gradebook: Sequence[SubmissionResult], notes: Sequence[str]) -> None:
        super().__init__(results)
        self.gradebook = list(gradebook)
        """Every row of ``grades.csv``: this run's results, then earlier runs' by id."""
        self.notes = list(notes)


def check_batch_files(out: Path) -> None:
    """Refuse, before grading, a ``DIR`` whose gradebook could not be written at the end."""
    for name in (GRADES, SUMMARY):
        path = out / name
        if path.is_symlink() or (path.exists() and not path.is_file()):
            raise BatchError(f"{path} is not a file (a folder an older grader made for a "
                             f"submission named {name}?); move it out of {out} and run again")


def earlier_results(out: Path, assignment: Assignment, ids: Collection[str]
                    ) -> tuple[list[SubmissionResult], list[str]]:
    """The results earlier runs left in ``out`` for submissions other than ``ids``, by id, and
    notes on the ``result.json`` files that could not be read.

    Raises BatchError when ``out`` holds a result of another assignment. A folder counts when it
    holds a ``result.json`` of a graded (not self-checked) submission with the folder's name.
    """
    found: list[SubmissionResult] = []
    notes: list[str] = []
    foreign: list[str] = []
    for folder in sorted(out.iterdir()):
        path = folder / "result.json"
        if reserved(folder.name) or folder.is_symlink() or not path.is_file():
            continue
        try:
            result = read_result(path)
        except _UNREADABLE:
            if folder.name not in ids:  # this run's own are graded again: nothing is lost
                notes.append(f"ignored {path}: not a readable result.json")
            continue
        if result.assignment != assignment.name:
            foreign.append(f"{folder.name} ({result.assignment})")
        elif (folder.name not in ids and result.submission_id == folder.name
              and result.mode == "grade"):
            found.append(result)
    if foreign:
        raise BatchError(f"{out} holds results of another assignment: {_listed(foreign)}; "
                         f"grade {assignment.name} into another --out")
    return found, notes


def merged(results: Sequence[SubmissionResult], earlier: Sequence[SubmissionResult],
           out: Path) -> tuple[list[SubmissionResult], list[str]]:
    """The gradebook's rows (this run's first) and a note when earlier runs add rows."""
    if not earlier:
        return list(results), []
    ids = [r.submission_id for r in earlier]
    return [*results, *earlier], [
        f"{GRADES} and {SUMMARY} also list {len(ids)} submission(s) graded into {out} by "
        f"earlier runs: {_listed(ids)}"]


def _listed(items: Sequence[str], limit: int = 20) -> str:
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more
