"""A1 correct submission in another style: fit_line works on NumPy arrays with np.random.default_rng(seed); train_classifier shuffles with a NumPy generator, seeds the initialisation inside torch.random.fork_rng and computes the loss as -log_softmax."""


import random

import numpy as np
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
    xs, ys = x.numpy().astype(np.float64), y.numpy().astype(np.float64)
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(epochs):
        for i in rng.permutation(len(xs)):
            err = (m * xs[i] + c) - ys[i]
            m, c = m - lr * 2 * err * xs[i], c - lr * 2 * err
        losses.append(float(np.mean((m * xs + c - ys) ** 2)))
    return float(m), float(c), losses


# Part C


def softmax_regression_gradients(W, b, x, y):
    z = W @ x + b
    z = z - z.max()
    p = torch.exp(z - torch.logsumexp(z, dim=0))
    delta = p - y
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
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = LogisticRegression(len(vocab), n_classes=2)
    X = np.stack([bag_of_words(s, vocab).numpy() for s in sentences])
    y = np.asarray(labels, dtype=np.int64)
    rng = np.random.default_rng(seed)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(epochs):
        for i in rng.permutation(len(y)):
            opt.zero_grad()
            logits = model(torch.from_numpy(X[i:i + 1]))
            loss = -torch.log_softmax(logits, dim=1)[0, int(y[i])]
            loss.backward()
            opt.step()
    return model
