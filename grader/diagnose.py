"""Likely mistakes, told from how a wrong answer relates to the right one.

A wrong value that is the right one times -1, 2, 1/2, N or 1/N is rarely an accident: it is a
flipped sign, a missing or extra factor 2 from differentiating a square, or a sum where a mean
belongs. Checks may also offer *variants*: the answer a known mistake would give (softmax over
the wrong axis, a step with half the gradient), computed with the reference. :func:`diagnose`
names a mistake only when the evidence supports it: the student's values fit it to within 1e-3
relative error, and the right answer is not itself (near) zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

_REL = 1e-3

BUG_CLASSES: dict[str, str] = {
    "sign-flipped": "sign flipped",
    "extra-factor-2": "extra factor 2",
    "missing-factor-2": "missing factor 2",
    "sum-not-mean": "sum instead of mean",
    "mean-not-sum": "mean instead of sum",
    "all-zero": "nothing computed (all zeros)",
    "non-finite": "overflow or NaN",
    "wrong-axis": "softmax over the wrong axis",
    "transposed": "transposed result",
    "probabilities-not-logits": "probabilities instead of logits",
    "not-updated": "parameters never updated",
    "diverges": "training diverges",
}
"""Every bug class a hint may carry, with the label the class summary shows."""


@dataclass(frozen=True)
class Hint:
    """A likely mistake: a stable class (a key of BUG_CLASSES) and what a TA would say."""

    bug_class: str
    text: str

    def __post_init__(self) -> None:
        if self.bug_class not in BUG_CLASSES:
            raise ValueError(f"unknown bug class {self.bug_class!r}; add it to BUG_CLASSES")


@dataclass(frozen=True)
class Variant:
    """The value a known mistake would produce, for :func:`diagnose` to compare against."""

    hint: Hint
    value: Any


def with_hint(message: str, hint: Hint | None) -> str:
    """The message followed by its hint, as result.json and the terminal show it."""
    if hint is None:
        return message
    end = "" if message.endswith((".", "!", "?")) else "."
    return message + end + hint_suffix(hint)


def hint_suffix(hint: Hint | None) -> str:
    if hint is None:
        return ""
    end = "" if hint.text.endswith((".", "!", "?")) else "."
    return f" Likely mistake: {hint.text}{end}"


def without_hint(output: str, bug_class: str, hint: str) -> str:
    """A result's ``output`` without the hint suffix that :func:`with_hint` added to it."""
    if not hint or bug_class not in BUG_CLASSES:  # an older grader's class: leave it whole
        return output
    return output.removesuffix(hint_suffix(Hint(bug_class, hint)))


def _fits(got: np.ndarray[Any, Any], target: np.ndarray[Any, Any]) -> bool:
    if got.shape != target.shape:
        return False
    scale = max(float(np.abs(target).max(initial=0.0)), 1e-12)
    return bool(np.abs(got - target).max(initial=0.0) <= _REL * scale)


def _factors(n: int | None) -> list[tuple[float, Hint]]:
    factors = [
        (-1.0, Hint("sign-flipped", "the sign is flipped: the values have the right size but "
                    "the opposite sign; check the derivative of (y - ŷ)², which brings a minus "
                    "sign")),
        (2.0, Hint("extra-factor-2", "every value is twice the expected one: an extra "
                   "factor 2")),
        (0.5, Hint("missing-factor-2", "every value is half the expected one: a missing factor 2 "
                   "(the derivative of a square brings down a 2)")),
        (-2.0, Hint("sign-flipped", "the sign is flipped and there is an extra factor 2")),
        (-0.5, Hint("sign-flipped", "the sign is flipped and a factor 2 is missing")),
    ]
    if n is not None and n > 2:
        factors += [
            (float(n), Hint("sum-not-mean", f"every value is N = {n} times too large: a sum "
                            "where a mean belongs (divide by N)")),
            (1.0 / n, Hint("mean-not-sum", f"every value is N = {n} times too small: a mean "
                           "(1/N) where a sum belongs")),
        ]
    return factors


def diagnose(got: np.ndarray[Any, Any], expected: np.ndarray[Any, Any],
             n: int | None = None, variants: Sequence[Variant] = ()) -> Hint | None:
    """The likely mistake that turns ``expected`` into ``got``, or None when nothing fits.

    Args:
        got: the student's values (finite, same shape as ``expected``).
        expected: the right values.
        n: the number of examples, if a sum-versus-mean mistake is possible.
        variants: known-wrong answers to try first.
    """
    for variant in variants:
        if _fits(got, np.asarray(variant.value, dtype=np.float64)):
            return variant.hint
    if got.shape != expected.shape or not np.abs(expected).max(initial=0.0) > 1e-9:
        return None
    if np.abs(got).max(initial=0.0) < 1e-12:
        return Hint("all-zero", "every value is zero: is the computation (or the update) "
                    "missing?")
    for factor, hint in _factors(n):
        if _fits(got, factor * expected):
            return hint
    return None
