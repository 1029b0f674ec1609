"""Hidden checks of mse_gradients, sgd_step, fit_line and softmax_regression_gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch


def f32(a: np.ndarray) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.float32)


@pytest.mark.rubric("mseg-random")
def test_mse_gradients_random(student, expect, reference, rng):
    for n in (1, 5, 20):
        m, c = float(rng.normal(0, 2)), float(rng.normal(0, 2))
        x, y = f32(rng.normal(0, 3, n)), f32(rng.normal(0, 3, n))
        expected = reference.mse_gradients(m, c, x.double(), y.double())
        expect.numbers(student.mse_gradients(m, c, x, y), expected,
                       expect.sig(m=m, c=c, x=x, y=y), ("dL/dm", "dL/dc"), n=n)


@pytest.mark.rubric("sgd-random")
def test_sgd_step_random(student, expect, reference, rng, step_variants):
    for _ in range(4):
        m, c, x_i, y_i = (float(v) for v in rng.normal(0, 2, 4))
        lr = float(rng.choice([1e-3, 1e-2, 5e-2]))
        expected = reference.sgd_step(m, c, x_i, y_i, lr)
        expect.numbers(student.sgd_step(m, c, x_i, y_i, lr), expected,
                       expect.sig(m=m, c=c, x_i=x_i, y_i=y_i, lr=lr), ("new_m", "new_c"),
                       variants=step_variants(m, c, expected))


def final_loss(m: float, c: float, x: torch.Tensor, y: torch.Tensor) -> float:
    return float(((m * x.double() + c - y.double()) ** 2).mean())


@pytest.mark.rubric("fit-vs-reference")
def test_fit_line_vs_reference(student, expect, reference, rng, helpers):
    x = f32(rng.uniform(-1.5, 2.5, 64))
    y = f32(-1.7 * x.numpy() + 0.8 + rng.normal(0, 0.2, 64))
    lr, epochs = 0.02, 30
    call = expect.sig(x=x, y=y, lr=lr, epochs=epochs, seed=3)
    got = expect.sequence(student.fit_line(x, y, lr, epochs, seed=3), call, 3)
    losses = helpers.read_losses(expect, got[2], call, epochs)
    m, c = expect.number(got[0], f"{call} -> m"), expect.number(got[1], f"{call} -> c")
    ref_m, ref_c, ref_losses = reference.fit_line(x, y, lr, epochs, seed=3)
    expect.plot("fit_line on hidden data: loss after each epoch", "epoch", "MSE over the data", {
        "your fit_line": list(enumerate(losses, start=1)),
        "reference": list(enumerate(ref_losses, start=1))})
    ours, theirs = final_loss(m, c, x, y), final_loss(ref_m, ref_c, x, y)
    margin = float(expect.setting("loss_margin"))
    expect.that(ours <= theirs * (1 + margin) + 1e-4,
                f"{call} ended with loss {ours:.4g}; the reference reaches {theirs:.4g}, and the "
                f"check allows {margin:.0%} more",
                f"{call} ended with a final loss {ours / max(theirs, 1e-12):.3g} times the "
                f"reference's (allowed: {1 + margin:.3g} times)",
                hint=helpers.DIVERGES if losses[-1] > losses[0] else None)


@pytest.mark.rubric("srg-random")
def test_softmax_regression_gradients_random(student, expect, reference, rng):
    for c, v in ((2, 3), (5, 10)):
        W, b, x = f32(rng.normal(0, 1, (c, v))), f32(rng.normal(0, 1, c)), f32(
            rng.poisson(1.0, v))
        y = torch.nn.functional.one_hot(torch.tensor(int(rng.integers(0, c))), c).float()
        dW, db = reference.softmax_regression_gradients(W.double(), b.double(), x.double(),
                                                        y.double())
        call = expect.sig(W=W, b=b, x=x, y=y)
        got = expect.sequence(student.softmax_regression_gradients(W, b, x, y), call, 2)
        expect.close(got[0], dW, f"{call} -> dW")
        expect.close(got[1], db, f"{call} -> db")
