"""Public checks of build_vocab, bag_of_words, LogisticRegression and train_classifier."""

from __future__ import annotations

import pytest
import torch


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
    x = torch.rand(5, 7)
    expect.array(student.method(model, "__call__", x), "LogisticRegression(7)(x (5, 7))",
                 shape=(5, 2))


@pytest.mark.rubric("train-accuracy")
def test_train_classifier_accuracy(student, expect, corpus, features, helpers):
    vocab, x_test = features
    args = (corpus.train_sentences, corpus.train_labels, vocab)
    call = (f"train_classifier({len(corpus.train_sentences)} training sentences, labels, "
            f"vocab of {len(vocab)} words)")
    model = expect.module(student.train_classifier(*args), call)
    logits = expect.array(student.method(model, "__call__", x_test),
                          f"the trained model on x_test {tuple(x_test.shape)}",
                          shape=(len(corpus.test_sentences), 2))
    accuracy = float((logits.argmax(1) == corpus.test_labels).mean())
    least = float(expect.setting("min_accuracy"))
    if accuracy < least:
        expect.fail(f"{call}: the trained model classifies {accuracy:.1%} of the "
                    f"{len(corpus.test_labels)} held-out sentences correctly; at least "
                    f"{least:.0%} is required (does each step zero the gradients, call "
                    "backward and step?)",
                    hint=helpers.untrained_hint(student, expect, args, 0, logits, x_test))
