"""Tokens, vocabulary and bag-of-words features, against the handout's regex and examples."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

import pytest
import torch

import reference

SENTENCES = [
    "The cat sat on the mat.",
    "Don't STOP, it's 2 good!",
    "the DOG ate 2 cats",
    "",
    "Ünïcödé café -- naïve résumé",
]


@pytest.mark.parametrize(
    ("sentence", "tokens"),
    [
        ("Don't STOP, it's 2 good!", ["don't", "stop", "it's", "2", "good"]),
        ("The cat sat; the DOG, the", ["the", "cat", "sat", "the", "dog", "the"]),
        ("", []),
        ("  ...!!  ", []),
        ("e-mail me@home 42nd", ["e", "mail", "me", "home", "42nd"]),
        ("tab\tand\nnewline", ["tab", "and", "newline"]),
        ("'quoted' words''", ["'quoted'", "words''"]),
    ],
)
def test_tokenize_examples(sentence: str, tokens: list[str]) -> None:
    assert reference.tokenize(sentence) == tokens


@pytest.mark.parametrize("sentence", [*SENTENCES, "MiXeD CaSe 123 ABC's", "a_b c-d"])
def test_tokenize_is_the_regex_on_lowercased_input(sentence: str) -> None:
    assert reference.tokenize(sentence) == re.findall(r"[a-z0-9']+", sentence.lower())


def test_build_vocab_is_a_bijection_onto_range() -> None:
    vocab = reference.build_vocab(SENTENCES)
    assert isinstance(vocab, dict)
    assert sorted(vocab.values()) == list(range(len(vocab)))
    assert set(vocab) == {w for s in SENTENCES for w in re.findall(r"[a-z0-9']+", s.lower())}
    assert all(isinstance(i, int) and not isinstance(i, bool) for i in vocab.values())


def test_build_vocab_does_not_depend_on_sentence_order() -> None:
    forward = reference.build_vocab(SENTENCES)
    assert reference.build_vocab(list(reversed(SENTENCES))) == forward
    assert reference.build_vocab(SENTENCES + SENTENCES) == forward  # duplicates change nothing


def test_build_vocab_of_nothing_is_empty() -> None:
    assert reference.build_vocab([]) == {}
    assert reference.build_vocab(["", "!!"]) == {}


def test_bag_of_words_handout_example() -> None:
    vocab = {"the": 0, "cat": 1, "sat": 2, "dog": 3}
    x = reference.bag_of_words("The cat sat; the DOG, the", vocab)
    assert x.dtype == torch.float32 and x.shape == (4,)
    assert x.tolist() == [3.0, 1.0, 1.0, 1.0]


@pytest.mark.parametrize("sentence", SENTENCES)
def test_bag_of_words_counts_tokens(sentence: str) -> None:
    vocab = reference.build_vocab(SENTENCES)
    x = reference.bag_of_words(sentence, vocab)
    assert x.dtype == torch.float32 and x.shape == (len(vocab),)
    want = torch.zeros(len(vocab))
    for word, n in Counter(reference.tokenize(sentence)).items():
        want[vocab[word]] = n
    assert torch.equal(x, want)
    assert x.sum().item() == len(reference.tokenize(sentence))


def test_bag_of_words_ignores_unknown_words() -> None:
    vocab = {"good": 1, "bad": 0}
    x = reference.bag_of_words("good good unseen bad never-seen GOOD", vocab)
    assert x.tolist() == [1.0, 3.0]
    assert reference.bag_of_words("nothing known here", vocab).tolist() == [0.0, 0.0]


def test_bag_of_words_respects_any_bijection() -> None:
    vocab = {"c": 2, "a": 0, "b": 1}
    shuffled = {"c": 0, "a": 2, "b": 1}
    s = "a a b c c c"
    assert reference.bag_of_words(s, vocab).tolist() == [2.0, 1.0, 3.0]
    assert reference.bag_of_words(s, shuffled).tolist() == [3.0, 1.0, 2.0]


def test_empty_sentence_gives_zeros() -> None:
    vocab = reference.build_vocab(SENTENCES)
    x = reference.bag_of_words("", vocab)
    assert x.dtype == torch.float32 and torch.equal(x, torch.zeros(len(vocab)))


def test_bag_of_words_matrix_rows_equal_bag_of_words() -> None:
    vocab = reference.build_vocab(SENTENCES[:3])
    queries = [*SENTENCES, "unknown words only", "the the the"]
    matrix = reference.bag_of_words_matrix(queries, vocab)
    assert matrix.dtype == torch.float32 and matrix.shape == (len(queries), len(vocab))
    for row, sentence in zip(matrix, queries, strict=True):
        assert torch.equal(row, reference.bag_of_words(sentence, vocab))


def test_bag_of_words_matrix_of_no_sentences_is_empty() -> None:
    vocab = {"a": 0, "b": 1}
    matrix = reference.bag_of_words_matrix([], vocab)
    assert matrix.shape == (0, 2) and matrix.dtype == torch.float32


def _gen(items: list[str]) -> Iterator[str]:
    yield from items


def test_build_vocab_of_a_generator_is_the_vocab_or_an_error() -> None:
    try:
        vocab = reference.build_vocab(_gen(["good film", "bad film"]))
    except TypeError:
        return
    assert vocab == reference.build_vocab(["good film", "bad film"])
