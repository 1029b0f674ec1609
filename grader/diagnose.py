"""Likely mistakes, told from how a wrong answer relates to the right one.

A wrong value that is the right one times -1, 2, 1/2, N or 1/N is rarely an accident: it is a
flipped sign, a missing or extra factor 2 from differentiating a square, or a sum where a mean
belongs. :func:`diagnose` names such a relation only when the evidence supports it (the values
fit the relation to within 1e-3 relative error and are not all zero).
"""

from __future__ import annotations

from typing import Any

import numpy as np

_REL = 1e-3


def _fits(got: np.ndarray[Any, Any], target: np.ndarray[Any, Any]) -> bool:
    scale = max(float(np.abs(target).max(initial=0.0)), 1e-12)
    return bool(np.abs(got - target).max(initial=0.0) <= _REL * scale)


def diagnose(got: np.ndarray[Any, Any], expected: np.ndarray[Any, Any],
             n: int | None = None) -> str | None:
    """A TA's hint about how ``got`` relates to ``expected``, or None when nothing fits.

    Args:
        got: the student's values (finite, same shape as ``expected``).
        expected: the right values.
        n: the number of examples, if a sum-versus-mean mistake is possible.
    """
    if got.shape != expected.shape or not np.abs(expected).max(initial=0.0) > 1e-9:
        return None
    if np.abs(got).max(initial=0.0) < 1e-12:
        return "every value is zero: is the computation (or the update) missing?"
    factors: list[tuple[float, str]] = [
        (-1.0, "the sign is flipped: the values have the right size but the opposite sign; "
               "check the derivative of (y - ŷ)², which brings a minus sign"),
        (2.0, "every value is twice the expected one: an extra factor 2"),
        (0.5, "every value is half the expected one: a missing factor 2 (the derivative of a "
              "square brings down a 2)"),
        (-2.0, "the sign is flipped and there is an extra factor 2"),
        (-0.5, "the sign is flipped and a factor 2 is missing"),
    ]
    if n is not None and n > 2:
        factors += [
            (float(n), f"every value is N = {n} times too large: a sum where a mean belongs "
                       "(divide by N)"),
            (1.0 / n, f"every value is N = {n} times too small: a mean (1/N) where a sum "
                      "belongs"),
        ]
    for factor, hint in factors:
        if _fits(got, factor * expected):
            return hint
    return None
