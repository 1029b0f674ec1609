"""Hidden checks of mse, softmax and cross_entropy against the reference."""

from __future__ import annotations

import numpy as np
import pytest

from grader import Array, Hint, Variant, tensor


def untouched(expect, call, sent, after):
    for name, before, now in zip(("first", "second")[: len(sent)], sent, after, strict=True):
        changed = not (hasattr(now, "values") and np.array_equal(now.values, before.values))
        expect.that(not changed, f"{call} modified its {name} argument in place; compute into a "
                    "new tensor instead")


@pytest.mark.rubric("mse-random")
def test_mse_random(student, expect, ref, rng):
    for n in (1, 7, 50):
        y_hat, y = tensor(rng.normal(0, 5, n)), tensor(rng.normal(0, 5, n))
        expect.scalar(student.mse(y_hat, y), float(ref("mse", y_hat, y)),
                      expect.sig(y_hat=y_hat, y=y), n=n)


@pytest.mark.rubric("mse-inputs-untouched")
def test_mse_inputs_untouched(student, expect, ref, rng):
    # The value is checked too: a stub that returns anything must not earn this point.
    y_hat, y = tensor(rng.normal(0, 1, 9)), tensor(rng.normal(0, 1, 9))
    call = expect.sig(y_hat=y_hat, y=y)
    got, after = student.call_returning_args("mse", y_hat, y)
    untouched(expect, call, (y_hat, y), after)
    expect.scalar(got, float(ref("mse", y_hat, y)), call, n=9)


@pytest.mark.rubric("softmax-batch")
def test_softmax_batch(student, expect, ref, rng):
    z = tensor(rng.normal(0, 3, (6, 4)))
    call = expect.sig(z=z)
    wrong_axis = Variant(Hint("wrong-axis", "each column sums to 1: the softmax normalises over "
                              "dim 0; it must normalise over the last dimension, one row per "
                              "example"), ref("softmax", tensor(z.values.T)).T)
    expect.close(student.softmax(z), ref("softmax", z), call, variants=[wrong_axis])


@pytest.mark.rubric("softmax-random")
def test_softmax_random(student, expect, ref, rng):
    for shape in ((1,), (5,), (3, 7), (10, 2)):
        z = tensor(rng.normal(0, 4, shape))
        call = expect.sig(z=z)
        got, after = student.call_returning_args("softmax", z)
        expect.close(got, ref("softmax", z), call)
        untouched(expect, call, (z,), after)


def one_hot(rng: np.random.Generator, n: int, c: int, helpers) -> Array:
    return helpers.one_hot(rng.integers(0, c, n), c)


@pytest.mark.rubric("ce-batch")
def test_cross_entropy_batch(student, expect, ref, rng, helpers):
    for n, c in ((4, 3), (12, 5)):
        p_hat = helpers.softmax32(rng.normal(0, 2, (n, c)))
        y = one_hot(rng, n, c, helpers)
        expect.scalar(student.cross_entropy(p_hat, y), float(ref("cross_entropy", p_hat, y)),
                      expect.sig(p_hat=p_hat, y=y), n=n)


@pytest.mark.rubric("ce-zero-probability")
def test_cross_entropy_zero_probability(student, expect):
    cases = ((tensor([0.0, 1.0, 0.0]), tensor([0.0, 1.0, 0.0]), 0.0),
             (tensor([0.7, 0.3, 0.0]), tensor([1.0, 0.0, 0.0]), -np.log(0.7)),
             (tensor([[0.5, 0.5, 0.0], [0.0, 0.2, 0.8]]),
              tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]),
              -(np.log(0.5) + np.log(0.8)) / 2))
    for p_hat, y, value in cases:
        rows = p_hat.shape[0] if len(p_hat.shape) == 2 else None
        expect.scalar(student.cross_entropy(p_hat, y), float(value), expect.sig(p_hat=p_hat, y=y),
                      n=rows)


@pytest.mark.rubric("ce-distribution")
def test_cross_entropy_distribution(student, expect, ref, rng, helpers):
    for shape in ((4,), (6, 4)):
        p_hat = helpers.softmax32(rng.normal(0, 2, shape))
        y = helpers.softmax32(rng.normal(0, 1, shape))
        expect.scalar(student.cross_entropy(p_hat, y), float(ref("cross_entropy", p_hat, y)),
                      expect.sig(p_hat=p_hat, y=y), n=shape[0] if len(shape) == 2 else None)
