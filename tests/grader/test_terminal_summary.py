"""What ``grader check`` prints: hidden points left out, one line for the starter's
placeholders, point or points."""

from __future__ import annotations

from grader.results import CheckResult, SubmissionResult
from grader.student import call_failure, describe_import_error
from grader.terminal import check_summary, points


def result(tests: tuple[CheckResult, ...], mode: str = "check") -> SubmissionResult:
    return SubmissionResult("s", "a1", sum(t.score for t in tests),
                            sum(t.max_score for t in tests), tests, "", "", "0", (), 0.0, "",
                            mode)


def check(id: str, function: str, output: str = "", points: float = 1.0) -> CheckResult:
    status = "failed" if output else "passed"
    return CheckResult(id, f"{function} {id}", function, (function,), "visible", status,
                       0.0 if output else points, points, output)


def test_check_mode_says_how_many_hidden_points_it_did_not_run(a1):
    text = check_summary(result((check("mse-lecture", "mse"),)), a1)
    hidden = sum(c.points for c in a1.checks if not c.public)
    assert f"+ {hidden:g} points in 21 hidden checks, which this self-check does not run" in text
    graded = check_summary(result((check("mse-lecture", "mse"),), mode="grade"), a1)
    assert "hidden checks" not in graded


def test_one_point_is_singular():
    assert points(1.0) == "1 point" and points(0.5) == "0.5 points" and points(3) == "3 points"


def test_placeholders_collapse_into_one_line_that_leaves_real_failures_visible(a1):
    todo = [check(f"c{i}", name, f"{name} raised NotImplementedError (the starter's placeholder "
                  "is still there: write this function)") for i, name in
            enumerate(["mse", "mse", "softmax", "fit_line"])]
    real = check("sgd-lecture", "sgd_step", "sgd_step(...) returned 1, expected 2")
    text = check_summary(result((*todo, real)), a1)
    assert text.count("NotImplementedError") == 1
    assert ("not implemented yet (the starter's NotImplementedError): mse, softmax, fit_line "
            "(4 checks, 4 points)") in text
    assert "✗ sgd_step sgd-lecture (1 point)\n  sgd_step(...) returned 1, expected 2" in text


def test_a_missing_module_says_what_is_available():
    info = {"kind": "exception", "type": "ModuleNotFoundError",
            "message": "No module named 'matplotlib'", "frames": []}
    for text in (describe_import_error(info, "submission.py"),
                 call_failure("fit_line", info, ()).message):
        assert "No module named 'matplotlib'" in text
        assert "Only torch, numpy and the Python standard library are available" in text
        assert "plotting" in text
