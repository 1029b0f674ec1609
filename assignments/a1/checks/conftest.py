"""Fixtures shared by Assignment 1's checks (the grader provides student, expect, rng, ...).

Public checks use only these, torch and the lecture's numbers (never the reference), so they
can ship to students.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

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
