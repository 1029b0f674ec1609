"""SkipGram (the PyTorch module) and train_skipgram (autograd, torch.optim.SGD, mini-batches)."""

from __future__ import annotations

from collections.abc import Iterator
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


def _random_model(ref: ModuleType, V: int, d: int, seed: int) -> Any:
    model = ref.SkipGram(V, d)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        model.in_embed.weight.copy_(torch.randn(V, d, generator=g))
        model.out_embed.weight.copy_(torch.randn(V, d, generator=g))
    return model


# --- SkipGram ----------------------------------------------------------------------------------


def test_skipgram_has_two_embeddings_initialised_like_word2vec(a2ref: ModuleType) -> None:
    torch.manual_seed(0)
    model = a2ref.SkipGram(50, 8)
    assert isinstance(model, torch.nn.Module)
    assert isinstance(model.in_embed, torch.nn.Embedding)
    assert isinstance(model.out_embed, torch.nn.Embedding)
    assert model.in_embed.weight.shape == model.out_embed.weight.shape == (50, 8)
    assert model.in_embed.weight.dtype == torch.float32
    w = model.in_embed.weight.detach()
    assert float(w.abs().max()) <= 0.5 / 8 and float(w.std()) > 0.1 / 8
    assert torch.equal(model.out_embed.weight.detach(), torch.zeros(50, 8))
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == 2 * 50 * 8


@pytest.mark.parametrize(("V", "d", "B", "K", "seed"),
                         [(5, 3, 1, 1, 0), (10, 4, 7, 5, 1), (30, 16, 64, 5, 2), (6, 2, 3, 0, 3)])
def test_forward_is_the_mean_of_sgns_loss(a2ref: ModuleType, V: int, d: int, B: int, K: int,
                                          seed: int) -> None:
    model = _random_model(a2ref, V, d, seed)
    g = torch.Generator().manual_seed(100 + seed)
    centre = torch.randint(V, (B,), generator=g)
    context = torch.randint(V, (B,), generator=g)
    negatives = torch.randint(V, (B, K), generator=g)
    loss = model(centre, context, negatives)
    assert loss.shape == () and loss.dtype == torch.float32 and loss.requires_grad
    W_in, W_out = model.in_embed.weight.detach(), model.out_embed.weight.detach()
    losses = [a2ref.sgns_loss(W_in[c], W_out[o], W_out[n])
              for c, o, n in zip(centre.tolist(), context.tolist(), negatives, strict=True)]
    assert loss.item() == pytest.approx(sum(losses) / B, rel=1e-5)


