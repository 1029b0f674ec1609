"""Deadlines and late work, as data: the rules ``grader grade`` and ``grader serve`` share.

Pure functions of frozen values (no files, no clock): an assignment's :class:`Deadline` (from
its rubric's ``[deadline]``, :mod:`grader.deadline_rubric`), a student's extension
(:func:`effective_deadline`), the penalty of one submission (:func:`late_penalty`) and the
submission that counts when a student handed in several (:func:`choose`). Every time is
timezone-aware; lateness is measured in elapsed (UTC) time, so a daylight-saving change between
the deadline and the submission neither adds nor removes an hour.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

UNITS = {"day": timedelta(days=1), "hour": timedelta(hours=1)}
"""What a penalty is charged per: each *started* unit after the deadline counts whole."""
OF = ("score", "max_score")
"""What the penalty's percentage is of: the score earned or the assignment's maximum."""
COUNTS = ("latest", "best")
"""Which of a student's submissions counts."""


@dataclass(frozen=True)
class LatePolicy:
    """How late work loses points: ``percent`` per started ``per`` after the deadline (and its
    ``grace``), at most ``max_percent``; a submission after the cutoff gets nothing."""

    percent: float = 0.0
    per: str = "day"
    max_percent: float = 100.0
    of: str = "score"
    grace: timedelta = timedelta(0)
    counts: str = "latest"

    def describe(self) -> str:
        if not self.percent:
            return "no late penalty"
        cap = f", at most {self.max_percent:g}%" if self.max_percent < 100 else ""
        of = "the maximum score" if self.of == "max_score" else "the score"
        return f"{self.percent:g}% of {of} per started {self.per} late{cap}"


@dataclass(frozen=True)
class Deadline:
    """When an assignment is due, and what happens after."""

    due: datetime
    policy: LatePolicy = LatePolicy()
    cutoff: datetime | None = None
    """After this, a submission scores 0 (and, with ``counts = "latest"``, does not count)."""
    zone: str = ""
    """The rubric's ``timezone``: the IANA zone (``Europe/Berlin``) in which times written
    without one (an LMS worksheet's) are read; "" reads them at the offset of ``due``."""

    def localize(self, naive: datetime) -> datetime:
        """A time an LMS wrote without a zone, in the course's zone."""
        if naive.utcoffset() is not None:
            return naive
        zone = ZoneInfo(self.zone) if self.zone else self.due.tzinfo
        return naive.replace(tzinfo=zone)

    def __post_init__(self) -> None:
        for when in (self.due, self.cutoff):
            if when is not None and when.utcoffset() is None:
                raise ValueError(f"{when.isoformat()} has no timezone; deadlines must have one")
        if self.cutoff is not None and self.cutoff < self.due:
            raise ValueError(f"the cutoff {self.cutoff.isoformat()} is before the deadline "
                             f"{self.due.isoformat()}")


@dataclass(frozen=True)
class Extension:
    """A student's extension: a number of days more, or a deadline of their own."""

    days: float = 0.0
    due: datetime | None = None


def extension_days(text: str) -> float:
    """A number of extension days as a person writes it ("" is 0); ValueError unless it is a
    finite number >= 0."""
    if not text.strip():
        return 0.0
    days = float(text)
    if not 0 <= days < math.inf:
        raise ValueError(f"{text!r} is not a number of days >= 0")
    return days


@dataclass(frozen=True)
class Penalty:
    """What lateness cost one submission; ``result.json``'s ``late`` (times as ISO 8601)."""

    raw_score: float
    penalty: float
    """Points taken off."""
    score: float
    """``raw_score - penalty``, never below 0."""
    reason: str
    """For people: on time, how late and what that cost, or why no penalty could apply."""
    submitted_at: str | None = None
    deadline: str | None = None
    late_seconds: float = 0.0
    after_cutoff: bool = False

    @property
    def known(self) -> bool:
        """Whether the submission time was known (else no penalty could be applied)."""
        return self.submitted_at is not None


