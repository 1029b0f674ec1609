"""The reference losses against torch's own implementations and the lecture's numbers."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

import reference

DTYPES = [torch.float32, torch.float64]


def tol(dtype: torch.dtype) -> dict[str, float]:
    if dtype == torch.float64:
        return {"rtol": 1e-12, "atol": 1e-12}
    return {"rtol": 1e-5, "atol": 1e-6}


@pytest.fixture
def gen() -> torch.Generator:
    return torch.Generator().manual_seed(1234)


# --- mse ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 2, 7, 100])
def test_mse_matches_torch(dtype: torch.dtype, n: int, gen: torch.Generator) -> None:
    y_hat = torch.randn(n, generator=gen, dtype=dtype) * 10
    y = torch.randn(n, generator=gen, dtype=dtype) * 10
    got = reference.mse(y_hat, y)
    assert got.shape == () and got.dtype == dtype
    torch.testing.assert_close(got, F.mse_loss(y_hat, y), **tol(dtype))


def test_mse_lecture_value() -> None:
    # The lecture's line m = 0.2, c = 12 at x = 60 predicts 24 where the truth is 63.
    got = reference.mse(torch.tensor([0.2 * 60 + 12]), torch.tensor([63.0]))
    assert got.item() == 1521.0


def test_mse_of_equal_inputs_is_exactly_zero() -> None:
    y = torch.tensor([1.5, -2.0, 3.25], dtype=torch.float64)
    assert reference.mse(y, y.clone()).item() == 0.0


# --- softmax, log_softmax, logsumexp ----------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1,), (5,), (1, 3), (4, 1), (6, 10)])
def test_softmax_matches_torch(dtype: torch.dtype, shape: tuple[int, ...],
                               gen: torch.Generator) -> None:
    z = torch.randn(shape, generator=gen, dtype=dtype) * 5
    got = reference.softmax(z)
    assert got.shape == z.shape and got.dtype == dtype
    torch.testing.assert_close(got, torch.softmax(z, dim=-1), **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_of_huge_logits_is_a_distribution(dtype: torch.dtype) -> None:
    z = torch.tensor([1e4, 0.0, -1e4], dtype=dtype)
    p = reference.softmax(z)
    assert torch.isfinite(p).all()
    assert p.tolist() == [1.0, 0.0, 0.0]
    batch = torch.tensor([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4], [1e4, 1e4, 0.0]], dtype=dtype)
    pb = reference.softmax(batch)
    assert torch.isfinite(pb).all()
    torch.testing.assert_close(pb.sum(dim=-1), torch.ones(3, dtype=dtype))
    torch.testing.assert_close(pb, torch.softmax(batch, dim=-1))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1,), (5,), (3, 4), (8, 2)])
@pytest.mark.parametrize("scale", [1.0, 1e4])
def test_log_softmax_and_logsumexp_match_torch(dtype: torch.dtype, shape: tuple[int, ...],
                                               scale: float, gen: torch.Generator) -> None:
    z = torch.randn(shape, generator=gen, dtype=dtype) * scale
    ls = reference.log_softmax(z)
    lse = reference.logsumexp(z)
    assert ls.shape == z.shape and ls.dtype == dtype
    assert lse.shape == z.shape[:-1] and lse.dtype == dtype
    assert torch.isfinite(ls).all() and torch.isfinite(lse).all()
    t = tol(dtype)
    # Both scale with |z|: compare relative to the magnitude of the logits.
    atol = t["atol"] * scale * 10
    torch.testing.assert_close(ls, torch.log_softmax(z, dim=-1), rtol=t["rtol"], atol=atol)
    torch.testing.assert_close(lse, torch.logsumexp(z, dim=-1), rtol=t["rtol"], atol=atol)


def test_logsumexp_of_one_element_is_that_element() -> None:
    z = torch.tensor([-3.5], dtype=torch.float64)
    assert reference.logsumexp(z).shape == ()
    assert reference.logsumexp(z).item() == -3.5
    assert reference.log_softmax(z).tolist() == [0.0]


# --- cross_entropy -----------------------------------------------------------------------------


def _soft_targets(shape: tuple[int, ...], dtype: torch.dtype, gen: torch.Generator) -> torch.Tensor:
    return torch.softmax(torch.randn(shape, generator=gen, dtype=dtype) * 3, dim=-1)


def _one_hot(n: int, c: int, gen: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
    labels = torch.randint(c, (n,), generator=gen)
    return F.one_hot(labels, c).to(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("n", "c"), [(1, 2), (5, 3), (16, 10)])
@pytest.mark.parametrize("targets", ["one-hot", "soft"])
def test_cross_entropy_batch_matches_torch(dtype: torch.dtype, n: int, c: int, targets: str,
                                           gen: torch.Generator) -> None:
    z = torch.randn(n, c, generator=gen, dtype=dtype) * 4
    y = _one_hot(n, c, gen, dtype) if targets == "one-hot" else _soft_targets((n, c), dtype, gen)
    got = reference.cross_entropy(reference.softmax(z), y)
    assert got.shape == () and got.dtype == dtype
    loose = 1e-10 if dtype == torch.float64 else 1e-5
    torch.testing.assert_close(got, F.cross_entropy(z, y), rtol=loose, atol=loose)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("c", [2, 3, 10])
def test_cross_entropy_single_example_matches_torch(dtype: torch.dtype, c: int,
                                                    gen: torch.Generator) -> None:
    z = torch.randn(c, generator=gen, dtype=dtype) * 4
    y = _soft_targets((c,), dtype, gen)
    got = reference.cross_entropy(reference.softmax(z), y)
    assert got.shape == () and got.dtype == dtype
    want = F.cross_entropy(z.unsqueeze(0), y.unsqueeze(0))
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("p_hat", "y", "want"),
    [([0.9, 0.1], [1.0, 0.0], 0.105), ([0.1, 0.9], [1.0, 0.0], 2.303),
     ([0.5, 0.5], [1.0, 0.0], 0.693), ([0.5, 0.5], [0.0, 1.0], 0.693)],
)
def test_cross_entropy_lecture_values(p_hat: list[float], y: list[float], want: float) -> None:
    got = reference.cross_entropy(torch.tensor(p_hat), torch.tensor(y))
    assert round(got.item(), 3) == want
    assert got.item() == pytest.approx(-math.log(p_hat[y.index(1.0)]), rel=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_zero_log_zero_is_zero(dtype: torch.dtype) -> None:
    got = reference.cross_entropy(torch.tensor([1.0, 0.0], dtype=dtype),
                                  torch.tensor([1.0, 0.0], dtype=dtype))
    assert torch.isfinite(got)
    assert got.item() == 0.0
    batch = reference.cross_entropy(torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=dtype),
                                    torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=dtype))
    assert batch.item() == 0.0


def test_cross_entropy_of_target_mass_on_zero_probability_is_inf() -> None:
    got = reference.cross_entropy(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0]))
    assert got.item() == math.inf


# --- dtypes and shapes of results --------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_outputs_keep_the_input_dtype_and_documented_shape(dtype: torch.dtype) -> None:
    v = torch.tensor([0.2, 0.3, 0.5], dtype=dtype)
    m = torch.tensor([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]], dtype=dtype)
    scalars = [reference.mse(v, v.flip(0)), reference.cross_entropy(v, v),
               reference.cross_entropy(m, m), reference.logsumexp(v)]
    for s in scalars:
        assert s.dim() == 0 and s.dtype == dtype
    for t, shape in [(reference.softmax(v), (3,)), (reference.softmax(m), (2, 3)),
                     (reference.log_softmax(m), (2, 3)), (reference.logsumexp(m), (2,))]:
        assert t.shape == shape and t.dtype == dtype


def test_no_loss_modifies_its_inputs(gen: torch.Generator) -> None:
    z = torch.randn(4, 3, generator=gen)
    p = torch.softmax(z, dim=-1)
    y = torch.eye(3)[[0, 2, 1, 1]]
    v, w = torch.randn(5, generator=gen), torch.randn(5, generator=gen)
    saved = [t.clone() for t in (z, p, y, v, w)]
    reference.mse(v, w), reference.softmax(z), reference.softmax(z[0])
    reference.log_softmax(z), reference.logsumexp(z), reference.cross_entropy(p, y)
    reference.cross_entropy(p[1], y[1])
    for before, after in zip(saved, (z, p, y, v, w), strict=True):
        assert torch.equal(before, after)
