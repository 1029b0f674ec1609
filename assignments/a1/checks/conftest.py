"""Fixtures shared by Assignment 1's checks (the grader provides student, expect, rng, ...).

Public checks use only these, NumPy and the lecture's numbers (never the reference), so they
can ship to students. They send tensors as ``grader.tensor`` (NumPy values the worker receives
as a torch.Tensor) and compute what they expect with NumPy: the trusted process then never
imports torch for them (``grader check`` skips 1.6 s of CPU and 200 MiB).
"""

from __future__ import annotations

import csv
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import sgd_replay as procedure

from grader import Array, CheckFailure, Hint, StudentFailure, Variant, tensor

DATA = Path(__file__).resolve().parents[1] / "data" / "sentiment.tsv"
_TOKEN = re.compile(r"[a-z0-9']+")


@dataclass(frozen=True)
class Corpus:
    train_sentences: list[str]
    train_labels: list[int]
    test_sentences: list[str]
    test_labels: list[int]


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    """The bundled sentiment corpus (format: data/README.md)."""
    parts: dict[str, tuple[list[str], list[int]]] = {"train": ([], []), "test": ([], [])}
    with DATA.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            sentences, labels = parts[row["split"]]
            sentences.append(row["text"])
            labels.append(int(row["label"]))
    return Corpus(*parts["train"], *parts["test"])


def softmax32(x: np.ndarray) -> Array:
    """torch.softmax(x, -1) of float32 values, as a float32 tensor for the worker."""
    x = np.asarray(x, dtype=np.float32)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return tensor(e / e.sum(axis=-1, keepdims=True))


def one_hot(indices: Any, classes: int) -> Array:
    """torch.nn.functional.one_hot(indices, classes).float(), as a tensor for the worker."""
    return tensor(np.eye(classes, dtype=np.float32)[np.asarray(indices)])


def tokens(sentence: str) -> list[str]:
    return _TOKEN.findall(sentence.lower())


def vocab_of(sentences: list[str]) -> dict[str, int]:
    words = sorted({w for s in sentences for w in tokens(s)})
    return {w: i for i, w in enumerate(words)}


def bow_matrix(sentences: list[str], vocab: dict[str, int]) -> Array:
    """The sentences' bag-of-words rows, a float32 tensor for the worker."""
    x = np.zeros((len(sentences), len(vocab)), dtype=np.float32)
    for row, sentence in enumerate(sentences):
        for word in tokens(sentence):
            if word in vocab:
                x[row, vocab[word]] += 1
    return tensor(x)


@pytest.fixture(scope="session")
def features(corpus: Corpus) -> tuple[dict[str, int], Array]:
    """The training vocabulary and the held-out sentences as a bag-of-words matrix."""
    vocab = vocab_of(corpus.train_sentences)
    return vocab, bow_matrix(corpus.test_sentences, vocab)


@pytest.fixture(scope="session")
def train_features(corpus: Corpus) -> Array:
    """The training sentences as a bag-of-words matrix over the training vocabulary."""
    return bow_matrix(corpus.train_sentences, vocab_of(corpus.train_sentences))


