"""Bad arguments raise errors that name the argument and the shape or value it should have."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch

import reference

z = torch.zeros
VOCAB = {"good": 0, "bad": 1}


def raises(error: type[Exception], fn: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    with pytest.raises(error) as excinfo:
        fn(*args, **kwargs)
    return str(excinfo.value)


def assert_mentions(message: str, *fragments: str) -> None:
    missing = [f for f in fragments if f not in message]
    assert not missing, f"message {message!r} lacks {missing}"


@pytest.mark.parametrize(
    ("error", "fn", "args", "fragments"),
    [
        # mse
        (ValueError, reference.mse, (z(3), z(4)), ("y_hat", "(3,)", "(4,)")),
        (TypeError, reference.mse, ([1.0, 2.0], z(2)), ("y_hat", "torch.Tensor", "list")),
        (TypeError, reference.mse, (z(2), (1.0, 2.0)), ("y", "torch.Tensor", "tuple")),
        (TypeError, reference.mse, (torch.tensor([1, 2]), z(2)), ("y_hat", "floating", "int64")),
        (ValueError, reference.mse, (z(2, 1), z(2, 1)), ("y_hat", "(N,)", "(2, 1)")),
        (ValueError, reference.mse, (z(3), z(3, 1)), ("y", "(N,)", "(3, 1)")),
        (ValueError, reference.mse, (z(()), z(())), ("y_hat", "(N,)", "()")),
        (ValueError, reference.mse, (z(0), z(0)), ("y_hat", "at least one")),
        # softmax family
        (ValueError, reference.softmax, (z(2, 2, 2),), ("z", "(C,) or (N, C)", "(2, 2, 2)")),
        (ValueError, reference.softmax, (z(()),), ("z", "(C,) or (N, C)", "()")),
        (ValueError, reference.softmax, (z(3, 0),), ("z", "at least one")),
        (TypeError, reference.softmax, ([1.0, 2.0],), ("z", "torch.Tensor")),
        (ValueError, reference.log_softmax, (z(1, 1, 1),), ("z", "(C,) or (N, C)")),
        (ValueError, reference.logsumexp, (z(1, 1, 1),), ("z", "(C,) or (N, C)")),
        (TypeError, reference.logsumexp, (torch.tensor([1, 2]),), ("z", "floating")),
        # cross_entropy
        (ValueError, reference.cross_entropy, (z(2, 3), z(2, 4)), ("p_hat", "y", "(2, 3)")),
        (ValueError, reference.cross_entropy, (z(3), z(1, 3)), ("p_hat", "y", "(1, 3)")),
        (ValueError, reference.cross_entropy, (z(1, 1, 1), z(1, 1, 1)), ("p_hat", "(N, C)")),
        (TypeError, reference.cross_entropy, (z(2), torch.tensor([1, 0])), ("y", "floating")),
        (TypeError, reference.cross_entropy, (None, z(2)), ("p_hat", "NoneType")),
    ],
)
def test_loss_errors(error: type[Exception], fn: Callable[..., Any], args: tuple[Any, ...],
                     fragments: tuple[str, ...]) -> None:
    assert_mentions(raises(error, fn, *args), *fragments)


@pytest.mark.parametrize(
    ("W", "b", "x", "y", "fragments"),
    [
        (z(3, 4), z(2), z(4), z(3), ("b", "(3,)", "(2,)")),
        (z(3, 4), z(3), z(5), z(3), ("x", "(4,)", "(5,)")),
        (z(3, 4), z(3), z(4), z(2), ("y", "(3,)", "(2,)")),
        (z(4), z(3), z(4), z(3), ("W", "(C, V)", "(4,)")),
        (z(3, 4), z(3, 1), z(4), z(3), ("b", "(C,)", "(3, 1)")),
        (z(3, 4), z(3), z(1, 4), z(3), ("x", "(V,)", "(1, 4)")),
    ],
)
def test_softmax_regression_gradients_errors(W: torch.Tensor, b: torch.Tensor, x: torch.Tensor,
                                             y: torch.Tensor, fragments: tuple[str, ...]) -> None:
    message = raises(ValueError, reference.softmax_regression_gradients, W, b, x, y)
    assert_mentions(message, *fragments)


def test_softmax_regression_gradients_rejects_integer_targets() -> None:
    message = raises(TypeError, reference.softmax_regression_gradients,
                     z(2, 3), z(2), z(3), torch.tensor([1, 0]))
    assert_mentions(message, "y", "floating")


@pytest.mark.parametrize(
    ("error", "fn", "args", "kwargs", "fragments"),
    [
        (TypeError, reference.mse_gradients, ("0.2", 12.0, z(1), z(1)), {}, ("m", "str")),
        (ValueError, reference.mse_gradients, (z(2), 12.0, z(1), z(1)), {}, ("m", "(2,)")),
        (ValueError, reference.mse_gradients, (0.2, float("nan"), z(1), z(1)), {},
         ("c", "finite")),
        (ValueError, reference.mse_gradients, (0.2, 12.0, z(2), z(3)), {}, ("x", "y", "(2,)")),
        (ValueError, reference.mse_gradients, (0.2, 12.0, z(0), z(0)), {}, ("x", "at least")),
        (TypeError, reference.sgd_step, (0.2, 12.0, 60.0, 63.0), {"lr": None}, ("lr",)),
        (ValueError, reference.sgd_step, (0.2, 12.0, float("inf"), 63.0), {"lr": 0.1},
         ("x_i", "finite")),
        (TypeError, reference.sgd_step, (True, 12.0, 60.0, 63.0), {"lr": 0.1}, ("m", "bool")),
        (ValueError, reference.fit_line, (z(3), z(3)), {"lr": 0.1, "epochs": -1},
         ("epochs", "-1")),
        (ValueError, reference.fit_line, (z(3), z(3)), {"lr": 0.1, "epochs": 2.0},
         ("epochs", "int")),
        (ValueError, reference.fit_line, (z(3), z(2)), {"lr": 0.1, "epochs": 1},
         ("x", "y", "(3,)", "(2,)")),
        (ValueError, reference.least_squares_line, (torch.ones(3), z(3)), {},
         ("x", "constant")),
    ],
)
def test_gradient_errors(error: type[Exception], fn: Callable[..., Any], args: tuple[Any, ...],
                         kwargs: dict[str, Any], fragments: tuple[str, ...]) -> None:
    assert_mentions(raises(error, fn, *args, **kwargs), *fragments)


def test_text_errors() -> None:
    assert_mentions(raises(TypeError, reference.build_vocab, "a string"), "sentences", "str")
    assert_mentions(raises(TypeError, reference.build_vocab, ["ok", 3]), "sentences[1]", "int")
    assert_mentions(raises(TypeError, reference.tokenize, b"bytes"), "sentence", "bytes")
    assert_mentions(raises(TypeError, reference.bag_of_words, "good", ["good"]), "vocab", "dict")
    assert_mentions(raises(ValueError, reference.bag_of_words, "good", {"good": 1}),
                    "vocab", "0..0")
    assert_mentions(raises(ValueError, reference.bag_of_words, "a", {"a": 0, "b": 0}), "vocab")
    assert_mentions(raises(TypeError, reference.bag_of_words_matrix, "good bad", VOCAB),
                    "sentences")


def test_classifier_errors() -> None:
    sentences = ["good", "bad", "good good"]
    message = raises(ValueError, reference.train_classifier, sentences, [1, 2, 0], VOCAB)
    assert_mentions(message, "labels[1]", "2")
    message = raises(ValueError, reference.train_classifier, sentences, [1, True, 0], VOCAB)
    assert_mentions(message, "labels[1]", "True")
    message = raises(ValueError, reference.train_classifier, sentences, [1, 0], VOCAB)
    assert_mentions(message, "labels", "3", "2")
    message = raises(ValueError, reference.train_classifier, sentences, [1, 0, 1], VOCAB,
                     epochs=-2)
    assert_mentions(message, "epochs")
    assert_mentions(raises(ValueError, reference.LogisticRegression, 0), "vocab_size", "0")
    assert_mentions(raises(ValueError, reference.LogisticRegression, 3, 1), "n_classes", "1")
    model = reference.LogisticRegression(5)
    assert_mentions(raises(ValueError, model, z(2, 4)), "x", "(N, 5)", "(2, 4)")
    assert_mentions(raises(ValueError, model, z(5)), "x", "(N, 5)", "(5,)")
    assert_mentions(raises(ValueError, reference.accuracy, torch.tensor([0, 1]), [0, 1, 1]),
                    "predicted", "(3,)", "(2,)")
    assert_mentions(raises(ValueError, reference.accuracy, torch.tensor([], dtype=torch.long),
                           []), "predicted")


def test_fit_line_divergence_names_lr() -> None:
    x = torch.linspace(0, 100, 20)
    with pytest.raises(ValueError, match=r"diverged.*lr=1\.0"):
        reference.fit_line(x, 3 * x, lr=1.0, epochs=50)


def test_mixed_dtypes_are_named() -> None:
    W, b = torch.zeros(2, 3), torch.zeros(2, dtype=torch.float64)
    with pytest.raises(TypeError, match=r"W torch.float32, b torch.float64"):
        reference.softmax_regression_gradients(W, b, torch.zeros(3), torch.tensor([1.0, 0.0]))


def test_numpy_integers_are_accepted_as_labels_and_epochs() -> None:
    import numpy as np

    vocab = reference.build_vocab(["good", "bad"])
    model = reference.train_classifier(["good", "bad"], list(np.array([1, 0])), vocab,
                                       epochs=np.int64(2))
    assert isinstance(model, reference.LogisticRegression)
