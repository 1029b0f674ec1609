"""Fixtures shared by Assignment 1's checks (the grader provides student, expect, rng, ...).

Public checks use only these, torch and the lecture's numbers (never the reference), so they
can ship to students.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import torch

from grader import Array, CheckFailure, Hint, StudentFailure, Variant

DATA = Path(__file__).resolve().parents[1] / "data" / "sentiment.tsv"
_TOKEN = re.compile(r"[a-z0-9']+")


@dataclass(frozen=True)
class Corpus:
    train_sentences: list[str]
    train_labels: list[int]
    test_sentences: list[str]
    test_labels: list[int]


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    """The bundled sentiment corpus (format: data/README.md)."""
    parts: dict[str, tuple[list[str], list[int]]] = {"train": ([], []), "test": ([], [])}
    with DATA.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            sentences, labels = parts[row["split"]]
            sentences.append(row["text"])
            labels.append(int(row["label"]))
    return Corpus(*parts["train"], *parts["test"])


def tokens(sentence: str) -> list[str]:
    return _TOKEN.findall(sentence.lower())


def vocab_of(sentences: list[str]) -> dict[str, int]:
    words = sorted({w for s in sentences for w in tokens(s)})
    return {w: i for i, w in enumerate(words)}


def bow_matrix(sentences: list[str], vocab: dict[str, int]) -> torch.Tensor:
    x = torch.zeros(len(sentences), len(vocab))
    for row, sentence in enumerate(sentences):
        for word in tokens(sentence):
            if word in vocab:
                x[row, vocab[word]] += 1
    return x


@pytest.fixture(scope="session")
def features(corpus: Corpus) -> tuple[dict[str, int], torch.Tensor]:
    """The training vocabulary and the held-out sentences as a bag-of-words matrix."""
    vocab = vocab_of(corpus.train_sentences)
    return vocab, bow_matrix(corpus.test_sentences, vocab)


@pytest.fixture(scope="session")
def train_features(corpus: Corpus) -> torch.Tensor:
    """The training sentences as a bag-of-words matrix over the training vocabulary."""
    return bow_matrix(corpus.train_sentences, vocab_of(corpus.train_sentences))


def cross_entropy_of(logits: np.ndarray, labels: list[int]) -> float:
    """Mean cross-entropy of (N, C) logits against integer labels, computed stably."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(labels)), labels].mean())


@pytest.fixture(scope="session")
def step_variants() -> Callable[[float, float, tuple[float, float]], tuple[Variant, ...]]:
    """The (new_m, new_c) that the usual mistakes in an SGD step would give."""

    def make(m: float, c: float, right: tuple[float, float]) -> tuple[Variant, ...]:
        dm, dc = right[0] - m, right[1] - c
        return (
            Variant(Hint("missing-factor-2", "the step is half as long as it should be: the "
                         "derivative of (y - ŷ)² is -2 (y - ŷ) times the input, and the 2 is "
                         "missing"), (m + dm / 2, c + dc / 2)),
            Variant(Hint("extra-factor-2", "the step is twice as long as it should be: an "
                         "extra factor 2 in the gradient"), (m + 2 * dm, c + 2 * dc)),
            Variant(Hint("sign-flipped", "the step goes uphill: subtract lr times the gradient (or "
                         "check the sign of the gradient)"), (m - dm, c - dc)),
        )

    return make


def read_losses(expect: Any, got: Any, call: str, epochs: int) -> list[float]:
    """A list of ``epochs`` finite numbers; nan or inf means the training diverged."""
    items = expect.sequence(got, f"{call} -> losses", epochs)
    for i, item in enumerate(items):
        raw = item.values if isinstance(item, Array) and item.shape == () else item
        if isinstance(raw, (float, np.floating)) and not np.isfinite(raw):
            expect.fail(f"{call} -> losses[{i}] is {float(raw)}: the loss overflowed",
                        hint=DIVERGES)
    return [expect.number(v, f"{call} -> losses[{i}]") for i, v in enumerate(items)]


DIVERGES = Hint("diverges", "the loss grows from epoch to epoch: check that each update "
                "subtracts lr times the gradient, and the sign of the gradient")
NOT_UPDATED = Hint("not-updated", "the trained model gives exactly the outputs of an untrained "
                   "one: the parameters are never updated (is optimizer.step() called after "
                   "loss.backward()?)")


def untrained_hint(student: Any, expect: Any, args: tuple[Any, ...], seed: int,
                   logits: np.ndarray, x: torch.Tensor) -> Hint | None:
    """NOT_UPDATED when training for 0 epochs gives the same model as training for 20."""
    try:
        start = expect.module(student.train_classifier(*args, epochs=0, seed=seed), "epochs=0")
        before = expect.array(student.method(start, "__call__", x), "epochs=0 model",
                              shape=logits.shape)
    except (CheckFailure, StudentFailure):  # the evidence is missing: no hint, no verdict
        return None
    return NOT_UPDATED if np.allclose(before, logits, rtol=0, atol=1e-7) else None


@pytest.fixture(scope="session")
def helpers() -> SimpleNamespace:
    """Helpers for checks (checks are loaded by path, so they share code through fixtures)."""
    return SimpleNamespace(read_losses=read_losses, untrained_hint=untrained_hint,
                           cross_entropy_of=cross_entropy_of, DIVERGES=DIVERGES)
