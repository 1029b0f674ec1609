"""Losses and softmax: the formulas of the lecture, numerically stable."""

from __future__ import annotations

import torch

from . import _check


def mse(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean squared error.

    L = (1/N) * sum_i (y_hat[i] - y[i])**2, with y_hat and y of shape (N,), N >= 1.
    Returns a 0-d tensor of the inputs' dtype.
    """
    _check.tensor("y_hat", y_hat, 1, "(N,)")
    _check.tensor("y", y, 1, "(N,)")
    _check.same_shape("y_hat", y_hat, "y", y)
    _check.nonempty("y_hat", y_hat, "(N,)")
    return ((y_hat - y) ** 2).mean()


def logsumexp(z: torch.Tensor) -> torch.Tensor:
    """log(sum_k exp(z[..., k])) over the last dimension, stable for large |z|.

    With m = max_k z[..., k]: logsumexp(z) = m + log(sum_k exp(z[..., k] - m)); every
    exponent is <= 0, so nothing overflows. z: (C,) or (N, C) -> () or (N,).
    """
    _check.tensor("z", z, (1, 2), "(C,) or (N, C)")
    _check.nonempty("z", z, "(C,) or (N, C)")
    m = z.max(dim=-1, keepdim=True).values
    return (m + torch.log(torch.exp(z - m).sum(dim=-1, keepdim=True))).squeeze(-1)


def log_softmax(z: torch.Tensor) -> torch.Tensor:
    """log softmax(z)[..., k] = z[..., k] - logsumexp(z) over the last dimension.

    z: (C,) or (N, C); the result has z's shape and is finite for any finite z.
    """
    return z - logsumexp(z).unsqueeze(-1)


def softmax(z: torch.Tensor) -> torch.Tensor:
    """softmax(z)[..., k] = exp(z[..., k]) / sum_j exp(z[..., j]) over the last dimension.

    Computed as exp(z - max z), which is the same value and never overflows (logits of
    magnitude 1e4 give a valid distribution). z: (C,) or (N, C) -> same shape, rows sum to 1.
    """
    _check.tensor("z", z, (1, 2), "(C,) or (N, C)")
    _check.nonempty("z", z, "(C,) or (N, C)")
    e = torch.exp(z - z.max(dim=-1, keepdim=True).values)
    return e / e.sum(dim=-1, keepdim=True)


def cross_entropy(p_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of predicted probabilities against a target distribution.

    One example, shapes (C,): L = -sum_k y[k] * log(p_hat[k]).
    A batch, shapes (N, C): the mean over rows of that. y is one-hot or any distribution.
    Terms with y[k] == 0 contribute 0 even where p_hat[k] == 0 (0 * log 0 = 0, via xlogy);
    a target mass on p_hat[k] == 0 gives +inf, which is the true value. Returns a 0-d tensor.
    """
    _check.tensor("p_hat", p_hat, (1, 2), "(C,) or (N, C)")
    _check.tensor("y", y, (1, 2), "(C,) or (N, C)")
    _check.same_shape("p_hat", p_hat, "y", y)
    _check.nonempty("p_hat", p_hat, "(C,) or (N, C)")
    per_example = -torch.xlogy(y, p_hat).sum(dim=-1)
    return per_example.mean()
