"""tokenize, build_vocab, skipgram_pairs and negative_distribution against the spec."""

from __future__ import annotations

import re
from collections import Counter
from types import ModuleType

import pytest
import torch


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Don't STOP, it's 2 good!", ["don't", "stop", "it's", "2", "good"]),
        ("The cat sat; the DOG, the", ["the", "cat", "sat", "the", "dog", "the"]),
        ("", []),
        ("  ...!!  ", []),
        ("line one\nline two", ["line", "one", "line", "two"]),
        ("e-mail me@home 42nd", ["e", "mail", "me", "home", "42nd"]),
    ],
)
def test_tokenize_examples(a2ref: ModuleType, text: str, tokens: list[str]) -> None:
    assert a2ref.tokenize(text) == tokens
    assert a2ref.tokenize(text) == re.findall(r"[a-z0-9']+", text.lower())


# --- build_vocab -------------------------------------------------------------------------------


def test_build_vocab_orders_by_descending_count_then_alphabetically(a2ref: ModuleType) -> None:
    tokens = "b a c a b d e e e".split()
    word_to_index, counts = a2ref.build_vocab(tokens)
    assert word_to_index == {"e": 0, "a": 1, "b": 2, "c": 3, "d": 4}
    assert counts.dtype == torch.int64 and counts.tolist() == [3, 2, 2, 1, 1]
    assert all(type(i) is int for i in word_to_index.values())


def test_build_vocab_min_count_drops_rare_words(a2ref: ModuleType) -> None:
    tokens = "b a c a b d e e e".split()
    word_to_index, counts = a2ref.build_vocab(tokens, min_count=2)
    assert word_to_index == {"e": 0, "a": 1, "b": 2} and counts.tolist() == [3, 2, 2]
    assert a2ref.build_vocab(tokens, 3)[0] == {"e": 0}
    empty, none = a2ref.build_vocab(tokens, 4)
    assert empty == {} and none.dtype == torch.int64 and none.shape == (0,)
    assert a2ref.build_vocab(tokens, 0)[0] == a2ref.build_vocab(tokens, 1)[0]


def test_build_vocab_of_no_tokens_is_empty(a2ref: ModuleType) -> None:
    word_to_index, counts = a2ref.build_vocab([])
    assert word_to_index == {} and counts.shape == (0,) and counts.dtype == torch.int64


def test_build_vocab_depends_only_on_the_counts(a2ref: ModuleType) -> None:
    tokens = "to be or not to be that is the question".split()
    forward = a2ref.build_vocab(tokens)
    backward = a2ref.build_vocab(list(reversed(tokens)))
    assert forward[0] == backward[0] and torch.equal(forward[1], backward[1])
    assert list(forward[0]) == ["be", "to", "is", "not", "or", "question", "that", "the"]


def test_build_vocab_does_not_modify_tokens(a2ref: ModuleType) -> None:
    tokens = ["b", "a", "b"]
    a2ref.build_vocab(tokens, 2)
    assert tokens == ["b", "a", "b"]


# --- skipgram_pairs ----------------------------------------------------------------------------


def brute_force_pairs(ids: list[int], window: int) -> list[list[int]]:
    return [[ids[i], ids[j]] for i in range(len(ids)) for j in range(len(ids))
            if j != i and abs(i - j) <= window]


def test_skipgram_pairs_worked_example(a2ref: ModuleType) -> None:
    pairs = a2ref.skipgram_pairs([0, 1, 2], window=1)
    assert pairs.dtype == torch.int64 and pairs.shape == (4, 2)
    assert pairs.tolist() == [[0, 1], [1, 0], [1, 2], [2, 1]]


@pytest.mark.parametrize(("ids", "window"), [([], 2), ([7], 3), ([1, 2, 3], 0), ([], 0)])
def test_skipgram_pairs_empty_is_0_by_2_int64(a2ref: ModuleType, ids: list[int],
                                              window: int) -> None:
    pairs = a2ref.skipgram_pairs(ids, window)
    assert pairs.shape == (0, 2) and pairs.dtype == torch.int64


@pytest.mark.parametrize("window", [1, 2, 3, 10])
def test_skipgram_pairs_order_and_content(a2ref: ModuleType, window: int) -> None:
    ids = [4, 0, 4, 2, 1, 3, 0]  # repeated ids: pairs are of positions, not of distinct words
    pairs = a2ref.skipgram_pairs(ids, window)
    assert pairs.tolist() == brute_force_pairs(ids, window)


def test_skipgram_pairs_window_two_in_the_middle(a2ref: ModuleType) -> None:
    pairs = a2ref.skipgram_pairs([10, 11, 12, 13, 14], window=2).tolist()
    assert pairs[:2] == [[10, 11], [10, 12]]
    assert [p for p in pairs if p[0] == 12] == [[12, 10], [12, 11], [12, 13], [12, 14]]
    assert len(pairs) == 2 * (4 + 3)


def test_skipgram_pairs_accepts_a_tensor_of_ids(a2ref: ModuleType) -> None:
    pairs = a2ref.skipgram_pairs(torch.tensor([5, 6, 7]), 1)
    assert pairs.tolist() == [[5, 6], [6, 5], [6, 7], [7, 6]]


# --- negative_distribution ---------------------------------------------------------------------


def test_negative_distribution_is_counts_to_the_three_quarters(a2ref: ModuleType) -> None:
    counts = torch.tensor([16, 4, 1], dtype=torch.int64)
    q = a2ref.negative_distribution(counts)
    assert q.dtype == torch.float32 and q.shape == (3,)
    want = torch.tensor([8.0, 4 ** 0.75, 1.0], dtype=torch.float64)  # 16**0.75 = 8
    want = want / want.sum()
    torch.testing.assert_close(q.double(), want, rtol=1e-6, atol=1e-7)
    assert q.sum().item() == pytest.approx(1.0, abs=1e-6)
    assert torch.equal(counts, torch.tensor([16, 4, 1]))  # not modified


def test_negative_distribution_powers(a2ref: ModuleType) -> None:
    counts = torch.tensor([6, 3, 1])
    torch.testing.assert_close(a2ref.negative_distribution(counts, power=1.0),
                               torch.tensor([0.6, 0.3, 0.1]))
    torch.testing.assert_close(a2ref.negative_distribution(counts, 0.0), torch.full((3,), 1 / 3))
    flatter = a2ref.negative_distribution(counts)
    assert flatter[0] < 0.6 and flatter[2] > 0.1  # rare words are drawn more than their share


def test_negative_distribution_of_float_counts_and_zeros(a2ref: ModuleType) -> None:
    q = a2ref.negative_distribution(torch.tensor([2.0, 0.0, 2.0], dtype=torch.float64))
    assert q.tolist() == [0.5, 0.0, 0.5]


def test_vocab_counts_feed_the_distribution(a2ref: ModuleType) -> None:
    tokens = "a a a a b b c".split()
    word_to_index, counts = a2ref.build_vocab(tokens)
    q = a2ref.negative_distribution(counts)
    count = Counter(tokens)
    weights = {w: count[w] ** 0.75 for w in count}
    total = sum(weights.values())
    for w, i in word_to_index.items():
        assert q[i].item() == pytest.approx(weights[w] / total, rel=1e-6)
