"""Tokens, the frequency-ordered vocabulary, skip-gram pairs, the negative-sampling distribution."""

from __future__ import annotations

import re
from collections import Counter

import torch

from . import _check

TOKEN_PATTERN = re.compile(r"[a-z0-9']+")


def tokenize(text: str) -> list[str]:
    """The assignment's tokens: re.findall(r"[a-z0-9']+", text.lower())."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return TOKEN_PATTERN.findall(text.lower())


def build_vocab(tokens: list[str], min_count: int = 1) -> tuple[dict[str, int], torch.Tensor]:
    """The words occurring at least ``min_count`` times, indexed by descending count.

    Returns ``(word_to_index, counts)``: the V kept words mapped to 0..V-1, sorted by count
    (largest first) with ties broken alphabetically (so the result does not depend on token
    order beyond the counts), and ``counts`` int64 (V,) with counts[word_to_index[w]] the number
    of times w occurs in ``tokens``. No tokens, or none frequent enough: ``({}, int64 (0,))``.
    """
    words = _check.str_list("tokens", tokens)
    min_count = _check.count("min_count", min_count, 0)
    counter = Counter(words)
    kept = sorted((w for w, n in counter.items() if n >= min_count),
                  key=lambda w: (-counter[w], w))
    word_to_index = {w: i for i, w in enumerate(kept)}
    counts = torch.tensor([counter[w] for w in kept], dtype=torch.int64)
    return word_to_index, counts


def skipgram_pairs(ids: list[int], window: int) -> torch.Tensor:
    """Every (centre, context) pair of ``ids`` within ``window`` positions.

    For every position i and every j != i with |i - j| <= window and 0 <= j < len(ids), the row
    (ids[i], ids[j]); rows ordered by i, then j. int64 of shape (P, 2), where
    P = sum_i (min(n-1, i+window) - max(0, i-window)), i.e. 2 * sum_{t=1}^{min(window, n-1)} (n - t)
    for n = len(ids); shape (0, 2) when there are no pairs (n <= 1 or window == 0).
    """
    values = _check.int_list("ids", ids)
    window = _check.count("window", window, 0)
    n = len(values)
    rows = [(values[i], values[j])
            for i in range(n)
            for j in range(max(0, i - window), min(n, i + window + 1))
            if j != i]
    if not rows:
        return torch.zeros((0, 2), dtype=torch.int64)
    return torch.tensor(rows, dtype=torch.int64)


def negative_distribution(counts: torch.Tensor, power: float = 0.75) -> torch.Tensor:
    """Negative sampling's noise distribution: P(w) = counts[w]**power / sum_v counts[v]**power.

    ``counts`` (V,) non-negative numbers (int64 from build_vocab, or floats), not all zero.
    Computed in float64, returned as float32 (V,) summing to 1 (to float32 rounding).
    With power = 0.75 (word2vec's choice) rare words are drawn more often than their share of
    the tokens, frequent ones less; power = 1 is the unigram distribution, 0 the uniform one.
    """
    if not isinstance(counts, torch.Tensor):
        if isinstance(counts, (list, tuple)):
            counts = torch.as_tensor(counts)
        else:
            raise TypeError(f"counts must be a torch.Tensor of shape (V,), "
                            f"got {type(counts).__name__}")
    if counts.dtype == torch.bool or counts.is_complex():
        raise TypeError(f"counts must be an int64 or floating tensor of shape (V,), "
                        f"got dtype {counts.dtype}")
    if counts.dim() != 1 or counts.numel() == 0:
        raise ValueError(f"counts must have shape (V,) with V >= 1, got {tuple(counts.shape)}")
    power = _check.number("power", power)
    c64 = counts.to(torch.float64)
    if not bool(torch.isfinite(c64).all()) or bool((c64 < 0).any()):
        raise ValueError("counts must be finite and non-negative")
    if power < 0 and bool((c64 == 0).any()):
        raise ValueError(f"power must be >= 0 when some counts are 0, got {power}")
    weights = c64 ** power
    total = float(weights.sum())
    if not (total > 0.0 and total < float("inf")):
        raise ValueError(f"counts**power must have a positive finite sum, got {total} "
                         f"(counts all zero, or power={power} too large)")
    return (weights / total).to(torch.float32)
