"""Late work in `grader grade`: times and extensions from the roster, penalties recorded in
result.json and grades.csv, unknown times noted and never charged."""

from __future__ import annotations

import csv
import dataclasses
import json
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.assignment import load_assignment
from grader.cli import main
from grader.errors import GradebookError
from grader.integrations.exports import Student
from grader.integrations.lateness import counted, late_work, parse_time, without_late
from grader.integrations.lms import read_roster
from grader.policy import Deadline, Extension, LatePolicy
from grader.results import SubmissionResult, read_result
from grader.scaffold import new_assignment

DEADLINE = """
[deadline]
due = 2026-12-01T23:59:00+01:00
penalty_percent = 10
max_penalty_percent = 30
timezone = "Europe/Berlin"
"""
CET = timezone(timedelta(hours=1))


@pytest.fixture
def late_assignment(tmp_path: Path) -> Path:
    root = new_assignment("late", tmp_path / "assignments")
    with (root / "rubric.toml").open("a", encoding="utf-8") as f:
        f.write(DEADLINE)
    return root


def result(sid: str, score: float, output: str = "") -> SubmissionResult:
    return SubmissionResult(sid, "late", score, 10.0, (), output, "", "0.1.0", (), 1.0,
                            "2026-12-02T00:00:00+00:00", "grade")


def test_moodle_worksheet_times_are_read_in_the_rubrics_zone(late_assignment):
    deadline = load_assignment(late_assignment).deadline
    assert deadline is not None
    summer = parse_time("Monday, 1 June 2026, 3:04 PM", deadline)
    assert summer == datetime(2026, 6, 1, 13, 4, tzinfo=timezone.utc)  # CEST, +02:00
    assert parse_time("2026-12-02T01:00:00Z", deadline) == datetime(2026, 12, 2, 2, 0,
                                                                     tzinfo=CET)
    assert parse_time("-", deadline) is None and parse_time(" ", deadline) is None
    with pytest.raises(ValueError):
        parse_time("yesterday", deadline)


def test_apply_charges_records_and_is_the_same_applied_twice(late_assignment):
    assignment = load_assignment(late_assignment)
    roster = {"1": Student("1", submitted_at="2026-12-03T09:00:00+01:00"),
              "2": Student("2", submitted_at="2026-12-03T09:00:00+01:00", extension_days="2"),
              "3": Student("3")}
    late = late_work(assignment, roster, Path("roster.csv"), {"3": Student("3", late=True)})
    assert late is not None
    charged = late.apply(result("1", 8.0, "notes about files"))
    assert charged.late is not None and (charged.score, charged.late.raw_score) == (6.4, 8.0)
    assert charged.output.startswith("Late work: submitted 1 d 9 h 1 min late (2 started days)")
    assert charged.output.endswith("\n\nnotes about files")
    assert late.apply(charged) == charged
    assert without_late(charged) == result("1", 8.0, "notes about files")
    extended = late.apply(result("2", 8.0))
    assert extended.score == 8.0 and extended.output == "" and extended.late is not None
    unknown = late.apply(result("3", 5.0))
    assert unknown.score == 5.0 and "unknown" in unknown.output
    data = json.loads(json.dumps(charged.to_json()))
    assert data["late"]["penalty"] == pytest.approx(1.6) and data["score"] == 6.4
    assert SubmissionResult.from_json(data) == charged
    notes = late.notes([charged, extended, unknown])
    assert notes[0].startswith("1 submission(s) have no known submission time, so no late "
                               "penalty was applied (1 of them marked late by the LMS: 3): 3")
    assert notes[1] == "1 late submission(s) lost points: 1 (-1.6)"
    without = dataclasses.replace(assignment, deadline=None)
    assert late_work(without, roster, None, {}) is None
    assert "late" not in result("4", 1.0).to_json()


@pytest.mark.parametrize(("row", "says"), [
    ("1,soon,", "student 1: submitted_at 'soon' is not a time"),
    ("1,,-2", "student 1: extension_days '-2' must be a number of days >= 0"),
])
def test_roster_mistakes_name_the_file_and_student(tmp_path, late_assignment, row, says):
    path = tmp_path / "roster.csv"
    path.write_text(f"id,submitted_at,extension_days\n{row}\n")
    with pytest.raises(GradebookError, match=f"{path}: {says}"):
        late_work(load_assignment(late_assignment), read_roster(path), path, {})


