"""Bag-of-words logistic regression and its training loop."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from . import _check
from .text import bag_of_words_matrix


class LogisticRegression(torch.nn.Module):
    """Multinomial logistic regression: logits = x W^T + b.

    x (N, V) bag-of-words rows -> (N, n_classes) logits; W (n_classes, V), b (n_classes,)
    live in ``self.linear``. The softmax belongs to the loss, not to the model.
    """

    def __init__(self, vocab_size: int, n_classes: int = 2) -> None:
        super().__init__()
        _check.count("vocab_size", vocab_size, 1)
        _check.count("n_classes", n_classes, 2)
        self.linear = torch.nn.Linear(vocab_size, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check.tensor("x", x, 2, f"(N, {self.linear.in_features})")
        if x.shape[1] != self.linear.in_features:
            raise ValueError(f"x must have shape (N, {self.linear.in_features}), "
                             f"got {tuple(x.shape)}")
        out: torch.Tensor = self.linear(x)
        return out


def train_classifier(
    sentences: Sequence[str],
    labels: Sequence[int],
    vocab: dict[str, int],
    epochs: int = 20,
    lr: float = 0.1,
    seed: int = 0,
) -> LogisticRegression:
    """Train LogisticRegression(len(vocab), 2) with torch.optim.SGD on cross-entropy.

    Single-example SGD: each epoch visits every sentence once in an order drawn by
    torch.randperm from a generator seeded with ``seed``; the initial weights come from
    torch.manual_seed(seed) inside torch.random.fork_rng, so the caller's global RNG is
    untouched and the result depends only on the arguments. Returns the model in eval mode.
    """
    x = bag_of_words_matrix(sentences, vocab)
    targets = _labels(labels, len(sentences))
    epochs = _check.count("epochs", epochs, 0)
    lr = _check.number("lr", lr)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        model = LogisticRegression(len(vocab), n_classes=2)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(int(seed))
    model.train()
    for _ in range(epochs):
        for i in torch.randperm(len(targets), generator=generator).tolist():
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x[i : i + 1]), targets[i : i + 1])
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
    return model.eval()


def predict(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Class indices argmax_k model(x)[n, k] for x (N, V), as a long tensor (N,)."""
    with torch.no_grad():
        return torch.as_tensor(model(x)).argmax(dim=1)


def accuracy(predicted: torch.Tensor, labels: Sequence[int]) -> float:
    """Fraction of positions where predicted (N,) equals labels (N,)."""
    target = torch.as_tensor(list(labels))
    if predicted.shape != target.shape or target.numel() == 0:
        raise ValueError(f"predicted must have the labels' shape {tuple(target.shape)} (N >= 1), "
                         f"got {tuple(predicted.shape)}")
    return float((predicted == target).double().mean())


def _labels(labels: Sequence[int], n: int) -> torch.Tensor:
    values = list(labels)
    if len(values) != n:
        raise ValueError(f"labels must have one entry per sentence ({n}), got {len(values)}")
    for i, label in enumerate(values):
        if isinstance(label, bool) or not isinstance(label, numbers.Integral) or label not in (
                0, 1):
            raise ValueError(f"labels[{i}] must be 0 (negative) or 1 (positive), got {label!r}")
    return torch.tensor([int(v) for v in values], dtype=torch.long)
