"""What a student may see of a result before and after the release."""

from __future__ import annotations

from grader.results import CheckResult, OutputBlock, SubmissionResult
from grader.service.views import for_student


def check(check_id: str, visibility: str, score: float) -> CheckResult:
    return CheckResult(check_id, f"f {check_id}", "f", ("f",), visibility, "passed", score,
                       2.0, f"message of {check_id}")


RESULT = SubmissionResult(
    "s", "a", 5.0, 6.0, (check("pub", "visible", 2.0), check("hid", "hidden", 1.0),
                         check("late", "after_due_date", 2.0)),
    "", "0" * 64, "v", (), 1.0, "now", "grade", timings={"hid": 0.1},
    student_output=(OutputBlock("pub", "pub", "visible", "a", ""),
                    OutputBlock("hid", "hid", "hidden", "secret print", "")),
    timed_out=("f",), errors=("hid: KeyError",))


def test_before_the_release_only_visible_checks_remain() -> None:
    seen = for_student(RESULT, released=False)
    assert [t.id for t in seen.tests] == ["pub"]
    assert (seen.score, seen.max_score, seen.mode) == (2.0, 2.0, "check")
    assert [b.check_id for b in seen.student_output] == ["pub"]
    assert (seen.timings, seen.timed_out, seen.errors) == ({}, (), ())
    text = str(seen.to_json())
    assert "hid" not in text and "late" not in text and "secret" not in text


def test_after_the_release_everything_but_internal_errors() -> None:
    seen = for_student(RESULT, released=True)
    assert [t.id for t in seen.tests] == ["pub", "hid", "late"]
    assert (seen.score, seen.max_score) == (5.0, 6.0)
    assert seen.errors == () and seen.error_details == ()
