"""Property tests of the reference losses and gradients on random shapes and values."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import reference

# Deterministic for CI: the same examples every run, nothing read from or written to a database.
PROPERTY = settings(deadline=None, max_examples=50, derandomize=True, database=None)

BOUND = 50.0
ELEMENTS = st.floats(-BOUND, BOUND, allow_nan=False, allow_infinity=False)


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))


@st.composite
def matrices(draw: st.DrawFn, max_n: int = 20, max_c: int = 10) -> np.ndarray:
    n = draw(st.integers(1, max_n))
    c = draw(st.integers(1, max_c))
    return draw(arrays(np.float64, (n, c), elements=ELEMENTS))


@st.composite
def vectors(draw: st.DrawFn, max_n: int = 20) -> np.ndarray:
    n = draw(st.integers(1, max_n))
    return draw(arrays(np.float64, (n,), elements=ELEMENTS))


@st.composite
def logits_and_targets(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Logits (N, C) and target distributions (N, C), one-hot or soft."""
    z = draw(matrices())
    n, c = z.shape
    if draw(st.booleans()):
        y = np.eye(c)[draw(arrays(np.int64, (n,), elements=st.integers(0, c - 1)))]
    else:
        w = draw(arrays(np.float64, (n, c), elements=st.floats(0.0, 1.0)))
        w[:, 0] += 1e-3  # every row has some mass
        y = w / w.sum(axis=1, keepdims=True)
    return z, y


@PROPERTY
@given(matrices())
def test_softmax_rows_are_distributions(z: np.ndarray) -> None:
    p = reference.softmax(_t(z))
    assert p.shape == z.shape and p.dtype == torch.float64
    assert bool((p >= 0).all()) and bool((p <= 1).all())
    torch.testing.assert_close(p.sum(dim=1), torch.ones(z.shape[0], dtype=torch.float64),
                               rtol=0, atol=1e-12)


@PROPERTY
@given(matrices(), st.data())
def test_softmax_is_invariant_to_a_constant_per_row(z: np.ndarray, data: st.DataObject) -> None:
    shift = data.draw(arrays(np.float64, (z.shape[0], 1), elements=ELEMENTS))
    torch.testing.assert_close(reference.softmax(_t(z + shift)), reference.softmax(_t(z)),
                               rtol=1e-9, atol=1e-12)


@PROPERTY
@given(matrices())
def test_batch_softmax_equals_row_wise_softmax(z: np.ndarray) -> None:
    batch = reference.softmax(_t(z))
    rows = torch.stack([reference.softmax(_t(row)) for row in z])
    torch.testing.assert_close(batch, rows, rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(batch, torch.softmax(_t(z), dim=-1), rtol=1e-9, atol=1e-15)


@PROPERTY
@given(logits_and_targets())
def test_batch_cross_entropy_is_the_mean_of_row_cross_entropies(
    zy: tuple[np.ndarray, np.ndarray],
) -> None:
    z, y = zy
    p = reference.softmax(_t(z))
    batch = reference.cross_entropy(p, _t(y))
    rows = [reference.cross_entropy(p_row, _t(y_row)) for p_row, y_row in
            zip(p, y, strict=True)]
    assert batch.shape == () and all(r.shape == () for r in rows)
    assert torch.isfinite(batch)
    torch.testing.assert_close(batch, torch.stack(rows).mean(), rtol=1e-10, atol=1e-10)
    top = z.max(axis=1, keepdims=True)
    log_p = z - (top + np.log(np.exp(z - top).sum(axis=1, keepdims=True)))
    want = -(y * log_p).sum(axis=1).mean()
    assert abs(batch.item() - want) <= 1e-9 * max(1.0, abs(want))


@PROPERTY
@given(st.data())
def test_mse_is_symmetric_and_zero_iff_equal(data: st.DataObject) -> None:
    a = data.draw(vectors())
    b = data.draw(arrays(np.float64, a.shape, elements=ELEMENTS))
    ab, ba = reference.mse(_t(a), _t(b)), reference.mse(_t(b), _t(a))
    assert ab.item() == ba.item()
    assert reference.mse(_t(a), _t(a.copy())).item() == 0.0
    squares = (a - b) ** 2
    if np.array_equal(a, b):
        assert ab.item() == 0.0
    elif squares.max() > 0:  # differences of ~1e-160 and below square to 0 in float64
        assert ab.item() > 0.0
    assert abs(ab.item() - np.mean(squares)) <= 1e-12 * np.mean(squares)


@PROPERTY
@given(vectors(), st.data())
def test_mse_gradients_are_the_mean_of_per_example_gradients(x: np.ndarray,
                                                             data: st.DataObject) -> None:
    y = data.draw(arrays(np.float64, x.shape, elements=ELEMENTS))
    m = data.draw(ELEMENTS)
    c = data.draw(ELEMENTS)
    dm, dc = reference.mse_gradients(m, c, _t(x), _t(y))
    r = y - (m * x + c)
    per_m, per_c = -2 * x * r, -2 * r
    assert abs(dm - per_m.mean()) <= 1e-12 * max(1.0, np.abs(per_m).max())
    assert abs(dc - per_c.mean()) <= 1e-12 * max(1.0, np.abs(per_c).max())
    # The same per-example gradients are the ones sgd_step follows (with lr = 1).
    steps = [reference.sgd_step(m, c, float(xi), float(yi), lr=1.0) for xi, yi in
             zip(x, y, strict=True)]
    implied_m = np.mean([m - new_m for new_m, _ in steps])
    implied_c = np.mean([c - new_c for _, new_c in steps])
    scale = max(1.0, abs(m), abs(c), np.abs(per_m).max())
    assert abs(implied_m - dm) <= 1e-12 * scale and abs(implied_c - dc) <= 1e-12 * scale


@PROPERTY
@given(st.integers(1, 10), st.integers(1, 10), st.data())
def test_softmax_regression_db_sums_to_zero_for_one_hot(n_classes: int, vocab: int,
                                                        data: st.DataObject) -> None:
    W = data.draw(arrays(np.float64, (n_classes, vocab), elements=ELEMENTS))
    b = data.draw(arrays(np.float64, (n_classes,), elements=ELEMENTS))
    x = data.draw(arrays(np.float64, (vocab,), elements=ELEMENTS))
    k = data.draw(st.integers(0, n_classes - 1))
    y = np.eye(n_classes)[k]
    dW, db = reference.softmax_regression_gradients(_t(W), _t(b), _t(x), _t(y))
    assert dW.shape == (n_classes, vocab) and db.shape == (n_classes,)
    assert abs(db.sum().item()) <= 1e-12
    # dL/db = p - y: the true class gets p_k - 1 <= 0, every other class p_j >= 0.
    assert db[k].item() <= 0.0 and bool((np.delete(db.numpy(), k) >= 0).all())
    torch.testing.assert_close(dW, torch.outer(db, _t(x)), rtol=0, atol=0)
