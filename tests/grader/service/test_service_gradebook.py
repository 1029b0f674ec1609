"""The service's gradebook follows the rubric's deadline and each student's extension, as
``grader grade`` does."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from grader.policy import Deadline, Extension, LatePolicy
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


def test_an_extension_in_days_makes_a_late_attempt_on_time() -> None:
    policy = LatePolicy(percent=10, per="day")
    late = [attempt(1, 30, 10.0)]
    charged = counted(late, assignment(Deadline(DUE, policy)))
    extended = counted(late, assignment(Deadline(DUE, policy)), Extension(days=2))
    assert charged is not None and charged.result.score == 8.0
    assert extended is not None and extended.result.score == 10.0
    assert extended.result.late is not None and extended.result.late.penalty == 0


def test_an_extension_moves_the_cutoff_so_latest_still_counts() -> None:
    deadline = Deadline(DUE, LatePolicy(percent=10, per="day"), cutoff=DUE + dt.timedelta(days=1))
    attempts = [attempt(1, -5, 6.0), attempt(2, 40, 10.0)]
    plain = counted(attempts, assignment(deadline))
    own = counted(attempts, assignment(deadline), Extension(due=DUE + dt.timedelta(days=2)))
    assert plain is not None and plain.submission.id == 1  # the late one is after the cutoff
    assert own is not None and own.submission.id == 2 and own.result.score == 10.0


def test_an_extension_never_moves_the_deadline_earlier() -> None:
    policy = LatePolicy(percent=10, per="day")
    chosen = counted([attempt(1, 1, 10.0)], assignment(Deadline(DUE, policy)),
                     Extension(due=DUE - dt.timedelta(days=3)))
    assert chosen is not None and chosen.result.score == 9.0
