"""Late work in ``grader grade``: the rubric's ``[deadline]`` applied to a batch.

Submission times come from the roster (``--roster``): a ``submitted_at`` column (ISO 8601), or
the *Last modified (submission)* column of Moodle's grading worksheet, which works as a roster
as it is. Times written without a zone are read in the rubric's ``timezone`` (else at the
deadline's offset). Per-student extensions come from the roster too: ``extension_days`` or a
``deadline`` of their own. Where no time is known (no roster column; a Canvas export marks late
work ``_late`` but carries no time; a zip's file dates have no zone and may be the download's),
no penalty is applied and the gradebook's notes say so: a grader must not guess.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from grader.assignment import Assignment
from grader.errors import GradebookError
from grader.integrations.exports import Student
from grader.policy import (
    Attempt,
    Deadline,
    Extension,
    choose,
    effective_deadline,
    extension_days,
    late_penalty,
)
from grader.results import SubmissionResult

MOODLE_TIME = "%A, %d %B %Y, %I:%M %p"
"""Moodle's worksheet: ``Monday, 2 October 2023, 3:04 PM`` (English, no zone)."""
_NONE = ("", "-", "no submission")
_PREFIX = "Late work: "


@dataclass(frozen=True)
class LateWork:
    """The deadline, each student's submission time (None: unknown) and extensions."""

    deadline: Deadline
    times: Mapping[str, datetime | None]
    extensions: Mapping[str, Extension]
    flagged: frozenset[str] = frozenset()
    """Students the export marks late (Canvas's ``_late``)."""

    def apply(self, result: SubmissionResult) -> SubmissionResult:
        """``result`` with its score after the penalty; again on a result it already applied
        to, the same (the raw score and the output are taken back first)."""
        sid = result.submission_id
        due = effective_deadline(sid, self.deadline, self.extensions)
        return with_penalty(result, self.times.get(sid), due)

    def notes(self, results: Sequence[SubmissionResult]) -> list[str]:
        """For staff: whose time is unknown (no penalty), and who lost points."""
        unknown = [r.submission_id for r in results if r.late is not None and not r.late.known]
        charged = [f"{r.submission_id} (-{r.late.penalty:g})" for r in results
                   if r.late is not None and r.late.penalty]
        notes = []
        if unknown:
            flagged = [sid for sid in unknown if sid in self.flagged]
            also = (f" ({len(flagged)} of them marked late by the LMS: {_listed(flagged)})"
                    if flagged else "")
            notes.append(f"{len(unknown)} submission(s) have no known submission time, so no "
                         f"late penalty was applied{also}: {_listed(unknown)}; give --roster "
                         "a submitted_at column (or use Moodle's grading worksheet)")
        if charged:
            notes.append(f"{len(charged)} late submission(s) lost points: {_listed(charged)}")
        return notes


def with_penalty(result: SubmissionResult, submitted_at: datetime | None, due: Deadline
                 ) -> SubmissionResult:
    """``result`` scored after the penalty of handing it in at ``submitted_at`` (``due``
    already the student's own), its reason above the checks; the same applied twice."""
    result = without_late(result)
    penalty = late_penalty(submitted_at, result.score, result.max_score, due)
    assert penalty is not None  # there is a deadline
    output = result.output
    if penalty.penalty or not penalty.known:
        output = f"{_PREFIX}{penalty.reason}." + (f"\n\n{output}" if output else "")
    return dataclasses.replace(result, score=penalty.score, late=penalty, output=output)


def counted(student: str, attempts: Sequence[tuple[datetime, SubmissionResult]],
            deadline: Deadline | None, extensions: Mapping[str, Extension] | None = None
            ) -> tuple[int, SubmissionResult] | None:
    """Of a student's graded attempts (when handed in, result; in the order handed in), the
    one that counts, by index, with its penalty applied: the service's gradebook rule.

    Times without a zone are taken as UTC (as databases return them). Without a deadline the
    latest counts, as it was graded.
    """
    if not attempts:
        return None
    if deadline is None:
        return len(attempts) - 1, attempts[-1][1]
    due = effective_deadline(student, deadline, extensions)
    aware = [when if when.utcoffset() is not None else when.replace(tzinfo=timezone.utc)
             for when, _ in attempts]
    scored = [with_penalty(r, when, due) for when, (_, r) in zip(aware, attempts, strict=True)]
    chosen = choose([Attempt(str(i), when, r.late, i)
                     for i, (when, r) in enumerate(zip(aware, scored, strict=True))
                     if r.late is not None], deadline.policy.counts)
    assert chosen is not None
    return chosen.order, scored[chosen.order]


def without_late(result: SubmissionResult) -> SubmissionResult:
    """``result`` as graded, before any penalty (a kept result, once the rubric's deadline is
    gone, gets its points back)."""
    if result.late is None:
        return result
    output = result.output
    if output.startswith(_PREFIX):
        output = output.split("\n\n", 1)[1] if "\n\n" in output else ""
    return dataclasses.replace(result, score=result.late.raw_score, late=None, output=output)


def late_work(assignment: Assignment, roster: Mapping[str, Student] | None,
              roster_path: Path | None, exported: Mapping[str, Student]) -> LateWork | None:
    """The late-work rules of a batch, or None when the rubric sets no deadline.

    Raises GradebookError naming the roster, the student and the fix for a time or an
    extension that cannot be read.
    """
    deadline = assignment.deadline
    if deadline is None:
        return None
    times: dict[str, datetime | None] = {}
    extensions: dict[str, Extension] = {}
    where = str(roster_path) if roster_path else "the roster"
    for sid, student in (roster or {}).items():
        times[sid] = _when(student.submitted_at, deadline, where, sid, "submitted_at")
        extension = roster_extension(student, deadline, where)
        if extension is not None:
            extensions[sid] = extension
    flagged = frozenset(sid for sid, s in exported.items() if s.late)
    return LateWork(deadline, times, extensions, flagged)


def parse_time(text: str, deadline: Deadline) -> datetime | None:
    """A submission time as a roster writes it; None for "no submission"; ValueError else."""
    value = text.strip()
    if value.lower() in _NONE:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        when = datetime.strptime(value, MOODLE_TIME)
    return deadline.localize(when)


def _when(text: str, deadline: Deadline, where: str, sid: str, column: str
          ) -> datetime | None:
    try:
        return parse_time(text, deadline)
    except ValueError:
        raise GradebookError(f"{where}: student {sid}: {column} {text!r} is not a time; write "
                             "ISO 8601 (2026-12-01T23:59:00+01:00) or Moodle's worksheet format "
                             "(Monday, 2 October 2023, 3:04 PM)") from None


def roster_extension(student: Student, deadline: Deadline, where: str) -> Extension | None:
    """A roster row's extension (``extension_days``, or a ``deadline`` of their own), if any;
    GradebookError, naming ``where`` and the student, for one that cannot be read."""
    try:
        days = extension_days(student.extension_days)
    except ValueError:
        raise GradebookError(f"{where}: student {student.id}: extension_days "
                             f"{student.extension_days!r} must be a number of days >= 0 "
                             "(e.g. 2 or 0.5)") from None
    due = _when(student.deadline, deadline, where, student.id, "deadline")
    if not days and due is None:
        return None
    return Extension(days, due)


def _listed(ids: Sequence[str], limit: int = 20) -> str:
    more = f" and {len(ids) - limit} more" if len(ids) > limit else ""
    return ", ".join(ids[:limit]) + more