def cross_entropy_of(logits: np.ndarray, labels: list[int]) -> float:
    """Mean cross-entropy of (N, C) logits against integer labels, computed stably."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(labels)), labels].mean())


@pytest.fixture(scope="session")
def step_variants() -> Callable[..., tuple[Variant, ...]]:
    """The (new_m, new_c) that the usual mistakes in an SGD step would give."""

    def make(m: float, c: float, right: tuple[float, float],
             example: tuple[float, float, float] | None = None) -> tuple[Variant, ...]:
        dm, dc = right[0] - m, right[1] - c
        stale = () if example is None else (Variant(Hint(
            "stale-gradient", "c's gradient is computed after m was updated: compute both "
            "gradients from the old m and c, then update both"), procedure.stale_update(
                np.array(m), np.array(c), np.array(example[0]), np.array(example[1]),
                example[2])),)
        return (*stale,
            Variant(Hint("missing-factor-2", "the step is half as long as it should be: the "
                         "derivative of (y - ŷ)² is -2 (y - ŷ) times the input, and the 2 is "
                         "missing"), (m + dm / 2, c + dc / 2)),
            Variant(Hint("extra-factor-2", "the step is twice as long as it should be: an "
                         "extra factor 2 in the gradient"), (m + 2 * dm, c + 2 * dc)),
            Variant(Hint("sign-flipped", "the step goes uphill: subtract lr times the gradient (or "
                         "check the sign of the gradient)"), (m - dm, c - dc)),
        )

    return make


def read_losses(expect: Any, got: Any, call: str, epochs: int) -> list[float]:
    """A list of ``epochs`` finite numbers; nan or inf means the training diverged."""
    if isinstance(got, (list, tuple)) and len(got) == epochs + 1:
        expect.fail(f"{call} -> losses has {len(got)} items; expected a list of {epochs} "
                    "floats, one per epoch", hint=ONE_LOSS_TOO_MANY)
    items = expect.sequence(got, f"{call} -> losses", epochs, what="a list", unit="floats")
    for i, item in enumerate(items):
        raw = item.values if isinstance(item, Array) and item.shape == () else item
        if isinstance(raw, (float, np.floating)) and not np.isfinite(raw):
            expect.fail(f"{call} -> losses[{i}] is {float(raw)}: the loss overflowed",
                        hint=DIVERGES)
    return [expect.number(v, f"{call} -> losses[{i}]") for i, v in enumerate(items)]


ONE_LOSS_TOO_MANY = Hint("losses-length", "losses has one entry too many: record the MSE after "
                         "each epoch only, not also before the first")
LOSSES_NOT_MSE = Hint("losses-not-per-epoch", "losses[e] must be the MSE of the current line "
                      "over the whole data, recorded after epoch e")
DIVERGES = Hint("diverges", "the loss grows from epoch to epoch: check that each update "
                "subtracts lr times the gradient, and the sign of the gradient")
NOT_UPDATED = Hint("not-updated", "the trained model gives exactly the outputs of an untrained "
                   "one: the parameters are never updated (is optimizer.step() called after "
                   "loss.backward()?)")


def untrained_hint(student: Any, expect: Any, args: tuple[Any, ...], seed: int,
                   logits: np.ndarray, x: Array) -> Hint | None:
    """NOT_UPDATED when training for 0 epochs gives the same model as training for 20."""
    try:
        start = expect.module(student.train_classifier(*args, epochs=0, seed=seed), "epochs=0")
        before = expect.array(student.method(start, "__call__", x), "epochs=0 model",
                              shape=logits.shape)
    except (CheckFailure, StudentFailure):  # the evidence is missing: no hint, no verdict
        return None
    return NOT_UPDATED if np.allclose(before, logits, rtol=0, atol=1e-7) else None


# ---------------------------------------------------------------- procedure checks' evidence

TINY_SENTENCES = ["good fun", "bad dull plot", "fun plot good", "dull bad"]
TINY_LABELS = [1, 0, 1, 0]
TINY_VOCAB = {"bad": 0, "dull": 1, "fun": 2, "good": 3, "plot": 4}
"""A few examples for the procedure checks: every order of them can be replayed. Lower-case
words, each once per sentence: a student's train_classifier that uses their own bag_of_words
gets the same features even if that counts or tokenizes wrongly (its checks judge that)."""


@dataclass(frozen=True)
class TinyRun:
    """A train_classifier run on the first ``n`` tiny examples: the model's outputs on
    :func:`procedure.probe_rows`, and its (W, b) when the model is affine (else None)."""

    call: str
    outputs: np.ndarray
    params: tuple[np.ndarray, np.ndarray] | None


@pytest.fixture(scope="session")
def runs() -> dict[Any, Any]:
    """Student runs shared by the checks of one submission (its own training is the costly
    part of grading it): tiny runs by arguments, and the corpus run."""
    return {}


def tiny_run(student: Any, expect: Any, runs: dict[Any, Any], n: int, epochs: int, lr: float,
             seed: int, fresh: bool = False) -> TinyRun:
    """train_classifier on the first ``n`` tiny examples (cached unless ``fresh``)."""
    key = ("tiny", n, epochs, lr, seed)
    if fresh or key not in runs:
        runs[key] = _tiny_run(student, expect, n, epochs, lr, seed)
    if isinstance(runs[key], Exception):
        raise runs[key]
    run: TinyRun = runs[key]
    return run


def _tiny_run(student: Any, expect: Any, n: int, epochs: int, lr: float,
              seed: int) -> TinyRun | Exception:
    call = (f"train_classifier({n} sentences, labels, vocab of {len(TINY_VOCAB)} words, "
            f"epochs={epochs}, lr={lr:g}, seed={seed})")
    probe = tensor(procedure.probe_rows(len(TINY_VOCAB)))
    try:
        model = expect.module(student.train_classifier(
            TINY_SENTENCES[:n], TINY_LABELS[:n], dict(TINY_VOCAB), epochs=epochs, lr=lr,
            seed=seed), call)
        out = expect.array(student.method(model, "__call__", probe),
                           f"the model {call} returned", shape=(probe.shape[0], 2))
    except (CheckFailure, StudentFailure) as exc:
        return exc
    return TinyRun(call, out, procedure.params_of(out, len(TINY_VOCAB)))


def judge_unreadable(student: Any, expect: Any, runs: dict[Any, Any], run: TinyRun) -> None:
    """A trained model the replay cannot read (not affine): LogisticRegression's checks judge
    that when a fresh LogisticRegression is not affine either; otherwise train_classifier
    returned some other model, and fails."""
    if "fresh-affine" not in runs:
        probe = tensor(procedure.probe_rows(len(TINY_VOCAB)))
        try:
            model = expect.module(student.LogisticRegression(len(TINY_VOCAB)), "fresh")
            out = expect.array(student.method(model, "__call__", probe), "fresh",
                               shape=(probe.shape[0], 2))
            runs["fresh-affine"] = procedure.params_of(out, len(TINY_VOCAB)) is not None
        except (CheckFailure, StudentFailure):
            runs["fresh-affine"] = False
    expect.that(not runs["fresh-affine"],
                f"the model {run.call} returned is not an affine map of its input, though a "
                "new LogisticRegression is: return the LogisticRegression you trained")


def tiny_features(n: int) -> np.ndarray:
    return bow_matrix(TINY_SENTENCES[:n], TINY_VOCAB).values.astype(np.float64)


@dataclass(frozen=True)
class CorpusRun:
    """The student's classifier trained once on the corpus with the default arguments."""

    call: str
    test_logits: np.ndarray
    train_logits: np.ndarray
    seconds: float


