"""The service's gradebook follows the rubric's deadline, as ``grader grade`` does."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from grader.policy import Deadline, LatePolicy
from grader.results import SubmissionResult
from grader.service.gradebook import Graded, counted
from grader.service.models import Submission

UTC = dt.timezone.utc
DUE = dt.datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def result(score: float) -> SubmissionResult:
    return SubmissionResult("s1", "a", score, 10.0, (), "", "0" * 64, "v", (), 1.0, "now",
                            "grade")


def attempt(number: int, hours_after_due: float, score: float) -> Graded:
    # The database returns naive UTC times.
    when = (DUE + dt.timedelta(hours=hours_after_due)).replace(tzinfo=None)
    sub = Submission(id=number, user_id="s1", assignment="a", filename="f.py", stored="x",
                     sha256="0" * 64, status="graded", created_at=when)
    return Graded(sub, result(score))


def assignment(deadline: Deadline | None) -> Any:
    return SimpleNamespace(name="a", deadline=deadline, root=Path("."))


def test_without_a_deadline_the_latest_counts_unchanged() -> None:
    chosen = counted([attempt(2, 5, 6.0), attempt(1, -5, 9.0)], assignment(None))
    assert chosen is not None and chosen.submission.id == 2 and chosen.result.score == 6.0


def test_a_late_latest_attempt_loses_its_penalty() -> None:
    policy = LatePolicy(percent=10, per="day")
    chosen = counted([attempt(1, -5, 9.0), attempt(2, 30, 10.0)],
                     assignment(Deadline(DUE, policy)))
    assert chosen is not None and chosen.submission.id == 2
    assert chosen.result.score == 8.0  # two started days late: -20 %
    assert chosen.result.late is not None and chosen.result.late.raw_score == 10.0


def test_best_counts_the_best_after_penalty() -> None:
    policy = LatePolicy(percent=50, per="day", counts="best")
    chosen = counted([attempt(1, -5, 9.0), attempt(2, 1, 10.0)],
                     assignment(Deadline(DUE, policy)))
    assert chosen is not None and chosen.submission.id == 1
    assert dataclasses.replace(chosen.result, late=None).score == 9.0


def test_no_attempts_none() -> None:
    assert counted([], assignment(Deadline(DUE))) is None
