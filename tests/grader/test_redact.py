"""The one filter of hidden checks' text: no input or reference figure reaches a student, in
check or grade mode, whatever the check's author wrote; the instructor still sees it all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.api import grade_batch
from grader.assignment import load_assignment
from grader.grading import Grader
from grader.outdir import STAFF_LOG
from grader.redact import hidden_text, safe, visible_text
from grader.report import render_report
from grader.sandbox.text import clean_text
from grader.submission import read_submission
from grader.terminal import check_summary

RUBRIC = """
[assignment]
name = "tiny"
title = "Addition"
names = ["add"]
import_timeout = 20.0
[defaults]
rtol = 1e-6
atol = 1e-9
timeout = 5.0
[[checks]]
id = "add-small"
function = "add"
points = 2
visibility = "visible"
description = "adds two small numbers"
[[checks]]
id = "add-large"
function = "add"
points = 3
visibility = "hidden"
description = "adds large numbers"
"""
PUBLIC = """
import pytest

@pytest.mark.rubric("add-small")
def test_small(student, expect):
    expect.scalar(student.add(2, 3), 5.0, expect.sig(a=2, b=3))
"""


def make_assignment(root: Path, hidden: str) -> Path:
    folder = root / "tiny"
    (folder / "checks" / "public").mkdir(parents=True)
    (folder / "checks" / "hidden").mkdir()
    (folder / "rubric.toml").write_text(RUBRIC)
    (folder / "checks" / "public" / "test_add.py").write_text(PUBLIC)
    (folder / "checks" / "hidden" / "test_add_hidden.py").write_text(hidden)
    return folder


def test_numbers_are_masked_unless_shapes_safe_figures_or_own_frames():
    text = hidden_text(f"train(corpus, epochs=20, lr=0.1, seed=1): accuracy 60.0%; the reference "
                       f"reaches 94.2%; x (3, 4) y (7,) {safe('(rtol 0.0001, atol 1e-05)')} "
                       f"|diff| {safe(0.25)} [1.5, -2, 3e-4] float32 f(9)\n"
                       "  at submission.py, line 12, in f: return x * 2.5")
    assert text == ("train(corpus, epochs, lr, seed): accuracy …; the reference reaches …; "
                    "x (3, 4) y (7,) (rtol 0.0001, atol 1e-05) |diff| 0.25 […, …, …] float32 "
                    "f(…)\n  at submission.py, line 12, in f: return x * 2.5")


def test_visible_text_only_loses_the_marks():
    assert visible_text(f"got 1.5, {safe(3)} of 4") == "got 1.5, 3 of 4"


def test_a_student_cannot_mark_figures_safe():
    forged = clean_text("\ue000123.456\ue001")
    assert "123.456" not in hidden_text(f"returned {forged}")


LEAKY = """
import pytest

@pytest.mark.rubric("add-large")
def test_large(student, expect, rng):
    a, b = 4567891.0, 123456.0
    got = expect.number(student.add(a, b), "add")
    # an author who forgot the rule: inputs and the reference's figure in the message
    expect.that(got == a + b, f"add(a={a}, b={b}) returned {got}; the reference gives {a + b}, "
                f"off by {expect.safe(abs(got - a - b))}")
"""
SECRETS = ("4567891", "4.56789e+06", "123456", "4691347")


@pytest.fixture(scope="module")
def leaky(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("leaky")
    folder = make_assignment(root, LEAKY)
    sub = root / "submission.py"
    sub.write_text("def add(a, b):\n    return a + b + 1\n")
    return folder, sub


def test_grade_mode_filters_every_student_visible_page(leaky, tmp_path):
    folder, sub = leaky
    assignment = load_assignment(folder)
    grade_batch(assignment, [sub], tmp_path)
    data = (tmp_path / "submission" / "result.json").read_text()
    report = (tmp_path / "submission" / "report.html").read_text()
    summary = (tmp_path / "summary.html").read_text()
    for page in (data, report, summary):
        assert not any(s in page for s in SECRETS), page
    test = next(t for t in json.loads(data)["tests"] if t["id"] == "add-large")
    assert test["output"] == "add(a, b) returned …; the reference gives …, off by 1.0"
    assert "staff_output" not in test
    # the instructor's log has it all
    staff = (tmp_path / STAFF_LOG).read_text()
    assert "== submission add-large: add(a=4567891.0, b=123456.0) returned 4691348.0" in staff


def test_the_instructor_sees_everything(leaky):
    folder, sub = leaky
    with Grader(load_assignment(folder)) as grader:
        result = grader.grade(read_submission(sub))
    test = next(t for t in result.tests if t.id == "add-large")
    assert "4567891" in test.staff_output and "the reference gives 4691347" in test.staff_output
    assert not any(s in test.output for s in SECRETS)
    carried = result.to_json(details=True)["tests"]
    assert any("4567891" in t["staff_output"] for t in carried)


def test_check_mode_shows_nothing_of_hidden_checks(leaky):
    folder, sub = leaky
    assignment = load_assignment(folder)
    with Grader(assignment, public_only=True) as grader:
        result = grader.grade(read_submission(sub))
    pages = (check_summary(result, assignment), render_report(result, assignment),
             json.dumps(result.to_json()))
    for page in pages:
        assert not any(s in page for s in SECRETS)
    assert "3 points in 1 hidden checks" in check_summary(result, assignment)


def test_a_keyword_keeps_a_value_marked_safe():
    assert hidden_text(f"f(seed={safe(1)}, lr=0.5)") == "f(seed=1, lr)"
