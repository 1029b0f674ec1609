"""Gradients derived by hand: a line under MSE, single-example SGD, and softmax regression."""

from __future__ import annotations

import math

import torch

from . import _check
from .losses import softmax


def mse_gradients(m: float, c: float, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Gradient of L(m, c) = (1/N) sum_i (y[i] - (m x[i] + c))**2 for x, y of shape (N,).

    dL/dm = -(2/N) sum_i x[i] (y[i] - m x[i] - c)
    dL/dc = -(2/N) sum_i      (y[i] - m x[i] - c)
    Computed in float64 whatever the input dtype. Lecture: m=0.2, c=12, x=[60], y=[63] gives
    (-4680, -78).
    """
    m, c = _check.number("m", m), _check.number("c", c)
    x64, y64 = _line_data(x, y)
    residual = y64 - (m * x64 + c)
    return float(-2.0 * (x64 * residual).mean()), float(-2.0 * residual.mean())


def sgd_step(m: float, c: float, x_i: float, y_i: float, lr: float) -> tuple[float, float]:
    """One SGD update on the single-example loss l = (y_i - (m x_i + c))**2.

    dl/dm = -2 x_i r, dl/dc = -2 r with r = y_i - (m x_i + c);
    returns (m - lr dl/dm, c - lr dl/dc). Lecture: (0.2, 12, 60, 63, 1e-4) -> (0.668, 12.0078).
    """
    m, c = _check.number("m", m), _check.number("c", c)
    x_i, y_i, lr = _check.number("x_i", x_i), _check.number("y_i", y_i), _check.number("lr", lr)
    r = y_i - (m * x_i + c)
    return m + lr * 2.0 * x_i * r, c + lr * 2.0 * r


def fit_line(
    x: torch.Tensor,
    y: torch.Tensor,
    lr: float,
    epochs: int,
    seed: int = 0,
    m: float = 0.0,
    c: float = 0.0,
) -> tuple[float, float, list[float]]:
    """Fit y ~ m x + c by single-example SGD; x, y of shape (N,).

    Each epoch visits every example once, in the order torch.randperm(N) draws from a
    generator seeded with ``seed``, applying the update of sgd_step. Returns (m, c, losses)
    where losses[e] is the MSE over all the data after epoch e (len(losses) == epochs).
    Float64 throughout; a learning rate that makes the loss overflow raises ValueError naming lr.
    """
    x64, y64 = _line_data(x, y)
    lr = _check.number("lr", lr)
    epochs = _check.count("epochs", epochs, 0)
    m, c = _check.number("m", m), _check.number("c", c)
    xs, ys = x64.tolist(), y64.tolist()
    generator = torch.Generator().manual_seed(int(seed))
    losses: list[float] = []
    for epoch in range(epochs):
        for i in torch.randperm(len(xs), generator=generator).tolist():
            r = ys[i] - (m * xs[i] + c)
            m, c = m + lr * 2.0 * xs[i] * r, c + lr * 2.0 * r
        losses.append(float(((y64 - (m * x64 + c)) ** 2).mean()))
        if not math.isfinite(losses[-1]):
            raise ValueError(f"fit_line diverged in epoch {epoch + 1} (loss {losses[-1]}): "
                             f"lr={lr} is too large for this data; try a smaller lr")
    return m, c, losses


def least_squares_line(x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """The closed-form minimiser of the MSE of m x + c: m = cov(x, y) / var(x), c = ȳ - m x̄.

    x, y of shape (N,), N >= 2, x not constant. The point fit_line converges to.
    """
    x64, y64 = _line_data(x, y)
    dx = x64 - x64.mean()
    var = float((dx * dx).sum())
    if var == 0.0:
        raise ValueError(f"x must not be constant, got all values equal to {float(x64[0])}")
    m = float((dx * (y64 - y64.mean())).sum()) / var
    return m, float(y64.mean()) - m * float(x64.mean())


def softmax_regression_gradients(
    W: torch.Tensor, b: torch.Tensor, x: torch.Tensor, y: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradients of L = cross_entropy(softmax(W x + b), y) for one example.

    W (C, V), b (C,), x (V,), y (C,) one-hot or a distribution. With z = W x + b and
    p = softmax(z), L = -sum_k y[k] (z[k] - logsumexp(z)), so dL/dz = p * sum(y) - y, which is
    p - y for the one-hot y of the lecture. Then dL/dW = (dL/dz) x^T of shape (C, V) and
    dL/db = dL/dz of shape (C,).
    """
    _check.tensor("W", W, 2, "(C, V)")
    _check.tensor("b", b, 1, "(C,)")
    _check.tensor("x", x, 1, "(V,)")
    _check.tensor("y", y, 1, "(C,)")
    _check.same_dtype(W=W, b=b, x=x, y=y)
    n_classes, vocab = W.shape
    for name, value, want in (("b", b, n_classes), ("y", y, n_classes), ("x", x, vocab)):
        if value.shape[0] != want:
            raise ValueError(f"{name} must have shape ({want},) to match W {tuple(W.shape)}, "
                             f"got {tuple(value.shape)}")
    dz = softmax(W @ x + b) * y.sum() - y
    return torch.outer(dz, x), dz


def _line_data(x: object, y: object) -> tuple[torch.Tensor, torch.Tensor]:
    x = _check.tensor("x", x, 1, "(N,)")
    y = _check.tensor("y", y, 1, "(N,)")
    _check.same_shape("x", x, "y", y)
    _check.nonempty("x", x, "(N,)")
    return x.double(), y.double()
