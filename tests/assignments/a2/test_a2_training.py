"""train_word2vec, most_similar and the planted-group measures; the bundled corpus."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch

F64 = torch.float64
TOY = ("the cat sat on the mat . the dog sat on the log . a cat and a dog sat on a mat . "
       "the cat ate the fish and the dog ate the bone . a bird sang on the log").split()


@pytest.fixture(autouse=True)
def _rng_and_threads(restore_global_rng: None, one_thread: None) -> Iterator[None]:
    yield


def documented_word2vec(ref: ModuleType, tokens: list[str], dim: int, window: int, k: int,
                        epochs: int, lr: float, seed: int,
                        min_count: int) -> tuple[dict[str, int], torch.Tensor]:
    """The procedure of the spec, written out with the reference's own sgns_step (float64)."""
    word_to_index, counts = ref.build_vocab(tokens, min_count)
    ids = [word_to_index[w] for w in tokens if w in word_to_index]  # dropped before pairing
    pairs = ref.skipgram_pairs(ids, window)
    q = ref.negative_distribution(counts)
    g = torch.Generator().manual_seed(seed)
    W_in = ((torch.rand(len(word_to_index), dim, generator=g) - 0.5) / dim).to(F64)
    W_out = torch.zeros(len(word_to_index), dim, dtype=F64)
    n = pairs.shape[0]
    for _ in range(epochs):
        order = torch.randperm(n, generator=g)
        negatives = (torch.multinomial(q, n * k, replacement=True, generator=g).view(n, k) if k
                     else torch.zeros(n, 0, dtype=torch.int64))
        for t, p in enumerate(order.tolist()):
            ref.sgns_step(W_in, W_out, int(pairs[p, 0]), int(pairs[p, 1]), negatives[t], lr)
    return word_to_index, W_in.float()


# --- train_word2vec ----------------------------------------------------------------------------


@pytest.mark.parametrize(("window", "k", "min_count", "seed"),
                         [(2, 5, 1, 0), (1, 3, 2, 1), (3, 1, 3, 2), (2, 0, 1, 3)])
def test_train_word2vec_follows_the_documented_procedure(a2ref: ModuleType, window: int, k: int,
                                                         min_count: int, seed: int) -> None:
    kwargs: dict[str, Any] = {"dim": 6, "window": window, "k": k, "epochs": 3, "lr": 0.2,
                              "seed": seed, "min_count": min_count}
    word_to_index, W_in = a2ref.train_word2vec(TOY, **kwargs)
    want_vocab, want_W = documented_word2vec(a2ref, TOY, **kwargs)
    assert word_to_index == want_vocab
    assert W_in.dtype == torch.float32 and W_in.shape == (len(want_vocab), 6)
    torch.testing.assert_close(W_in, want_W, rtol=1e-6, atol=1e-7)


def test_train_word2vec_defaults_and_shapes(a2ref: ModuleType) -> None:
    word_to_index, W_in = a2ref.train_word2vec(TOY)
    assert word_to_index == a2ref.build_vocab(TOY)[0]
    assert W_in.shape == (len(word_to_index), 16) and W_in.dtype == torch.float32
    _, W7 = a2ref.train_word2vec(TOY, dim=7, epochs=1)
    assert W7.shape == (len(word_to_index), 7)


def test_train_word2vec_min_count_shrinks_the_vocabulary(a2ref: ModuleType) -> None:
    counts = Counter(TOY)
    word_to_index, W_in = a2ref.train_word2vec(TOY, epochs=1, min_count=3)
    assert set(word_to_index) == {w for w, c in counts.items() if c >= 3}
    assert W_in.shape == (len(word_to_index), 16)


def test_train_word2vec_is_deterministic_for_a_seed(a2ref: ModuleType) -> None:
    torch.manual_seed(123)
    first = a2ref.train_word2vec(TOY, epochs=2, seed=5)
    torch.manual_seed(456)  # the global RNG must not matter
    again = a2ref.train_word2vec(TOY, epochs=2, seed=5)
    assert first[0] == again[0] and torch.equal(first[1], again[1])
    other = a2ref.train_word2vec(TOY, epochs=2, seed=6)
    assert not torch.equal(first[1], other[1])


