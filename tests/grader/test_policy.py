"""Deadlines and late work (grader.policy): boundaries, caps, timezones, extensions, best vs
latest."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from grader.policy import (
    Attempt,
    Deadline,
    Extension,
    LatePolicy,
    choose,
    effective_deadline,
    late_penalty,
)

CET = timezone(timedelta(hours=1))
DUE = datetime(2026, 12, 1, 23, 59, tzinfo=CET)
TEN_A_DAY = Deadline(DUE, LatePolicy(percent=10, per="day", max_percent=30))


def at(**delta: float) -> datetime:
    return DUE + timedelta(**delta)


def test_no_deadline_means_no_penalty():
    assert late_penalty(at(days=3), 10, 10, None) is None


@pytest.mark.parametrize(("submitted", "percent"), [
    (at(seconds=0), 0), (at(seconds=-1), 0), (at(seconds=1), 10), (at(days=1), 10),
    (at(days=1, seconds=1), 20), (at(days=2, hours=23), 30), (at(days=40), 30)])
def test_each_started_day_costs_up_to_the_cap(submitted, percent):
    penalty = late_penalty(submitted, 8.0, 10.0, TEN_A_DAY)
    assert penalty is not None
    assert penalty.penalty == pytest.approx(8.0 * percent / 100)
    assert penalty.score == pytest.approx(8.0 - penalty.penalty)
    assert penalty.raw_score == 8.0 and penalty.known
    assert (f"-{percent}%" in penalty.reason) if percent else penalty.reason == "on time"


def test_per_hour_of_the_maximum_never_below_zero():
    deadline = Deadline(DUE, LatePolicy(percent=5, per="hour", of="max_score"))
    penalty = late_penalty(at(hours=2, minutes=1), 20.0, 40.0, deadline)
    assert penalty is not None and penalty.penalty == pytest.approx(6.0)  # 3 hours x 5% of 40
    assert "3 started hours" in penalty.reason and "2 h 1 min" in penalty.reason
    broke = late_penalty(at(hours=30), 3.0, 40.0, deadline)
    assert broke is not None and (broke.penalty, broke.score) == (3.0, 0.0)


def test_grace_counts_as_on_time_then_lateness_runs_from_the_deadline():
    deadline = Deadline(DUE, LatePolicy(percent=10, grace=timedelta(minutes=5)))
    on_time = late_penalty(at(minutes=5), 10, 10, deadline)
    late = late_penalty(at(minutes=5, seconds=1), 10, 10, deadline)
    assert on_time is not None and on_time.penalty == 0
    assert on_time.reason == "submitted 5 min late, within the grace period"
    assert late is not None and late.penalty == pytest.approx(1.0)
    assert "5 min" in late.reason


def test_after_the_cutoff_nothing_counts():
    deadline = Deadline(DUE, LatePolicy(percent=10), cutoff=DUE + timedelta(days=2))
    last = late_penalty(at(days=2), 10, 10, deadline)
    over = late_penalty(at(days=2, seconds=1), 10, 10, deadline)
    assert last is not None and not last.after_cutoff and last.score == pytest.approx(8.0)
    assert over is not None and over.after_cutoff and over.score == 0.0
    assert "after the cutoff" in over.reason


def test_late_without_a_penalty_is_still_said():
    penalty = late_penalty(at(hours=3), 10, 10, Deadline(DUE))
    assert penalty is not None and penalty.penalty == 0 and penalty.late_seconds == 3 * 3600
    assert penalty.reason == "submitted 3 h late (no penalty)"


def test_unknown_time_costs_nothing_and_says_so():
    penalty = late_penalty(None, 7.0, 10.0, TEN_A_DAY)
    assert penalty is not None and (penalty.score, penalty.known) == (7.0, False)
    assert "unknown" in penalty.reason


def test_timezones_compare_instants_not_wall_clocks():
    utc = datetime(2026, 12, 1, 22, 59, tzinfo=timezone.utc)  # = DUE
    tokyo = utc.astimezone(ZoneInfo("Asia/Tokyo")) + timedelta(seconds=1)
    assert late_penalty(utc, 10, 10, TEN_A_DAY).penalty == 0  # type: ignore[union-attr]
    assert late_penalty(tokyo, 10, 10, TEN_A_DAY).penalty == 1.0  # type: ignore[union-attr]


def test_a_day_is_24_hours_across_a_daylight_saving_change():
    berlin = ZoneInfo("Europe/Berlin")
    due = datetime(2026, 10, 24, 12, 0, tzinfo=berlin)  # the clocks go back on the 25th
    deadline = Deadline(due, LatePolicy(percent=10))
    same_wall_clock = datetime(2026, 10, 25, 12, 0, tzinfo=berlin)  # 25 hours later
    penalty = late_penalty(same_wall_clock, 10, 10, deadline)
    assert penalty is not None and penalty.penalty == pytest.approx(2.0)


def test_times_without_a_zone_are_refused():
    with pytest.raises(ValueError, match="timezone"):
        Deadline(datetime(2026, 12, 1, 23, 59))
    with pytest.raises(ValueError, match="timezone"):
        late_penalty(datetime(2026, 12, 2), 1, 1, TEN_A_DAY)
    with pytest.raises(ValueError, match="before the deadline"):
        Deadline(DUE, cutoff=DUE - timedelta(hours=1))


def test_extensions_move_the_deadline_and_the_cutoff():
    deadline = Deadline(DUE, LatePolicy(percent=10), cutoff=DUE + timedelta(days=3))
    extensions = {"alice": Extension(days=2), "bob": Extension(due=DUE + timedelta(hours=5)),
                  "carol": Extension(due=DUE - timedelta(days=1))}
    alice = effective_deadline("alice", deadline, extensions)
    assert (alice.due, alice.cutoff) == (DUE + timedelta(days=2), DUE + timedelta(days=5))
    assert effective_deadline("bob", deadline, extensions).due == DUE + timedelta(hours=5)
    assert effective_deadline("carol", deadline, extensions) == deadline  # never earlier
    assert effective_deadline("dave", deadline, extensions) == deadline
    assert late_penalty(at(days=1), 10, 10, alice).penalty == 0  # type: ignore[union-attr]


def attempt(name: str, when: datetime | None, raw: float, deadline: Deadline = TEN_A_DAY,
            order: int = 0) -> Attempt:
    penalty = late_penalty(when, raw, 10.0, deadline)
    assert penalty is not None
    return Attempt(name, when, penalty, order)


def test_latest_or_best_after_penalties():
    early = attempt("early", at(hours=-5), 7.0)
    late = attempt("late", at(days=1, hours=1), 8.0)  # 20% off: 6.4
    assert choose([late, early], "latest") == late
    assert choose([late, early], "best") == early
    assert choose([], "best") is None
    with pytest.raises(ValueError, match="latest, best"):
        choose([early], "first")


def test_ties_and_unknown_times_go_to_the_later_handed_in():
    one, two = attempt("one", None, 5.0, order=1), attempt("two", None, 5.0, order=2)
    assert choose([two, one], "latest") == two
    assert choose([two, one], "best") == two
    known = attempt("known", at(hours=-1), 5.0)
    assert choose([known, one], "latest") == known


def test_a_resubmission_after_the_cutoff_does_not_replace_a_graded_one():
    deadline = Deadline(DUE, LatePolicy(), cutoff=DUE + timedelta(days=1))
    graded = attempt("graded", at(hours=-1), 6.0, deadline)
    too_late = attempt("too-late", at(days=2), 10.0, deadline)
    assert choose([graded, too_late], "latest") == graded
    assert choose([too_late], "latest") == too_late
