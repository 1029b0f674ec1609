"""Hidden checks of mse_gradients, sgd_step, fit_line and softmax_regression_gradients."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from grader import Array, CheckFailure, Hint, StudentFailure, tensor


@pytest.mark.rubric("mseg-random")
def test_mse_gradients_random(student, expect, ref, rng):
    for n in (1, 5, 20):
        m, c = float(rng.normal(0, 2)), float(rng.normal(0, 2))
        x, y = tensor(rng.normal(0, 3, n)), tensor(rng.normal(0, 3, n))
        expected = ref("mse_gradients", m, c, x, y)
        expect.numbers(student.mse_gradients(m, c, x, y), expected,
                       expect.sig(m=m, c=c, x=x, y=y), ("dL/dm", "dL/dc"), n=n)


@pytest.mark.rubric("sgd-random")
def test_sgd_step_random(student, expect, ref, rng, step_variants):
    for _ in range(4):
        m, c, x_i, y_i = (float(v) for v in rng.normal(0, 2, 4))
        lr = float(rng.choice([1e-3, 1e-2, 5e-2]))
        expected = ref("sgd_step", m, c, x_i, y_i, lr)
        expect.numbers(student.sgd_step(m, c, x_i, y_i, lr), expected,
                       expect.sig(m=m, c=c, x_i=x_i, y_i=y_i, lr=lr), ("new_m", "new_c"),
                       variants=step_variants(m, c, expected, (x_i, y_i, lr)))


def final_loss(m: float, c: float, x: Array, y: Array) -> float:
    return float(((m * x.values.astype(np.float64) + c - y.values.astype(np.float64)) ** 2)
                 .mean())


@pytest.mark.rubric("fit-vs-reference")
def test_fit_line_vs_reference(student, expect, ref, rng, helpers):
    x = tensor(rng.uniform(-1.5, 2.5, 64))
    y = tensor(-1.7 * x.values + 0.8 + rng.normal(0, 0.2, 64))
    lr, epochs = 0.02, 30
    call = expect.sig(x=x, y=y, lr=lr, epochs=epochs, seed=3)
    got = expect.sequence(student.fit_line(x, y, lr, epochs, seed=3), call, 3)
    losses = helpers.read_losses(expect, got[2], call, epochs)
    m, c = expect.number(got[0], f"{call} -> m"), expect.number(got[1], f"{call} -> c")
    ref_m, ref_c, ref_losses = ref("fit_line", x, y, lr, epochs, seed=3, double=False)
    expect.plot("fit_line on hidden data: loss after each epoch", "epoch", "MSE over the data", {
        "your fit_line": list(enumerate(losses, start=1)),
        "reference": list(enumerate(ref_losses, start=1))})
    ours, theirs = final_loss(m, c, x, y), final_loss(ref_m, ref_c, x, y)
    margin = float(expect.setting("loss_margin"))
    expect.that(ours <= theirs * (1 + margin) + 1e-4,
                f"{call} ended with loss {ours:.4g}; the reference reaches {theirs:.4g}, and the "
                f"check allows {margin:.0%} more",
                f"{call} ended with a final loss "
                f"{expect.safe(f'{ours / max(theirs, 1e-12):.3g}')} times the reference's "
                f"(allowed: {expect.safe(f'{1 + margin:.3g}')} times)",
                hint=helpers.DIVERGES if losses[-1] > losses[0] else None)


def fit_run(student, expect, helpers, x, y, lr, epochs, **kwargs):
    call = expect.sig(x=x, y=y, lr=lr, epochs=epochs, **kwargs)
    got = expect.sequence(student.fit_line(x, y, lr, epochs, **kwargs), call, 3)
    losses = helpers.read_losses(expect, got[2], call, epochs)
    m, c = expect.number(got[0], f"{call} -> m"), expect.number(got[1], f"{call} -> c")
    return call, (m, c, losses)


FEW_X = np.array([0.5, -1.0, 2.0, 1.5], dtype=np.float32)
FEW_Y = np.array([1.0, -2.0, 3.5, 0.5], dtype=np.float32)


@pytest.mark.rubric("fit-per-example-sgd")
def test_fit_line_per_example_sgd(student, expect, helpers):
    # Rules: single-example SGD, every example once per epoch, losses after each epoch. Every
    # order of the 4 examples is replayed, from the given (m, c) and from wherever lr=0 ends
    # (a wrong start is fit-start's business, not this check's).
    proc = helpers.procedure
    x, y, lr, m0, c0 = tensor(FEW_X), tensor(FEW_Y), 0.05, 0.3, -0.2
    xs, ys = FEW_X.astype(np.float64), FEW_Y.astype(np.float64)
    starts = [(m0, c0)]
    try:
        starts.append(fit_run(student, expect, helpers, x, y, 0.0, 1, seed=5, m=m0, c=c0)[1][:2])
    except (CheckFailure, StudentFailure):
        pass  # no starting point to learn from lr=0; the given one remains
    call, got = fit_run(student, expect, helpers, x, y, lr, 2, seed=5, m=m0, c=c0)
    if any(proc.line_explained(got, s, xs, ys, lr) for s in starts):
        return
    expect.fail(f"{call} -> m, c, losses: no order of visiting the {expect.safe(4)} examples "
                "explains them as per-example SGD (rule: update after each single example, "
                "visit every example once per epoch, record the MSE over the whole data after "
                "each epoch)",
                hint=fit_hint(proc, got, starts, xs, ys, lr, helpers))


def fit_hint(proc, got, starts, xs, ys, lr, helpers):
    """The variant of the procedure that explains the run, if one does."""
    m, c, losses = got
    named = [
        (Hint("stale-gradient", "c's gradient is computed after m was updated: compute both "
              "gradients from the old m and c, then update both"), dict(step=proc.stale_update)),
        (Hint("missing-factor-2", "every step is half as long as it should be: the derivative "
              "of (y - ŷ)² brings down a factor 2"), dict(lr=lr / 2)),
        (Hint("extra-factor-2", "every step is twice as long as it should be: an extra factor "
              "2 in the gradient"), dict(lr=2 * lr)),
        (Hint("with-replacement", "the examples are drawn with replacement: each epoch must "
              "visit every example exactly once (shuffle a list of all the indices)"),
         dict(visits=np.array(list(itertools.product(range(len(xs)), repeat=len(xs)))))),
    ]
    target, scale = np.array([m, c]), max(1.0, abs(m), abs(c))
    for start in starts:
        states = proc.line_epochs(start, xs, ys, lr, len(losses), proc.orders(len(xs)))
        if proc.close(states[-1], target, scale).any():
            return helpers.LOSSES_NOT_MSE
        for hint, change in named:
            args = {"step": proc.sgd_update, "lr": lr, "visits": None} | change
            if proc.line_explained(got, start, xs, ys, args["lr"], args["step"],
                                   args["visits"]):
                return hint
        for steps in (1, len(xs)):
            ends = proc.full_batch_epochs(start, xs, ys, lr, len(losses), steps)
            if proc.close(ends[-1:], target, scale).any():
                return helpers.FULL_BATCH
    return None


EIGHT_X = np.array([0.3, -1.2, 2.1, 0.9, -0.4, 1.7, -2.0, 0.6], dtype=np.float32)
EIGHT_Y = np.array([1.1, -2.9, 4.0, 2.2, -0.3, 3.1, -3.6, 1.0], dtype=np.float32)


@pytest.mark.rubric("fit-seed")
def test_fit_line_seed(student, expect, helpers):
    # Rule: the shuffle is seeded with seed: one seed gives one run, two seeds two runs.
    x, y, lr = tensor(EIGHT_X), tensor(EIGHT_Y), 0.05
    call, first = fit_run(student, expect, helpers, x, y, lr, 2, seed=0)
    _, again = fit_run(student, expect, helpers, x, y, lr, 2, seed=0)
    _, other = fit_run(student, expect, helpers, x, y, lr, 2, seed=1)
    flat = [np.array([r[0], r[1], *r[2]]) for r in (first, again, other)]
    expect.that(bool(np.array_equal(flat[0], flat[1])),
                f"{call} gave two different runs when called twice (rule: the same seed gives "
                "the same run)", hint=helpers.NOT_SEEDED)
    if np.array_equal(flat[0], flat[2]):
        identity = np.arange(len(EIGHT_X))[None]
        never = helpers.procedure.line_explained(first, (0.0, 0.0), EIGHT_X.astype(np.float64),
                                                 EIGHT_Y.astype(np.float64), lr,
                                                 visits=identity)
        expect.fail(f"{call} and the same call with seed={expect.safe(1)} gave identical runs "
                    "(rule: the order of the examples is shuffled with seed)",
                    hint=helpers.NEVER_SHUFFLES if never else helpers.SEED_IGNORED)


@pytest.mark.rubric("srg-random")
def test_softmax_regression_gradients_random(student, expect, ref, rng, helpers):
    for c, v in ((2, 3), (5, 10)):
        W, b, x = tensor(rng.normal(0, 1, (c, v))), tensor(rng.normal(0, 1, c)), tensor(
            rng.poisson(1.0, v))
        y = helpers.one_hot(int(rng.integers(0, c)), c)
        dW, db = ref("softmax_regression_gradients", W, b, x, y)
        call = expect.sig(W=W, b=b, x=x, y=y)
        got = expect.sequence(student.softmax_regression_gradients(W, b, x, y), call, 2)
        expect.close(got[0], dW, f"{call} -> dW")
        expect.close(got[1], db, f"{call} -> db")
