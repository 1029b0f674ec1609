"""Assignment 2 (Word embeddings: word2vec with negative sampling): the model solution.

A complete submission in the student API of handout.md. It uses only torch, numpy and the
standard library, modifies no input (except sgns_step, which updates its two matrices in place,
as the API asks), and is deterministic. The graded functions stand on their own, except that
the trainers are built from build_vocab, skipgram_pairs and negative_distribution (and
train_skipgram from SkipGram), as the handout suggests: a demo that breaks one of those
helpers also breaks the trainers. train_word2vec applies sgns_step's update in NumPy, for speed.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import torch
import torch.nn.functional as F

_TOKEN = re.compile(r"[a-z0-9']+")


# ---------------------------------------------------------------- Part A: a stable sigmoid


def sigmoid(x: torch.Tensor) -> torch.Tensor:
    """The logistic sigmoid 1 / (1 + e^-x), elementwise, same shape as ``x``.

    Only e^-|x| is ever computed, which lies in (0, 1]: for x >= 0, sigma(x) = 1 / (1 + e^-x);
    for x < 0, sigma(x) = e^x / (1 + e^x). Neither overflows, whatever the magnitude of x.
    """
    x = torch.as_tensor(x)
    z = torch.exp(-x.abs())
    return torch.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


# ---------------------------------------------------------------- Part B: from text to pairs


def tokenize(text: str) -> list[str]:
    """The lower-cased runs of letters, digits and apostrophes of ``text``, in order."""
    return _TOKEN.findall(text.lower())


def build_vocab(tokens: list[str], min_count: int = 1) -> tuple[dict[str, int], torch.Tensor]:
    """(word_to_index, counts) of the words occurring at least ``min_count`` times.

    Indices 0..V-1 follow descending count, ties alphabetical; counts is int64 (V,).
    """
    frequency = Counter(tokens)
    words = sorted((w for w, n in frequency.items() if n >= min_count),
                   key=lambda w: (-frequency[w], w))
    word_to_index = {w: i for i, w in enumerate(words)}
    counts = torch.tensor([frequency[w] for w in words], dtype=torch.int64)
    return word_to_index, counts


def skipgram_pairs(ids: list[int], window: int) -> torch.Tensor:
    """int64 (P, 2): (ids[i], ids[j]) for every i and every j != i with |i - j| <= window.

    Rows are ordered by i, then j. Built without a Python loop over positions: the grid
    positions[:, None] + offsets[None, :] with ascending offsets, flattened row by row, is
    already in that order; the out-of-range entries are then masked away.
    """
    ids_t = torch.as_tensor(list(ids), dtype=torch.int64).reshape(-1)
    n = ids_t.numel()
    w = max(0, min(int(window), n - 1))  # a window wider than the list changes nothing
    offsets = torch.cat([torch.arange(-w, 0), torch.arange(1, w + 1)])
    centre = torch.arange(n).unsqueeze(1).expand(n, offsets.numel())
    context = centre + offsets.unsqueeze(0)
    inside = (context >= 0) & (context < n)
    centre, context = centre[inside], context[inside]
    return torch.stack([ids_t[centre], ids_t[context]], dim=1).reshape(-1, 2)


def negative_distribution(counts: torch.Tensor, power: float = 0.75) -> torch.Tensor:
    """float32 (V,): counts ** power, normalised to sum to 1 (computed in double precision)."""
    weights = torch.as_tensor(counts).to(torch.float64) ** power
    return (weights / weights.sum()).to(torch.float32)


# ---------------------------------------------------------------- Part C: loss and gradients


def sgns_loss(v_c: torch.Tensor, u_o: torch.Tensor, U_neg: torch.Tensor) -> float:
    """-log sigma(u_o . v_c) - sum_k log sigma(-u_k . v_c). v_c, u_o: (d,); U_neg: (K, d).

    F.logsigmoid is stable for scores of any size (log sigma(-1e4) is -1e4, not log 0).
    """
    v, u, U = v_c.double(), u_o.double(), U_neg.double().reshape(-1, v_c.numel())
    loss = -F.logsigmoid(u @ v) - F.logsigmoid(-(U @ v)).sum()
    return float(loss) + 0.0  # + 0.0 turns a -0.0 into 0.0


def sgns_gradients(
    v_c: torch.Tensor, u_o: torch.Tensor, U_neg: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(d_v_c (d,), d_u_o (d,), d_U_neg (K, d)): the gradients of sgns_loss, by hand.

    With s_o = sigma(u_o . v_c) and s_k = sigma(u_k . v_c), using d/dx log sigma(x) = 1 - sigma(x)
    and d/dx log sigma(-x) = -sigma(x):
    d_v_c = (s_o - 1) u_o + sum_k s_k u_k,  d_u_o = (s_o - 1) v_c,  d_u_k = s_k v_c.
    """
    U = U_neg.reshape(-1, v_c.numel())
    g_o = -torch.sigmoid(-(u_o @ v_c))  # s_o - 1, without cancellation when s_o is near 1
    s_k = torch.sigmoid(U @ v_c)  # (K,); torch.sigmoid is stable: 0 and 1 at -1e4 and 1e4
    d_v_c = g_o * u_o + s_k @ U
    d_u_o = g_o * v_c
    d_U_neg = torch.outer(s_k, v_c)
    return d_v_c, d_u_o, d_U_neg


