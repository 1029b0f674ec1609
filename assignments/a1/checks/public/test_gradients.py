"""Public checks of mse_gradients, sgd_step, fit_line and softmax_regression_gradients."""

from __future__ import annotations

import numpy as np
import pytest

from grader import Array, Hint, tensor


@pytest.mark.rubric("mseg-lecture")
def test_mse_gradients_lecture(student, expect):
    x, y = tensor([60.0]), tensor([63.0])
    got = student.mse_gradients(0.2, 12.0, x, y)
    expect.numbers(got, (-4680.0, -78.0), expect.sig(m=0.2, c=12.0, x=x, y=y),
                   ("dL/dm", "dL/dc"))


@pytest.mark.rubric("sgd-lecture")
def test_sgd_step_lecture(student, expect, step_variants):
    got = student.sgd_step(0.2, 12.0, 60.0, 63.0, 1e-4)
    expect.numbers(got, (0.668, 12.0078), expect.sig(m=0.2, c=12.0, x_i=60.0, y_i=63.0,
                                                     lr=1e-4), ("new_m", "new_c"),
                   variants=step_variants(0.2, 12.0, (0.668, 12.0078),
                                           (60.0, 63.0, 1e-4)))


def line_data() -> tuple[Array, Array]:
    x = np.linspace(-2.0, 2.0, 40, dtype=np.float32)
    wiggle = np.float32(0.3) * np.sin(np.float32(7.0) * x)
    return tensor(x), tensor(np.float32(3.0) * x - np.float32(1.0) + wiggle)


def mse_of(m: float, c: float, x: Array, y: Array) -> float:
    return float(((m * x.values.astype(np.float64) + c - y.values.astype(np.float64)) ** 2)
                 .mean())


@pytest.mark.rubric("fit-converges")
def test_fit_line_converges(student, expect, helpers):
    x, y = line_data()
    epochs = 60
    call = expect.sig(x=x, y=y, lr=0.01, epochs=epochs)
    m, c, losses = expect.sequence(student.fit_line(x, y, 0.01, epochs), call, 3)
    losses = helpers.read_losses(expect, losses, call, epochs)
    m, c = expect.number(m, f"{call} -> m"), expect.number(c, f"{call} -> c")
    final = mse_of(m, c, x, y)
    best_m, best_c = np.polyfit(x.values.astype(np.float64), y.values.astype(np.float64), 1)
    best = mse_of(float(best_m), float(best_c), x, y)
    expect.plot("fit_line: loss after each epoch", "epoch", "MSE over the data", {
        "your fit_line": list(enumerate(losses, start=1)),
        "least-squares minimum": [(1, best), (epochs, best)]})
    margin = float(expect.setting("loss_margin"))
    expect.that(final <= best * (1 + margin) + 1e-4,
                f"{call} ended at m={m:.4g}, c={c:.4g} with loss {final:.4g}; the least-squares "
                f"line (m={best_m:.4g}, c={best_c:.4g}) has loss {best:.4g}, and the check allows "
                f"{margin:.0%} more",
                hint=helpers.DIVERGES if losses[-1] > losses[0] else None)
    expect.that(abs(losses[-1] - final) <= 1e-3 * max(final, 1.0),
                f"{call}: losses[-1] = {losses[-1]:.6g}, but the MSE of the returned line over the "
                f"whole data is {final:.6g}; losses should hold that MSE after each epoch",
                hint=helpers.LOSSES_NOT_MSE)


@pytest.mark.rubric("fit-start")
def test_fit_line_starts_from_m_and_c(student, expect, helpers):
    # Rule: start from the given m and c. With lr = 0 no update moves them.
    x, y = line_data()
    x, y = tensor(x.values[::5]), tensor(y.values[::5])
    m0, c0, epochs = 0.7, -1.3, 2
    call = expect.sig(x=x, y=y, lr=0.0, epochs=epochs, m=m0, c=c0)
    got = expect.sequence(student.fit_line(x, y, 0.0, epochs, m=m0, c=c0), call, 3)
    losses = helpers.read_losses(expect, got[2], call, epochs)
    m, c = expect.number(got[0], f"{call} -> m"), expect.number(got[1], f"{call} -> c")
    if abs(m - m0) > 1e-6 or abs(c - c0) > 1e-6:
        start_zero = Hint("start-not-given", "the run starts from (0, 0) whatever m and c it is "
                          "given: start from the m and c arguments")
        expect.fail(f"{call} returned m={m:.6g}, c={c:.6g}; with lr=0 no update moves the "
                    f"line, so the run must end where it starts, at the given m={m0:g}, "
                    f"c={c0:g} (rule: start from the given m and c)",
                    hint=start_zero if m == 0 and c == 0 else helpers.LR_IGNORED)
    want = mse_of(m0, c0, x, y)
    expect.that(all(abs(v - want) <= 1e-4 * max(want, 1.0) for v in losses),
                f"{call}: losses = {[float(f'{v:.6g}') for v in losses]}, but the line did not "
                f"move, so every epoch's loss is its MSE over the whole data, {want:.6g}",
                hint=helpers.LOSSES_NOT_MSE)


@pytest.mark.rubric("srg-shapes")
def test_softmax_regression_gradient_shapes(student, expect):
    W = tensor([[0.1, -0.2, 0.3, 0.0], [0.0, 0.5, -0.5, 0.2], [0.3, 0.3, 0.1, -0.1]])
    b, x, y = tensor([0.0, 0.1, -0.1]), tensor([1.0, 0.0, 2.0, 1.0]), tensor([0.0, 1.0, 0.0])
    call = expect.sig(W=W, b=b, x=x, y=y)
    dW, db = expect.sequence(student.softmax_regression_gradients(W, b, x, y), call, 2)
    expect.array(dW, f"{call} -> dW", shape=(3, 4))
    expect.array(db, f"{call} -> db", shape=(3,))


@pytest.mark.rubric("srg-autograd")
def test_softmax_regression_gradients_autograd(student, expect):
    W = tensor([[0.2, -0.1, 0.4], [-0.3, 0.2, 0.1]])
    b, x, y = tensor([0.05, -0.05]), tensor([2.0, 1.0, 0.0]), tensor([1.0, 0.0])
    # What autograd gives for cross-entropy(softmax(W x + b), y) with y a distribution:
    # dL/dlogits = softmax(logits) * sum(y) - y; dW is its outer product with x, db itself.
    w64, b64, x64, y64 = (t.values.astype(np.float64) for t in (W, b, x, y))
    logits = w64 @ x64 + b64
    p = np.exp(logits - logits.max())
    dz = p / p.sum() * y64.sum() - y64
    call = expect.sig(W=W, b=b, x=x, y=y)
    dW, db = expect.sequence(student.softmax_regression_gradients(W, b, x, y), call, 2)
    expect.close(dW, np.outer(dz, x64), f"{call} -> dW")
    expect.close(db, dz, f"{call} -> db")