def test_a_time_without_a_zone_is_read_at_the_deadlines_offset():
    deadline = Deadline(datetime(2026, 1, 1, tzinfo=CET), LatePolicy(percent=5))
    assert parse_time("2026-01-01T00:30", deadline) == datetime(2026, 1, 1, 0, 30, tzinfo=CET)


@pytest.mark.slow
def test_grade_a_moodle_export_with_a_late_submission(tmp_path, late_assignment):
    solution = (late_assignment / "solution.py").read_bytes()
    export = tmp_path / "moodle.zip"
    with zipfile.ZipFile(export, "w") as zf:
        for sid, name in (("101", "Ann Lee"), ("102", "Bo Chen"), ("103", "Cy Diaz")):
            zf.writestr(f"{name}_{sid}_assignsubmission_file_/submission.py", solution)
    roster = tmp_path / "worksheet.csv"
    roster.write_text(  # Moodle's grading worksheet, with an extension column added
        "Identifier,Full name,Email address,Status,Last modified (submission),extension_days\n"
        "Participant 101,Ann Lee,ann@x.example,Submitted,\"Tuesday, 1 December 2026, 11:00 PM\",\n"
        "Participant 102,Bo Chen,bo@x.example,Submitted,\"Thursday, 3 December 2026, 9:00 AM\",\n"
        "Participant 103,Cy Diaz,cy@x.example,Submitted,-,\n")
    out = tmp_path / "out"
    args = ["grade", "-a", str(late_assignment), "--out", str(out), "--jobs", "1",
            "--allow-reduced-isolation", "--roster", str(roster), str(export)]
    run = CliRunner().invoke(main, args)
    assert run.exit_code == 0, run.output
    full = load_assignment(late_assignment).max_score
    on_time, late, unknown = (read_result(out / sid / "result.json") for sid in ("101", "102",
                                                                                  "103"))
    assert on_time.late is not None and on_time.late.reason == "on time"
    assert on_time.score == full
    assert late.late is not None and late.late.raw_score == full
    assert late.score == pytest.approx(full * 0.8)  # 33 hours late: 2 started days, 20%
    assert unknown.score == full and unknown.late is not None and not unknown.late.known
    assert "Note: 1 submission(s) have no known submission time" in run.output
    assert "Note: 1 late submission(s) lost points: 102" in run.output
    with (out / "grades.csv").open() as f:
        rows = {row[0]: row for row in csv.reader(f)}
    assert rows["102"][-3] == f"{full * 0.8:g}"
    assert "late: submitted 1 d 9 h 1 min late (2 started days): -20%" in rows["102"][-1]
    assert "late: submission time unknown" in rows["103"][-1]
    assert "Late work: submitted" in (out / "102" / "report.html").read_text()

    roster.write_text(roster.read_text().replace("9:00 AM\",", "9:00 AM\",2"))
    again = CliRunner().invoke(main, args)  # kept results, adjusted to the new extension
    assert again.exit_code == 0, again.output
    assert read_result(out / "102" / "result.json").score == full
    assert read_result(out / "101" / "result.json") == on_time

    rubric = late_assignment / "rubric.toml"
    rubric.write_text(rubric.read_text().replace(DEADLINE, ""))
    gone = CliRunner().invoke(main, args)  # no deadline: the checks' points, as graded
    assert gone.exit_code == 0, gone.output
    first = read_result(out / "102" / "result.json")
    assert (first.score, first.late, first.output) == (full, None, "")


def test_counted_picks_the_attempt_the_policy_says_with_its_penalty(late_assignment):
    deadline = load_assignment(late_assignment).deadline
    assert deadline is not None
    on_time = (datetime(2026, 12, 1, 20, 0), result("alice", 6.0))  # naive: UTC, as from a DB
    late = (datetime(2026, 12, 2, 12, 0, tzinfo=CET), result("alice", 10.0))  # 1 started day
    chosen = counted("alice", [on_time, late], deadline)
    assert chosen is not None and chosen[0] == 1 and chosen[1].score == 9.0
    best = counted("alice", [on_time, late], dataclasses.replace(
        deadline, policy=dataclasses.replace(deadline.policy, percent=50, max_percent=50,
                                             counts="best")))
    assert best is not None and best[0] == 0 and best[1].score == 6.0
    assert best[1].late is not None and best[1].late.reason == "on time"
    extended = counted("alice", [on_time, late], deadline, {"alice": Extension(days=1)})
    assert extended is not None and extended[1].score == 10.0
    assert counted("alice", [on_time, late], None) == (1, late[1])
    assert counted("alice", [], deadline) is None
