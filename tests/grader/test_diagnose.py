"""Likely-mistake hints: named only when the values fit the relation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.diagnose import (
    BUG_CLASSES,
    Evidence,
    Hint,
    Variant,
    bug_class_label,
    hint_suffix,
    with_hint,
    without_hint,
)
from grader.diagnose import diagnose as hint_for

EXP = np.array([[1.5, -2.0, 3.0], [0.25, 4.0, -7.0]])


def diagnose(got, expected, n=None, variants=()):
    """The hint's text (most tests here are about the words a student reads)."""
    hint = hint_for(got, expected, n=n, variants=variants)
    return hint.text if hint else None


def test_bug_classes():
    assert hint_for(-EXP, EXP).bug_class == "sign-flipped"
    assert hint_for(5 * EXP, EXP, n=5).bug_class == "sum-not-mean"
    assert hint_for(0.5 * EXP, EXP).bug_class == "missing-factor-2"
    assert hint_for(np.zeros_like(EXP), EXP).bug_class == "all-zero"
    assert set(BUG_CLASSES) >= {"wrong-axis", "transposed", "not-updated", "diverges"}


def test_an_assignment_may_name_its_own_bug_classes():
    assert Hint("missing-scale", "text").bug_class == "missing-scale"
    assert bug_class_label("missing-scale", {"missing-scale": "no 1/sqrt(d)"}) == "no 1/sqrt(d)"
    assert bug_class_label("missing-scale") == "missing scale"
    assert bug_class_label("sign-flipped") == BUG_CLASSES["sign-flipped"]


@pytest.mark.parametrize("bad", ["Made Up", "", "trailing-", "under_score", "-x"])
def test_a_bug_class_must_be_a_slug(bad):
    with pytest.raises(ValueError, match="not a slug"):
        Hint(bad, "text")


def test_a_hint_needs_a_text():
    with pytest.raises(ValueError, match="needs a text"):
        Hint("sign-flipped", "  ")


def test_variants_come_first_and_need_a_fit():
    axis = Hint("wrong-axis", "normalised over dim 0")
    wrong = EXP[::-1]
    assert hint_for(wrong, EXP, variants=[Variant(axis, wrong)]) == axis
    assert hint_for(wrong * 1.1, EXP, variants=[Variant(axis, wrong)]) is None
    # a variant of another shape is skipped, not an error
    assert hint_for(-EXP, EXP, variants=[Variant(axis, wrong.ravel())]).bug_class == (
        "sign-flipped")


def test_hint_suffix_punctuation():
    assert with_hint("m.", None) == "m."
    assert with_hint("m.", Hint("diverges", "a")) == "m. Likely mistake: a."
    assert with_hint("m", Hint("diverges", "a")) == "m. Likely mistake: a."
    assert hint_suffix(Hint("diverges", "done?")) == " Likely mistake: done?"


def test_sign_flip():
    hint = diagnose(-EXP, EXP)
    assert hint is not None and hint.startswith("the sign is flipped: ")
    assert "opposite sign" in hint


def test_twice_and_half():
    assert diagnose(2 * EXP, EXP) == "every value is twice the expected one: an extra factor 2"
    half = diagnose(0.5 * EXP, EXP)
    assert half is not None and half.startswith("every value is half the expected one")
    assert "missing factor 2" in half


def test_sign_and_factor_two_combined():
    assert diagnose(-2 * EXP, EXP) == "the sign is flipped and there is an extra factor 2"
    assert diagnose(-0.5 * EXP, EXP) == "the sign is flipped and a factor 2 is missing"


def test_sum_versus_mean_needs_n():
    too_large = diagnose(5 * EXP, EXP, n=5)
    assert too_large is not None and too_large.startswith("every value is N = 5 times too large")
    assert "divide by N" in too_large
    too_small = diagnose(EXP / 5, EXP, n=5)
    assert too_small is not None and too_small.startswith("every value is N = 5 times too small")
    assert diagnose(5 * EXP, EXP) is None
    assert diagnose(EXP / 5, EXP) is None
    assert diagnose(5 * EXP, EXP, n=7) is None


