"""word2vec by hand: per-pair SGD with sgns_step over the skip-gram pairs of a token stream."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import torch

from . import _check
from .text import build_vocab, negative_distribution, skipgram_pairs


def init_embeddings(vocab_size: int, dim: int, generator: torch.Generator) -> torch.Tensor:
    """word2vec's initial centre vectors: float32 (V, d) uniform in [-0.5/d, 0.5/d).

    (torch.rand(V, d, generator=generator) - 0.5) / d: the first draw from ``generator``.
    """
    return (torch.rand(vocab_size, dim, generator=generator) - 0.5) / dim


def prepare(tokens: list[str], window: int,
            min_count: int) -> tuple[dict[str, int], torch.Tensor, torch.Tensor]:
    """``(word_to_index, counts, pairs)``: build_vocab(tokens, min_count), then the skip-gram
    pairs of the token stream with the words below ``min_count`` dropped *before* pairing (so
    the words on either side of a dropped word become neighbours)."""
    words = _check.str_list("tokens", tokens)
    window = _check.count("window", window, 0)
    word_to_index, counts = build_vocab(words, min_count)
    ids = [word_to_index[w] for w in words if w in word_to_index]
    return word_to_index, counts, skipgram_pairs(ids, window)


def train_word2vec(
    tokens: list[str],
    dim: int = 16,
    window: int = 2,
    k: int = 5,
    epochs: int = 5,
    lr: float = 0.05,
    seed: int = 0,
    min_count: int = 1,
) -> tuple[dict[str, int], torch.Tensor]:
    """Skip-gram with negative sampling trained by per-pair SGD; returns ``(word_to_index, W_in)``.

    1. ``word_to_index, counts = build_vocab(tokens, min_count)``; the words below
       ``min_count`` are dropped from the token stream, and ``pairs = skipgram_pairs(ids,
       window)`` of what is left (P pairs). ``q = negative_distribution(counts)`` (power 0.75).
    2. ``g = torch.Generator().manual_seed(seed)``; ``W_in = (torch.rand(V, dim, generator=g)
       - 0.5) / dim`` (uniform in +-0.5/dim), ``W_out`` zeros (V, dim).
    3. Each epoch: ``order = torch.randperm(P, generator=g)``, then
       ``negatives = torch.multinomial(q, P * k, replacement=True, generator=g).view(P, k)``
       (with replacement: a negative may repeat or equal the context word); for t in 0..P-1,
       with (c, o) = pairs[order[t]], the update of ``sgns_step(W_in, W_out, c, o,
       negatives[t], lr)``.

    The matrices are kept in float64 NumPy arrays while training (the arithmetic of sgns_step
    in _numpy_step, without its argument checks and the loss, about 8x faster per pair than
    torch on 16-dim rows) and W_in is returned as float32 (V, dim). Only ``g`` is used: the global
    RNG is neither read nor changed, so the result depends on the arguments alone. With
    window = 0 (or fewer than two kept tokens) there are no pairs and W_in is its initial value.
    """
    dim = _check.count("dim", dim, 1)
    k = _check.count("k", k, 0)
    epochs = _check.count("epochs", epochs, 0)
    lr = _check.number("lr", lr)
    seed = _check.integer("seed", seed)
    min_count = _check.count("min_count", min_count, 0)
    word_to_index, counts, pairs = prepare(tokens, window, min_count)
    size = len(word_to_index)
    generator = torch.Generator().manual_seed(seed)
    start = init_embeddings(size, dim, generator)
    n_pairs = pairs.shape[0]
    if n_pairs == 0 or epochs == 0:
        return word_to_index, start
    W_in = start.numpy().astype(np.float64)
    W_out = np.zeros((size, dim), dtype=np.float64)
    q = negative_distribution(counts)
    centres, contexts = pairs[:, 0], pairs[:, 1]
    for _ in range(epochs):
        order = torch.randperm(n_pairs, generator=generator)
        if k > 0:
            negatives = torch.multinomial(q, n_pairs * k, replacement=True,
                                          generator=generator).view(n_pairs, k)
        else:
            negatives = torch.zeros(n_pairs, 0, dtype=torch.int64)
        rows = torch.cat([contexts[order].unsqueeze(1), negatives], dim=1).numpy()
        for c, r in zip(centres[order].tolist(), rows, strict=True):
            _numpy_step(W_in, W_out, c, r, lr)
    return word_to_index, torch.from_numpy(W_in).to(torch.float32)


def _numpy_step(W_in: npt.NDArray[np.float64], W_out: npt.NDArray[np.float64], c: int,
                rows: npt.NDArray[np.int64], lr: float) -> None:
    """sgns_step's update on float64 arrays; rows = [context, *negatives].

    dL/dx_o = -sigma(-x_o), dL/dx_k = sigma(x_k) (each from e = exp(-|x|), no overflow);
    dL/dv_c = sum_r g_r U_r and dL/dU_r = g_r v_c, with np.add.at summing repeated rows.
    """
    v = W_in[c]
    U = W_out[rows]  # a copy: every gradient below uses the rows before the step
    x = U @ v
    e = np.exp(-np.abs(x))
    g = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    g[0] = -(e[0] / (1.0 + e[0]) if x[0] >= 0 else 1.0 / (1.0 + e[0]))
    d_v = g @ U
    np.add.at(W_out, rows, np.multiply.outer(-lr * g, v))
    W_in[c] -= lr * d_v
