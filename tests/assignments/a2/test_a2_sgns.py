"""sigmoid, sgns_loss, sgns_gradients and sgns_step against the formula, autograd and gradcheck."""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch.autograd import Function, gradcheck

F64 = torch.float64
# Tighter than gradcheck's defaults (rtol 1e-3): a gradient off by 0.1% fails.
STRICT: dict[str, Any] = {"rtol": 1e-6, "atol": 1e-7}


def direct_loss(v: torch.Tensor, u: torch.Tensor, U: torch.Tensor) -> torch.Tensor:
    """-log sigma(u . v) - sum_k log sigma(-u_k . v), in float64 with torch's logsigmoid."""
    v, u, U = v.double(), u.double(), U.double()
    return -F.logsigmoid(u @ v) - F.logsigmoid(-(U @ v)).sum()


def random_triple(d: int, K: int, seed: int, scale: float = 1.0,
                  dtype: torch.dtype = F64) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    v = torch.randn(d, generator=g, dtype=F64) * scale
    u = torch.randn(d, generator=g, dtype=F64) * scale
    U = torch.randn(K, d, generator=g, dtype=F64) * scale
    return v.to(dtype), u.to(dtype), U.to(dtype)


def t(values: Any) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32)


# --- sigmoid and log_sigmoid -------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_sigmoid_matches_torch_and_keeps_shape(a2ref: ModuleType, dtype: torch.dtype) -> None:
    x = torch.linspace(-40, 40, 161, dtype=dtype).reshape(7, 23)
    got = a2ref.sigmoid(x)
    assert got.shape == x.shape and got.dtype == dtype
    torch.testing.assert_close(got, torch.sigmoid(x), rtol=1e-6 if dtype == F64 else 1e-5,
                               atol=0)
    assert a2ref.sigmoid(torch.tensor(0.5, dtype=dtype)).shape == ()


@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_sigmoid_of_huge_inputs_is_finite_and_exact(a2ref: ModuleType, dtype: torch.dtype) -> None:
    x = torch.tensor([-1e4, -800.0, -100.0, 0.0, 100.0, 800.0, 1e4], dtype=dtype)
    got = a2ref.sigmoid(x)
    assert bool(torch.isfinite(got).all())
    assert got[0].item() == 0.0 and got[-1].item() == 1.0 and got[3].item() == 0.5
    assert got[2].item() == pytest.approx(math.exp(-100.0), rel=1e-5)  # not flushed to 0 early
    torch.testing.assert_close(got, torch.sigmoid(x))


def test_sigmoid_of_a_number_is_a_float(a2ref: ModuleType) -> None:
    assert a2ref.sigmoid(0) == 0.5 and isinstance(a2ref.sigmoid(0.0), float)
    assert a2ref.sigmoid(1.0) == pytest.approx(1 / (1 + math.exp(-1.0)), rel=1e-15)
    assert a2ref.sigmoid(-1e4) == 0.0 and a2ref.sigmoid(1e4) == 1.0


def test_log_sigmoid_is_stable(a2ref: ModuleType) -> None:
    x = torch.tensor([-1e4, -30.0, -1.0, 0.0, 1.0, 30.0, 1e4], dtype=F64)
    got = a2ref.log_sigmoid(x)
    assert bool(torch.isfinite(got).all())
    torch.testing.assert_close(got, F.logsigmoid(x), rtol=1e-12, atol=1e-300)
    assert got[0].item() == -1e4 and got[-1].item() == 0.0
    assert got[3].item() == pytest.approx(-math.log(2.0), rel=1e-15)


# --- sgns_loss ---------------------------------------------------------------------------------


def test_sgns_loss_worked_value(a2ref: ModuleType) -> None:
    got = a2ref.sgns_loss(t([1, 0]), t([1, 0]), t([[0, 1]]))
    assert isinstance(got, float)
    want = -math.log(1 / (1 + math.exp(-1.0))) - math.log(0.5)
    assert got == pytest.approx(want, rel=1e-12)
    assert round(got, 4) == 1.0064


