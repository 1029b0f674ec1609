# Bug: sigmoid: computes a softmax over the whole tensor instead of an elementwise sigmoid.
"""Assignment 2 submission with a known bug in sigmoid (a softmax, not a sigmoid).

Note for staff: identical to correct.py except sigmoid, which the student wrote as the (stable)
softmax of A1: exp(x - max) / sum(exp(x - max)). The result is finite and has the right shape,
and sums to 1 over the whole tensor, but sigma(0) is 1/N rather than 0.5 and no entry is the
logistic function of its own input. Expected to lose only sigmoid's checks.
"""

import re

import numpy as np
import torch
import torch.nn.functional as F


# Part A


def sigmoid(x):
    # two formulas, each safe on its own side of 0 (torch.where picks per element, so the
    # inf / inf of the unused branch never reaches the result)
    x = torch.as_tensor(x)
    e = torch.exp(x - x.max())
    return e / e.sum()


# Part B


def tokenize(text):
    return re.findall(r"[a-z0-9']+", text.lower())


def build_vocab(tokens, min_count=1):
    counts = {}
    for word in tokens:
        counts[word] = counts.get(word, 0) + 1
    kept = [(word, n) for word, n in counts.items() if n >= min_count]
    kept.sort(key=lambda item: (-item[1], item[0]))
    word_to_index = {}
    for word, _ in kept:
        word_to_index[word] = len(word_to_index)
    return word_to_index, torch.tensor([n for _, n in kept], dtype=torch.int64)


def skipgram_pairs(ids, window):
    ids = [int(i) for i in ids]
    pairs = []
    for i in range(len(ids)):
        for j in range(i - window, i + window + 1):
            if j != i and 0 <= j < len(ids):
                pairs.append([ids[i], ids[j]])
    return torch.tensor(pairs, dtype=torch.int64).reshape(-1, 2)


def negative_distribution(counts, power=0.75):
    c = np.asarray(counts, dtype=np.float64) ** power
    return torch.from_numpy((c / c.sum()).astype(np.float32))


# Part C


def _np(t):
    return np.asarray(t, dtype=np.float64)


def sgns_loss(v_c, u_o, U_neg):
    v, u, U = _np(v_c), _np(u_o), _np(U_neg).reshape(-1, len(_np(v_c)))
    # -log sigma(x) = log(1 + e^-x) = logaddexp(0, -x): never overflows
    return float(np.logaddexp(0.0, -(u @ v)) + np.logaddexp(0.0, U @ v).sum())


def sgns_gradients(v_c, u_o, U_neg):
    v, u, U = _np(v_c), _np(u_o), _np(U_neg).reshape(-1, len(_np(v_c)))
    # sigma(x) = (1 + tanh(x / 2)) / 2, and tanh saturates instead of overflowing
    s_o = 0.5 * (1.0 + np.tanh(0.5 * (u @ v)))
    s_neg = 0.5 * (1.0 + np.tanh(0.5 * (U @ v)))
    d_v = (s_o - 1.0) * u + (s_neg[:, None] * U).sum(axis=0)
    d_u = (s_o - 1.0) * v
    d_U = s_neg[:, None] * v[None, :]
    return (torch.tensor(d_v, dtype=torch.float32), torch.tensor(d_u, dtype=torch.float32),
            torch.tensor(d_U, dtype=torch.float32))


def sgns_step(W_in, W_out, centre, context, negatives, lr):
    centre, context = int(centre), int(context)
    negatives = [int(n) for n in torch.as_tensor(negatives).reshape(-1)]
    with torch.no_grad():
        v = W_in[centre].clone()
        u = W_out[context].clone()
        U = W_out[negatives].clone() if negatives else torch.zeros(0, v.numel())
        x_o = torch.dot(u, v)
        x_neg = U @ v
        loss = F.softplus(-x_o) + F.softplus(x_neg).sum()
        # every gradient first, from the rows as they were
        g_o = torch.sigmoid(x_o) - 1.0
        g_neg = torch.sigmoid(x_neg)
        d_v = g_o * u + (g_neg[:, None] * U).sum(dim=0)
        d_u = g_o * v
        d_U = g_neg[:, None] * v[None, :]
        # then the updates, one row at a time, so a repeated row gets every contribution
        W_in[centre] -= lr * d_v
        W_out[context] -= lr * d_u
        for k, n in enumerate(negatives):
            W_out[n] -= lr * d_U[k]
    return loss.item()


# Part D