def test_forward_of_huge_scores_is_finite(a2ref: ModuleType) -> None:
    model = a2ref.SkipGram(3, 2)
    with torch.no_grad():
        model.in_embed.weight.copy_(torch.tensor([[100.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
        model.out_embed.weight.copy_(torch.tensor([[-100.0, 0.0], [100.0, 0.0], [0.0, 0.0]]))
    loss = model(torch.tensor([0, 0]), torch.tensor([0, 1]), torch.tensor([[1], [0]]))
    assert torch.isfinite(loss) and loss.item() == pytest.approx(1e4, rel=1e-6)


def test_autograd_through_skipgram_equals_the_hand_derived_gradients(a2ref: ModuleType) -> None:
    model = _random_model(a2ref, 6, 4, seed=9).double()
    centre, context, negatives = torch.tensor([2]), torch.tensor([5]), torch.tensor([[1, 3, 3]])
    model(centre, context, negatives).backward()
    W_in, W_out = model.in_embed.weight, model.out_embed.weight
    assert W_in.grad is not None and W_out.grad is not None
    d_v, d_u, d_U = a2ref.sgns_gradients(W_in[2].detach(), W_out[5].detach(),
                                         W_out[[1, 3, 3]].detach())
    torch.testing.assert_close(W_in.grad[2], d_v, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(W_out.grad[5], d_u, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(W_out.grad[1], d_U[0], rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(W_out.grad[3], d_U[1] + d_U[2], rtol=1e-12, atol=1e-12)


# --- train_skipgram ----------------------------------------------------------------------------


def documented_skipgram(ref: ModuleType, tokens: list[str], dim: int, window: int, k: int,
                        epochs: int, lr: float, batch_size: int,
                        seed: int) -> tuple[dict[str, int], Any]:
    word_to_index, counts = ref.build_vocab(tokens)
    pairs = ref.skipgram_pairs([word_to_index[w] for w in tokens], window)
    q = ref.negative_distribution(counts)
    torch.manual_seed(seed)
    model = ref.SkipGram(len(word_to_index), dim)
    g = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    n = pairs.shape[0]
    for _ in range(epochs):
        order = torch.randperm(n, generator=g)
        negatives = torch.multinomial(q, n * k, replacement=True, generator=g).view(n, k)
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            optimizer.zero_grad()
            model(pairs[batch, 0], pairs[batch, 1], negatives[start:start + batch_size]).backward()
            optimizer.step()
    return word_to_index, model


@pytest.mark.parametrize(("window", "k", "batch_size", "seed"),
                         [(2, 5, 16, 0), (1, 2, 7, 1), (3, 4, 1000, 2)])
def test_train_skipgram_follows_the_documented_procedure(a2ref: ModuleType, window: int, k: int,
                                                         batch_size: int, seed: int) -> None:
    kwargs: dict[str, Any] = {"dim": 5, "window": window, "k": k, "epochs": 3, "lr": 0.5,
              "batch_size": batch_size, "seed": seed}
    word_to_index, model = a2ref.train_skipgram(TOY, **kwargs)
    want_vocab, want = documented_skipgram(a2ref, TOY, **kwargs)
    assert isinstance(model, a2ref.SkipGram) and word_to_index == want_vocab
    got_state, want_state = model.state_dict(), want.state_dict()
    assert got_state.keys() == want_state.keys()
    for key in got_state:
        torch.testing.assert_close(got_state[key], want_state[key], rtol=1e-6, atol=1e-7)


def test_train_skipgram_shapes_and_determinism(a2ref: ModuleType) -> None:
    torch.manual_seed(1)
    word_to_index, model = a2ref.train_skipgram(TOY, dim=6, epochs=2, seed=3)
    assert word_to_index == a2ref.build_vocab(TOY)[0]
    assert model.in_embed.weight.shape == (len(word_to_index), 6)
    torch.manual_seed(2)  # the global RNG must not matter
    _, again = a2ref.train_skipgram(TOY, dim=6, epochs=2, seed=3)
    assert torch.equal(model.in_embed.weight, again.in_embed.weight)
    assert torch.equal(model.out_embed.weight, again.out_embed.weight)
    _, other = a2ref.train_skipgram(TOY, dim=6, epochs=2, seed=4)
    assert not torch.equal(model.in_embed.weight, other.in_embed.weight)


def test_train_skipgram_leaves_the_global_rng_untouched(a2ref: ModuleType) -> None:
    torch.manual_seed(2024)
    before = torch.get_rng_state()
    a2ref.train_skipgram(TOY, epochs=1, seed=1)
    assert torch.equal(torch.get_rng_state(), before)


@pytest.mark.parametrize(("window", "epochs"), [(0, 3), (2, 0)])
def test_train_skipgram_without_updates_returns_the_initialisation(a2ref: ModuleType, window: int,
                                                                   epochs: int) -> None:
    word_to_index, model = a2ref.train_skipgram(TOY, dim=4, window=window, epochs=epochs, seed=7)
    torch.manual_seed(7)
    start = a2ref.SkipGram(len(word_to_index), 4)
    assert torch.equal(model.in_embed.weight, start.in_embed.weight)
    assert float(model.in_embed.weight.detach().abs().max()) <= 0.5 / 4
    assert torch.equal(model.out_embed.weight.detach(), torch.zeros(len(word_to_index), 4))


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_skipgram_on_the_corpus_recovers_the_planted_groups(a2ref: ModuleType,
                                                            corpus_tokens: list[str],
                                                            seed: int) -> None:
    word_to_index, model = a2ref.train_skipgram(corpus_tokens, **a2ref.CHECK_SKIPGRAM, seed=seed)
    W = model.in_embed.weight.detach()
    k = a2ref.CHECK_RECALL_K
    recall = a2ref.group_recall(word_to_index, W, a2ref.GROUPS, k)
    precision = a2ref.group_precision(word_to_index, W, a2ref.GROUPS, k)
    assert recall >= 0.95 > a2ref.CHECK_MIN_RECALL, f"seed {seed}: recall@{k} {recall:.3f}"
    assert precision >= 0.8, f"seed {seed}: precision@{k} {precision:.3f}"