def test_train_word2vec_leaves_the_global_rng_untouched(a2ref: ModuleType) -> None:
    torch.manual_seed(2024)
    before = torch.get_rng_state()
    a2ref.train_word2vec(TOY, epochs=1, seed=1)
    assert torch.equal(torch.get_rng_state(), before)


@pytest.mark.parametrize(("window", "epochs", "tokens"),
                         [(0, 3, TOY), (2, 0, TOY), (2, 3, ["alone"]), (1, 2, [])])
def test_train_word2vec_without_updates_returns_the_initialisation(
    a2ref: ModuleType, window: int, epochs: int, tokens: list[str],
) -> None:
    dim, seed = 8, 4
    word_to_index, W_in = a2ref.train_word2vec(tokens, dim=dim, window=window, epochs=epochs,
                                               seed=seed)
    size = len(set(tokens))
    g = torch.Generator().manual_seed(seed)
    assert torch.equal(W_in, (torch.rand(size, dim, generator=g) - 0.5) / dim)
    assert W_in.shape == (size, dim)
    assert W_in.numel() == 0 or float(W_in.abs().max()) <= 0.5 / dim
    assert len(word_to_index) == size


def test_train_word2vec_does_not_modify_tokens(a2ref: ModuleType) -> None:
    tokens = list(TOY)
    a2ref.train_word2vec(tokens, epochs=1, min_count=2)
    assert tokens == TOY


# --- most_similar, cosine_matrix, group measures -----------------------------------------------

VOCAB = {"a": 0, "b": 1, "c": 2, "d": 3, "e": 4}
W5 = torch.tensor([[1.0, 0.0], [2.0, 0.0], [0.0, 3.0], [1.0, 1.0], [1.0, 0.0]])


def test_most_similar_orders_by_cosine_ties_by_index(a2ref: ModuleType) -> None:
    got = a2ref.most_similar("a", VOCAB, W5, k=4)
    assert [w for w, _ in got] == ["b", "e", "d", "c"]  # b and e tie at 1.0: lower index first
    assert all(isinstance(c, float) for _, c in got)
    assert [c for _, c in got] == pytest.approx([1.0, 1.0, 2 ** -0.5, 0.0], abs=1e-12)
    assert [w for w, _ in a2ref.most_similar("c", VOCAB, W5, 2)] == ["d", "a"]


def test_most_similar_leaves_the_word_out_and_caps_k(a2ref: ModuleType) -> None:
    assert len(a2ref.most_similar("b", VOCAB, W5, k=10)) == 4
    assert "b" not in [w for w, _ in a2ref.most_similar("b", VOCAB, W5, k=10)]
    assert a2ref.most_similar("b", VOCAB, W5, k=0) == []
    assert len(a2ref.most_similar("d", VOCAB, W5)) == 4  # default k=5, V-1=4
    assert a2ref.most_similar("x", {"x": 0}, torch.ones(1, 3)) == []


def test_most_similar_unknown_word_is_a_key_error(a2ref: ModuleType) -> None:
    with pytest.raises(KeyError):
        a2ref.most_similar("zebra", VOCAB, W5)


def test_most_similar_is_scale_invariant_and_matches_cosine_matrix(a2ref: ModuleType) -> None:
    g = torch.Generator().manual_seed(0)
    W = torch.randn(12, 5, generator=g)
    vocab = {f"w{i}": i for i in range(12)}
    C = a2ref.cosine_matrix(W)
    assert C.shape == (12, 12) and C.dtype == F64
    torch.testing.assert_close(C, torch.nn.functional.cosine_similarity(
        W.double().unsqueeze(1), W.double().unsqueeze(0), dim=2), rtol=1e-12, atol=1e-12)
    scaled = W * torch.arange(1, 13, dtype=torch.float32).unsqueeze(1)
    for word, i in vocab.items():
        got = a2ref.most_similar(word, vocab, W, k=11)
        assert [w for w, _ in got] == [w for w, _ in a2ref.most_similar(word, vocab, scaled, 11)]
        for w, c in got:
            assert c == pytest.approx(C[i, vocab[w]].item(), rel=1e-12, abs=1e-12)
        cosines = [c for _, c in got]
        assert cosines == sorted(cosines, reverse=True)


