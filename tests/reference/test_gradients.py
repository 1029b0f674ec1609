"""Hand-derived gradients against torch.autograd, gradcheck, the lecture and numpy.polyfit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from torch.autograd import Function, gradcheck

import reference

F64 = torch.float64
Line = tuple[torch.Tensor, torch.Tensor]
# Tighter than gradcheck's defaults (rtol 1e-3): a gradient off by 0.1% fails.
STRICT: dict[str, float] = {"rtol": 1e-6, "atol": 1e-7}


def _line_data(n: int, seed: int, dtype: torch.dtype = F64) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, generator=g, dtype=F64) * 3 - 1
    y = 3 * x - 1 + 0.1 * torch.randn(n, generator=g, dtype=F64)
    return x.to(dtype), y.to(dtype)


# --- mse_gradients -----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, F64])
@pytest.mark.parametrize(("n", "seed"), [(1, 0), (2, 1), (10, 2), (200, 3)])
def test_mse_gradients_match_autograd(dtype: torch.dtype, n: int, seed: int) -> None:
    x, y = _line_data(n, seed, dtype)
    m0, c0 = -0.7 + seed, 0.4 * seed
    m = torch.tensor(m0, dtype=F64, requires_grad=True)
    c = torch.tensor(c0, dtype=F64, requires_grad=True)
    loss = ((y.double() - (m * x.double() + c)) ** 2).mean()
    loss.backward()
    dm, dc = reference.mse_gradients(m0, c0, x, y)
    assert isinstance(dm, float) and isinstance(dc, float)
    assert m.grad is not None and c.grad is not None
    assert dm == pytest.approx(m.grad.item(), rel=1e-12, abs=1e-12)
    assert dc == pytest.approx(c.grad.item(), rel=1e-12, abs=1e-12)


def test_mse_gradients_lecture_values() -> None:
    dm, dc = reference.mse_gradients(0.2, 12.0, torch.tensor([60.0]), torch.tensor([63.0]))
    assert dm == pytest.approx(-4680.0, rel=1e-9)
    assert dc == pytest.approx(-78.0, rel=1e-9)


class _MSELine(Function):
    """Loss of the line by torch; backward by the reference's hand-derived gradient."""

    @staticmethod
    def forward(ctx: Any, m: torch.Tensor, c: torch.Tensor, x: torch.Tensor,
                y: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(m, c, x, y)
        return ((y - (m * x + c)) ** 2).mean()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[Any, ...]:
        m, c, x, y = ctx.saved_tensors
        dm, dc = reference.mse_gradients(m.item(), c.item(), x, y)
        return grad * dm, grad * dc, None, None


class _SGDLine(Function):
    """Single-example loss; backward by the gradient sgd_step applies: (old - new) / lr."""

    LR = 0.25

    @staticmethod
    def forward(ctx: Any, m: torch.Tensor, c: torch.Tensor, x_i: float,
                y_i: float) -> torch.Tensor:
        ctx.save_for_backward(m, c)
        ctx.point = (x_i, y_i)
        return (y_i - (m * x_i + c)) ** 2

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[Any, ...]:
        m, c = ctx.saved_tensors
        lr = _SGDLine.LR
        new_m, new_c = reference.sgd_step(m.item(), c.item(), *ctx.point, lr=lr)
        return grad * (m.item() - new_m) / lr, grad * (c.item() - new_c) / lr, None, None


class _SoftmaxRegression(Function):
    """Cross-entropy of softmax(W x + b) by torch; backward by the reference."""

    @staticmethod
    def forward(ctx: Any, W: torch.Tensor, b: torch.Tensor, x: torch.Tensor,
                y: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(W, b, x, y)
        return -(y * torch.log_softmax(W @ x + b, dim=-1)).sum()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[Any, ...]:
        W, b, x, y = ctx.saved_tensors
        dW, db = reference.softmax_regression_gradients(W, b, x, y)
        return grad * dW, grad * db, None, None


def _scalar(value: float) -> torch.Tensor:
    return torch.tensor(value, dtype=F64, requires_grad=True)


@pytest.mark.parametrize(("n", "seed"), [(1, 0), (5, 1), (30, 2)])
def test_gradcheck_mse_gradients(n: int, seed: int) -> None:
    x, y = _line_data(n, seed)
    assert gradcheck(_MSELine.apply, (_scalar(0.3 - seed), _scalar(-1.2 + seed), x, y), **STRICT)


@pytest.mark.parametrize(("x_i", "y_i", "m", "c"),
                         [(60.0, 63.0, 0.2, 12.0), (-1.5, 2.0, 0.7, -0.3), (0.0, 1.0, 2.0, 3.0)])
def test_gradcheck_sgd_step(x_i: float, y_i: float, m: float, c: float) -> None:
    assert gradcheck(_SGDLine.apply, (_scalar(m), _scalar(c), x_i, y_i), **STRICT)


@pytest.mark.parametrize("target", ["one-hot", "soft", "unnormalised"])
@pytest.mark.parametrize(("n_classes", "vocab"), [(2, 1), (3, 5), (6, 4)])
def test_gradcheck_softmax_regression_gradients(target: str, n_classes: int, vocab: int) -> None:
    g = torch.Generator().manual_seed(n_classes * 10 + vocab)
    W = torch.randn(n_classes, vocab, generator=g, dtype=F64).requires_grad_()
    b = torch.randn(n_classes, generator=g, dtype=F64).requires_grad_()
    x = torch.randn(vocab, generator=g, dtype=F64)
    if target == "one-hot":
        y = torch.zeros(n_classes, dtype=F64)
        y[n_classes - 1] = 1.0
    else:
        y = torch.softmax(torch.randn(n_classes, generator=g, dtype=F64), dim=0)
        if target == "unnormalised":  # the docstring's general formula p * sum(y) - y
            y = y * 2.5
    assert gradcheck(_SoftmaxRegression.apply, (W, b, x, y), **STRICT)


def test_softmax_regression_gradients_match_autograd_and_shapes() -> None:
    g = torch.Generator().manual_seed(7)
    W = torch.randn(4, 6, generator=g, dtype=F64, requires_grad=True)
    b = torch.randn(4, generator=g, dtype=F64, requires_grad=True)
    x = torch.randn(6, generator=g, dtype=F64)
    y = torch.tensor([0.0, 0.0, 1.0, 0.0], dtype=F64)
    loss = torch.nn.functional.cross_entropy((W @ x + b).unsqueeze(0), torch.tensor([2]))
    loss.backward()
    dW, db = reference.softmax_regression_gradients(W.detach(), b.detach(), x, y)
    assert dW.shape == (4, 6) and db.shape == (4,)
    assert W.grad is not None and b.grad is not None
    torch.testing.assert_close(dW, W.grad)
    torch.testing.assert_close(db, b.grad)


# --- sgd_step ----------------------------------------------------------------------------------


def test_sgd_step_lecture_values() -> None:
    m, c = reference.sgd_step(0.2, 12.0, 60.0, 63.0, lr=1e-4)
    assert m == pytest.approx(0.668, abs=1e-12)
    assert c == pytest.approx(12.0078, abs=1e-12)
    prediction = m * 60 + c
    assert prediction == pytest.approx(52.0878, abs=1e-9)
    assert (63.0 - prediction) ** 2 == pytest.approx(119.0, abs=0.5)
    assert (63.0 - prediction) ** 2 < (63.0 - 24.0) ** 2  # the step lowered the loss (1521)


# --- fit_line and least_squares_line -----------------------------------------------------------


@pytest.fixture(scope="module")
def noisy_line() -> Line:
    return _line_data(60, seed=11)


def test_least_squares_line_matches_polyfit(noisy_line: Line) -> None:
    x, y = noisy_line
    m, c = reference.least_squares_line(x, y)
    pm, pc = np.polyfit(x.numpy(), y.numpy(), 1)
    assert m == pytest.approx(pm, rel=1e-10) and c == pytest.approx(pc, rel=1e-10, abs=1e-12)
    x2 = torch.tensor([1.0, 2.0, 4.0, 7.0])
    y2 = torch.tensor([0.5, -1.0, 3.0, 2.0])
    m2, c2 = reference.least_squares_line(x2, y2)
    pm2, pc2 = np.polyfit(x2.double().numpy(), y2.double().numpy(), 1)
    assert (m2, c2) == pytest.approx((pm2, pc2), rel=1e-10)


def test_fit_line_converges_to_least_squares(noisy_line: Line) -> None:
    x, y = noisy_line
    m, c, losses = reference.fit_line(x, y, lr=0.01, epochs=200, seed=0)
    ls_m, ls_c = reference.least_squares_line(x, y)
    assert m == pytest.approx(ls_m, abs=2e-2) and c == pytest.approx(ls_c, abs=2e-2)
    assert len(losses) == 200 and all(isinstance(v, float) for v in losses)
    # The losses fall overall and end near the least-squares minimum.
    best = float(((y.double() - (ls_m * x.double() + ls_c)) ** 2).mean())
    assert losses[-1] < losses[0] and losses[-1] < np.mean(losses[:10])
    assert losses[-1] == pytest.approx(best, rel=0.05)
    assert min(losses) >= best - 1e-12


def test_fit_line_is_deterministic_for_a_seed(noisy_line: Line) -> None:
    x, y = noisy_line
    first = reference.fit_line(x, y, lr=0.05, epochs=5, seed=3)
    assert reference.fit_line(x, y, lr=0.05, epochs=5, seed=3) == first
    other = reference.fit_line(x, y, lr=0.05, epochs=5, seed=4)
    assert other[:2] != first[:2] and other[2] != first[2]


def test_fit_line_visits_examples_in_the_documented_order() -> None:
    x = torch.tensor([0.5, -1.0, 2.0, 1.5, 0.0], dtype=F64)
    y = torch.tensor([1.0, -2.0, 3.5, 2.0, 0.5], dtype=F64)
    g = torch.Generator().manual_seed(9)
    m, c = 0.1, -0.2
    for _ in range(2):
        for i in torch.randperm(5, generator=g).tolist():
            m, c = reference.sgd_step(m, c, x[i].item(), y[i].item(), lr=0.1)
    got_m, got_c, losses = reference.fit_line(x, y, lr=0.1, epochs=2, seed=9, m=0.1, c=-0.2)
    assert (got_m, got_c) == (m, c)
    assert losses[-1] == pytest.approx(float(((y - (m * x + c)) ** 2).mean()), rel=1e-12)


def test_fit_line_with_no_epochs_returns_the_start() -> None:
    x, y = _line_data(4, seed=0)
    assert reference.fit_line(x, y, lr=0.1, epochs=0, m=1.5, c=-2.0) == (1.5, -2.0, [])
    assert reference.fit_line(x, y, lr=0.1, epochs=0) == (0.0, 0.0, [])


def test_no_gradient_function_modifies_its_inputs() -> None:
    x, y = _line_data(8, seed=5, dtype=torch.float32)
    g = torch.Generator().manual_seed(5)
    W, b = torch.randn(3, 8, generator=g), torch.randn(3, generator=g)
    target = torch.tensor([0.0, 1.0, 0.0])
    saved = [t.clone() for t in (x, y, W, b, target)]
    reference.mse_gradients(0.5, -0.5, x, y)
    reference.fit_line(x, y, lr=0.01, epochs=2)
    reference.least_squares_line(x, y)
    reference.softmax_regression_gradients(W, b, x, target)
    for before, after in zip(saved, (x, y, W, b, target), strict=True):
        assert torch.equal(before, after)
