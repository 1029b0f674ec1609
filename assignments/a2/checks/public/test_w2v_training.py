"""Public checks of train_word2vec, most_similar, SkipGram and train_skipgram."""

from __future__ import annotations

import pytest
import torch

from grader import RemoteObject

W2V = ("dim", "window", "k", "epochs", "lr", "seed")
SKIPGRAM = ("dim", "window", "k", "epochs", "lr", "batch_size", "seed")


@pytest.mark.rubric("w2v-groups")
def test_train_word2vec_groups(pure, expect, helpers, corpus_tokens):
    settings = helpers.training_settings(expect, "check", W2V)
    call = helpers.describe_call("train_word2vec", corpus_tokens, settings)
    got = expect.sequence(pure.train_word2vec(corpus_tokens, **settings), call, 2)
    words = set(corpus_tokens)
    w2i = helpers.word_index(expect, got[0], words, call)
    W = expect.array(got[1], f"{call} -> W_in", shape=(len(words), settings["dim"]))
    helpers.recall_verdict(expect, call, w2i, W, settings["dim"])


# Cosine and dot product rank these rows differently (the norms differ).
NEIGHBOURS_W = torch.tensor([[1.0, 0.0], [3.0, 3.0], [0.9, 0.1], [0.5, -0.2], [-2.0, 1.0],
                             [0.2, 0.9]])
NEIGHBOURS_VOCAB = {w: i for i, w in enumerate("abcdef")}


@pytest.mark.rubric("similar-small")
def test_most_similar_small(pure, expect, helpers):
    W, w2i = NEIGHBOURS_W, NEIGHBOURS_VOCAB
    for word, k in (("a", 3), ("b", 2), ("e", 10)):
        call = f"most_similar({word!r}, {w2i}, W {tuple(W.shape)}, k={k})"
        want = helpers.neighbours_of(word, w2i, W.numpy(), k)
        helpers.similar(expect, pure.most_similar(word, w2i, W, k), want, call,
                        helpers.similar_variants(word, w2i, W.numpy(), k))


@pytest.mark.rubric("skipgram-module")
def test_skipgram_module(student, expect):
    call = "SkipGram(7, 3)"
    model = expect.module(student.SkipGram(7, 3), call)
    for name in ("in_embed", "out_embed"):
        sub = student.method(model, "get_submodule", name)
        found = sub.handle.type_name if isinstance(sub, RemoteObject) else type(sub).__name__
        expect.that(isinstance(sub, RemoteObject) and found == "Embedding",
                    f"{call}.{name} is a {found}; expected a torch.nn.Embedding")
        expect.that(sub.handle.param_shapes == ((7, 3),),
                    f"{call}.{name} has parameters of shapes {list(sub.handle.param_shapes)}; "
                    "expected one weight of shape (7, 3) (vocab_size, dim)")
    centre, context = torch.tensor([0, 6, 3, 3]), torch.tensor([1, 2, 5, 0])
    negatives = torch.tensor([[2, 4], [0, 0], [6, 1], [5, 3]])
    expect.number(student.method(model, "__call__", centre, context, negatives),
                  f"{call}(centre (4,), context (4,), negatives (4, 2))")


@pytest.mark.rubric("skipgram-forward")
def test_skipgram_forward(student, expect, helpers, rng):
    helpers.forward_check(student, expect, rng, 8, 4, ((5, 3), (1, 1)), 0.7)


@pytest.mark.rubric("sgtrain-groups")
def test_train_skipgram_groups(student, pure, expect, helpers, corpus_tokens):
    settings = helpers.training_settings(expect, "check", SKIPGRAM)
    call = helpers.describe_call("train_skipgram", corpus_tokens, settings)
    got = expect.sequence(pure.train_skipgram(corpus_tokens, **settings), call, 2)
    words = set(corpus_tokens)
    w2i = helpers.word_index(expect, got[0], words, call)
    model = expect.module(got[1], f"{call} -> model")
    W_in, _ = helpers.embedding_weights(student, expect, model, f"{call} -> model",
                                        len(words), settings["dim"])
    helpers.recall_verdict(expect, call, w2i, W_in, settings["dim"])
