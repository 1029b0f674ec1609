"""Tokens, vocabulary and bag-of-words features."""

from __future__ import annotations

import re
from collections.abc import Sequence

import torch

TOKEN_PATTERN = re.compile(r"[a-z0-9']+")


def tokenize(sentence: str) -> list[str]:
    """The assignment's tokens: re.findall(r"[a-z0-9']+", sentence.lower())."""
    if not isinstance(sentence, str):
        raise TypeError(f"sentence must be a str, got {type(sentence).__name__}")
    return TOKEN_PATTERN.findall(sentence.lower())


def build_vocab(sentences: Sequence[str]) -> dict[str, int]:
    """Map every token of ``sentences`` to an index in 0..V-1.

    The reference orders words alphabetically, so the vocabulary of a set of sentences does not
    depend on their order; the API allows any bijection onto 0..V-1.
    """
    words = sorted({w for s in _sentences(sentences) for w in tokenize(s)})
    return {w: i for i, w in enumerate(words)}


def bag_of_words(sentence: str, vocab: dict[str, int]) -> torch.Tensor:
    """Counts x of shape (V,), float32: x[vocab[w]] = number of times token w occurs.

    Tokens not in ``vocab`` are ignored (test sentences have words training never saw).
    """
    size = _vocab_size(vocab)
    x = torch.zeros(size, dtype=torch.float32)
    for word in tokenize(sentence):
        index = vocab.get(word)
        if index is not None:
            x[index] += 1.0
    return x


def bag_of_words_matrix(sentences: Sequence[str], vocab: dict[str, int]) -> torch.Tensor:
    """Rows bag_of_words(sentences[n], vocab) stacked into an (N, V) float32 matrix."""
    size = _vocab_size(vocab)
    rows = [bag_of_words(s, vocab) for s in _sentences(sentences)]
    return torch.stack(rows) if rows else torch.zeros(0, size, dtype=torch.float32)


def _sentences(sentences: Sequence[str]) -> list[str]:
    # a copy, so that a generator is checked and used once, not consumed by the check
    if isinstance(sentences, str):
        raise TypeError("sentences must be a list of str, got a single str")
    values = list(sentences)
    for i, s in enumerate(values):
        if not isinstance(s, str):
            raise TypeError(f"sentences[{i}] must be a str, got {type(s).__name__}")
    return values


def _vocab_size(vocab: dict[str, int]) -> int:
    if not isinstance(vocab, dict):
        raise TypeError(f"vocab must be a dict str -> int, got {type(vocab).__name__}")
    if sorted(vocab.values()) != list(range(len(vocab))):
        raise ValueError(f"vocab must map its {len(vocab)} words onto the indices "
                         f"0..{len(vocab) - 1}, each used once")
    return len(vocab)
