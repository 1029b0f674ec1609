"""The logistic-regression model, its training loop, and the bundled corpus."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

import reference

CORPUS = Path(__file__).resolve().parents[2] / "assignments" / "a1" / "data" / "sentiment.tsv"

TOY_SENTENCES = [
    "great film, loved it", "awful plot and bad acting", "loved the music, great fun",
    "bad food and awful service", "a great and lovely hotel", "boring, bad, awful",
    "lovely staff, great room", "the worst, truly awful",
]
TOY_LABELS = [1, 0, 1, 0, 1, 0, 1, 0]


@pytest.fixture(autouse=True)
def _restore_global_rng() -> Iterator[None]:
    """Tests here seed the global RNG on purpose; put it back for the rest of the session."""
    with torch.random.fork_rng(devices=[]):
        yield


@pytest.fixture(scope="module")
def toy_vocab() -> dict[str, int]:
    return reference.build_vocab(TOY_SENTENCES)


def _train(vocab: dict[str, int], seed: int = 0, epochs: int = 3) -> torch.nn.Module:
    return reference.train_classifier(TOY_SENTENCES, TOY_LABELS, vocab, epochs=epochs, lr=0.1,
                                      seed=seed)


# --- LogisticRegression ------------------------------------------------------------------------


@pytest.mark.parametrize(("vocab_size", "n_classes", "n"), [(1, 2, 1), (7, 2, 4), (12, 5, 9)])
def test_forward_is_x_wt_plus_b(vocab_size: int, n_classes: int, n: int) -> None:
    model = reference.LogisticRegression(vocab_size, n_classes)
    assert isinstance(model, torch.nn.Module)
    x = torch.rand(n, vocab_size) * 3
    logits = model(x)
    assert logits.shape == (n, n_classes)
    W, b = model.linear.weight, model.linear.bias
    assert W.shape == (n_classes, vocab_size) and b.shape == (n_classes,)
    torch.testing.assert_close(logits, x @ W.T + b)


def test_default_is_two_classes_and_parameters_are_trainable() -> None:
    model = reference.LogisticRegression(4)
    assert model(torch.zeros(3, 4)).shape == (3, 2)
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == 4 * 2 + 2


# --- train_classifier --------------------------------------------------------------------------


def test_train_classifier_returns_a_fitted_model_in_eval_mode(toy_vocab: dict[str, int]) -> None:
    model = _train(toy_vocab, epochs=20)
    assert isinstance(model, reference.LogisticRegression) and not model.training
    x = reference.bag_of_words_matrix(TOY_SENTENCES, toy_vocab)
    assert model(x).shape == (len(TOY_SENTENCES), 2)
    assert reference.accuracy(reference.predict(model, x), TOY_LABELS) == 1.0


def test_train_classifier_is_deterministic_for_a_seed(toy_vocab: dict[str, int]) -> None:
    torch.manual_seed(123)
    first = _train(toy_vocab, seed=5).state_dict()
    torch.manual_seed(456)  # the global RNG must not matter
    again = _train(toy_vocab, seed=5).state_dict()
    assert first.keys() == again.keys()
    for key in first:
        assert torch.equal(first[key], again[key]), key
    other = _train(toy_vocab, seed=6).state_dict()
    assert any(not torch.equal(first[k], other[k]) for k in first)


def test_train_classifier_leaves_the_global_rng_untouched(toy_vocab: dict[str, int]) -> None:
    torch.manual_seed(2024)
    before = torch.get_rng_state()
    _train(toy_vocab, seed=1)
    assert torch.equal(torch.get_rng_state(), before)


def test_train_classifier_with_zero_epochs_keeps_the_seeded_initialisation(
    toy_vocab: dict[str, int],
) -> None:
    a = _train(toy_vocab, seed=3, epochs=0).state_dict()
    b = _train(toy_vocab, seed=3, epochs=0).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    bound = 1 / len(toy_vocab) ** 0.5  # nn.Linear's uniform(-1/sqrt(V), 1/sqrt(V))
    assert all(float(v.abs().max()) <= bound for v in a.values())


def test_predict_and_accuracy() -> None:
    model = reference.LogisticRegression(2, 3)
    with torch.no_grad():
        model.linear.weight.copy_(torch.eye(3, 2))
        model.linear.bias.zero_()
    x = torch.tensor([[2.0, 1.0], [0.0, 5.0], [-1.0, -2.0]])
    predicted = reference.predict(model, x)
    assert predicted.dtype == torch.long and predicted.tolist() == [0, 1, 2]
    assert reference.accuracy(predicted, [0, 1, 1]) == pytest.approx(2 / 3)


# --- the bundled corpus ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus() -> reference.Corpus:
    assert CORPUS.is_file(), f"the bundled corpus {CORPUS} is missing"
    return reference.load_sentiment_tsv(CORPUS)


def test_corpus_split_sizes_and_balance(corpus: reference.Corpus) -> None:
    assert len(corpus.train_sentences) == len(corpus.train_labels) == 360
    assert len(corpus.test_sentences) == len(corpus.test_labels) == 120
    assert sum(corpus.train_labels) == 180 and sum(corpus.test_labels) == 60
    assert set(corpus.train_labels) | set(corpus.test_labels) == {0, 1}
    assert all(isinstance(s, str) and s.strip() == s and s for s in
               corpus.train_sentences + corpus.test_sentences)
    assert not set(corpus.train_sentences) & set(corpus.test_sentences)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_corpus_held_out_accuracy_meets_the_handout(corpus: reference.Corpus, seed: int) -> None:
    vocab = reference.build_vocab(corpus.train_sentences)
    model = reference.train_classifier(corpus.train_sentences, corpus.train_labels, vocab,
                                       epochs=20, lr=0.1, seed=seed)
    x_test = reference.bag_of_words_matrix(corpus.test_sentences, vocab)
    acc = reference.accuracy(reference.predict(model, x_test), corpus.test_labels)
    assert acc >= 0.75, f"seed {seed}: held-out accuracy {acc:.3f} < 0.75 promised by the handout"


# --- load_sentiment_tsv on malformed files -----------------------------------------------------


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "corpus.tsv"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_sentiment_tsv_reads_a_small_file_verbatim(tmp_path: Path) -> None:
    path = _write(tmp_path, "split\tlabel\ttext\ntrain\t1\tIt's \"great\", really\n"
                            "test\t0\tNot good.\ntrain\t0\tBad\n")
    corpus = reference.load_sentiment_tsv(path)
    assert corpus == reference.Corpus(["It's \"great\", really", "Bad"], [1, 0], ["Not good."], [0])


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("split\tlabel\tsentence\ntrain\t1\tok\n", 1),
        ("label\tsplit\ttext\n", 1),
        ("", 1),
        ("split\tlabel\ttext\ntrain\t1\tfine\ntrain\t2\tbad label\n", 3),
        ("split\tlabel\ttext\ntrain\tpositive\tbad label\n", 2),
        ("split\tlabel\ttext\ntrain\t1\tok\ntest\t0\tok\nvalid\t1\tbad split\n", 4),
        ("split\tlabel\ttext\ntrain\t1\n", 2),
        ("split\tlabel\ttext\ntrain\t1\ttext\twith a tab\n", 2),
    ],
)
def test_load_sentiment_tsv_rejects_malformed_files(tmp_path: Path, text: str, line: int) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ValueError) as excinfo:
        reference.load_sentiment_tsv(path)
    message = str(excinfo.value)
    assert str(path) in message
    if line == 1:
        assert "header" in message
    else:
        assert f"{path}:{line}:" in message
