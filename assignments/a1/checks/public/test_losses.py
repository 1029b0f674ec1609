"""Public checks of mse, softmax and cross_entropy: the lecture's numbers and a stable softmax."""

from __future__ import annotations

import math

import numpy as np
import pytest

from grader import Array, Hint, tensor


def softmax64(z: Array) -> np.ndarray:
    """What torch.softmax(z.double(), -1) gives: each row's maximum subtracted first."""
    x = z.values.astype(np.float64)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.rubric("mse-lecture")
def test_mse_lecture(student, expect):
    # The lecture's line y = 0.2 x + 12 predicts 24 at x = 60 where y = 63: loss 39² = 1521.
    y_hat, y = tensor([24.0]), tensor([63.0])
    expect.scalar(student.mse(y_hat, y), 1521.0, expect.sig(y_hat=y_hat, y=y))
    y_hat, y = tensor([24.0, 30.0, 10.0]), tensor([63.0, 30.0, 13.0])
    expect.scalar(student.mse(y_hat, y), (1521.0 + 0.0 + 9.0) / 3, expect.sig(y_hat=y_hat, y=y),
                  n=3)


@pytest.mark.rubric("softmax-vector")
def test_softmax_vector(student, expect):
    z = tensor([1.0, 2.0, 3.0, -1.0])
    expect.close(student.softmax(z), softmax64(z), expect.sig(z=z))


GLOBAL_MAX = Hint("global-max", "every exp of a row whose logits are all far below the largest "
                  "logit of the whole batch underflows to 0, and 0 / 0 is nan: subtract each "
                  "row's own maximum (z.max(dim=-1, keepdim=True)), not the maximum of the "
                  "whole tensor")
OVERFLOW = Hint("non-finite", "exp overflows to inf for large logits, and inf / inf is nan: "
                "subtract each row's maximum before exponentiating")


def nonfinite_hint(z: Array, got) -> Hint | None:
    """Which went wrong where the result is not finite: overflow (a row with large logits) or
    underflow (a row far below the global maximum, the global one having been subtracted)."""
    values = getattr(got, "values", None)
    if not isinstance(values, np.ndarray) or values.shape != z.shape or len(z.shape) != 2:
        return None
    bad = ~np.isfinite(values.astype(np.float64)).all(axis=-1)
    row_max = z.values.max(axis=-1).astype(np.float64)
    if bad.any() and (row_max[bad] < float(z.values.max()) - 100.0).all():
        return GLOBAL_MAX
    return OVERFLOW if bad.any() and (row_max[bad] > 80.0).all() else None


@pytest.mark.rubric("softmax-large-logits")
def test_softmax_large_logits(student, expect):
    for z in (tensor([1e4, 0.0, -1e4]), tensor([[1e4, 1e4 - 1.0, 0.0], [-1e4, 0.0, 5.0]])):
        got = student.softmax(z)
        expect.close(got, softmax64(z), expect.sig(z=z),
                     nonfinite_hint=nonfinite_hint(z, got))


@pytest.mark.rubric("ce-lecture")
def test_cross_entropy_lecture(student, expect):
    y = tensor([1.0, 0.0])
    for p, value in ((0.9, -math.log(0.9)), (0.1, -math.log(0.1)), (0.5, -math.log(0.5))):
        p_hat = tensor([p, 1.0 - p])
        expect.scalar(student.cross_entropy(p_hat, y), value, expect.sig(p_hat=p_hat, y=y))
