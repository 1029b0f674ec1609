"""Assignment 1 (Loss functions, gradients and SGD): the instructor's model solution.

A complete submission in the student API of handout.md. It uses only torch and the standard
library, never modifies an input, and is deterministic. Each graded function stands on its
own (no function calls another, except that train_classifier uses bag_of_words and
LogisticRegression), so a demo that breaks one function here loses only that function's points.
"""

from __future__ import annotations

import re

import torch
import torch.nn.functional as F

_TOKEN = re.compile(r"[a-z0-9']+")


# ---------------------------------------------------------------- Part A: losses and softmax


def mse(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean squared error of predictions ``y_hat`` against targets ``y``, both (N,)."""
    return ((y_hat - y) ** 2).mean()


def softmax(z: torch.Tensor) -> torch.Tensor:
    """Softmax over the last dimension of ``z`` ((C,) or (N, C)), stable for large logits."""
    shifted = z - z.max(dim=-1, keepdim=True).values
    e = torch.exp(shifted)
    return e / e.sum(dim=-1, keepdim=True)


def cross_entropy(p_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """-sum_k y_k log p_hat_k for one example (C,), or its mean over the rows of (N, C).

    torch.xlogy(y, p) is y * log(p) with the convention 0 * log(0) = 0.
    """
    per_example = -torch.xlogy(y, p_hat).sum(dim=-1)
    return per_example.mean() if per_example.dim() > 0 else per_example


# ---------------------------------------------------------------- Part B: a line by hand


def mse_gradients(m: float, c: float, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """(dL/dm, dL/dc) of L = mse(m * x + c, y), computed in double precision."""
    x64, y64 = x.double(), y.double()
    residual = y64 - (m * x64 + c)
    dm = -2.0 * (x64 * residual).mean()
    dc = -2.0 * residual.mean()
    return float(dm), float(dc)


def sgd_step(m: float, c: float, x_i: float, y_i: float, lr: float) -> tuple[float, float]:
    """One SGD update of (m, c) on the loss (y_i - (m * x_i + c)) ** 2."""
    m, c, x_i, y_i, lr = float(m), float(c), float(x_i), float(y_i), float(lr)
    residual = y_i - (m * x_i + c)
    dm = -2.0 * x_i * residual
    dc = -2.0 * residual
    return m - lr * dm, c - lr * dc


def fit_line(
    x: torch.Tensor,
    y: torch.Tensor,
    lr: float,
    epochs: int,
    seed: int = 0,
    m: float = 0.0,
    c: float = 0.0,
) -> tuple[float, float, list[float]]:
    """Single-example SGD on the line m * x + c; the whole-data MSE after every epoch."""
    xs = [float(v) for v in x.reshape(-1)]
    ys = [float(v) for v in y.reshape(-1)]
    n = len(xs)
    m, c, lr = float(m), float(c), float(lr)
    generator = torch.Generator().manual_seed(seed)
    losses: list[float] = []
    for _ in range(epochs):
        for i in torch.randperm(n, generator=generator).tolist():
            residual = ys[i] - (m * xs[i] + c)
            m, c = m + 2.0 * lr * xs[i] * residual, c + 2.0 * lr * residual
        losses.append(sum((yi - (m * xi + c)) ** 2 for xi, yi in zip(xs, ys, strict=True)) / n)
    return m, c, losses


# ---------------------------------------------------------------- Part C: softmax regression


def softmax_regression_gradients(
    W: torch.Tensor, b: torch.Tensor, x: torch.Tensor, y: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradients (dW (C, V), db (C,)) of cross_entropy(softmax(W @ x + b), y) for one example.

    With z = W x + b and p = softmax(z): dL/dz = p - y, dL/dW = (p - y) x^T, dL/db = p - y.
    """
    z = W @ x + b
    e = torch.exp(z - z.max())
    p = e / e.sum()
    dz = p - y
    return torch.outer(dz, x), dz


# ---------------------------------------------------------------- Part D: sentiment classifier


def build_vocab(sentences: list[str]) -> dict[str, int]:
    """Every token of ``sentences``, in alphabetical order, mapped to 0..V-1."""
    words = sorted({w for s in sentences for w in _TOKEN.findall(s.lower())})
    return {w: i for i, w in enumerate(words)}


def bag_of_words(sentence: str, vocab: dict[str, int]) -> torch.Tensor:
    """Token counts of ``sentence`` as a float tensor (V,); unknown tokens are skipped."""
    counts = torch.zeros(len(vocab))
    for word in _TOKEN.findall(sentence.lower()):
        index = vocab.get(word)
        if index is not None:
            counts[index] += 1.0
    return counts


class LogisticRegression(torch.nn.Module):
    """Multinomial logistic regression: one linear layer from counts to class logits."""

    def __init__(self, vocab_size: int, n_classes: int = 2) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(vocab_size, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, V) bag-of-words rows -> (N, n_classes) logits (no softmax)."""
        return self.linear(x)


def train_classifier(
    sentences: list[str],
    labels: list[int],
    vocab: dict[str, int],
    epochs: int = 20,
    lr: float = 0.1,
    seed: int = 0,
) -> LogisticRegression:
    """Per-example SGD with cross-entropy on bag-of-words features; returns the trained model.

    The seed fixes both the initialisation and the shuffles; the global RNG is left untouched.
    """
    features = torch.stack([bag_of_words(s, vocab) for s in sentences])
    targets = torch.tensor([int(label) for label in labels], dtype=torch.long)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LogisticRegression(len(vocab), n_classes=2)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        for i in torch.randperm(len(targets), generator=generator).tolist():
            optimizer.zero_grad()
            loss = F.cross_entropy(model(features[i : i + 1]), targets[i : i + 1])
            loss.backward()
            optimizer.step()
    model.eval()
    return model
