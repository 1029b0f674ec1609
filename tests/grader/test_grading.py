"""End to end: golden submissions of Assignment 1 and their expected per-check outcomes."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from grader.results import SubmissionResult

# Each example's bug is confined to one function: exactly these checks fail.
GOLDEN: dict[str, set[str]] = {
    "correct": set(),
    "sign_error": {"mseg-lecture", "mseg-random"},
    "missing_mean": {"mse-lecture", "mse-random", "mse-inputs-untouched"},
    "unstable_softmax": {"softmax-large-logits"},
    "no_factor_two": {"sgd-lecture", "sgd-random"},
    "log_zero": {"ce-zero-probability"},
    "transposed_gradient": {"srg-shapes", "srg-autograd", "srg-random"},
    "probabilities_not_logits": {"logreg-affine"},
    # per-example-sgd: a procedure check, which rightly catches the missing step as well
    "forgot_step": {"train-accuracy", "train-per-example-sgd", "train-vs-reference"},
}

# The bug class each example's failing checks should name (every one of them).
HINTS: dict[str, str] = {
    "sign_error": "sign-flipped",
    "missing_mean": "sum-not-mean",
    "unstable_softmax": "non-finite",
    "no_factor_two": "missing-factor-2",
    "log_zero": "non-finite",
    "transposed_gradient": "transposed",
    "probabilities_not_logits": "probabilities-not-logits",
    "forgot_step": "not-updated",
}


def failing(result: SubmissionResult) -> set[str]:
    return {t.id for t in result.tests if t.status == "failed"}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_example_loses_exactly_its_checks(graded, name):
    result = graded[name]
    assert failing(result) == GOLDEN[name], [t.output for t in result.tests if t.output]
    lost = sum(t.max_score for t in result.tests if t.id in GOLDEN[name])
    assert result.score == pytest.approx(result.max_score - lost)
    assert not result.errors


@pytest.mark.parametrize("name", sorted(HINTS))
def test_example_gets_the_hint_for_its_bug(graded, name):
    failed = [t for t in graded[name].tests if t.status == "failed"]
    assert failed and {t.bug_class for t in failed} == {HINTS[name]}, [t.output for t in failed]
    assert all(t.hint and f" Likely mistake: {t.hint}" in t.output for t in failed)


@pytest.mark.parametrize("name", ["solution", "correct"])
def test_correct_submissions_get_no_hint(graded, name):
    assert not any(t.hint or t.bug_class for t in graded[name].tests)


def test_training_and_fitting_checks_carry_plots(graded):
    plots = {t.id: t.plot for t in graded["correct"].tests if t.plot}
    assert set(plots) == {"fit-converges", "fit-vs-reference", "train-vs-reference"}
    train = plots["train-vs-reference"]
    assert [s.label for s in train.series] == ["your train_classifier", "reference"]
    mine, ref = train.series
    assert mine.x == ref.x == (0, 1, 20)
    assert mine.y[-1] < mine.y[0] and ref.y[-1] < ref.y[0]  # both learned


def test_solution_scores_full_marks(graded):
    result = graded["solution"]
    assert result.score == result.max_score == 40
    assert not failing(result) and not result.errors and not result.failure


def test_starter_scores_zero_with_not_implemented(graded):
    result = graded["submission"]
    assert result.score == 0 and not result.errors
    assert all("NotImplementedError" in t.output for t in result.tests), [
        t.output for t in result.tests]


def test_sign_error_message_names_function_and_sign(graded):
    message = next(t.output for t in graded["sign_error"].tests if t.id == "mseg-lecture")
    assert "mse_gradients" in message and "sign" in message and "-4680" in message


def test_procedure_checks_pass_on_solution_and_correct(graded):
    procedure = {"fit-start", "fit-per-example-sgd", "fit-seed", "train-per-example-sgd",
                 "train-zero-grad", "train-seed"}
    for name in ("solution", "correct"):
        ran = {t.id: t.status for t in graded[name].tests if t.id in procedure}
        assert ran == dict.fromkeys(procedure, "passed")


def test_hidden_messages_reveal_no_inputs(graded):
    for result in graded.values():
        for test in result.tests:
            if test.visibility == "hidden":
                # shapes and error magnitudes may show; values of inputs or answers never
                assert not re.search(r"expected:? *[-\d\[(]", test.output), test.output
                assert "got:" not in test.output


def test_result_files_and_csv(graded, graded_dir):
    out = graded_dir
    data = json.loads((out / "correct" / "result.json").read_text())
    assert data["score"] == data["max_score"] == 40.0
    assert {"name", "score", "max_score", "status", "output", "visibility", "tags"} <= set(
        data["tests"][0])
    assert data["sha256"] and data["grader_version"] and data["isolation"]
    rows = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text())))
    assert [r["submission"] for r in rows][:2] == ["solution", "submission"]
    sign = next(r for r in rows if r["submission"] == "sign_error")
    assert sign["mse_gradients"] == "0" and sign["mse"] == "3" and sign["total"] == "36"
    assert (out / "summary.html").is_file() and (out / "correct" / "report.html").is_file()