def sgns_step(
    W_in: torch.Tensor,
    W_out: torch.Tensor,
    centre: int,
    context: int,
    negatives: torch.Tensor,
    lr: float,
) -> float:
    """One in-place SGD step on sgns_loss for a (centre, context) pair; the loss before it.

    The context row and the K negative rows are gathered as one (K + 1, d) block U whose first
    row is the context's; with scores x = U v_c and targets (1, 0, ..., 0), the gradients of
    sgns_gradients are dL/dx = sigma(x) - target, d_v_c = (dL/dx) U, d_U = outer(dL/dx, v_c).
    All are computed from the old rows first; index_add_ then adds every row's contribution,
    so a row that appears twice (a negative drawn twice, or equal to the context) gets both.
    """
    negatives = torch.as_tensor(negatives, dtype=torch.int64).reshape(-1)
    rows = torch.cat([negatives.new_full((1,), int(context)), negatives])
    v = W_in[int(centre)].clone()  # (d,)
    U = W_out.index_select(0, rows)  # (K + 1, d), a copy
    scores = U @ v
    target = torch.zeros_like(scores)
    target[0] = 1.0  # the context's score is pulled towards 1, the negatives' towards 0
    # -log sigma(x) for target 1 and -log sigma(-x) for target 0, summed: sgns_loss, stably.
    loss = F.binary_cross_entropy_with_logits(scores, target, reduction="sum")
    g = torch.sigmoid(scores) - target  # dL/dscore for every row of U
    W_in.index_add_(0, torch.tensor([int(centre)]), (g @ U).unsqueeze(0), alpha=-lr)
    W_out.index_add_(0, rows, torch.outer(g, v), alpha=-lr)
    return float(loss)


# ---------------------------------------------------------------- Part D: training and neighbours


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
    """Skip-gram with negative sampling, trained one (centre, context) pair at a time.

    Returns (word_to_index, W_in): the vocabulary of build_vocab(tokens, min_count) and the
    trained centre vectors, float32 (V, dim). Words below min_count leave the token stream
    before pairing. One torch.Generator seeded with ``seed`` draws the initial W_in (uniform
    in +-0.5/dim; W_out starts at zero), then each epoch the order of the pairs and k
    negatives per pair (with replacement, from the 0.75-power distribution).

    Each pair gets exactly sgns_step's update, but on NumPy views of the two matrices:
    a torch call per pair costs about 70 microseconds of overhead, NumPy about 15.
    """
    word_to_index, counts = build_vocab(tokens, min_count)
    ids = [word_to_index[t] for t in tokens if t in word_to_index]
    pairs = skipgram_pairs(ids, window)
    noise = negative_distribution(counts)
    generator = torch.Generator().manual_seed(seed)
    V, P = len(word_to_index), pairs.shape[0]
    W_in = (torch.rand(V, dim, generator=generator) - 0.5) / dim
    W_out = torch.zeros(V, dim)
    W_in_np, W_out_np = W_in.numpy(), W_out.numpy()  # share memory with the tensors
    for _ in range(epochs):
        order = torch.randperm(P, generator=generator)
        if P * k > 0:
            negatives = torch.multinomial(noise, P * k, replacement=True, generator=generator)
        else:  # torch.multinomial refuses to draw nothing
            negatives = torch.zeros(0, dtype=torch.int64)
        # row t: [context, k negatives] of the t-th pair visited
        rows = torch.cat([pairs[order, 1:], negatives.view(P, k)], dim=1).numpy()
        for centre, row in zip(pairs[order, 0].tolist(), rows, strict=True):
            _sgns_update(W_in_np, W_out_np, centre, row, lr)
    return word_to_index, W_in


