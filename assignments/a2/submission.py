"""Assignment 2: Word embeddings: word2vec with negative sampling. Starter code.

Replace each `raise NotImplementedError` with your implementation; handout.md describes every
task, with formulas, worked values and hints. Keep the names and signatures exactly as they
are: the grader calls them. Rules in brief: this one file only; import only torch, numpy and
the standard library, at the top of the module; no network and no file I/O; never modify an
argument in place (except W_in and W_out in sgns_step); and do no work at import time (put
scratch tests under `if __name__ == "__main__":`).

Self-check with:  grader check submission.py --assignment a2
"""

import re

import torch


# ---------------------------------------------------------------- Part A: a stable sigmoid


def sigmoid(x):
    """The logistic sigmoid 1 / (1 + exp(-x)), elementwise.

    x: a float tensor of any shape. Returns a tensor of the same shape.
    Must be finite and correct for |x| up to 1e4: sigmoid(tensor([1e4, 0., -1e4])) is
    [1., 0.5, 0.]. Hint: only ever exponentiate -|x| (torch.where picks per element).
    """
    raise NotImplementedError


# ---------------------------------------------------------------- Part B: from text to pairs


def tokenize(text):
    """The tokens of `text`: re.findall(r"[a-z0-9']+", text.lower()), a list of str."""
    raise NotImplementedError


def build_vocab(tokens, min_count=1):
    """(word_to_index, counts) of the words that occur at least min_count times in `tokens`.

    word_to_index: dict word -> 0..V-1, by descending count, ties alphabetical.
    counts: int64 tensor of shape (V,), counts[i] = occurrences of the word with index i.
    Example: build_vocab("the cat sat on the mat the cat".split()) is
    ({"the": 0, "cat": 1, "mat": 2, "on": 3, "sat": 4}, tensor([3, 2, 1, 1, 1])).
    """
    raise NotImplementedError


def skipgram_pairs(ids, window):
    """int64 tensor (P, 2) of (centre, context) pairs (ids[i], ids[j]).

    ids: list of ints. One row for every position i and every position j != i with
    |i - j| <= window inside the list, ordered by i, then j; shape (0, 2) if there are none.
    Example: skipgram_pairs([0, 1, 2], window=1) is [[0, 1], [1, 0], [1, 2], [2, 1]].
    """
    raise NotImplementedError


def negative_distribution(counts, power=0.75):
    """float32 tensor (V,): counts ** power, normalised to sum to 1.

    counts: int64 tensor (V,) as from build_vocab. Example: counts [16, 1] give
    [0.8889, 0.1111].
    """
    raise NotImplementedError


# ---------------------------------------------------------------- Part C: loss and gradients


def sgns_loss(v_c, u_o, U_neg):
    """The loss -log sigmoid(u_o . v_c) - sum_k log sigmoid(-u_k . v_c), as a number.

    v_c, u_o: (d,); U_neg: (K, d), one negative's context vector u_k per row.
    Must be finite and correct for dot products up to 1e4 in magnitude: compute log sigmoid
    stably (torch.nn.functional.logsigmoid may be used), never as log(sigmoid(x)).
    Example: sgns_loss(tensor([1., 0.]), tensor([1., 0.]), tensor([[0., 1.]])) is about 1.0064.
    """
    raise NotImplementedError


def sgns_gradients(v_c, u_o, U_neg):
    """(d_v_c (d,), d_u_o (d,), d_U_neg (K, d)): the gradients of sgns_loss, as tensors.

    d_v_c = (sigmoid(u_o . v_c) - 1) u_o + sum_k sigmoid(u_k . v_c) u_k
    d_u_o = (sigmoid(u_o . v_c) - 1) v_c
    d_U_neg[k] = sigmoid(u_k . v_c) v_c
    Derived by hand: do not use autograd. Finite for dot products up to 1e4 in magnitude.
    Example: at the inputs of sgns_loss's example, (-0.2689, 0.5), (-0.2689, 0), [(0.5, 0)].
    """
    raise NotImplementedError


def sgns_step(W_in, W_out, centre, context, negatives, lr):
    """One SGD step on sgns_loss, in place; returns the loss before the step, as a number.

    W_in, W_out: float32 (V, d), updated in place. centre, context: ints; negatives: int64 (K,).
    v_c = W_in[centre], u_o = W_out[context], U_neg = W_out[negatives]. Compute every gradient
    before any update; a row that appears more than once (a negative drawn twice, or the
    context drawn as a negative) gets every contribution: W_out[negatives] -= ... keeps only
    one, W_out.index_add_ keeps all.
    """
    raise NotImplementedError


# ---------------------------------------------------------------- Part D: training and neighbours


def train_word2vec(tokens, dim=16, window=2, k=5, epochs=5, lr=0.05, seed=0, min_count=1):
    """Skip-gram with negative sampling by per-pair SGD; returns (word_to_index, W_in).

    Vocabulary from build_vocab(tokens, min_count); words below min_count are dropped from the
    token stream before skipgram_pairs. g = torch.Generator().manual_seed(seed) draws
    everything: W_in = (torch.rand(V, dim, generator=g) - 0.5) / dim, W_out = zeros; each epoch
    the pairs in a shuffled order and, per pair, k negatives with replacement from
    negative_distribution(counts); one sgns_step per pair. W_in: float32 (V, dim).
    """
    raise NotImplementedError


def most_similar(word, word_to_index, W, k=5):
    """The min(k, V - 1) (word, cosine) pairs most similar to `word` by cosine of rows of W.

    Descending cosine, ties: lower index first; the word itself is left out. Raises KeyError
    if `word` is not in word_to_index. W: (V, d) with non-zero rows; do not modify it.
    """
    raise NotImplementedError


# ---------------------------------------------------------------- Part E: the model in PyTorch


class SkipGram(torch.nn.Module):
    """Skip-gram with negative sampling as a module.

    Attributes in_embed (centre vectors) and out_embed (context vectors), both
    torch.nn.Embedding(vocab_size, dim). forward returns the mean sgns_loss over a batch.
    """

    def __init__(self, vocab_size, dim):
        # Hint: call super().__init__() first, then create the two torch.nn.Embedding.
        raise NotImplementedError

    def forward(self, centre, context, negatives):
        """centre, context: int64 (B,); negatives: int64 (B, K) -> the mean loss, a 0-d tensor."""
        raise NotImplementedError


def train_skipgram(tokens, dim=16, window=2, k=5, epochs=5, lr=0.05, batch_size=64, seed=0):
    """Train a SkipGram with autograd and torch.optim.SGD; returns (word_to_index, model).

    Vocabulary, pairs and negative distribution as in train_word2vec (no min_count). After
    torch.manual_seed(seed), in_embed's weight starts uniform in +-0.5/dim and out_embed's at
    zero. A torch.Generator seeded with seed shuffles the pairs every epoch and draws k
    negatives per pair; for each mini-batch of batch_size pairs: zero the gradients, forward,
    backward, step. The defaults learn slowly (a mean loss needs lr around 1.0).
    """
    raise NotImplementedError