def corpus_run(student: Any, expect: Any, runs: dict[Any, Any], corpus: Corpus) -> CorpusRun:
    """train_classifier(corpus, defaults): one 20-epoch training shared by the public and the
    hidden check (the costliest call of a submission's grading)."""
    if "corpus" not in runs:
        runs["corpus"] = _corpus_run(student, expect, corpus)
    if isinstance(runs["corpus"], Exception):
        raise runs["corpus"]
    run: CorpusRun = runs["corpus"]
    return run


def _corpus_run(student: Any, expect: Any, corpus: Corpus) -> CorpusRun | Exception:
    vocab = vocab_of(corpus.train_sentences)
    x_test = bow_matrix(corpus.test_sentences, vocab)
    x_train = bow_matrix(corpus.train_sentences, vocab)
    call = (f"train_classifier({len(corpus.train_sentences)} training sentences, labels, "
            f"vocab of {len(vocab)} words)")
    started = time.monotonic()
    try:
        model = expect.module(student.train_classifier(
            corpus.train_sentences, corpus.train_labels, vocab), call)
        seconds = time.monotonic() - started
        test = expect.array(student.method(model, "__call__", x_test),
                            f"the trained model on x_test {tuple(x_test.shape)}",
                            shape=(len(corpus.test_sentences), 2))
        train = expect.array(student.method(model, "__call__", x_train),
                             f"the trained model on x_train {tuple(x_train.shape)}",
                             shape=(len(corpus.train_sentences), 2))
    except (CheckFailure, StudentFailure) as exc:
        return exc
    return CorpusRun(call, test, train, seconds)


NOT_SEEDED = Hint("not-seeded", "two runs with the same seed differ: draw every random number "
                  "from generators seeded with seed (e.g. torch.manual_seed(seed) and "
                  "torch.Generator().manual_seed(seed), or random.Random(seed))")
SEED_IGNORED = Hint("seed-ignored", "runs with different seeds are identical: the seed must "
                    "decide the shuffles (seed your generator with the seed argument)")
NEVER_SHUFFLES = Hint("never-shuffled", "every epoch visits the examples in their given order: "
                      "shuffle them each epoch with a generator seeded with seed")
LR_IGNORED = Hint("lr-ignored", "with lr=0 the parameters still changed: use the lr argument "
                  "(not a learning rate of your own) in every update")
PILE_UP = Hint("grads-not-zeroed", "the gradients pile up from one example to the next: call "
               "optimizer.zero_grad() before each loss.backward()")
FULL_BATCH = Hint("full-batch", "the update uses the gradient of all the examples at once; "
                  "SGD here takes one step per example, on that example's loss alone")


@pytest.fixture(scope="session")
def helpers() -> SimpleNamespace:
    """Helpers for checks (checks are loaded by path, so they share code through fixtures)."""
    return SimpleNamespace(
        read_losses=read_losses, untrained_hint=untrained_hint,
        cross_entropy_of=cross_entropy_of, DIVERGES=DIVERGES, NOT_UPDATED=NOT_UPDATED,
        LOSSES_NOT_MSE=LOSSES_NOT_MSE,
        tiny_run=tiny_run, tiny_features=tiny_features, TINY_LABELS=TINY_LABELS,
        judge_unreadable=judge_unreadable,
        corpus_run=corpus_run, procedure=procedure, vocab_of=vocab_of, bow_matrix=bow_matrix,
        softmax32=softmax32, one_hot=one_hot,
        NOT_SEEDED=NOT_SEEDED,
        SEED_IGNORED=SEED_IGNORED, NEVER_SHUFFLES=NEVER_SHUFFLES, LR_IGNORED=LR_IGNORED,
        PILE_UP=PILE_UP, FULL_BATCH=FULL_BATCH)
