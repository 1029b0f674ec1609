"""What pages and the JSON API both do, with the checks that guard it: ownership (another
student's submission is "not found"), roles, the rate limit, the upload caps and the intake.
A refusal is a :class:`Refusal`, which each side answers in its own format.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grader.assignment import Assignment
from grader.errors import IntakeError
from grader.report import render_report
from grader.results import SubmissionResult
from grader.service import intake, queue, views
from grader.service.config import Config
from grader.service.models import Job, Release, Result, Submission, User, iso, utcnow


@dataclass
class Refusal(Exception):
    status: int
    message: str
    headers: Mapping[str, str] = field(default_factory=dict)


def assignment_of(assignments: Mapping[str, Assignment], name: str) -> Assignment:
    found = assignments.get(name)
    if found is None:
        raise Refusal(404, f"no assignment {name!r}; GET /api/v1/assignments lists them")
    return found


def require_instructor(user: User) -> None:
    if user.role != "instructor":
        raise Refusal(403, "only instructors may do this")


def visible_submission(db: Session, user: User, submission_id: int) -> Submission:
    """The submission if ``user`` may see it; otherwise 404, as if it did not exist."""
    sub = db.get(Submission, submission_id)
    if sub is None or (user.role != "instructor" and sub.user_id != user.id):
        raise Refusal(404, f"no submission {submission_id} of yours")
    return sub


def check_rate(db: Session, user: User, config: Config) -> None:
    """429 with Retry-After when the student used up the submissions of the window."""
    if user.role == "instructor":
        return
    since = utcnow() - dt.timedelta(seconds=config.rate.seconds)
    recent = list(db.scalars(select(Submission.created_at).where(
        Submission.user_id == user.id, Submission.created_at > since)
        .order_by(Submission.created_at)))
    if len(recent) >= config.rate.count:
        oldest = recent[len(recent) - config.rate.count]
        wait = max(1, math.ceil((oldest - since).total_seconds()))
        raise Refusal(429, f"at most {config.rate.count} submissions in {config.rate.seconds} s; "
                      f"try again in {wait} s", {"Retry-After": str(wait)})


def submit(db: Session, config: Config, user: User, assignment: Assignment, filename: str,
           data: bytes) -> Submission:
    """Check, store and queue an upload; committed before this returns (never lost)."""
    check_rate(db, user, config)
    if len(data) > config.max_upload:
        raise Refusal(413, f"the upload is larger than {config.max_upload} bytes")
    try:
        stored = intake.accept(data, filename, assignment, config.uploads)
    except IntakeError as exc:
        raise Refusal(422, f"{exc}") from None
    sub = Submission(user_id=user.id, assignment=assignment.name, filename=stored.filename,
                     stored=stored.stored, sha256=stored.sha256, status="queued",
                     created_at=utcnow())
    db.add(sub)
    db.flush()
    queue.enqueue(db, sub)
    db.commit()
    return sub


def is_released(db: Session, assignment: str) -> bool:
    return db.get(Release, assignment) is not None


def release(db: Session, assignment: Assignment, user: User) -> None:
    if not is_released(db, assignment.name):
        db.add(Release(assignment=assignment.name, released_at=utcnow(), released_by=user.id))
        db.commit()


def regrade(db: Session, subs: list[Submission]) -> int:
    for sub in subs:
        queue.enqueue(db, sub)
    db.commit()
    return len(subs)


def result_for(db: Session, user: User, sub: Submission,
               result_id: int | None = None) -> SubmissionResult | None:
    """The submission's latest result (or ``result_id``, one of its own), as ``user`` may see
    it."""
    row = db.get(Result, result_id if result_id is not None else sub.result_id or -1)
    if row is None or row.submission_id != sub.id:
        return None
    result = views.parse(row.data)
    if user.role == "instructor":
        return result
    return views.for_student(result, is_released(db, sub.assignment))


def report_html(db: Session, user: User, sub: Submission, assignment: Assignment,
                result_id: int | None = None) -> str:
    result = result_for(db, user, sub, result_id)
    if result is None:
        raise Refusal(404, f"submission {sub.id} has no report yet (status {sub.status}); "
                      "try again when it is graded")
    return render_report(result, assignment)


def submission_json(db: Session, user: User, sub: Submission) -> dict[str, Any]:
    result = result_for(db, user, sub)
    graded_at = db.scalar(select(Result.graded_at).where(Result.id == sub.result_id))
    return {
        "id": sub.id, "assignment": sub.assignment, "student": sub.user_id,
        "status": sub.status, "score": result.score if result else None,
        "max_score": result.max_score if result else None,
        "created_at": iso(sub.created_at), "graded_at": iso(graded_at),
        "result": result.to_json() if result else None,
    }


def history(db: Session, user_id: str, assignment: str | None = None) -> list[Submission]:
    query = select(Submission).where(Submission.user_id == user_id)
    if assignment is not None:
        query = query.where(Submission.assignment == assignment)
    return list(db.scalars(query.order_by(Submission.id.desc())))


def results_of(db: Session, sub: Submission) -> list[Result]:
    return list(db.scalars(select(Result).where(Result.submission_id == sub.id)
                           .order_by(Result.id.desc())))


def queue_length(db: Session) -> int:
    return db.scalar(select(func.count(Job.id)).where(Job.state != "done")) or 0
