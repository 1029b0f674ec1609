"""The service's gradebook: which of a student's submissions counts, and the CSV files.

One submission counts per student and assignment (:func:`counted`), by the assignment's own
policy (deadline, late penalty, best or latest, each student's extension: ``grader.policy``,
the same rules as ``grader grade``), so the pages, the JSON API and the CSV files follow it at
once.
The CSV files are written by the same writers as ``grader grade --csv-format``.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.assignment import Assignment
from grader.integrations import lateness
from grader.integrations.exports import Student
from grader.integrations.lms import Batch
from grader.outdir import GRADES
from grader.policy import Extension
from grader.results import SubmissionResult
from grader.service import extensions
from grader.service.models import Result, Submission, User
from grader.service.views import parse


@dataclass(frozen=True)
class Graded:
    submission: Submission
    result: SubmissionResult


def counted(attempts: Sequence[Graded], assignment: Assignment,
            extension: Extension | None = None) -> Graded | None:
    """The attempt that counts for the gradebook, with its late penalty applied: by the
    rubric's ``[deadline]`` moved by the student's ``extension`` (best or latest; upload time
    against the deadline), else the latest graded submission."""
    ordered = sorted(attempts, key=lambda g: (g.submission.created_at, g.submission.id))
    student = ordered[0].submission.user_id if ordered else ""
    chosen = lateness.counted(student, [(g.submission.created_at, g.result) for g in ordered],
                              assignment.deadline,
                              {student: extension} if extension is not None else None)
    if chosen is None:
        return None
    index, result = chosen
    return Graded(ordered[index].submission, result)


def graded_attempts(db: Session, assignment: str) -> dict[str, list[Graded]]:
    """Student id -> their graded submissions of ``assignment`` with each one's latest result."""
    rows = db.execute(select(Submission, Result).join(Result, Submission.result_id == Result.id)
                      .where(Submission.assignment == assignment)
                      .order_by(Submission.id)).all()
    found: dict[str, list[Graded]] = {}
    for sub, result in rows:
        graded = parse(result.data)
        found.setdefault(sub.user_id, []).append(Graded(sub, dataclasses.replace(
            graded, submission_id=sub.user_id)))
    return found


def gradebook(db: Session, assignment: Assignment) -> dict[str, Graded]:
    """Student id -> the attempt that counts (each student's extension applied)."""
    book = {}
    extended = extensions.of_assignment(db, assignment.name)
    for student, attempts in graded_attempts(db, assignment.name).items():
        chosen = counted(attempts, assignment, extended.get(student))
        if chosen is not None:
            book[student] = chosen
    return book


def roster(db: Session) -> dict[str, Student]:
    people = db.scalars(select(User).where(User.role == "student").order_by(User.id))
    return {u.id: Student(u.id, u.name, u.email, u.id_number, u.section, u.sis_user_id,
                          u.sis_login_id) for u in people}


def grades_csv(db: Session, assignment: Assignment, csv_format: str) -> str:
    """The gradebook as ``grader grade --csv-format`` writes it, with the students as roster."""
    results = [g.result for g in gradebook(db, assignment).values()]
    batch = Batch([], roster(db), csv_format)
    with tempfile.TemporaryDirectory(prefix="grader-csv-") as tmp:
        batch.write_grades(Path(tmp), results, assignment)
        return (Path(tmp) / GRADES).read_text(encoding="utf-8")
