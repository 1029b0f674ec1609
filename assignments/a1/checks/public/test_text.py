"""Public checks of build_vocab, bag_of_words, LogisticRegression and train_classifier."""

from __future__ import annotations

import numpy as np
import pytest

from grader import tensor


def check_vocab(expect, got, words, call):
    if not isinstance(got, dict):
        expect.fail(f"{call} returned a {type(got).__name__}; expected a dict word -> index")
    missing = sorted(set(words) - set(got))[:5]
    extra = sorted(str(k) for k in set(got) - set(words))[:5]
    expect.that(not missing and not extra,
                f"{call}: missing words {missing}, unexpected keys {extra}",
                f"{call}: {len(set(words) - set(got))} token(s) missing, "
                f"{len(set(got) - set(words))} unexpected key(s)")
    indices = sorted(v for v in got.values() if type(v) is int)
    expect.that(indices == list(range(len(words))),
                f"{call}: the indices must be the ints 0..{len(words) - 1}, each used once; got "
                f"{sorted(map(str, got.values()))[:10]}",
                f"{call}: the indices are not the ints 0..V-1, each used once")


@pytest.mark.rubric("vocab-small")
def test_build_vocab_small(student, expect):
    sentences = ["The cat sat.", "the dog didn't sit", "A cat, a DOG!"]
    words = {"the", "cat", "sat", "dog", "didn't", "sit", "a"}
    call = expect.sig(sentences=sentences)
    check_vocab(expect, student.build_vocab(sentences), words, call)


@pytest.mark.rubric("bow-small")
def test_bag_of_words_small(student, expect):
    vocab = {"the": 0, "cat": 1, "sat": 2, "dog": 3}
    sentence = "The cat sat; the DOG, the"
    expect.close(student.bag_of_words(sentence, vocab), [3.0, 1.0, 1.0, 1.0],
                 expect.sig(sentence=sentence, vocab=vocab))


@pytest.mark.rubric("logreg-module")
def test_logistic_regression_module(student, expect):
    model = expect.module(student.LogisticRegression(7), "LogisticRegression(7)")
    x = tensor(np.random.default_rng(0).random((5, 7)))
    expect.array(student.method(model, "__call__", x), "LogisticRegression(7)(x (5, 7))",
                 shape=(5, 2))


@pytest.mark.rubric("train-accuracy")
def test_train_classifier_accuracy(student, expect, corpus, runs, helpers):
    run = helpers.corpus_run(student, expect, runs, corpus)
    accuracy = float((run.test_logits.argmax(1) == corpus.test_labels).mean())
    least = float(expect.setting("min_accuracy"))
    if accuracy < least:
        vocab = helpers.vocab_of(corpus.train_sentences)
        x_test = helpers.bow_matrix(corpus.test_sentences, vocab)
        args = (corpus.train_sentences, corpus.train_labels, vocab)
        expect.fail(f"{run.call}: the trained model classifies {accuracy:.1%} of the "
                    f"{len(corpus.test_labels)} held-out sentences correctly; at least "
                    f"{least:.0%} is required (does each step zero the gradients, call "
                    "backward and step?)",
                    hint=helpers.untrained_hint(student, expect, args, 0, run.test_logits,
                                                x_test))


@pytest.mark.rubric("train-per-example-sgd")
def test_train_classifier_per_example_sgd(student, expect, runs, helpers):
    # Rules: per-example SGD with the given lr, from the model epochs=0 returns. On 3 examples
    # every visiting order is replayed, so any shuffle passes.
    proc, n, lr, seed = helpers.procedure, 3, 0.5, 3
    start = helpers.tiny_run(student, expect, runs, n, 0, lr, seed)
    if start.params is None:
        helpers.judge_unreadable(student, expect, runs, start)
        return  # not an affine model: LogisticRegression's own checks judge that
    frozen = helpers.tiny_run(student, expect, runs, n, 1, 0.0, seed)
    again = helpers.tiny_run(student, expect, runs, n, 0, lr, seed, fresh=True)
    if not np.array_equal(again.outputs, start.outputs):
        return  # no fixed starting point to replay from: train-seed judges that
    expect.that(bool(np.allclose(frozen.outputs, start.outputs, rtol=1e-5, atol=1e-6)),
                f"{frozen.call} returned a model different from the one epochs=0 returns; with "
                "lr=0 no step may change it (rule: the optimiser uses the given lr)",
                hint=helpers.LR_IGNORED)
    run = helpers.tiny_run(student, expect, runs, n, 1, lr, seed)
    if run.params is None:
        helpers.judge_unreadable(student, expect, runs, run)
    x, labels = helpers.tiny_features(n), helpers.TINY_LABELS[:n]
    got = np.concatenate([run.params[0].ravel(), run.params[1]]) if run.params else None
    want = proc.classifier_candidates(start.params, x, labels, lr)
    scale = float(np.abs(want).max())
    if got is not None and proc.close(want, got, scale).any():
        return
    hint = None
    if np.allclose(run.outputs, start.outputs, rtol=0, atol=1e-7):
        hint = helpers.NOT_UPDATED
    elif got is not None and proc.close(
            proc.classifier_candidates(start.params, x, labels, lr, accumulate=True),
            got, scale).any():
        hint = helpers.PILE_UP
    elif got is not None and proc.close(
            proc.classifier_full_batch(start.params, x, labels, lr), got, scale):
        hint = helpers.FULL_BATCH
    expect.fail(f"{run.call}: the trained model is not what per-example SGD with lr={lr:g} "
                f"gives from the model epochs=0 returns, in any order of the {n} examples "
                "(rule: one example per step, cross-entropy on its logits, "
                "optimizer.step() after each backward)", hint=hint)