def test_group_measures(a2ref: ModuleType) -> None:
    vocab = {w: i for i, w in enumerate(["a1", "a2", "a3", "b1", "b2", "b3", "x"])}
    groups = {"a": ["a1", "a2", "a3"], "b": ["b1", "b2", "b3", "missing"]}
    clustered = torch.tensor([[1.0, 0.1, 0], [1.0, 0.0, 0], [1.0, 0.2, 0],
                              [0.0, 1.0, 0], [0.1, 1.0, 0], [0.0, 1.0, 0.1], [0, 0, 1.0]])
    assert a2ref.group_recall(vocab, clustered, groups, k=1) == 1.0
    assert a2ref.group_precision(vocab, clustered, groups, k=2) == 1.0
    assert a2ref.group_precision(vocab, clustered, groups, k=3) == pytest.approx(2 / 3)
    # Every word's nearest neighbour is in the other group.
    crossed = torch.tensor([[1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 1.0, 0],
                            [1.0, 0.1, 0, 0], [0, 1.0, 0.1, 0], [0.1, 0, 1.0, 0], [0, 0, 0, 1.0]])
    assert a2ref.group_recall(vocab, crossed, groups, k=1) == 0.0
    assert a2ref.neighbours(vocab, clustered, 1)["x"] in (["a3"], ["b3"])


# --- the bundled corpus ------------------------------------------------------------------------


def test_corpus_size_and_planted_words(a2ref: ModuleType, corpus_tokens: list[str]) -> None:
    assert 1500 <= len(corpus_tokens) <= 3000
    assert corpus_tokens == a2ref.tokenize(a2ref.CORPUS_PATH.read_text(encoding="utf-8"))
    counts = Counter(corpus_tokens)
    planted = [w for words in a2ref.GROUPS.values() for w in words]
    assert len(a2ref.GROUPS) >= 4 and all(4 <= len(ws) <= 6 for ws in a2ref.GROUPS.values())
    assert len(planted) == len(set(planted))  # groups are disjoint
    assert {counts[w] for w in planted} == {8}  # every planted word equally often


def test_corpus_readme_documents_the_groups(a2ref: ModuleType, a2_dir: Path) -> None:
    readme = (a2_dir / "data" / "README.md").read_text(encoding="utf-8")
    table = dict(re.findall(r"^\| (\w+) \| ([a-z, ]+) \|$", readme, flags=re.MULTILINE))
    table.pop("group")  # the header row
    assert {name: words.split(", ") for name, words in table.items()} == a2ref.GROUPS
    assert "MIT" in readme and "written for this project" in readme
    assert a2ref.CORPUS_PATH == a2_dir / "data" / "corpus.txt"


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_word2vec_on_the_corpus_recovers_the_planted_groups(a2ref: ModuleType,
                                                            corpus_tokens: list[str],
                                                            seed: int) -> None:
    word_to_index, W_in = a2ref.train_word2vec(corpus_tokens, **a2ref.CHECK_W2V, seed=seed)
    k = a2ref.CHECK_RECALL_K
    recall = a2ref.group_recall(word_to_index, W_in, a2ref.GROUPS, k)
    precision = a2ref.group_precision(word_to_index, W_in, a2ref.GROUPS, k)
    # Measured 1.0 and 0.92-0.97; a check demands CHECK_MIN_RECALL of a student.
    assert recall >= 0.95 > a2ref.CHECK_MIN_RECALL, f"seed {seed}: recall@{k} {recall:.3f}"
    assert precision >= 0.8, f"seed {seed}: precision@{k} {precision:.3f}"