@pytest.mark.parametrize("dtype", [torch.float32, F64])
@pytest.mark.parametrize(("d", "K", "seed", "scale"),
                         [(1, 1, 0, 1.0), (2, 3, 1, 0.5), (16, 5, 2, 1.0), (16, 20, 3, 3.0),
                          (50, 5, 4, 0.1), (8, 0, 5, 2.0)])
def test_sgns_loss_matches_the_direct_formula(a2ref: ModuleType, dtype: torch.dtype, d: int,
                                              K: int, seed: int, scale: float) -> None:
    v, u, U = random_triple(d, K, seed, scale, dtype)
    got = a2ref.sgns_loss(v, u, U)
    assert isinstance(got, float) and got >= 0.0
    assert got == pytest.approx(direct_loss(v, u, U).item(), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_sgns_loss_is_finite_and_right_for_huge_dot_products(a2ref: ModuleType,
                                                             dtype: torch.dtype) -> None:
    v = torch.tensor([100.0, 0.0], dtype=dtype)
    agree = torch.tensor([100.0, 0.0], dtype=dtype)  # u . v = 1e4
    disagree = torch.tensor([-100.0, 0.0], dtype=dtype)  # u . v = -1e4
    # Everything right: each term is log(1 + e^-1e4), 0 in floating point.
    assert a2ref.sgns_loss(v, agree, disagree.reshape(1, 2)) == 0.0
    # Everything wrong: each term is ~1e4.
    assert a2ref.sgns_loss(v, disagree, agree.repeat(3, 1)) == pytest.approx(4e4, rel=1e-12)
    mixed = a2ref.sgns_loss(v, disagree, torch.stack([disagree, torch.zeros(2, dtype=dtype)]))
    assert mixed == pytest.approx(1e4 + math.log(2.0), rel=1e-12)


def test_sgns_loss_does_not_modify_its_inputs(a2ref: ModuleType) -> None:
    v, u, U = random_triple(6, 4, 11)
    saved = [x.clone() for x in (v, u, U)]
    a2ref.sgns_loss(v, u, U)
    a2ref.sgns_gradients(v, u, U)
    for before, after in zip(saved, (v, u, U), strict=True):
        assert torch.equal(before, after)


# --- sgns_gradients ----------------------------------------------------------------------------


def test_sgns_gradients_worked_values(a2ref: ModuleType) -> None:
    d_v, d_u, d_U = a2ref.sgns_gradients(t([1, 0]), t([1, 0]), t([[0, 1]]))
    s1 = 1 / (1 + math.exp(-1.0))
    assert d_v.dtype == d_u.dtype == d_U.dtype == torch.float32
    assert d_v.shape == (2,) and d_u.shape == (2,) and d_U.shape == (1, 2)
    torch.testing.assert_close(d_v, t([s1 - 1, 0.5]), rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(d_u, t([s1 - 1, 0.0]), rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(d_U, t([[0.5, 0.0]]), rtol=1e-6, atol=1e-7)
    assert [round(x, 4) for x in d_v.tolist()] == [-0.2689, 0.5]
    assert [round(x, 4) for x in d_u.tolist()] == [-0.2689, 0.0]


@pytest.mark.parametrize(("d", "K", "seed", "scale"),
                         [(1, 1, 0, 1.0), (3, 2, 1, 2.0), (16, 5, 2, 1.0), (10, 15, 3, 0.3),
                          (4, 0, 4, 1.0), (7, 3, 5, 6.0)])
def test_sgns_gradients_match_autograd(a2ref: ModuleType, d: int, K: int, seed: int,
                                       scale: float) -> None:
    v, u, U = (x.requires_grad_() for x in random_triple(d, K, seed, scale))
    direct_loss(v, u, U).backward()  # type: ignore[no-untyped-call]
    d_v, d_u, d_U = a2ref.sgns_gradients(v.detach(), u.detach(), U.detach())
    assert d_v.shape == (d,) and d_u.shape == (d,) and d_U.shape == (K, d)
    assert d_v.dtype == d_u.dtype == d_U.dtype == F64
    for got, leaf in ((d_v, v), (d_u, u), (d_U, U)):
        assert leaf.grad is not None
        torch.testing.assert_close(got, leaf.grad, rtol=1e-12, atol=1e-14)


def test_sgns_gradients_of_float32_inputs_are_float32_and_accurate(a2ref: ModuleType) -> None:
    v, u, U = random_triple(16, 5, 7, dtype=torch.float32)
    got = a2ref.sgns_gradients(v, u, U)
    want = a2ref.sgns_gradients(v.double(), u.double(), U.double())
    for g32, g64 in zip(got, want, strict=True):
        assert g32.dtype == torch.float32
        torch.testing.assert_close(g32.double(), g64, rtol=1e-6, atol=1e-7)


class _SGNS(Function):
    """The loss by torch; backward by the reference's hand-derived sgns_gradients."""

    ref: ModuleType

    @staticmethod
    def forward(ctx: Any, v: torch.Tensor, u: torch.Tensor, U: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(v, u, U)
        return direct_loss(v, u, U)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, ...]:
        v, u, U = ctx.saved_tensors
        d_v, d_u, d_U = _SGNS.ref.sgns_gradients(v, u, U)
        return grad * d_v, grad * d_u, grad * d_U


@pytest.mark.parametrize(("d", "K", "seed", "scale"),
                         [(1, 1, 0, 1.0), (2, 1, 1, 1.0), (5, 3, 2, 1.5), (16, 5, 3, 0.5),
                          (6, 8, 4, 2.0)])
def test_gradcheck_sgns_gradients(a2ref: ModuleType, d: int, K: int, seed: int,
                                  scale: float) -> None:
    _SGNS.ref = a2ref
    inputs = tuple(x.requires_grad_() for x in random_triple(d, K, seed, scale))
    assert gradcheck(_SGNS.apply, inputs, **STRICT)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_sgns_gradients_are_finite_and_right_for_huge_dot_products(a2ref: ModuleType,
                                                                   sign: float) -> None:
    v = torch.tensor([100.0, 0.0, 0.0], dtype=F64)
    u = torch.tensor([sign * 100.0, 0.0, 1.0], dtype=F64)  # u . v = +-1e4
    U = torch.tensor([[-sign * 100.0, 2.0, 0.0], [0.0, 0.0, 3.0]], dtype=F64)  # -+1e4, 0
    vv, uu, UU = (x.clone().requires_grad_() for x in (v, u, U))
    direct_loss(vv, uu, UU).backward()  # type: ignore[no-untyped-call]
    got = a2ref.sgns_gradients(v, u, U)
    for g in got:
        assert bool(torch.isfinite(g).all())
    for g, leaf in zip(got, (vv, uu, UU), strict=True):
        assert leaf.grad is not None
        torch.testing.assert_close(g, leaf.grad, rtol=1e-12, atol=1e-12)
    _, d_u, d_U = got
    if sign < 0:  # sigma(-1e4) - 1 = -1: the full pull towards u_o, and d_U[0] = sigma(1e4) v = v
        torch.testing.assert_close(d_u, -v)
        torch.testing.assert_close(d_U[0], v)
    else:  # nothing to learn from the first two terms
        assert d_u.abs().max().item() == 0.0 and d_U[0].abs().max().item() == 0.0
    torch.testing.assert_close(d_U[1], 0.5 * v)
    assert a2ref.sgns_loss(v, u, U) == pytest.approx(direct_loss(v, u, U).item(), rel=1e-12)


# --- sgns_step ---------------------------------------------------------------------------------


def _matrices(V: int, d: int, seed: int,
              dtype: torch.dtype = F64) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    W_in = torch.randn(V, d, generator=g, dtype=F64).to(dtype)
    W_out = torch.randn(V, d, generator=g, dtype=F64).to(dtype)
    return W_in, W_out


def _autograd_step(W_in: torch.Tensor, W_out: torch.Tensor, centre: int, context: int,
                   negatives: torch.Tensor, lr: float) -> tuple[torch.Tensor, torch.Tensor, float]:
    """The SGD step on the loss with repeated rows, by autograd on the whole matrices."""
    a = W_in.detach().double().requires_grad_()
    b = W_out.detach().double().requires_grad_()
    loss = direct_loss(a[centre], b[context], b[negatives])
    loss.backward()  # type: ignore[no-untyped-call]
    assert a.grad is not None and b.grad is not None
    return (a - lr * a.grad).detach(), (b - lr * b.grad).detach(), loss.item()


@pytest.mark.parametrize(
    ("centre", "context", "negatives"),
    [
        (0, 1, [2, 3, 4]),
        (2, 3, [1, 1, 4]),  # a negative drawn twice
        (1, 4, [4, 0, 2]),  # the context word drawn as a negative
        (3, 3, [3, 3]),  # centre = context = every negative (rows of different matrices)
        (0, 2, [2, 2, 2, 2, 2]),
        (4, 0, []),  # K = 0
    ],
)
def test_sgns_step_equals_autograd_on_the_loss_with_repeated_rows(
    a2ref: ModuleType, centre: int, context: int, negatives: list[int],
) -> None:
    W_in, W_out = _matrices(5, 4, seed=centre * 7 + context)
    neg = torch.tensor(negatives, dtype=torch.int64)
    want_in, want_out, want_loss = _autograd_step(W_in, W_out, centre, context, neg, lr=0.3)
    rows_before = (W_in[centre].clone(), W_out[context].clone(), W_out[neg].clone())
    got = a2ref.sgns_step(W_in, W_out, centre, context, neg, 0.3)
    assert isinstance(got, float)
    assert got == pytest.approx(want_loss, rel=1e-12)
    assert got == pytest.approx(a2ref.sgns_loss(*rows_before), rel=1e-15)  # the loss before
    torch.testing.assert_close(W_in, want_in, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(W_out, want_out, rtol=1e-12, atol=1e-14)


def test_sgns_step_updates_in_place_and_touches_only_its_rows(a2ref: ModuleType) -> None:
    W_in, W_out = _matrices(8, 3, seed=1, dtype=torch.float32)
    ids = (W_in.data_ptr(), W_out.data_ptr())
    before_in, before_out = W_in.clone(), W_out.clone()
    neg = torch.tensor([5, 6, 6])
    result = a2ref.sgns_step(W_in, W_out, 2, 4, neg, 0.1)
    assert result is not None and (W_in.data_ptr(), W_out.data_ptr()) == ids
    assert W_in.dtype == W_out.dtype == torch.float32
    changed_in = (W_in != before_in).any(dim=1).nonzero().flatten().tolist()
    changed_out = (W_out != before_out).any(dim=1).nonzero().flatten().tolist()
    assert changed_in == [2] and changed_out == [4, 5, 6]
    assert torch.equal(neg, torch.tensor([5, 6, 6]))  # negatives are not modified


def test_sgns_step_on_float32_matrices_matches_float64(a2ref: ModuleType) -> None:
    W_in, W_out = _matrices(6, 16, seed=2, dtype=torch.float32)
    W_in64, W_out64 = W_in.double(), W_out.double()
    neg = torch.tensor([0, 3, 3, 5, 1])
    loss32 = a2ref.sgns_step(W_in, W_out, 1, 3, neg, 0.05)
    loss64 = a2ref.sgns_step(W_in64, W_out64, 1, 3, neg, 0.05)
    assert loss32 == pytest.approx(loss64, rel=1e-12)  # float32 values, float64 arithmetic
    torch.testing.assert_close(W_in.double(), W_in64, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(W_out.double(), W_out64, rtol=1e-6, atol=1e-7)


def test_sgns_step_returns_the_loss_before_and_a_small_step_lowers_it(a2ref: ModuleType) -> None:
    W_in, W_out = _matrices(5, 8, seed=3)
    neg = torch.tensor([0, 2, 4])
    before = a2ref.sgns_loss(W_in[1], W_out[3], W_out[neg])
    assert a2ref.sgns_step(W_in, W_out, 1, 3, neg, 0.01) == before
    after = a2ref.sgns_loss(W_in[1], W_out[3], W_out[neg])
    assert after < before
    assert a2ref.sgns_step(W_in, W_out, 1, 3, neg, 0.01) == after


def test_sgns_step_accepts_tensor_indices_and_a_list_of_negatives(a2ref: ModuleType) -> None:
    W_in, W_out = _matrices(5, 3, seed=4)
    A_in, A_out = W_in.clone(), W_out.clone()
    a = a2ref.sgns_step(W_in, W_out, 1, 2, torch.tensor([3, 3]), 0.2)
    b = a2ref.sgns_step(A_in, A_out, torch.tensor(1), torch.tensor(2), [3, 3], 0.2)
    assert a == b and torch.equal(W_in, A_in) and torch.equal(W_out, A_out)


def test_sgns_step_with_huge_dot_products_stays_finite(a2ref: ModuleType) -> None:
    W_in = torch.tensor([[100.0, 0.0], [0.0, 1.0]])
    W_out = torch.tensor([[-100.0, 0.0], [100.0, 0.0]])
    loss = a2ref.sgns_step(W_in, W_out, 0, 0, torch.tensor([1, 1]), 1e-3)
    assert loss == pytest.approx(3e4, rel=1e-12)
    assert bool(torch.isfinite(W_in).all()) and bool(torch.isfinite(W_out).all())
    # d/dv = -u_o + 2 u_1 = (300, 0); d/du_o = -v; d/du_1 = v, twice.
    torch.testing.assert_close(W_in[0], torch.tensor([100.0 - 0.3, 0.0]))
    torch.testing.assert_close(W_out[0], torch.tensor([-100.0 + 0.1, 0.0]))
    torch.testing.assert_close(W_out[1], torch.tensor([100.0 - 0.2, 0.0]))


class _Step(Function):
    """The loss over whole matrices by torch; backward by what sgns_step does: (old - new) / lr."""

    ref: ModuleType
    LR = 1.0

    @staticmethod
    def forward(ctx: Any, W_in: torch.Tensor, W_out: torch.Tensor, centre: int, context: int,
                negatives: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(W_in, W_out, negatives)
        ctx.rows = (centre, context)
        return direct_loss(W_in[centre], W_out[context], W_out[negatives])

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[Any, ...]:
        W_in, W_out, negatives = ctx.saved_tensors
        new_in, new_out = W_in.detach().clone(), W_out.detach().clone()
        _Step.ref.sgns_step(new_in, new_out, *ctx.rows, negatives, _Step.LR)
        return (grad * (W_in - new_in) / _Step.LR, grad * (W_out - new_out) / _Step.LR,
                None, None, None)


@pytest.mark.parametrize(("centre", "context", "negatives"),
                         [(0, 1, [2, 3]), (1, 2, [2, 2, 0]), (3, 0, [3, 3, 3]), (2, 2, [])])
def test_gradcheck_sgns_step(a2ref: ModuleType, centre: int, context: int,
                             negatives: list[int]) -> None:
    _Step.ref = a2ref
    W_in, W_out = _matrices(4, 3, seed=len(negatives) + centre)
    inputs: Any = (W_in.requires_grad_(), W_out.requires_grad_(), centre, context,
              torch.tensor(negatives, dtype=torch.int64))
    assert gradcheck(_Step.apply, inputs, **STRICT)
