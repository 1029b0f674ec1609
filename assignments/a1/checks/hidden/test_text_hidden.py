"""Hidden checks of build_vocab, bag_of_words, LogisticRegression and train_classifier."""

from __future__ import annotations

import numpy as np
import pytest

from grader import CheckFailure, Hint, StudentFailure, tensor


@pytest.mark.rubric("vocab-corpus")
def test_build_vocab_corpus(student, expect, ref, corpus):
    sentences = corpus.train_sentences
    want = ref("build_vocab", sentences)
    call = f"build_vocab({len(sentences)} corpus sentences)"
    got = student.build_vocab(sentences)
    if not isinstance(got, dict):
        expect.fail(f"{call} returned a {type(got).__name__}; expected a dict word -> index")
    missing, extra = set(want) - set(got), set(got) - set(want)
    expect.that(not missing and not extra,
                f"{call}: {len(missing)} corpus token(s) missing (e.g. {sorted(missing)[:3]}), "
                f"{len(extra)} unexpected key(s) (e.g. {sorted(map(str, extra))[:3]}); tokenize "
                "with re.findall(r\"[a-z0-9']+\", sentence.lower())",
                f"{call}: {expect.safe(len(missing))} token(s) missing, "
                f"{expect.safe(len(extra))} unexpected key(s)")
    indices = sorted(v for v in got.values() if type(v) is int)
    expect.that(indices == list(range(len(want))),
                f"{call}: the indices are not the ints {expect.safe(0)} to "
                f"V - {expect.safe(1)}, each used once")


@pytest.mark.rubric("bow-unknown")
def test_bag_of_words_unknown(student, expect):
    vocab = {"good": 0, "bad": 1, "not": 2}
    sentence = "Not good, not bad: simply unremarkable and forgettable."
    expect.close(student.bag_of_words(sentence, vocab), [1.0, 1.0, 2.0],
                 expect.sig(sentence=sentence, vocab=vocab))


@pytest.mark.rubric("bow-corpus")
def test_bag_of_words_corpus(student, expect, ref, corpus):
    vocab = ref("build_vocab", corpus.train_sentences)
    for sentence in corpus.test_sentences[:12]:
        want = ref("bag_of_words", sentence, vocab)
        expect.close(student.bag_of_words(sentence, vocab), want,
                     f"bag_of_words(a corpus sentence, vocab of {len(vocab)} words)")


@pytest.mark.rubric("logreg-classes")
def test_logistic_regression_classes(student, expect, rng):
    for v, c in ((9, 3), (4, 5)):
        call = f"LogisticRegression({v}, n_classes={c})"
        model = expect.module(student.LogisticRegression(v, n_classes=c), call)
        expect.array(student.method(model, "__call__", tensor(rng.random((6, v)))),
                     f"{call}(x (6, {v}))", shape=(6, c))


@pytest.mark.rubric("logreg-affine")
def test_logistic_regression_affine(student, expect, rng):
    v = 8
    model = expect.module(student.LogisticRegression(v), f"LogisticRegression({v})")
    a = tensor(rng.poisson(1.0, (5, v)))
    b = tensor(rng.poisson(1.0, (5, v)))
    zero, both = tensor(np.zeros((5, v))), tensor(a.values + b.values)
    outs = [expect.array(student.method(model, "__call__", x), f"LogisticRegression({v})(x)",
                         shape=(5, 2)) for x in (a, b, both, zero)]
    f_a, f_b, f_ab, f_0 = outs
    if np.allclose(f_a.sum(1), 1.0, atol=1e-4) and np.allclose(f_b.sum(1), 1.0, atol=1e-4):
        expect.fail(f"LogisticRegression({v}).forward returns rows that sum to {expect.safe(1)}",
                    hint=Hint("probabilities-not-logits", "forward returns probabilities; "
                              "return the logits (the linear layer's output), because "
                              "cross-entropy applies the softmax itself"))
    expect.that(np.allclose(f_a + f_b - f_0, f_ab, atol=1e-4),
                f"LogisticRegression({v}).forward is not an affine map of its input "
                "(f(a) + f(b) - f(zero) != f(a + b)): it should return the logits W x + b, with no "
                "non-linearity")
    expect.that(bool(np.abs(f_0).max() > 0.0),
                f"LogisticRegression({v}).forward maps the zero vector to exactly "
                f"{expect.safe(0)}: the model has no bias (the logits must be W x + b)",
                hint=Hint("no-bias", "the linear layer has no bias: keep torch.nn.Linear's "
                          "default bias=True"))


CURVE_EPOCHS = (0, 1)
"""Where the training-loss plot samples the student's train_classifier (20 comes for free)."""
CURVE_BUDGET = 30.0
"""Seconds the graded 20-epoch training may take for the plot's extra trainings (1 epoch in
all, a twentieth of it) to be worth it."""


def training_curve(student, expect, helpers, train, seed: int) -> list[tuple[int, float]]:
    """The training-set cross-entropy after 0 and 1 epochs (best effort: [] on error)."""
    args, x_train, labels = train
    points = []
    try:
        for epochs in CURVE_EPOCHS:
            model = expect.module(student.train_classifier(*args, epochs=epochs, lr=0.1,
                                                           seed=seed), "curve")
            logits = expect.array(student.method(model, "__call__", x_train), "curve",
                                  shape=(len(labels), 2))
            points.append((epochs, helpers.cross_entropy_of(logits, labels)))
    except (CheckFailure, StudentFailure):
        return []
    return points


