"""Nearest neighbours by cosine similarity, and how well they recover planted word groups."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from . import _check


def cosine_matrix(W: torch.Tensor) -> torch.Tensor:
    """C[i, j] = W[i] . W[j] / (|W[i]| |W[j]|), float64 (V, V), for W (V, d) with non-zero rows."""
    _check.tensor("W", W, 2, "(V, d)")
    W64 = W.to(torch.float64)
    norms = W64.norm(dim=1)
    zero = (norms == 0).nonzero().flatten().tolist()
    if zero:
        raise ValueError(f"W must have non-zero rows (cosine is undefined), row {zero[0]} is zero")
    unit = W64 / norms.unsqueeze(1)
    cosines: torch.Tensor = unit @ unit.T
    return cosines


def most_similar(
    word: str, word_to_index: dict[str, int], W: torch.Tensor, k: int = 5
) -> list[tuple[str, float]]:
    """The min(k, V-1) words whose rows of W have the largest cosine with ``word``'s row.

    A list of ``(word, cosine)`` pairs (cosine a Python float, computed in float64), sorted by
    descending cosine, ties broken by the lower index first; ``word`` itself is left out.
    W (V, d) has one non-zero row per word of ``word_to_index`` (a bijection onto 0..V-1).
    A word not in the vocabulary raises KeyError.
    """
    vocab = _check.word_to_index("word_to_index", word_to_index)
    _check.tensor("W", W, 2, "(V, d)")
    if W.shape[0] != len(vocab):
        raise ValueError(f"W must have one row per word of word_to_index ({len(vocab)}), "
                         f"got shape {tuple(W.shape)}")
    k = _check.count("k", k, 0)
    if word not in vocab:
        raise KeyError(word)
    i = vocab[word]
    sims = _cosines_to(W, i)
    index_to_word = {j: w for w, j in vocab.items()}
    order = sorted((j for j in range(len(vocab)) if j != i), key=lambda j: (-sims[j], j))
    return [(index_to_word[j], sims[j]) for j in order[:k]]


def _cosines_to(W: torch.Tensor, i: int) -> list[float]:
    W64 = W.to(torch.float64)
    norms = W64.norm(dim=1)
    zero = (norms == 0).nonzero().flatten().tolist()
    if zero:
        raise ValueError(f"W must have non-zero rows (cosine is undefined), row {zero[0]} is zero")
    sims: list[float] = ((W64 @ W64[i]) / (norms * norms[i])).tolist()
    return sims


def neighbours(word_to_index: dict[str, int], W: torch.Tensor, k: int) -> dict[str, list[str]]:
    """Every word's k nearest neighbours by most_similar (words only)."""
    return {w: [n for n, _ in most_similar(w, word_to_index, W, k)] for w in word_to_index}


def group_recall(word_to_index: dict[str, int], W: torch.Tensor,
                 groups: Mapping[str, Sequence[str]], k: int = 3) -> float:
    """Fraction of the groups' words whose k nearest neighbours include a word of their group.

    Over all words of all ``groups`` that are in the vocabulary (the others are skipped); 1.0
    when every planted word has a group-mate among its k nearest neighbours. Chance level with
    groups of size m in a vocabulary of V words is about 1 - (1 - (m-1)/(V-1))**k.
    """
    hits, total = _group_scores(word_to_index, W, groups, k, any_hit=True)
    return hits / total


def group_precision(word_to_index: dict[str, int], W: torch.Tensor,
                    groups: Mapping[str, Sequence[str]], k: int = 3) -> float:
    """Mean over the groups' words of the fraction of their k nearest neighbours in their group.

    Stricter than group_recall; k should be below the group sizes for 1.0 to be reachable.
    """
    hits, total = _group_scores(word_to_index, W, groups, k, any_hit=False)
    return hits / total


def _group_scores(word_to_index: dict[str, int], W: torch.Tensor,
                  groups: Mapping[str, Sequence[str]], k: int, any_hit: bool) -> tuple[float, int]:
    k = _check.count("k", k, 1)
    score, total = 0.0, 0
    for members in groups.values():
        group = set(members)
        for word in members:
            if word not in word_to_index:
                continue
            near = [n for n, _ in most_similar(word, word_to_index, W, k)]
            inside = sum(n in group for n in near)
            score += float(inside > 0) if any_hit else inside / max(len(near), 1)
            total += 1
    if total == 0:
        raise ValueError("groups must have at least one word in word_to_index")
    return score, total