def train_word2vec(tokens, dim=16, window=2, k=5, epochs=5, lr=0.05, seed=0, min_count=1):
    # vocabulary: descending count, ties alphabetical; rare words leave the stream
    freq = {}
    for word in tokens:
        freq[word] = freq.get(word, 0) + 1
    words = sorted((w for w in freq if freq[w] >= min_count), key=lambda w: (-freq[w], w))
    word_to_index = {w: i for i, w in enumerate(words)}
    ids = [word_to_index[w] for w in tokens if w in word_to_index]
    pairs = []
    for i in range(len(ids)):
        for j in range(max(0, i - window), min(len(ids), i + window + 1)):
            if j != i:
                pairs.append((ids[i], ids[j]))
    weights = np.array([freq[w] for w in words], dtype=np.float64) ** 0.75
    noise = torch.tensor(weights / weights.sum(), dtype=torch.float32)

    g = torch.Generator().manual_seed(seed)
    V = len(words)
    W_in = ((torch.rand(V, dim, generator=g) - 0.5) / dim).double().numpy()
    W_out = np.zeros((V, dim))
    for epoch in range(epochs):
        # this epoch's negatives first (one row per step), then the order of the pairs
        if k > 0 and pairs:
            negs_all = torch.multinomial(noise, len(pairs) * k, replacement=True, generator=g)
            negs_all = negs_all.view(len(pairs), k).numpy()
        else:
            negs_all = np.zeros((len(pairs), 0), dtype=np.int64)
        for step, p in enumerate(torch.randperm(len(pairs), generator=g).tolist()):
            c, o = pairs[p]
            negs = negs_all[step]
            v = W_in[c].copy()
            rows = np.concatenate([[o], negs])
            U = W_out[rows]
            target = np.zeros(len(rows))
            target[0] = 1.0
            grad = 0.5 * (1.0 + np.tanh(0.5 * (U @ v))) - target
            W_in[c] -= lr * (grad @ U)
            np.add.at(W_out, rows, -lr * grad[:, None] * v[None, :])
    return word_to_index, torch.tensor(W_in, dtype=torch.float32)


def most_similar(word, word_to_index, W, k=5):
    i = word_to_index[word]
    M = np.asarray(torch.as_tensor(W).detach(), dtype=np.float64)
    unit = M / np.linalg.norm(M, axis=1, keepdims=True)
    cos = unit @ unit[i]
    index_to_word = {j: w for w, j in word_to_index.items()}
    others = sorted((j for j in range(len(M)) if j != i), key=lambda j: (-cos[j], j))
    return [(index_to_word[j], float(cos[j])) for j in others[:k]]


# Part E


class SkipGram(torch.nn.Module):
    def __init__(self, vocab_size, dim):
        super().__init__()
        self.in_embed = torch.nn.Embedding(vocab_size, dim)
        self.out_embed = torch.nn.Embedding(vocab_size, dim)
        torch.nn.init.uniform_(self.in_embed.weight, -0.5 / dim, 0.5 / dim)
        torch.nn.init.zeros_(self.out_embed.weight)

    def forward(self, centre, context, negatives):
        v = self.in_embed(centre)
        u = self.out_embed(context)
        U = self.out_embed(negatives)
        pos = torch.sum(u * v, dim=1)
        neg = torch.bmm(U, v.unsqueeze(2)).squeeze(2)
        # -log sigma(x) = softplus(-x)
        return (F.softplus(-pos) + F.softplus(neg).sum(dim=1)).mean()


def train_skipgram(tokens, dim=16, window=2, k=5, epochs=5, lr=0.05, batch_size=64, seed=0):
    freq = {}
    for word in tokens:
        freq[word] = freq.get(word, 0) + 1
    words = sorted(freq, key=lambda w: (-freq[w], w))
    word_to_index = {w: i for i, w in enumerate(words)}
    ids = [word_to_index[w] for w in tokens]
    pairs = []
    for i in range(len(ids)):
        for j in range(max(0, i - window), min(len(ids), i + window + 1)):
            if j != i:
                pairs.append((ids[i], ids[j]))
    pairs = torch.tensor(pairs, dtype=torch.int64).reshape(-1, 2)
    weights = torch.tensor([freq[w] for w in words], dtype=torch.float64) ** 0.75
    noise = (weights / weights.sum()).float()

    torch.manual_seed(seed)
    model = SkipGram(len(words), dim)  # uniform +-0.5/dim and zeros, from the seeded RNG
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    P = len(pairs)
    for epoch in range(epochs):
        if k > 0 and P > 0:
            negs = torch.multinomial(noise, P * k, replacement=True, generator=g).view(P, k)
        else:
            negs = torch.zeros(P, 0, dtype=torch.int64)
        perm = torch.randperm(P, generator=g)
        for start in range(0, P, batch_size):
            idx = perm[start:start + batch_size]
            optimizer.zero_grad()
            loss = model(pairs[idx, 0], pairs[idx, 1], negs[start:start + batch_size])
            loss.backward()
            optimizer.step()
    return word_to_index, model
