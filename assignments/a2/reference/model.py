"""word2vec as a PyTorch module, trained with autograd and torch.optim.SGD on mini-batches."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from . import _check
from .text import negative_distribution
from .training import prepare


class SkipGram(torch.nn.Module):
    """Skip-gram with negative sampling: ``in_embed`` holds W_in (v), ``out_embed`` W_out (u).

    forward(centre (B,), context (B,), negatives (B, K)) -> the 0-d mean over the batch of
    sgns_loss(in_embed[centre[b]], out_embed[context[b]], out_embed[negatives[b]]), i.e.
    mean_b [-log sigma(u_o . v_c) - sum_k log sigma(-u_k . v_c)], with F.logsigmoid (stable).
    Initialisation (word2vec's, from the global RNG): in_embed uniform in +-0.5/dim,
    out_embed zeros.
    """

    def __init__(self, vocab_size: int, dim: int) -> None:
        super().__init__()
        vocab_size = _check.count("vocab_size", vocab_size, 1)
        dim = _check.count("dim", dim, 1)
        self.in_embed = torch.nn.Embedding(vocab_size, dim)
        self.out_embed = torch.nn.Embedding(vocab_size, dim)
        with torch.no_grad():
            self.in_embed.weight.uniform_(-0.5 / dim, 0.5 / dim)
            self.out_embed.weight.zero_()

    def forward(self, centre: torch.Tensor, context: torch.Tensor,
                negatives: torch.Tensor) -> torch.Tensor:
        size = self.in_embed.num_embeddings
        for name, value, ndim, shape in (("centre", centre, 1, "(B,)"),
                                         ("context", context, 1, "(B,)"),
                                         ("negatives", negatives, 2, "(B, K)")):
            if not isinstance(value, torch.Tensor) or value.is_floating_point() \
                    or value.dtype == torch.bool:
                got = value.dtype if isinstance(value, torch.Tensor) else type(value).__name__
                raise TypeError(f"{name} must be an int64 tensor of shape {shape}, got {got}")
            if value.dim() != ndim:
                raise ValueError(f"{name} must have shape {shape}, got {tuple(value.shape)}")
            if value.numel() and (int(value.min()) < 0 or int(value.max()) >= size):
                raise IndexError(f"{name} must hold indices in 0..{size - 1}")
        batch = centre.shape[0]
        if batch == 0 or context.shape[0] != batch or negatives.shape[0] != batch:
            raise ValueError(f"centre, context and negatives must share a batch size B >= 1, got "
                             f"{tuple(centre.shape)}, {tuple(context.shape)}, "
                             f"{tuple(negatives.shape)}")
        v = self.in_embed(centre)  # (B, d)
        u = self.out_embed(context)  # (B, d)
        U = self.out_embed(negatives)  # (B, K, d)
        x_o = (u * v).sum(dim=1)  # (B,)
        x_neg = torch.bmm(U, v.unsqueeze(2)).squeeze(2)  # (B, K)
        per_pair = -F.logsigmoid(x_o) - F.logsigmoid(-x_neg).sum(dim=1)
        return per_pair.mean()


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
    """Train a SkipGram with autograd and torch.optim.SGD; returns ``(word_to_index, model)``.

    word_to_index, counts = build_vocab(tokens) (min_count 1); pairs = skipgram_pairs(ids,
    window) (P pairs); q = negative_distribution(counts). Inside torch.random.fork_rng:
    torch.manual_seed(seed), model = SkipGram(V, dim) (in_embed uniform +-0.5/dim, out_embed
    zeros); g = torch.Generator().manual_seed(seed). Each epoch: order = torch.randperm(P,
    generator=g), negatives = torch.multinomial(q, P * k, replacement=True, generator=g)
    .view(P, k); then for each slice s of ``batch_size`` positions of ``order`` (the last one
    may be shorter) one SGD step on model(pairs[s, 0], pairs[s, 1], negatives[s]).
    The caller's global RNG is restored afterwards. Returns the model in eval mode.
    """
    dim = _check.count("dim", dim, 1)
    k = _check.count("k", k, 0)
    epochs = _check.count("epochs", epochs, 0)
    lr = _check.number("lr", lr)
    seed = _check.integer("seed", seed)
    batch_size = _check.count("batch_size", batch_size, 1)
    word_to_index, counts, pairs = prepare(tokens, window, 1)
    if not word_to_index:
        raise ValueError("tokens must hold at least one word")
    n_pairs = pairs.shape[0]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = SkipGram(len(word_to_index), dim)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    q = negative_distribution(counts)
    model.train()
    for _ in range(epochs if n_pairs else 0):
        order = torch.randperm(n_pairs, generator=generator)
        if k > 0:
            negatives = torch.multinomial(q, n_pairs * k, replacement=True,
                                          generator=generator).view(n_pairs, k)
        else:
            negatives = torch.zeros(n_pairs, 0, dtype=torch.int64)
        for start in range(0, n_pairs, batch_size):
            batch = order[start:start + batch_size]
            optimizer.zero_grad()
            loss = model(pairs[batch, 0], pairs[batch, 1], negatives[start:start + batch_size])
            loss.backward()
            optimizer.step()
    return word_to_index, model.eval()