@pytest.mark.rubric("train-vs-reference")
def test_train_classifier_vs_reference(student, expect, assignment, corpus, memo, runs,
                                       helpers):
    # The same training run as train-accuracy's (one 20-epoch training per submission).
    vocab = helpers.vocab_of(corpus.train_sentences)
    x_test = helpers.bow_matrix(corpus.test_sentences, vocab)
    x_train = helpers.bow_matrix(corpus.train_sentences, vocab)
    args = (corpus.train_sentences, corpus.train_labels, vocab)
    labels = corpus.train_labels

    def reference_run() -> tuple[float, list[tuple[int, float]]]:
        import torch  # only when the cache misses: a warm cache spares this process torch

        reference = assignment.load_reference()
        curve = []
        train, test = (torch.from_numpy(x.values.copy()) for x in (x_train, x_test))
        for epochs in (*CURVE_EPOCHS, 20):
            ref = reference.train_classifier(*args, epochs=epochs, lr=0.1, seed=0)
            with torch.no_grad():
                curve.append((epochs, helpers.cross_entropy_of(ref(train).numpy(), labels)))
                right = ref(test).argmax(1).numpy() == np.asarray(corpus.test_labels)
        return float(right.mean()), curve

    want, ref_curve = memo(("train-vs-reference", len(vocab)), reference_run)
    run = helpers.corpus_run(student, expect, runs, corpus)
    got = float((run.test_logits.argmax(1) == np.asarray(corpus.test_labels)).mean())
    curve = training_curve(student, expect, helpers, (args, x_train, labels), 0) if (
        run.seconds < CURVE_BUDGET) else []
    if curve:
        final_loss = helpers.cross_entropy_of(run.train_logits, labels)
        expect.plot("train_classifier: training loss", "epochs trained",
                    "cross-entropy on the training set",
                    {"your train_classifier": [*curve, (20, final_loss)], "reference": ref_curve})
    margin = float(expect.setting("accuracy_margin"))
    if got < want - margin:
        expect.fail(f"{run.call}: held-out accuracy {got:.1%}; the reference reaches {want:.1%} "
                    f"and the check allows {margin:.0%} less",
                    f"{run.call}: held-out accuracy {expect.safe(f'{got - want:+.1%}')} from "
                    f"the reference's; the check allows {expect.safe(f'{margin:.0%}')} less",
                    hint=helpers.untrained_hint(student, expect, args, 0, run.test_logits,
                                                x_test))


@pytest.mark.rubric("train-zero-grad")
def test_train_classifier_zeroes_gradients(student, expect, runs, helpers):
    # Rule: zero the gradients before each backward pass. On 3 examples, every order of
    # per-example steps is replayed with gradients that pile up: a run that one of those
    # explains (and no correct replay does) never zeroed them.
    proc, n, lr, seed = helpers.procedure, 3, 0.5, 3
    start = helpers.tiny_run(student, expect, runs, n, 0, lr, seed)
    run = helpers.tiny_run(student, expect, runs, n, 1, lr, seed)
    for model in (start, run):
        if model.params is None:
            helpers.judge_unreadable(student, expect, runs, model)
            return  # not an affine model: LogisticRegression's own checks judge that
    x, labels = helpers.tiny_features(n), helpers.TINY_LABELS[:n]
    got = np.concatenate([run.params[0].ravel(), run.params[1]])
    plain = proc.classifier_candidates(start.params, x, labels, lr)
    piled = proc.classifier_candidates(start.params, x, labels, lr, accumulate=True)
    scale = float(np.abs(plain).max())
    expect.that(proc.close(plain, got, scale).any() or not proc.close(piled, got, scale).any(),
                f"{run.call}: the trained model is what per-example SGD gives when each step "
                "adds the gradients of all earlier steps (rule: zero the gradients before each "
                "backward pass)", hint=helpers.PILE_UP)


@pytest.mark.rubric("train-seed")
def test_train_classifier_seed(student, expect, runs, helpers):
    # Rule: seed decides the initialisation and the shuffles: one seed gives one model, two
    # seeds two models.
    n, lr, epochs = 4, 0.5, 2
    first = helpers.tiny_run(student, expect, runs, n, epochs, lr, 0)
    again = helpers.tiny_run(student, expect, runs, n, epochs, lr, 0, fresh=True)
    other = helpers.tiny_run(student, expect, runs, n, epochs, lr, 1)
    expect.that(bool(np.array_equal(first.outputs, again.outputs)),
                f"{first.call} returned two different models when called twice (rule: the same "
                "seed gives the same run)", hint=helpers.NOT_SEEDED)
    expect.that(not np.allclose(first.outputs, other.outputs, rtol=0, atol=1e-6),
                f"{first.call} and the same call with seed={expect.safe(1)} returned the same "
                "model (rule: seed decides the initial weights and the shuffles)",
                hint=helpers.SEED_IGNORED)
