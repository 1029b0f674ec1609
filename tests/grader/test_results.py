"""Results: JSON round trips, the grades CSV (safe for spreadsheets) and atomic writes."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os

import pytest

from grader.results import (
    CheckResult,
    OutputBlock,
    Plot,
    Series,
    SubmissionResult,
    csv_cell,
    grades_csv,
    read_result,
    write_atomic,
    write_result,
)

A1_NAMES = [
    "mse", "softmax", "cross_entropy", "mse_gradients", "sgd_step", "fit_line",
    "softmax_regression_gradients", "build_vocab", "bag_of_words", "LogisticRegression",
    "train_classifier",
]


def make_result(submission_id: str = "alice", failure: str = "") -> SubmissionResult:
    tests = (
        CheckResult("mse-lecture", "mse reproduces 1521", "mse", ("mse",), "visible", "passed",
                    1.0, 1.0, ""),
        CheckResult("mse-random", "mse random", "mse", ("mse",), "hidden", "failed", 0.0, 1.0,
                    "mse(y_hat (5,), y (5,)): 5 of 5 values differ", 0.25),
        CheckResult("train-accuracy", "train_classifier accuracy", "train_classifier",
                    ("train_classifier", "LogisticRegression"), "visible", "passed", 3.0, 3.0,
                    "é ✓ <b>"),
    )
    return SubmissionResult(
        submission_id=submission_id, assignment="a1", score=4.0, max_score=5.0, tests=tests,
        output="a note", sha256="ab" * 32, grader_version="0.1.0",
        isolation=("separate worker process", "plain-data protocol"), execution_time=1.5,
        graded_at="2024-01-01T00:00:00+00:00", mode="grade", failure=failure,
        timings={"import": 0.1, "mse": 0.02},
        student_output=(OutputBlock("mse-lecture", "mse", "visible", "hi\n", ""),),
        errors=("internal: something",),
    )


def test_json_round_trip_equals_original():
    result = make_result()
    text = json.dumps(result.to_json())
    back = SubmissionResult.from_json(json.loads(text))
    assert back == result
    assert isinstance(back.tests, tuple) and isinstance(back.tests[2].tags, tuple)
    assert isinstance(back.student_output[0], OutputBlock)
    assert isinstance(back.isolation, tuple) and isinstance(back.errors, tuple)


def test_json_shape_is_plain_data():
    data = json.loads(json.dumps(make_result().to_json()))
    assert data["tests"][1] == {
        "id": "mse-random", "name": "mse random", "function": "mse", "tags": ["mse"],
        "visibility": "hidden", "status": "failed", "score": 0.0, "max_score": 1.0,
        "output": "mse(y_hat (5,), y (5,)): 5 of 5 values differ", "duration": 0.25,
        "hint": "", "bug_class": "", "plot": None,
    }
    assert data["student_output"] == [{"check_id": "mse-lecture", "label": "mse",
                                       "visibility": "visible", "stdout": "hi\n", "stderr": ""}]
    assert data["timings"] == {"import": 0.1, "mse": 0.02}
    assert (data["score"], data["max_score"], data["mode"]) == (4.0, 5.0, "grade")


def test_from_json_defaults_for_optional_fields():
    data = make_result().to_json()
    for key in ("student_output", "errors", "timings", "failure", "timed_out"):
        del data[key]
    for test in data["tests"]:
        for key in ("hint", "bug_class", "plot"):
            del test[key]
    back = SubmissionResult.from_json(json.loads(json.dumps(data)))
    assert back.student_output == () and back.errors == () and back.failure == ""
    assert dict(back.timings) == {}


def test_write_and_read_result(tmp_path):
    result = make_result()
    path = tmp_path / "out" / "alice" / "result.json"
    write_result(result, path)
    assert read_result(path) == result
    assert "é ✓ <b>" in path.read_text(encoding="utf-8")  # not \u-escaped
    assert os.listdir(path.parent) == ["result.json"]


def test_points_by_function():
    result = make_result()
    assert result.points_by_function(["mse", "softmax"]) == {
        "mse": 1.0, "softmax": 0.0, "train_classifier": 3.0}
    assert result.max_by_function(["mse"]) == {"mse": 2.0, "train_classifier": 3.0}


def parse_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_grades_csv_header_and_rows():
    rows = parse_csv(grades_csv([make_result(), make_result("bob", "boom\nsecond line")],
                                A1_NAMES))
    assert rows[0] == ["submission", *A1_NAMES, "total", "max_score", "status"]
    assert len(rows[0]) == 15
    alice = dict(zip(rows[0], rows[1], strict=True))
    assert alice["submission"] == "alice"
    assert alice["mse"] == "1" and alice["softmax"] == "0" and alice["train_classifier"] == "3"
    assert (alice["total"], alice["max_score"], alice["status"]) == ("4", "5", "graded")
    bob = dict(zip(rows[0], rows[2], strict=True))
    assert bob["status"] == "not run: boom"
    assert len(rows) == 3


@pytest.mark.parametrize("sid", ["=HYPERLINK(\"http://x\",\"y\")", "+1", "-1", "@x",
                                 "\tTAB"])
def test_grades_csv_defuses_formulas(sid):
    rows = parse_csv(grades_csv([make_result(sid)], A1_NAMES))
    assert rows[1][0] == "'" + sid


def test_grades_csv_quotes_every_cell():
    text = grades_csv([make_result()], ["mse"])
    assert text.splitlines() == [
        '"submission","mse","total","max_score","status"',
        '"alice","1","4","5","graded"',
    ]


@pytest.mark.parametrize("sid", ['a,b', 'say "hi"', "two\nlines", "cr\rhere", "crlf\r\nx",
                                 'q",=1+1,"', "nul\x00byte"])
def test_grades_csv_keeps_awkward_values_in_one_cell(sid):
    text = grades_csv([make_result(sid, failure=f"{sid}\nmore")], ["mse"])
    rows = parse_csv(text)
    assert len(rows) == 2 and len(rows[1]) == 5
    assert rows[1][0] == sid
    assert rows[1][-1] == f"not run: {sid.splitlines()[0]}"


def test_grades_csv_quoted_formula_is_still_defused():
    text = grades_csv([make_result("=1+1", failure="+cmd")], ["mse"])
    assert text.splitlines()[1].startswith('"\'=1+1",')
    assert parse_csv(text)[1][0] == "'=1+1"


def test_csv_cell_leaves_plain_text_alone():
    assert csv_cell("alice") == "alice"
    assert csv_cell(2.5) == "2.5"
    assert csv_cell(3.0) == "3"
    assert csv_cell("a=b") == "a=b"
    assert csv_cell("\r=1") == "'\r=1"
    assert csv_cell(-1.5) == "'-1.5"


def test_grades_csv_status_of_formula_failure_is_defused():
    rows = parse_csv(grades_csv([make_result("x", failure="=1+1")], ["mse"]))
    assert rows[1][-1] == "not run: =1+1"  # starts with text, so no formula


def test_write_atomic_replaces_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "sub" / "grades.csv"
    write_atomic(path, "old\n")
    assert path.read_text() == "old\n"
    write_atomic(path, "new\r\nline ✓\n")
    assert path.read_bytes() == "new\r\nline ✓\n".encode()  # newline="": no translation
    assert os.listdir(path.parent) == ["grades.csv"]


def test_write_atomic_failure_keeps_old_content_and_no_temp_file(tmp_path):
    path = tmp_path / "grades.csv"
    write_atomic(path, "old\n")
    with pytest.raises(UnicodeEncodeError):
        write_atomic(path, "bad \ud800 surrogate")
    assert path.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["grades.csv"]


def test_plot_round_trips_through_json():
    plot = Plot("loss", "epoch", "mse", (Series("you", (1.0, 2.0), (3.0, 1.0)),))
    result = make_result()
    tests = (dataclasses.replace(result.tests[0], plot=plot, hint="h", bug_class="diverges"),
             *result.tests[1:])
    result = dataclasses.replace(result, tests=tests, timed_out=("fit_line",))
    back = SubmissionResult.from_json(json.loads(json.dumps(result.to_json())))
    assert back == result and back.tests[0].plot == plot
