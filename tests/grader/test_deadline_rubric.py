"""The rubric's [deadline] table: values read, and every mistake named with its fix."""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from grader.assignment import load_assignment
from grader.errors import AssignmentError

BASE = """\
[assignment]
name = "t1"
names = ["f"]

[[checks]]
id = "c1"
function = "f"
points = 1
visibility = "visible"

[deadline]
"""


def root_with(tmp_path: Path, deadline: str) -> Path:
    root = tmp_path / "t1"
    root.mkdir()
    (root / "rubric.toml").write_text(BASE + textwrap.dedent(deadline), encoding="utf-8")
    return root


def error(tmp_path: Path, deadline: str) -> str:
    root = root_with(tmp_path, deadline)
    with pytest.raises(AssignmentError) as info:
        load_assignment(root)
    message = str(info.value)
    assert message.startswith(f"{root / 'rubric.toml'}: [deadline] "), message
    return message


def test_no_table_no_deadline(a1_dir):
    assert load_assignment(a1_dir).deadline is None


def test_every_key_is_read(tmp_path):
    root = root_with(tmp_path, """\
        due = 2026-12-01T23:59:00+01:00
        penalty_percent = 10
        per = "hour"
        max_penalty_percent = 50
        penalty_of = "max_score"
        grace_minutes = 5
        cutoff = "2026-12-08T23:59:00Z"
        counts = "best"
        timezone = "Europe/Berlin"
        """)
    deadline = load_assignment(root).deadline
    assert deadline is not None
    assert deadline.due == datetime(2026, 12, 1, 23, 59, tzinfo=timezone(timedelta(hours=1)))
    assert deadline.cutoff == datetime(2026, 12, 8, 23, 59, tzinfo=timezone.utc)
    policy = deadline.policy
    assert (policy.percent, policy.per, policy.max_percent, policy.of, policy.counts) == (
        10.0, "hour", 50.0, "max_score", "best")
    assert policy.grace == timedelta(minutes=5) and deadline.zone == "Europe/Berlin"
    assert policy.describe() == "10% of the maximum score per started hour late, at most 50%"


def test_defaults_are_no_penalty_and_the_latest_counts(tmp_path):
    deadline = load_assignment(root_with(tmp_path, 'due = "2026-12-01T12:00:00Z"\n')).deadline
    assert deadline is not None and deadline.cutoff is None
    assert (deadline.policy.percent, deadline.policy.counts) == (0.0, "latest")
    assert deadline.policy.describe() == "no late penalty"


@pytest.mark.parametrize(("table", "fix"), [
    ("penalty_percent = 10\n", "needs due = 2026-12-01T23:59:00+01:00"),
    ("due = 2026-12-01T23:59:00\n", "has no timezone; add its offset"),
    ('due = "2026-12-01 23:59"\n', "has no timezone"),
    ('due = "next friday"\n', "is not a date and time; write it as due = "),
    ("due = 2026-12-01\n", "is not a date and time"),
    ("due = 2026-12-01T23:59:00Z\ncutoff = 2026-11-30T23:59:00Z\n", "is before due"),
    ("due = 2026-12-01T23:59:00Z\npenalty_percent = -5\n", "must be a number >= 0 and <= 100"),
    ("due = 2026-12-01T23:59:00Z\npenalty_percent = 150\n", "<= 100"),
    ("due = 2026-12-01T23:59:00Z\ngrace_minutes = true\n", "grace_minutes must be a number"),
    ('due = 2026-12-01T23:59:00Z\nper = "week"\n', "per = 'week'; use one of 'day', 'hour'"),
    ('due = 2026-12-01T23:59:00Z\ncounts = "first"\n', "use one of 'latest', 'best'"),
    ('due = 2026-12-01T23:59:00Z\ntimezone = "Mars/Olympus"\n', "IANA name"),
    ("due = 2026-12-01T23:59:00Z\npenalty = 10\n", "does not know penalty; use due, "),
])
def test_mistakes_name_the_file_the_key_and_the_fix(tmp_path, table, fix):
    assert fix in error(tmp_path, table)


def test_a_deadline_that_is_not_a_table(tmp_path):
    root = tmp_path / "t1"
    root.mkdir()
    text = 'deadline = "friday"\n' + BASE.replace("[deadline]\n", "")
    (root / "rubric.toml").write_text(text, encoding="utf-8")
    with pytest.raises(AssignmentError, match=r"\[deadline\] must be a table"):
        load_assignment(root)