def test_n_of_two_names_both_mistakes_the_evidence_fits():
    # With N = 2 a sum where a mean belongs is also "twice the expected": both are named.
    hint = hint_for(2 * EXP, EXP, n=2)
    assert hint is not None and hint.bug_class == "factor-2-or-sum"
    assert "extra factor 2" in hint.text and "sum where a mean belongs" in hint.text
    half = hint_for(EXP / 2, EXP, n=2)
    assert half is not None and half.bug_class == "half-or-mean"


def test_a_passed_comparison_rules_a_mistake_out():
    # The same check passed on one row (N = 1): a constant factor 2 would have failed there,
    # a sum over rows would not, so only the sum is named.
    one_row = Evidence(np.array(0.7), np.array(0.7), None)
    assert hint_for(2 * EXP, EXP, n=2, evidence=[one_row]).bug_class == "sum-not-mean"
    n_one = Evidence(np.array(0.7), np.array(0.7), 1)
    assert hint_for(2 * EXP, EXP, n=2, evidence=[n_one]).bug_class == "sum-not-mean"
    # a pass on an expected value of 0 proves nothing
    zero = Evidence(np.array(0.0), np.array(0.0), 3)
    assert hint_for(2 * EXP, EXP, n=2, evidence=[zero]).bug_class == "factor-2-or-sum"
    # a pass with N = 3 contradicts both: the evidence cannot tell, so both are named
    n_three = Evidence(np.array(0.7), np.array(0.7), 3)
    assert hint_for(2 * EXP, EXP, n=2, evidence=[n_three]).bug_class == "factor-2-or-sum"
    # one mistake alone that fits is named whatever passed before
    assert hint_for(-EXP, EXP, evidence=[one_row]).bug_class == "sign-flipped"


def test_all_zeros():
    hint = diagnose(np.zeros_like(EXP), EXP)
    assert hint == "every value is zero: is the computation (or the update) missing?"


def test_relation_within_tolerance_only():
    assert diagnose(-EXP * (1 + 5e-4), EXP) is not None
    assert diagnose(-EXP * (1 + 5e-3), EXP) is None


@pytest.mark.parametrize(("got", "expected"), [
    (np.array([1.0, 2.0, 3.0]), np.array([3.0, 1.0, 2.0])),
    (np.array([1.0, 2.0, 3.0]), np.array([1.1, 2.0, 3.0])),
    (np.array([3.0]), np.array([1.0])),
    (np.array(1.0), np.array(1.0001)),
    (np.ones(3), np.zeros(3)),  # expected all zero: no relation can be told
])
def test_unrelated_values_give_none(got, expected):
    assert diagnose(got, expected, n=4) is None


def test_shape_mismatch_gives_none():
    assert diagnose(-EXP.ravel(), EXP) is None
    assert diagnose(-EXP[:, :1], EXP) is None
    assert diagnose(np.array([-2.0]), np.array(2.0)) is None


def test_scalars():
    assert diagnose(np.array(-1521.0), np.array(1521.0)) is not None
    assert diagnose(np.array(3042.0), np.array(1521.0)) is not None


nonzero_arrays = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=0, max_dims=3, max_side=5),
    elements=st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
).filter(lambda a: np.abs(a).max(initial=0.0) > 1e-6)


@settings(max_examples=150, deadline=None, database=None)
@given(nonzero_arrays, st.one_of(st.none(), st.integers(1, 1000)))
def test_property_sign_flip_and_equal_values(a, n):
    hint = diagnose(-a, a, n=n)
    assert hint is not None and "sign" in hint
    assert diagnose(a, a, n=n) is None
    assert diagnose(a.copy(), a, n=n) is None


def test_without_hint_undoes_with_hint_and_leaves_unknown_classes_whole():
    hint = Hint("sign-flipped", "flip it")
    assert without_hint(with_hint("m", hint), hint.bug_class, hint.text) == "m."
    assert without_hint("m. Likely mistake: x.", "Not A Slug", "x") == "m. Likely mistake: x."
    assert without_hint("m. Likely mistake: x.", "from-an-assignment", "x") == "m."
    assert without_hint("m.", "", "") == "m."
