"""A1 single-bug submission: softmax_regression_gradients uses y - p instead of p - y."""


import random
import re

import torch
import torch.nn.functional as F

TOKEN_PATTERN = r"[a-z0-9']+"


def tokenize(sentence):
    return re.findall(TOKEN_PATTERN, sentence.lower())


# Part A


def mse(y_hat, y):
    diff = y_hat - y
    return torch.sum(diff * diff) / diff.numel()


def softmax(z):
    # shift so the largest logit is 0, then normalise in log space:
    # log softmax = shifted - log(sum(exp(shifted)))
    shifted = z - torch.amax(z, dim=-1, keepdim=True)
    log_p = shifted - torch.logsumexp(shifted, dim=-1, keepdim=True)
    return torch.exp(log_p)


def cross_entropy(p_hat, y):
    # only the terms with y > 0 count; the log of a masked-out 0 is never multiplied in
    safe_p = torch.where(y > 0, p_hat, torch.ones_like(p_hat))
    terms = torch.where(y > 0, y * torch.log(safe_p), torch.zeros_like(p_hat))
    if p_hat.dim() == 1:
        return -terms.sum()
    return -terms.sum(dim=1).mean()


# Part B


def mse_gradients(m, c, x, y):
    n = x.shape[0]
    error = y - (m * x + c)
    dm = -2.0 / n * torch.sum(x * error)
    dc = -2.0 / n * torch.sum(error)
    return dm.item(), dc.item()


def sgd_step(m, c, x_i, y_i, lr):
    y_hat = m * x_i + c
    grad_m = -2 * x_i * (y_i - y_hat)
    grad_c = -2 * (y_i - y_hat)
    return m - lr * grad_m, c - lr * grad_c


def fit_line(x, y, lr, epochs, seed=0, m=0.0, c=0.0):
    xs = x.tolist()
    ys = y.tolist()
    rng = random.Random(seed)
    order = list(range(len(xs)))
    losses = []
    for epoch in range(epochs):
        rng.shuffle(order)
        for i in order:
            y_hat = m * xs[i] + c
            grad_m = -2 * xs[i] * (ys[i] - y_hat)
            grad_c = -2 * (ys[i] - y_hat)
            m = m - lr * grad_m
            c = c - lr * grad_c
        total = 0.0
        for xi, yi in zip(xs, ys):
            total += (yi - (m * xi + c)) ** 2
        losses.append(total / len(xs))
    return m, c, losses


# Part C


def softmax_regression_gradients(W, b, x, y):
    z = W @ x + b
    z = z - z.max()
    p = torch.exp(z - torch.logsumexp(z, dim=0))
    delta = y - p
    dW = delta[:, None] * x[None, :]
    db = delta.clone()
    return dW, db


# Part D


def build_vocab(sentences):
    vocab = {}
    for sentence in sentences:
        for word in tokenize(sentence):
            if word not in vocab:
                vocab[word] = len(vocab)
    return vocab


def bag_of_words(sentence, vocab):
    counts = [0.0] * len(vocab)
    for word in tokenize(sentence):
        if word in vocab:
            counts[vocab[word]] += 1
    return torch.tensor(counts, dtype=torch.float32)


class LogisticRegression(torch.nn.Module):
    def __init__(self, vocab_size, n_classes=2):
        super().__init__()
        self.fc = torch.nn.Linear(vocab_size, n_classes)

    def forward(self, x):
        return self.fc(x)


def train_classifier(sentences, labels, vocab, epochs=20, lr=0.1, seed=0):
    torch.manual_seed(seed)
    X = torch.stack([bag_of_words(s, vocab) for s in sentences])
    Y = torch.tensor(labels, dtype=torch.long)
    model = LogisticRegression(len(vocab))
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for epoch in range(epochs):
        perm = torch.randperm(len(sentences))
        for i in perm:
            optimizer.zero_grad()
            logits = model(X[i].unsqueeze(0))
            loss = F.cross_entropy(logits, Y[i].unsqueeze(0))
            loss.backward()
            optimizer.step()
    return model
