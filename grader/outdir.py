"""The names a batch's output folder holds besides its submissions' folders: the one list.

``grader grade --out DIR`` puts each submission in ``DIR/<id>/`` next to the batch's own files.
A submission id must never name one of those, or a student's folder would take the place of the
gradebook (``grades.csv.py`` has the id ``grades.csv``). :func:`reserved` is what
:func:`grader.submission.unique_ids` checks every id against; whatever writes into ``DIR``
(:mod:`grader.batch.run`, :mod:`grader.integrations.lms`) takes its names from here.
"""

from __future__ import annotations

GRADES = "grades.csv"
SUMMARY = "summary.html"
LOCK = ".grader-batch.lock"
ERRORS_LOG = "grader-errors.log"
"""The instructor's log of internal errors (tracebacks never go into result.json)."""
SIMILARITY = "similarity"
"""The folder of ``grader grade --similarity``'s pages."""
STAFF_LOG = "grader-hidden.log"
"""The instructor's log of hidden checks' unfiltered messages (inputs, reference figures)."""
BATCH_FILES = (GRADES, SUMMARY, LOCK, ERRORS_LOG, STAFF_LOG, SIMILARITY)
"""Every file (or folder) a batch writes directly into ``DIR``. Temporary files (``.NAME.XXXX.tmp``,
staged by :func:`grader.results.write_atomic`) start with a dot, which no id may."""
SUBMISSION_FILES = ("result.json", "report.html")
"""What each ``DIR/<id>/`` holds."""

# Compared case-insensitively: DIR may be on a case-insensitive file system (macOS, Windows
# shares), where GRADES.CSV is grades.csv.
_RESERVED = frozenset(name.lower() for name in BATCH_FILES)


def reserved(sub_id: str) -> bool:
    """Whether ``sub_id`` cannot be a folder of ``DIR``: a batch file's name, ``.``, ``..``,
    empty, hidden (a leading dot, as temporary and lock files have) or a path."""
    return (sub_id.lower() in _RESERVED or not sub_id or sub_id.startswith(".")
            or "/" in sub_id or "\\" in sub_id or "\0" in sub_id)
