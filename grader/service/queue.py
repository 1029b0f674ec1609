"""The job queue, a table: accepted work survives any crash, and no job is graded twice.

A server claims queued jobs by locking them (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
servers sharing a database never wait on nor take each other's jobs) and one UPDATE that
takes only rows still queued (SQLite runs one writer at a time), and holds them under a
lease it renews while it grades. A job whose lease ran out, or whose owner is a dead process
on this machine, is queued again (:func:`recover`). A result is recorded only by the job's
current owner, in the transaction that marks the job done, so a job counts once even if two
servers graded it.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
from collections.abc import Collection
from typing import Any

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.orm import Session

from grader.results import SubmissionResult
from grader.service.models import Job, Result, Submission, utcnow


def owner_id() -> str:
    """This server: its host, its process id, and a tag telling it from a reused pid."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def enqueue(db: Session, submission: Submission) -> Job:
    job = Job(submission_id=submission.id, state="queued", attempts=0)
    db.add(job)
    submission.status = "queued"  # a regrade too: its last result stays readable meanwhile
    db.flush()
    return job


def claim(db: Session, owner: str, count: int, lease: float,
          assignments: Collection[str] | None = None) -> list[Job]:
    """Take up to ``count`` queued jobs, oldest first, for ``owner`` (commits); only jobs of
    ``assignments`` if given (servers sharing a database may serve different ones)."""
    pick = select(Job.id).where(Job.state == "queued").order_by(Job.id).limit(count)
    if assignments is not None:
        pick = pick.join(Submission, Submission.id == Job.submission_id).where(
            Submission.assignment.in_(list(assignments)))
    if db.get_bind().dialect.name == "postgresql":
        # Two statements: PostgreSQL may run an IN (... LIMIT n FOR UPDATE SKIP LOCKED)
        # subquery once per row of an UPDATE, claiming far more than n.
        pick = pick.with_for_update(skip_locked=True, of=Job)
    picked = list(db.scalars(pick))
    # The state test makes the UPDATE the arbiter (on SQLite, two servers may pick the same
    # rows; the second UPDATE finds them running and claims nothing).
    ids = list(db.scalars(
        update(Job).where(Job.id.in_(picked), Job.state == "queued")
        .values(state="running", owner=owner, attempts=Job.attempts + 1,
                lease_until=utcnow() + dt.timedelta(seconds=lease))
        .returning(Job.id))) if picked else []
    jobs = list(db.scalars(select(Job).where(Job.id.in_(ids)).order_by(Job.id))) if ids else []
    subs = {j.submission_id for j in jobs}
    if subs:
        db.execute(update(Submission).where(Submission.id.in_(subs),
                                            Submission.status == "queued")
                   .values(status="running"))
    db.commit()
    return jobs


def oldest_assignment(db: Session, assignments: Collection[str] | None = None) -> str | None:
    """The assignment of the oldest queued job (of ``assignments``, if given; None: nothing
    queued)."""
    pick = (select(Submission.assignment).join(Job, Job.submission_id == Submission.id)
            .where(Job.state == "queued").order_by(Job.id).limit(1))
    if assignments is not None:
        pick = pick.where(Submission.assignment.in_(list(assignments)))
    return db.scalar(pick)


def renew(db: Session, owner: str, lease: float) -> None:
    db.execute(update(Job).where(Job.owner == owner, Job.state == "running")
               .values(lease_until=utcnow() + dt.timedelta(seconds=lease)))
    db.commit()


def release(db: Session, ids: Collection[int], owner: str) -> None:
    """Queue again the jobs ``ids`` that ``owner`` holds, for any server (commits)."""
    db.execute(update(Job).where(Job.id.in_(list(ids)), Job.owner == owner,
                                 Job.state == "running")
               .values(state="queued", owner=None, lease_until=None))
    db.commit()


def recover(db: Session, me: str = "") -> int:
    """Queue again the running jobs whose owner is gone (``me`` is the caller's owner id);
    how many (commits)."""
    now = utcnow()
    host = socket.gethostname()
    running = select(Job).where(Job.state == "running")
    if db.get_bind().dialect.name == "postgresql":
        # A row another server has locked (its heartbeat renewing the lease) is not waited
        # for: that server is alive, and a frozen one must not stop this one's loop.
        running = running.with_for_update(skip_locked=True)
    stale = [j.id for j in db.scalars(running)
             if j.owner != me and (j.lease_until is None or j.lease_until < now
                                   or _dead_here(j.owner, host))]
    if stale:
        db.execute(update(Job).where(Job.id.in_(stale), Job.state == "running")
                   .values(state="queued", owner=None, lease_until=None))
    db.commit()
    return len(stale)


def _dead_here(owner: str | None, host: str) -> bool:
    """Whether ``owner`` names a process of this machine that no longer exists."""
    parts = (owner or "").split(":")
    if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return True  # not ours (recover skips those): an earlier process with our pid
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def finish(db: Session, job: Job, owner: str, result: SubmissionResult, data: str) -> bool:
    """Record ``result`` for ``job`` if ``owner`` still holds it; whether it was (commits)."""
    marked: CursorResult[Any] = db.execute(  # type: ignore[assignment]
        update(Job).where(Job.id == job.id, Job.owner == owner, Job.state == "running")
        .values(state="done", finished_at=utcnow()))
    taken = marked.rowcount
    if taken != 1:
        db.rollback()
        return False
    row = Result(submission_id=job.submission_id, job_id=job.id, score=result.score,
                 max_score=result.max_score, data=data, graded_at=utcnow())
    db.add(row)
    db.flush()
    failed = bool(result.errors) or result.failure == "grader error"
    pending = db.scalar(select(Job.id).where(Job.submission_id == job.submission_id,
                                             Job.state != "done", Job.id != job.id).limit(1))
    status = "failed" if failed else "graded"
    db.execute(update(Submission).where(Submission.id == job.submission_id)
               .values(result_id=row.id, status="queued" if pending else status))
    db.commit()
    return True


def busy(db: Session) -> int:
    """Jobs queued or running (all servers)."""
    return len(list(db.scalars(select(Job.id).where(or_(Job.state == "queued",
                                                        Job.state == "running")))))