def effective_deadline(student: str, deadline: Deadline,
                       extensions: Mapping[str, Extension] | None = None) -> Deadline:
    """``deadline`` as it applies to ``student``: moved by their extension, if any.

    An extension moves the cutoff by as much as the deadline (a student given two more days
    keeps the same window of late work), and never moves either earlier.
    """
    extension = (extensions or {}).get(student)
    if extension is None:
        return deadline
    due = deadline.due + timedelta(days=extension.days)
    if extension.due is not None:
        due = max(due, extension.due)
    shift = max(due - deadline.due, timedelta(0))
    cutoff = deadline.cutoff + shift if deadline.cutoff is not None else None
    return replace(deadline, due=deadline.due + shift, cutoff=cutoff)


def late_penalty(submitted_at: datetime | None, raw_score: float, max_score: float,
                 deadline: Deadline | None) -> Penalty | None:
    """The penalty of a submission scoring ``raw_score`` handed in at ``submitted_at``.

    None when there is no deadline. An unknown time (``None``) costs nothing, and the reason
    says so: a grader must not guess that work was late.
    """
    if deadline is None:
        return None
    due = deadline.due.isoformat()
    if submitted_at is None:
        return Penalty(raw_score, 0.0, raw_score, "submission time unknown: no late penalty "
                       "applied", None, due)
    if submitted_at.utcoffset() is None:
        raise ValueError(f"submission time {submitted_at.isoformat()} has no timezone")
    when = submitted_at.isoformat()
    late = _utc(submitted_at) - _utc(deadline.due)
    if deadline.cutoff is not None and _utc(submitted_at) > _utc(deadline.cutoff):
        return Penalty(raw_score, raw_score, 0.0, f"submitted {_duration(late)} late, after the "
                       f"cutoff {deadline.cutoff.isoformat()}: no points", when, due,
                       late.total_seconds(), True)
    policy = deadline.policy
    if late <= policy.grace or not policy.percent:
        reason = ("on time" if late <= timedelta(0) else
                  f"submitted {_duration(late)} late, within the grace period"
                  if late <= policy.grace else f"submitted {_duration(late)} late (no penalty)")
        return Penalty(raw_score, 0.0, raw_score, reason, when, due,
                       max(late, timedelta(0)).total_seconds())
    units = math.ceil(late / UNITS[policy.per])
    percent = min(policy.percent * units, policy.max_percent)
    base = max_score if policy.of == "max_score" else raw_score
    points = min(raw_score, base * percent / 100)
    plural = "s" if units != 1 else ""
    reason = (f"submitted {_duration(late)} late ({units} started {policy.per}{plural}): "
              f"-{percent:g}% ({_points(points)} points)")
    return Penalty(raw_score, points, raw_score - points, reason, when, due, late.total_seconds())


@dataclass(frozen=True)
class Attempt:
    """One of a student's submissions, as :func:`choose` weighs it."""

    id: str
    submitted_at: datetime | None
    penalty: Penalty
    order: int = 0
    """Tie-breaker when times are equal or unknown: the order handed in (higher is later)."""


def choose(attempts: Sequence[Attempt], counts: str = "latest") -> Attempt | None:
    """The attempt that counts: the ``latest`` or the ``best`` (by score after penalty).

    Attempts after the cutoff count only when there is nothing else (they score 0 anyway):
    "latest" must not let a too-late resubmission wipe out a graded one.
    """
    if counts not in COUNTS:
        raise ValueError(f"counts must be one of {', '.join(COUNTS)}, not {counts!r}")
    if not attempts:
        return None
    eligible = [a for a in attempts if not a.penalty.after_cutoff] or list(attempts)
    if counts == "best":
        return max(eligible, key=lambda a: (a.penalty.score, _later(a)))
    return max(eligible, key=_later)


def _later(attempt: Attempt) -> tuple[float, int]:
    when = attempt.submitted_at
    return (_utc(when).timestamp() if when is not None else -math.inf, attempt.order)


def _utc(when: datetime) -> datetime:
    return when.astimezone(timezone.utc)


def _points(value: float) -> str:
    return f"{round(value, 4):g}"


def _duration(delta: timedelta) -> str:
    """``2 d 3 h 4 min``; under a minute, in seconds."""
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "",
             f"{mins} min" if mins else ""]
    return " ".join(p for p in parts if p)
