"""Property tests of the A2 reference on random inputs (derandomized: the same each run)."""

from __future__ import annotations

import itertools
from collections import Counter
from types import ModuleType

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

# Deterministic for CI: the same examples every run, nothing read from or written to a database.
PROPERTY = settings(deadline=None, max_examples=60, derandomize=True, database=None)

F64 = torch.float64
FLOATS = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)
SMALL = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)
WORDS = st.lists(st.sampled_from(["the", "cat", "dog", "sat", "on", "mat", "a", "b", "zz"]),
                 max_size=40)


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))


@st.composite
def triples(draw: st.DrawFn, elements: st.SearchStrategy[float] = SMALL,
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = draw(st.integers(1, 12))
    K = draw(st.integers(0, 8))
    v = draw(arrays(np.float64, (d,), elements=elements))
    u = draw(arrays(np.float64, (d,), elements=elements))
    U = draw(arrays(np.float64, (K, d), elements=elements))
    return v, u, U


@PROPERTY
@given(arrays(np.float64, st.integers(0, 30), elements=FLOATS))
def test_sigmoid_is_a_symmetric_probability(a2ref: ModuleType, x: np.ndarray) -> None:
    s, s_neg = a2ref.sigmoid(_t(x)), a2ref.sigmoid(_t(-x))
    assert s.shape == x.shape and bool(torch.isfinite(s).all())
    assert bool((s >= 0).all()) and bool((s <= 1).all())
    torch.testing.assert_close(s + s_neg, torch.ones_like(s), rtol=0, atol=1e-15)
    torch.testing.assert_close(s, torch.sigmoid(_t(x)), rtol=1e-12, atol=1e-300)


@PROPERTY
@given(arrays(np.float64, st.integers(1, 30), elements=FLOATS))
def test_log_sigmoid_matches_torch(a2ref: ModuleType, x: np.ndarray) -> None:
    got = a2ref.log_sigmoid(_t(x))
    assert bool(torch.isfinite(got).all()) and bool((got <= 0).all())
    torch.testing.assert_close(got, F.logsigmoid(_t(x)), rtol=1e-12, atol=1e-300)


@PROPERTY
@given(triples())
def test_sgns_loss_is_non_negative_and_the_formula(
    a2ref: ModuleType, vuU: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    v, u, U = vuU
    loss = a2ref.sgns_loss(_t(v), _t(u), _t(U))
    assert isinstance(loss, float) and loss >= 0.0
    # -log sigma(x) = log(1 + e^-x), written with numpy's logaddexp
    want = np.logaddexp(0.0, -(u @ v)) + np.logaddexp(0.0, U @ v).sum()
    assert loss == pytest.approx(float(want), rel=1e-12, abs=1e-300)
    # The negatives are a set of terms: their order does not matter.
    assert a2ref.sgns_loss(_t(v), _t(u), _t(U[::-1].copy())) == pytest.approx(loss, rel=1e-12)


@PROPERTY
@given(triples(FLOATS.map(lambda x: x / 100.0)))
def test_sgns_gradients_are_finite_and_autograd_for_any_dot_product(
    a2ref: ModuleType, vuU: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    # Elements up to 100 in magnitude: dot products up to 1.2e5.
    v, u, U = (_t(a).requires_grad_() for a in vuU)
    loss = -F.logsigmoid(u @ v) - F.logsigmoid(-(U @ v)).sum()
    loss.backward()  # type: ignore[no-untyped-call]
    got = a2ref.sgns_gradients(v.detach(), u.detach(), U.detach())
    for g, leaf in zip(got, (v, u, U), strict=True):
        assert bool(torch.isfinite(g).all()) and leaf.grad is not None
        torch.testing.assert_close(g, leaf.grad, rtol=1e-10, atol=1e-10)
    # Each row of d_U is sigma(x_k) v: v scaled by a number in [0, 1].
    d_U = got[2]
    assert bool((d_U.norm(dim=1) <= v.detach().norm() * (1 + 1e-12)).all())


@PROPERTY
@given(arrays(np.int64, st.integers(1, 25), elements=st.integers(0, 10_000)),
       st.sampled_from([0.0, 0.5, 0.75, 1.0, 2.0]))
def test_negative_distribution_sums_to_one_and_is_monotone(a2ref: ModuleType, counts: np.ndarray,
                                                           power: float) -> None:
    if counts.sum() == 0 and power > 0:
        counts = counts + 1
    q = a2ref.negative_distribution(torch.from_numpy(counts), power)
    assert q.shape == counts.shape and q.dtype == torch.float32
    assert bool((q >= 0).all()) and q.double().sum().item() == pytest.approx(1.0, abs=1e-6)
    order = np.argsort(counts, kind="stable")
    sorted_q = q[torch.from_numpy(order)]
    assert bool((sorted_q[1:] >= sorted_q[:-1]).all())  # more counts, at least as likely
    if power > 0:
        for i, j in itertools.pairwise(order):
            if counts[i] < counts[j]:
                assert q[i] < q[j]


@PROPERTY
@given(st.lists(st.integers(0, 20), max_size=40), st.integers(0, 45))
def test_skipgram_pairs_count_and_order(a2ref: ModuleType, ids: list[int], window: int) -> None:
    pairs = a2ref.skipgram_pairs(ids, window)
    n = len(ids)
    want = 2 * sum(n - t for t in range(1, min(window, n - 1) + 1)) if n > 1 else 0
    assert pairs.dtype == torch.int64 and pairs.shape == (want, 2)
    # Rebuild the positions: the i-th centre position owns a contiguous block, in order.
    positions = [(i, j) for i in range(n) for j in range(max(0, i - window),
                                                        min(n, i + window + 1)) if j != i]
    assert pairs.tolist() == [[ids[i], ids[j]] for i, j in positions]


@PROPERTY
@given(WORDS, st.integers(0, 5))
def test_build_vocab_order_rules(a2ref: ModuleType, tokens: list[str], min_count: int) -> None:
    word_to_index, counts = a2ref.build_vocab(tokens, min_count)
    counter = Counter(tokens)
    kept = {w for w, c in counter.items() if c >= min_count}
    assert set(word_to_index) == kept
    assert sorted(word_to_index.values()) == list(range(len(kept)))
    assert counts.dtype == torch.int64 and counts.shape == (len(kept),)
    words = sorted(word_to_index, key=word_to_index.__getitem__)
    assert counts.tolist() == [counter[w] for w in words]
    for a, b in itertools.pairwise(words):
        assert counter[a] > counter[b] or (counter[a] == counter[b] and a < b)
