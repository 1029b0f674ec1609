"""Hidden checks of train_word2vec, most_similar, SkipGram and train_skipgram.

The training functions are graded by the rules of their procedure that their outputs show
(the seed, dim, window, min_count and initialisation), never by reproducing the reference's
random stream; these run on the first lines of the corpus, in milliseconds.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from grader import StudentFailure

SMALL_W2V = {"dim": 6, "window": 2, "k": 3, "epochs": 2, "lr": 0.1}
SMALL_SKIPGRAM = {"dim": 5, "window": 2, "k": 2, "epochs": 2, "lr": 0.5, "batch_size": 16}


def small_call(name, tokens, **kwargs):
    return f"{name}({len(tokens)} tokens, " + ", ".join(f"{k}={v}" for k, v in kwargs.items()) + ")"


def w2v_run(pure, expect, helpers, tokens, words, **kwargs):
    """train_word2vec on a small stream: (call, word_to_index, W_in) after the shape checks."""
    call = small_call("train_word2vec", tokens, **kwargs)
    got = expect.sequence(pure.train_word2vec(tokens, **kwargs), call, 2)
    extra = helpers.hint("min-count-ignored") if "min_count" in kwargs else None
    w2i = helpers.word_index(expect, got[0], words, call, extra)
    W = expect.array(got[1], f"{call} -> W_in", shape=(len(words), kwargs["dim"]))
    return call, w2i, W


@pytest.mark.rubric("w2v-seed")
def test_train_word2vec_seed(pure, expect, helpers, tiny_tokens):
    words = set(tiny_tokens)
    call, _, first = w2v_run(pure, expect, helpers, tiny_tokens, words, **SMALL_W2V, seed=1)
    _, _, again = w2v_run(pure, expect, helpers, tiny_tokens, words, **SMALL_W2V, seed=1)
    expect.that(np.array_equal(first, again),
                f"{call} gave a different W_in when called twice with the same seed",
                hint=helpers.hint("not-deterministic"))
    other_call, _, other = w2v_run(pure, expect, helpers, tiny_tokens, words, **SMALL_W2V,
                                   seed=2)
    expect.that(not np.array_equal(first, other),
                f"{call} and {other_call} gave the same W_in", hint=helpers.hint("seed-ignored"))


@pytest.mark.rubric("w2v-min-count")
def test_train_word2vec_min_count(pure, expect, helpers, tiny_tokens):
    kept = set(helpers.vocab_by_count(tiny_tokens, 2))
    w2v_run(pure, expect, helpers, tiny_tokens, kept, **SMALL_W2V, seed=0, min_count=2)


@pytest.mark.rubric("w2v-no-update")
def test_train_word2vec_nothing_to_learn(pure, expect, helpers, tiny_tokens):
    words, dim = set(tiny_tokens), 8
    runs = (({"window": 0, "lr": 0.5}, "window-ignored", "there are no pairs"),
            ({"window": 2, "lr": 0.0}, "init-range", "every step is zero"))
    for changes, slug, why in runs:
        kwargs = {**SMALL_W2V, "dim": dim, "epochs": 3, **changes, "seed": 4}
        call, _, W = w2v_run(pure, expect, helpers, tiny_tokens, words, **kwargs)
        bound = 0.5 / dim
        expect.that(helpers.in_init_range(W, dim),
                    f"{call}: {why}, so W_in must keep its initial values, uniform in ±0.5/dim "
                    f"= ±{bound:g}; it has values up to {np.abs(W).max():.4g} in magnitude",
                    hint=helpers.hint(slug))
        expect.that(np.ptp(W) >= bound,
                    f"{call}: W_in's values span only {np.ptp(W):.3g}; the initial W_in is "
                    f"uniform in ±0.5/dim = ±{bound:g}, so its values spread over about "
                    f"{2 * bound:g}", hint=helpers.hint("init-range"))


def random_words(rng, vocab_size, dim):
    """A vocabulary and random rows of different norms (cosine and dot product disagree)."""
    w2i = {f"w{i:02d}": i for i in range(vocab_size)}
    W = rng.normal(0, 1, (vocab_size, dim)) * rng.uniform(0.2, 5.0, (vocab_size, 1))
    return w2i, torch.tensor(W, dtype=torch.float32)


def check_similar(pure, expect, reference, helpers, word, w2i, W, k):
    call = f"most_similar(a word, word_to_index of {len(w2i)} words, W {tuple(W.shape)}, k)"
    want = reference.most_similar(word, w2i, W, k)
    helpers.similar(expect, pure.most_similar(word, w2i, W, k), want, call,
                    helpers.similar_variants(word, w2i, W.numpy(), k))


@pytest.mark.rubric("similar-random")
def test_most_similar_random(pure, expect, reference, rng, helpers):
    w2i, W = random_words(rng, 15, 6)
    for word, k in (("w03", 4), ("w11", 14), ("w00", 30), ("w07", 1)):
        check_similar(pure, expect, reference, helpers, word, w2i, W, k)


@pytest.mark.rubric("similar-ties")
def test_most_similar_ties(pure, expect, reference, rng, helpers):
    w2i, W = random_words(rng, 10, 4)
    W[[2, 5, 8]] = W[0] + 0.5 * W[1]  # three equal rows: equal cosines with every word
    W[6] = W[3]
    for word, k in (("w00", 5), ("w04", 9), ("w02", 4)):
        check_similar(pure, expect, reference, helpers, word, w2i, W, k)


@pytest.mark.rubric("similar-keyerror")
def test_most_similar_unknown_word(student, pure, expect, reference, rng, helpers):
    w2i, W = random_words(rng, 6, 3)
    check_similar(pure, expect, reference, helpers, "w01", w2i, W, 3)
    call = f"most_similar('zebra' (not in the vocabulary), word_to_index of {len(w2i)} words, W)"
    try:
        got = student.most_similar("zebra", w2i, W, 3)
    except StudentFailure as exc:
        said = exc.message
    else:
        expect.fail(f"{call} returned {helpers.kind_of(got)}; it must raise KeyError")
    expect.that(said.startswith("most_similar raised KeyError"),
                f"{call} failed, but not with KeyError: {said.splitlines()[0][:200]}")


@pytest.mark.rubric("skipgram-forward-random")
def test_skipgram_forward_random(student, expect, helpers, rng):
    helpers.forward_check(student, expect, rng, 11, 5, ((1, 1), (7, 4), (3, 2)), 1.0)
    # large weights: dot products in the thousands, where log(sigmoid(x)) is log(0)
    helpers.forward_check(student, expect, rng, 6, 4, ((4, 3),), 25.0)


def skipgram_run(student, pure, expect, helpers, tokens, words, **kwargs):
    """train_skipgram on a small stream: (call, in_embed, out_embed) after the shape checks."""
    call = small_call("train_skipgram", tokens, **kwargs)
    got = expect.sequence(pure.train_skipgram(tokens, **kwargs), call, 2)
    helpers.word_index(expect, got[0], words, call)
    model = expect.module(got[1], f"{call} -> model")
    W_in, W_out = helpers.embedding_weights(student, expect, model, f"{call} -> model",
                                            len(words), kwargs["dim"])
    return call, W_in, W_out


@pytest.mark.rubric("sgtrain-seed")
def test_train_skipgram_seed(student, pure, expect, helpers, tiny_tokens):
    words = set(tiny_tokens)
    call, first, _ = skipgram_run(student, pure, expect, helpers, tiny_tokens, words,
                                  **SMALL_SKIPGRAM, seed=1)
    _, again, _ = skipgram_run(student, pure, expect, helpers, tiny_tokens, words, **SMALL_SKIPGRAM,
                               seed=1)
    expect.that(np.array_equal(first, again),
                f"{call} gave a different in_embed when called twice with the same seed",
                hint=helpers.hint("not-deterministic"))
    other_call, other, _ = skipgram_run(student, pure, expect, helpers, tiny_tokens, words,
                                        **SMALL_SKIPGRAM, seed=2)
    expect.that(not np.array_equal(first, other),
                f"{call} and {other_call} gave the same in_embed",
                hint=helpers.hint("seed-ignored"))


@pytest.mark.rubric("sgtrain-init")
def test_train_skipgram_init(student, pure, expect, helpers, tiny_tokens):
    words, dim = set(tiny_tokens), 8
    kwargs = {**SMALL_SKIPGRAM, "dim": dim, "epochs": 0, "seed": 3}
    call, W_in, W_out = skipgram_run(student, pure, expect, helpers, tiny_tokens, words, **kwargs)
    bound = 0.5 / dim
    expect.that(not W_out.any(),
                f"{call}: out_embed must start at zero; it has {np.count_nonzero(W_out)} "
                f"non-zero values (largest {np.abs(W_out).max():.3g} in magnitude)",
                hint=helpers.hint("default-init"))
    expect.that(helpers.in_init_range(W_in, dim) and np.ptp(W_in) >= bound,
                f"{call}: in_embed must start uniform in ±0.5/dim = ±{bound:g}; its values "
                f"range from {W_in.min():.4g} to {W_in.max():.4g}",
                hint=helpers.hint("init-range"))