def _sgns_update(
    W_in: np.ndarray, W_out: np.ndarray, centre: int, rows: np.ndarray, lr: float
) -> None:
    """sgns_step's update in NumPy; rows = [context, *negatives] (np.add.at sums repeats)."""
    v = W_in[centre].copy()
    U = W_out[rows]  # a copy
    x = U @ v
    g = np.exp(-np.logaddexp(0.0, -x))  # sigma(x), stable
    g[0] -= 1.0
    W_in[centre] -= lr * (g @ U)
    np.add.at(W_out, rows, np.outer(g, -lr * v))


def most_similar(
    word: str, word_to_index: dict[str, int], W: torch.Tensor, k: int = 5
) -> list[tuple[str, float]]:
    """The min(k, V - 1) words whose rows of W have the highest cosine with ``word``'s row.

    Pairs (word, cosine), by descending cosine, ties lower index first (a stable sort of
    indices that are already ascending); the word itself is left out. Raises KeyError for a
    word not in the vocabulary.
    """
    i = word_to_index[word]  # KeyError if unknown
    W64 = torch.as_tensor(W).detach().double()
    norms = W64.norm(dim=1)
    cosine = (W64 * W64[i]).sum(dim=1) / (norms * norms[i])
    order = torch.sort(cosine, descending=True, stable=True).indices.tolist()
    index_to_word = {j: w for w, j in word_to_index.items()}
    neighbours = [j for j in order if j != i][: max(0, int(k))]
    return [(index_to_word[j], float(cosine[j])) for j in neighbours]


# ---------------------------------------------------------------- Part E: the model in PyTorch


class SkipGram(torch.nn.Module):
    """Centre vectors ``in_embed`` and context vectors ``out_embed``; forward: mean SGNS loss."""

    def __init__(self, vocab_size: int, dim: int) -> None:
        super().__init__()
        self.in_embed = torch.nn.Embedding(vocab_size, dim)
        self.out_embed = torch.nn.Embedding(vocab_size, dim)

    def forward(
        self, centre: torch.Tensor, context: torch.Tensor, negatives: torch.Tensor
    ) -> torch.Tensor:
        """Mean over the batch of sgns_loss. centre, context: int64 (B,); negatives: (B, K)."""
        v = self.in_embed(centre)  # (B, d)
        u = self.out_embed(context)  # (B, d)
        U = self.out_embed(negatives)  # (B, K, d)
        positive = (u * v).sum(dim=-1)  # (B,)
        negative = (U * v.unsqueeze(1)).sum(dim=-1)  # (B, K)
        loss = -F.logsigmoid(positive) - F.logsigmoid(-negative).sum(dim=-1)
        return loss.mean()


def train_skipgram(
    tokens: list[str],
    dim: int = 16,
    window: int = 2,
    k: int = 5,
    epochs: int = 5,
    lr: float = 0.05,
    batch_size: int = 64,
    seed: int = 0,
) -> tuple[dict[str, int], SkipGram]:
    """A SkipGram trained with autograd and torch.optim.SGD on shuffled mini-batches of pairs.

    After torch.manual_seed(seed) (inside fork_rng, so the caller's global RNG is left as it
    was), in_embed starts uniform in +-0.5/dim and out_embed at zero; a torch.Generator seeded
    with ``seed`` draws each epoch's shuffle and every batch's k negatives per pair.
    """
    word_to_index, counts = build_vocab(tokens)
    pairs = skipgram_pairs([word_to_index[t] for t in tokens], window)
    noise = negative_distribution(counts)
    dim = int(dim)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = SkipGram(len(word_to_index), dim)
        with torch.no_grad():
            model.in_embed.weight.uniform_(-0.5 / dim, 0.5 / dim)
            model.out_embed.weight.zero_()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(pairs), generator=generator)
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            if k > 0:
                negatives = torch.multinomial(noise, batch.numel() * k, replacement=True,
                                              generator=generator).view(-1, k)
            else:  # torch.multinomial refuses to draw nothing
                negatives = torch.zeros(batch.numel(), 0, dtype=torch.int64)
            optimizer.zero_grad()
            loss = model(pairs[batch, 0], pairs[batch, 1], negatives)
            loss.backward()
            optimizer.step()
    model.eval()
    return word_to_index, model
