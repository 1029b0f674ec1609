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
from collections.abc import Callable, Mapping, Sequence
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
    "factor-2-or-sum": "extra factor 2 or sum instead of mean",
    "half-or-mean": "missing factor 2 or mean instead of sum",
    "wrong-signature": "signature differs from the handout's",
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


Factor = tuple[Callable[[int | None], float | None], Hint]
"""How a mistake scales the right answer (a function of the batch's N; None: it cannot say)."""


def _factors(n: int | None) -> list[Factor]:
    def const(k: float) -> Callable[[int | None], float | None]:
        return lambda _n: k

    factors: list[Factor] = [
        (const(-1.0), Hint("sign-flipped", "the sign is flipped: the values have the right size "
                           "but the opposite sign; check the derivative of (y - ŷ)², which "
                           "brings a minus sign")),
        (const(2.0), Hint("extra-factor-2", "every value is twice the expected one: an extra "
                          "factor 2")),
        (const(0.5), Hint("missing-factor-2", "every value is half the expected one: a missing "
                          "factor 2 (the derivative of a square brings down a 2)")),
        (const(-2.0), Hint("sign-flipped", "the sign is flipped and there is an extra factor 2")),
        (const(-0.5), Hint("sign-flipped", "the sign is flipped and a factor 2 is missing")),
    ]
    if n is not None and n >= 2:
        factors += [
            (lambda k: None if k is None else float(k), Hint(
                "sum-not-mean", f"every value is N = {n} times too large: a sum where a mean "
                "belongs (divide by N)")),
            (lambda k: None if k is None else 1.0 / k, Hint(
                "mean-not-sum", f"every value is N = {n} times too small: a mean (1/N) where "
                "a sum belongs")),
        ]
    return factors


_AMBIGUOUS = {
    frozenset({"extra-factor-2", "sum-not-mean"}): (
        "factor-2-or-sum", "every value is twice the expected one, and with N = 2 rows that "
        "fits two mistakes: an extra factor 2, or a sum where a mean belongs (divide by N); "
        "try your function on a batch of another size to tell which"),
    frozenset({"missing-factor-2", "mean-not-sum"}): (
        "half-or-mean", "every value is half the expected one, and with N = 2 rows that fits "
        "two mistakes: a missing factor 2, or a mean (1/N) where a sum belongs"),
}


@dataclass(frozen=True)
class Evidence:
    """A comparison of the same check that passed: the values were right for this N."""

    got: np.ndarray[Any, Any]
    expected: np.ndarray[Any, Any]
    n: int | None


def _ruled_out(scale: Callable[[int | None], float | None],
               evidence: Sequence[Evidence]) -> bool:
    """Whether a mistake that multiplies answers by ``scale(N)`` contradicts a passed
    comparison (it would have made that one wrong too)."""
    for seen in evidence:
        k = scale(seen.n)
        if k is not None and abs(k - 1.0) > 1e-9 and np.abs(seen.expected).max(
                initial=0.0) > 1e-9:
            return True
    return False


def diagnose(got: np.ndarray[Any, Any], expected: np.ndarray[Any, Any],
             n: int | None = None, variants: Sequence[Variant] = (),
             evidence: Sequence[Evidence] = ()) -> Hint | None:
    """The likely mistake that turns ``expected`` into ``got``, or None when nothing fits.

    Args:
        got: the student's values (finite, same shape as ``expected``).
        expected: the right values.
        n: the number of examples, if a sum-versus-mean mistake is possible.
        variants: known-wrong answers to try first.
        evidence: the check's comparisons that passed: where two mistakes fit (a factor 2
            with N = 2), one that would have failed one of them is not named; when the
            evidence cannot tell them apart, the hint names both.
    """
    for variant in variants:
        if _fits(got, np.asarray(variant.value, dtype=np.float64)):
            return variant.hint
    if got.shape != expected.shape or not np.abs(expected).max(initial=0.0) > 1e-9:
        return None
    if np.abs(got).max(initial=0.0) < 1e-12:
        return Hint("all-zero", "every value is zero: is the computation (or the update) "
                    "missing?")
    fitting = [(scale, hint) for scale, hint in _factors(n)
               if (k := scale(n)) is not None and _fits(got, k * expected)]
    if len(fitting) > 1:  # the evidence may single one out (a pass at N = 1 rules out the 2)
        fitting = [f for f in fitting if not _ruled_out(f[0], evidence)] or fitting
    classes = frozenset(h.bug_class for _, h in fitting)
    if len(classes) > 1 and classes in _AMBIGUOUS:
        return Hint(*_AMBIGUOUS[classes])
    return fitting[0][1] if fitting else None
