"""Skip-gram with negative sampling: the loss, its hand-derived gradients and one SGD step.

Notation of the lecture: v_c = W_in[c] is the centre ("input") vector, u_o = W_out[o] the
context ("output") vector of the observed context word, u_k = W_out[n_k] the K negatives'.
With x_o = u_o . v_c and x_k = u_k . v_c,

    L = -log sigma(x_o) - sum_k log sigma(-x_k)

Everything is computed in float64 from log-sigmoids (log sigma(x) = -softplus(-x) =
-logaddexp(0, -x)), so dot products of magnitude 1e4 give finite, correct values.
"""

from __future__ import annotations

import torch

from . import _check

F64 = torch.float64


def sigmoid(x: torch.Tensor | float) -> torch.Tensor | float:
    """The logistic sigmoid sigma(x) = 1 / (1 + exp(-x)), elementwise, stable for any |x|.

    Computed as 1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0 with e = exp(-|x|) <= 1, so
    nothing overflows: sigma(1e4) = 1, sigma(-1e4) = 0 (both exact in floating point).
    A tensor gives a tensor of the same shape (floating dtypes kept, integer ones as float32);
    a Python or NumPy number gives a float.
    """
    if isinstance(x, torch.Tensor):
        t = x if x.is_floating_point() else x.to(torch.float32)
        e = torch.exp(-t.abs())
        return torch.where(t >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    value = _check.number_or_inf("x", x)
    out = sigmoid(torch.tensor(value, dtype=F64))
    assert isinstance(out, torch.Tensor)
    return float(out)


def log_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """log sigma(x) = -softplus(-x) = -logaddexp(0, -x), elementwise, finite for any finite x.

    log sigma(1e4) = 0 and log sigma(-1e4) = -1e4, where log(sigmoid(x)) would give -inf.
    """
    _check.tensor("x", x, tuple(range(0, 9)), "(...)")
    return -torch.logaddexp(torch.zeros((), dtype=x.dtype), -x)


def _vectors(v_c: object, u_o: object,
             U_neg: object) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Check the shapes (d,), (d,), (K, d) and return them detached, in float64."""
    v = _check.tensor("v_c", v_c, 1, "(d,)")
    u = _check.tensor("u_o", u_o, 1, "(d,)")
    U = _check.tensor("U_neg", U_neg, 2, "(K, d)")
    d = v.shape[0]
    if u.shape[0] != d:
        raise ValueError(f"u_o must have shape ({d},) like v_c, got {tuple(u.shape)}")
    if U.shape[1] != d:
        raise ValueError(f"U_neg must have shape (K, {d}) to match v_c {tuple(v.shape)}, "
                         f"got {tuple(U.shape)}")
    return v.detach().to(F64), u.detach().to(F64), U.detach().to(F64)


def _loss64(x_o: torch.Tensor, x_neg: torch.Tensor) -> float:
    """-log sigma(x_o) - sum_k log sigma(-x_k) from the dot products, in float64."""
    zero = torch.zeros((), dtype=F64)
    return float(torch.logaddexp(zero, -x_o) + torch.logaddexp(zero, x_neg).sum())


def sgns_loss(v_c: torch.Tensor, u_o: torch.Tensor, U_neg: torch.Tensor) -> float:
    """L = -log sigma(u_o . v_c) - sum_k log sigma(-u_k . v_c), a Python float >= 0.

    v_c, u_o (d,); U_neg (K, d) with K >= 0 rows u_k. Computed in float64 with softplus:
    -log sigma(x) = logaddexp(0, -x). Lecture: sgns_loss([1, 0], [1, 0], [[0, 1]]) =
    -log sigma(1) - log sigma(0) = 0.3133 + 0.6931 = 1.0064.
    """
    v, u, U = _vectors(v_c, u_o, U_neg)
    return _loss64(u @ v, U @ v)


def sgns_gradients(
    v_c: torch.Tensor, u_o: torch.Tensor, U_neg: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The gradients of sgns_loss, derived by hand.

    With x_o = u_o . v_c and x_k = u_k . v_c, and d/dx [-log sigma(x)] = sigma(x) - 1 = -sigma(-x),
    d/dx [-log sigma(-x)] = sigma(x):

        dL/dv_c   = (sigma(x_o) - 1) u_o + sum_k sigma(x_k) u_k      (d,)
        dL/du_o   = (sigma(x_o) - 1) v_c                            (d,)
        dL/du_k   = sigma(x_k) v_c, stacked as dL/dU_neg            (K, d)

    sigma(x_o) - 1 is computed as -sigma(-x_o) (no cancellation when sigma(x_o) is near 1).
    Float64 inside; the results have the inputs' (promoted) dtype: float32 in, float32 out.
    Lecture: at v_c = u_o = (1, 0), U_neg = [(0, 1)]: (-0.2689, 0.5), (-0.2689, 0), [(0.5, 0)].
    """
    v, u, U = _vectors(v_c, u_o, U_neg)
    dtype = torch.promote_types(torch.promote_types(v_c.dtype, u_o.dtype), U_neg.dtype)
    g_o, g_neg = _coefficients(u @ v, U @ v)
    d_v = g_o * u + g_neg @ U
    d_u = g_o * v
    d_U = torch.outer(g_neg, v)
    return d_v.to(dtype), d_u.to(dtype), d_U.to(dtype)


def _coefficients(x_o: torch.Tensor, x_neg: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """dL/dx_o = sigma(x_o) - 1 = -sigma(-x_o) and dL/dx_k = sigma(x_k)."""
    g_o = -sigmoid(-x_o)
    g_neg = sigmoid(x_neg)
    assert isinstance(g_o, torch.Tensor) and isinstance(g_neg, torch.Tensor)
    return g_o, g_neg


def sgns_step(
    W_in: torch.Tensor,
    W_out: torch.Tensor,
    centre: int,
    context: int,
    negatives: torch.Tensor,
    lr: float,
) -> float:
    """One SGD step on sgns_loss(W_in[centre], W_out[context], W_out[negatives]), in place.

    W_in, W_out (V, d) of one floating dtype; ``centre``, ``context`` ints in 0..V-1;
    ``negatives`` int64 (K,). All three gradients are computed (in float64) from the rows as
    they are before the step, then

        W_in[centre]     -= lr * dL/dv_c
        W_out[context]   -= lr * dL/du_o
        W_out[n_k]       -= lr * dL/du_k   for every k

    the W_out updates through index_add_, so a row that appears more than once (a negative
    drawn twice, or the context word drawn as a negative) receives the sum of its
    contributions, which is the gradient of L with respect to that row. Returns the loss
    before the step as a Python float. Nothing else is modified.
    """
    _check.tensor("W_in", W_in, 2, "(V, d)")
    _check.tensor("W_out", W_out, 2, "(V, d)")
    if W_out.shape != W_in.shape:
        raise ValueError(f"W_out must have W_in's shape {tuple(W_in.shape)}, "
                         f"got {tuple(W_out.shape)}")
    size = W_in.shape[0]
    c = _check.index("centre", centre, size)
    o = _check.index("context", context, size)
    neg = _check.indices("negatives", negatives, size, "(K,)")
    lr = _check.number("lr", lr)
    rows = torch.cat([torch.tensor([o], dtype=torch.int64), neg])
    return _step(W_in, W_out, c, rows, lr)


def _step(W_in: torch.Tensor, W_out: torch.Tensor, c: int, rows: torch.Tensor,
          lr: float) -> float:
    """sgns_step without the argument checks; rows = [context, *negatives] (int64)."""
    with torch.no_grad():
        v = W_in[c].to(F64)
        U = W_out.index_select(0, rows).to(F64)  # row 0: u_o, then the negatives
        x = U @ v
        x_o, x_neg = x[0], x[1:]
        loss = _loss64(x_o, x_neg)
        g_o, g_neg = _coefficients(x_o, x_neg)
        g = torch.cat([g_o.reshape(1), g_neg])  # dL/dx for every row of U
        d_v = g @ U
        d_U = torch.outer(g, v)
        W_in[c] -= (lr * d_v).to(W_in.dtype)
        W_out.index_add_(0, rows, (-lr * d_U).to(W_out.dtype))
    return loss
