"""Signatures: the starter's, read with ast, against what a worker reports."""

from __future__ import annotations

from pathlib import Path

from grader.signatures import accepts, handout_signatures, mismatches, submission_params

A1_STARTER = Path(__file__).resolve().parents[2] / "assignments" / "a1" / "submission.py"
NAMES = ("fit_line", "train_classifier", "LogisticRegression", "mse")


def params(*spec: str) -> list[list[object]]:
    """``"x"`` required, ``"x="`` with a default, ``"*a"``/``"**k"`` var-args."""
    out: list[list[object]] = []
    for p in spec:
        kind = ("VAR_KEYWORD" if p.startswith("**") else "VAR_POSITIONAL" if p.startswith("*")
                else "POSITIONAL_OR_KEYWORD")
        out.append([p.strip("*="), kind, p.endswith("=")])
    return out


def test_the_starter_gives_the_handout_signatures():
    handout = handout_signatures(A1_STARTER, NAMES)
    assert [p.show() for p in handout["fit_line"]] == [
        "x", "y", "lr", "epochs", "seed=0", "m=0.0", "c=0.0"]
    assert [p.show() for p in handout["LogisticRegression"]] == ["vocab_size", "n_classes=2"]


def test_a_missing_parameter_is_said_in_the_handouts_words():
    handout = handout_signatures(A1_STARTER, NAMES)
    notes = mismatches(handout, {"train_classifier": params(
        "sentences", "labels", "epochs=", "lr=", "seed=")})
    assert notes == {"train_classifier": (
        "`train_classifier` takes (sentences, labels, vocab, epochs=20, lr=0.1, seed=0) but "
        "yours takes (sentences, labels, epochs=..., lr=..., seed=...)")}


def test_compatible_signatures_pass():
    handout = handout_signatures(A1_STARTER, NAMES)
    fit = handout["fit_line"]
    for ok in (params("x", "y", "lr", "epochs", "seed=", "m=", "c=", "verbose="),
               params("x", "y", "lr", "epochs", "**kwargs"),
               params("x", "y", "*args", "**kwargs")):
        assert accepts(fit, submission_params(ok)), ok
    for bad in (params("x", "y", "epochs", "lr", "seed=", "m=", "c="),  # swapped
                params("x", "y", "lr", "epochs", "seed", "m=", "c="),    # default dropped
                params("x", "y", "lr", "epochs", "seed=", "m=", "c=", "extra")):
        assert not accepts(fit, submission_params(bad)), bad


def test_a_malformed_report_is_ignored():
    handout = handout_signatures(A1_STARTER, NAMES)
    assert mismatches(handout, {"mse": [["y_hat", 3, False]], "fit_line": None}) == {}
    assert mismatches(handout, "nonsense") == {}
