"""Likely mistakes, told from how a wrong answer relates to the right one.

A wrong value that is the right one times -1, 2, 1/2, N or 1/N is rarely an accident: it is a
flipped sign, a missing or extra factor 2 from differentiating a square, or a sum where a mean
belongs. Checks may also offer *variants*: the answer a known mistake would give (softmax over
the wrong axis, a step with half the gradient), computed with the reference. :func:`diagnose`
names a mistake only when the evidence supports it: the student's values fit it to within 1e-3
relative error, and the right answer is not itself (near) zero.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

_REL = 1e-3
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

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
"""The grader's own bug classes, with the label the class summary shows.

An assignment adds its own in its rubric's ``[bug_classes]`` table (slug = label); a hint may
carry any slug, and one without a label is shown as the slug itself."""


@dataclass(frozen=True)
class Hint:
    """A likely mistake: a stable class (a slug such as ``sign-flipped``) and what a TA would
    say. The class groups submissions in the class summary; give it a label in the rubric's
    ``[bug_classes]`` table unless it is one of :data:`BUG_CLASSES`."""

    bug_class: str
    text: str

    def __post_init__(self) -> None:
        if not isinstance(self.bug_class, str) or not _SLUG.fullmatch(self.bug_class):
            raise ValueError(f"bug class {self.bug_class!r} is not a slug: use lower-case words "
                             "joined by '-', e.g. 'missing-scale'")
        if not isinstance(self.text, str) or not self.text.strip():
            raise ValueError(f"hint {self.bug_class!r} needs a text saying what a TA would say")


def bug_class_label(bug_class: str, labels: Mapping[str, str] | None = None) -> str:
    """The label the class summary shows for ``bug_class`` (an assignment's labels first)."""
    if labels and bug_class in labels:
        return labels[bug_class]
    return BUG_CLASSES.get(bug_class, bug_class.replace("-", " "))


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
    if not hint or not _SLUG.fullmatch(bug_class):  # not a hint this grader wrote: leave it
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
