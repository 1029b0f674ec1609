"""Per-student extensions in the service: granted from the command line (``grader users
extend``), a roster (``grader users import --assignment``) or the instructor's page, and read
wherever a deadline matters (the gradebook, a student's assignments page and the JSON API).

The rules are ``grader grade``'s (:func:`grader.policy.effective_deadline`): days more, or a
deadline of their own, whichever is later; the cutoff moves by as much. A roster is read by
:func:`grader.integrations.lateness.roster_extension`, so its columns, their aliases and their
errors are ``grader grade --roster``'s. Times are stored as naive UTC, as the rest of the
schema; a time written without a zone is read in the rubric's ``timezone``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.assignment import Assignment
from grader.integrations.exports import Student
from grader.integrations.lateness import roster_extension
from grader.policy import Deadline, effective_deadline, extension_days
from grader.policy import Extension as Granted
from grader.service.config import UsageError
from grader.service.models import Extension, User, iso, utcnow

_EXAMPLE = "2026-12-03T23:59:00+01:00"


@dataclass(frozen=True)
class Shown:
    """An extension as instructors and the CLI see it."""

    student: str
    assignment: str
    days: float
    until: str | None
    deadline: str | None
    """The student's effective deadline (None when the assignment sets none)."""
    granted_by: str
    granted_at: str | None

    def to_json(self) -> dict[str, object]:
        return {"id": self.student, "assignment": self.assignment, "days": self.days,
                "until": self.until, "deadline": self.deadline, "granted_by": self.granted_by,
                "granted_at": self.granted_at}


def parse(days: str, until: str, deadline: Deadline | None, what: str) -> Granted:
    """An extension as a person writes it (``days``, ``until``: either or both); UsageError
    starting with ``what`` (the student and assignment) says what is wrong and the fix."""
    try:
        number = extension_days(days)
    except ValueError:
        raise UsageError(f"{what}: days {days!r} must be a number of days >= 0 (e.g. 2 or "
                         "0.5)") from None
    due = _time(until, deadline, what) if until.strip() else None
    if not number and due is None:
        raise UsageError(f"{what}: give a number of days (> 0) or a time until which it is "
                         "extended (or clear the extension)")
    return Granted(number, due)


def _time(text: str, deadline: Deadline | None, what: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{what}: until {text!r} is not a time; write ISO 8601, e.g. "
                         f"{_EXAMPLE}") from None
    if when.utcoffset() is None:
        if deadline is None:
            raise UsageError(f"{what}: until {text!r} has no timezone and the assignment sets "
                             f"no deadline to take one from; add its offset, e.g. {_EXAMPLE}")
        when = deadline.localize(when)
    return when


def _student(db: Session, user_id: str, what: str) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise UsageError(f"{what}: no user {user_id!r}; add them first with grader users add "
                         f"{user_id} (or grader users import ROSTER.csv)")
    if user.role != "student":
        raise UsageError(f"{what}: {user_id} is an {user.role}; extensions are for students")
    return user


def grant(db: Session, user_id: str, assignment: Assignment, extension: Granted,
          by: str) -> Extension:
    """Give (or replace) ``user_id``'s extension of ``assignment``; flushed, not committed."""
    _student(db, user_id, f"student {user_id}, assignment {assignment.name}")
    row = db.get(Extension, (user_id, assignment.name)) or Extension(
        user_id=user_id, assignment=assignment.name)
    row.days = extension.days
    row.due = (None if extension.due is None else
               extension.due.astimezone(dt.timezone.utc).replace(tzinfo=None))
    row.granted_by, row.granted_at = by[:100], utcnow()
    db.add(row)
    db.flush()
    return row


def clear(db: Session, user_id: str, assignment: str) -> bool:
    """Remove the extension, if any (flushed); whether there was one."""
    _student(db, user_id, f"student {user_id}, assignment {assignment}")
    row = db.get(Extension, (user_id, assignment))
    if row is not None:
        db.delete(row)
        db.flush()
    return row is not None


def from_roster(roster: Mapping[str, Student], assignment: Assignment | None,
                where: str) -> dict[str, Granted]:
    """Student id -> the extension a roster's ``extension_days``/``deadline`` columns give;
    UsageError or GradebookError (naming ``where`` and the student) before anything is kept.
    A roster with such values needs ``assignment``."""
    wanted = [s for s in roster.values() if s.extension_days.strip() or s.deadline.strip()]
    if not wanted:
        return {}
    if assignment is None:
        raise UsageError(f"{where} has extensions (extension_days or deadline) for "
                         f"{', '.join(s.id for s in wanted[:5])}: say which assignment they "
                         "extend (grader users import --assignment NAME; on the gradebook "
                         "page, choose it beside the roster)")
    if assignment.deadline is None:
        raise UsageError(f"{where} has extensions, but {assignment.name} sets no deadline "
                         "(add [deadline] to its rubric.toml)")
    found = {}
    for student in wanted:
        extension = roster_extension(student, assignment.deadline, where)
        if extension is not None:
            found[student.id] = extension
    return found


def _policy(row: Extension) -> Granted:
    due = None if row.due is None else row.due.replace(tzinfo=dt.timezone.utc)
    return Granted(row.days, due)


def of_assignment(db: Session, assignment: str) -> dict[str, Granted]:
    """Student id -> their extension of ``assignment``."""
    rows = db.scalars(select(Extension).where(Extension.assignment == assignment))
    return {row.user_id: _policy(row) for row in rows}


def of_student(db: Session, user_id: str) -> dict[str, Granted]:
    """Assignment name -> ``user_id``'s extension of it (theirs only: a student sees no one
    else's)."""
    rows = db.scalars(select(Extension).where(Extension.user_id == user_id))
    return {row.assignment: _policy(row) for row in rows}


def deadline_for(assignment: Assignment, user_id: str,
                 extensions: Mapping[str, Granted]) -> Deadline | None:
    """``assignment``'s deadline as it applies to ``user_id`` (``extensions``: theirs, by
    assignment name)."""
    if assignment.deadline is None:
        return None
    extension = extensions.get(assignment.name)
    if extension is None:
        return assignment.deadline
    return effective_deadline(user_id, assignment.deadline, {user_id: extension})


def shown(db: Session, assignments: Mapping[str, Assignment], user_id: str | None = None,
          assignment: str | None = None) -> list[Shown]:
    """The extensions granted (of one student, one assignment, or all), for instructors."""
    query = select(Extension).order_by(Extension.assignment, Extension.user_id)
    if user_id is not None:
        query = query.where(Extension.user_id == user_id)
    if assignment is not None:
        query = query.where(Extension.assignment == assignment)
    found = []
    for row in db.scalars(query):
        served = assignments.get(row.assignment)
        due = (deadline_for(served, row.user_id, {row.assignment: _policy(row)})
               if served is not None else None)
        found.append(Shown(row.user_id, row.assignment, row.days, iso(row.due),
                           due.due.isoformat() if due is not None else None, row.granted_by,
                           iso(row.granted_at)))
    return found
