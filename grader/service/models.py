"""The service's tables (SQLAlchemy 2). Only the migrations create or change them.

Times are naive UTC (``timestamp without time zone``): SQLite keeps no zone, and one rule for
both databases keeps comparisons (leases, expiry, rate windows) right.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ROLES = ("student", "instructor")
STATUSES = ("queued", "running", "graded", "failed")
"""A submission's status as pages and the API show it."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def iso(when: dt.datetime | None) -> str | None:
    return None if when is None else when.replace(tzinfo=dt.timezone.utc).isoformat(
        timespec="seconds")


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    id_number: Mapped[str] = mapped_column(String(100), default="")
    section: Mapped[str] = mapped_column(String(100), default="")
    sis_user_id: Mapped[str] = mapped_column(String(100), default="")
    sis_login_id: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class LoginCode(Base):
    """A one-time login code: only its argon2 hash; used once, before it expires."""

    __tablename__ = "login_codes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class ApiToken(Base):
    """An API token's argon2 hash; a user has one live token (a new one revokes the old)."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class WebSession(Base):
    """A browser session: the sha256 of its cookie (256 random bits) and its CSRF token."""

    __tablename__ = "web_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime]


class Submission(Base):
    __tablename__ = "submissions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    assignment: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(300))
    stored: Mapped[str] = mapped_column(String(300))
    """The upload's file under the data folder's ``uploads/`` (named by its sha256)."""
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    result_id: Mapped[int | None] = mapped_column(default=None)
    """The latest result (a regrade adds one; the older ones are kept)."""
    __table_args__ = (Index("ix_submissions_user_assignment", "user_id", "assignment"),)


class Job(Base):
    """The queue: one row per grading of a submission (a regrade is a new job)."""

    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), default="queued")
    """``queued``, ``running`` (``owner`` holds it until ``lease_until``) or ``done``."""
    owner: Mapped[str | None] = mapped_column(String(200), default=None)
    lease_until: Mapped[dt.datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    __table_args__ = (Index("ix_jobs_state", "state", "id"),)


class Result(Base):
    __tablename__ = "results"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), unique=True)
    """One result per job: a job is recorded once, whoever graded it."""
    score: Mapped[float]
    max_score: Mapped[float]
    data: Mapped[str] = mapped_column(Text)
    """``result.json``, whole (hidden checks included; :mod:`.views` filters for students)."""
    graded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Release(Base):
    """An assignment whose hidden results students may see."""

    __tablename__ = "releases"
    assignment: Mapped[str] = mapped_column(String(100), primary_key=True)
    released_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    released_by: Mapped[str] = mapped_column(String(100))


class Extension(Base):
    """A student's extension of one assignment's deadline: days more and/or a deadline of
    their own (the later wins, :func:`grader.policy.effective_deadline`); who granted it, when.
    """

    __tablename__ = "extensions"
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    assignment: Mapped[str] = mapped_column(String(100), primary_key=True)
    days: Mapped[float] = mapped_column(default=0.0)
    due: Mapped[dt.datetime | None] = mapped_column(default=None)
    granted_by: Mapped[str] = mapped_column(String(100))
    granted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
