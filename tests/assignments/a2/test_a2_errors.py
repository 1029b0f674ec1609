"""Bad arguments raise errors that name the argument and what it should be."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
import torch

z = torch.zeros
LONG = torch.int64


def assert_raises(error: type[Exception], fn: Callable[..., Any], args: tuple[Any, ...],
                  kwargs: dict[str, Any], fragments: tuple[str, ...]) -> None:
    with pytest.raises(error) as excinfo:
        fn(*args, **kwargs)
    message = str(excinfo.value)
    missing = [f for f in fragments if f not in message]
    assert not missing, f"message {message!r} lacks {missing}"


CASES: list[tuple[type[Exception], str, tuple[Any, ...], dict[str, Any], tuple[str, ...]]] = [
    # sigmoid, tokenize, build_vocab
    (TypeError, "sigmoid", ("1.0",), {}, ("x", "str")),
    (TypeError, "tokenize", (b"bytes",), {}, ("text", "bytes")),
    (TypeError, "tokenize", (["a list"],), {}, ("text", "list")),
    (TypeError, "build_vocab", ("a single string",), {}, ("tokens", "str")),
    (TypeError, "build_vocab", (["ok", 3],), {}, ("tokens[1]", "int")),
    (ValueError, "build_vocab", (["a"],), {"min_count": -1}, ("min_count", "-1")),
    (ValueError, "build_vocab", (["a"],), {"min_count": 1.5}, ("min_count", "int")),
    # skipgram_pairs
    (TypeError, "skipgram_pairs", ([0, 1.0, 2], 1), {}, ("ids[1]", "float")),
    (TypeError, "skipgram_pairs", ("012", 1), {}, ("ids", "str")),
    (ValueError, "skipgram_pairs", ([0, 1], -1), {}, ("window", "-1")),
    (ValueError, "skipgram_pairs", ([0, 1], 1.0), {}, ("window", "int")),
    # negative_distribution
    (TypeError, "negative_distribution", ("3",), {}, ("counts", "str")),
    (ValueError, "negative_distribution", (torch.tensor([1, -2]),), {}, ("counts", "negative")),
    (ValueError, "negative_distribution", (torch.tensor([0, 0]),), {}, ("counts", "sum")),
    (ValueError, "negative_distribution", (torch.ones(2, 2),), {}, ("counts", "(V,)", "(2, 2)")),
    (ValueError, "negative_distribution", (torch.ones(0),), {}, ("counts", "V >= 1")),
    (TypeError, "negative_distribution", (torch.ones(2),), {"power": "0.75"}, ("power", "str")),
    (ValueError, "negative_distribution", (torch.tensor([0, 1]),), {"power": -1.0},
     ("power", "-1.0")),
    # sgns_loss and sgns_gradients
    (ValueError, "sgns_loss", (z(3), z(4), z(2, 3)), {}, ("u_o", "(3,)", "(4,)")),
    (ValueError, "sgns_loss", (z(3), z(3), z(2, 4)), {}, ("U_neg", "(K, 3)", "(2, 4)")),
    (ValueError, "sgns_loss", (z(3), z(3), z(3)), {}, ("U_neg", "(K, d)", "(3,)")),
    (ValueError, "sgns_loss", (z(1, 3), z(3), z(2, 3)), {}, ("v_c", "(d,)", "(1, 3)")),
    (TypeError, "sgns_loss", ([1.0, 0.0], z(2), z(1, 2)), {}, ("v_c", "torch.Tensor", "list")),
    (TypeError, "sgns_loss", (z(2), torch.tensor([1, 0]), z(1, 2)), {}, ("u_o", "floating")),
    (ValueError, "sgns_gradients", (z(3), z(3), z(2, 2)), {}, ("U_neg", "(K, 3)")),
    (TypeError, "sgns_gradients", (z(2), z(2), None), {}, ("U_neg", "NoneType")),
    # sgns_step
    (IndexError, "sgns_step", (z(4, 2), z(4, 2), 4, 0, torch.tensor([1]), 0.1), {},
     ("centre", "0..3", "4")),
    (IndexError, "sgns_step", (z(4, 2), z(4, 2), 0, -1, torch.tensor([1]), 0.1), {},
     ("context", "-1")),
    (IndexError, "sgns_step", (z(4, 2), z(4, 2), 0, 1, torch.tensor([1, 9]), 0.1), {},
     ("negatives", "9")),
    (TypeError, "sgns_step", (z(4, 2), z(4, 2), 0.0, 1, torch.tensor([1]), 0.1), {},
     ("centre", "float")),
    (TypeError, "sgns_step", (z(4, 2), z(4, 2), 0, 1, torch.tensor([1.0]), 0.1), {},
     ("negatives", "int64")),
    (ValueError, "sgns_step", (z(4, 2), z(4, 2), 0, 1, torch.tensor([[1]]), 0.1), {},
     ("negatives", "(K,)", "(1, 1)")),
    (ValueError, "sgns_step", (z(4, 2), z(4, 3), 0, 1, torch.tensor([1]), 0.1), {},
     ("W_out", "(4, 2)", "(4, 3)")),
    (TypeError, "sgns_step", (z(4, 2), z(4, 2), 0, 1, torch.tensor([1]), None), {},
     ("lr", "NoneType")),
    (ValueError, "sgns_step", (z(4), z(4, 2), 0, 1, torch.tensor([1]), 0.1), {},
     ("W_in", "(V, d)", "(4,)")),
    # train_word2vec and train_skipgram
    (TypeError, "train_word2vec", ("the cat sat",), {}, ("tokens", "str")),
    (ValueError, "train_word2vec", (["a", "b"],), {"dim": 0}, ("dim", "0")),
    (ValueError, "train_word2vec", (["a", "b"],), {"window": -2}, ("window", "-2")),
    (ValueError, "train_word2vec", (["a", "b"],), {"epochs": 1.5}, ("epochs", "int")),
    (ValueError, "train_word2vec", (["a", "b"],), {"k": -1}, ("k", "-1")),
    (ValueError, "train_word2vec", (["a", "b"],), {"lr": float("nan")}, ("lr", "finite")),
    (TypeError, "train_word2vec", (["a", "b"],), {"seed": 1.0}, ("seed", "float")),
    (ValueError, "train_word2vec", (["a", "b"],), {"min_count": -1}, ("min_count", "-1")),
    (TypeError, "train_skipgram", ([1, 2],), {}, ("tokens[0]", "int")),
    (ValueError, "train_skipgram", (["a", "b"],), {"batch_size": 0}, ("batch_size", "0")),
    (ValueError, "train_skipgram", ([],), {}, ("tokens", "at least one")),
    # SkipGram
    (ValueError, "SkipGram", (0, 4), {}, ("vocab_size", "0")),
    (ValueError, "SkipGram", (5, 0), {}, ("dim", "0")),
    # most_similar
    (TypeError, "most_similar", ("a", ["a", "b"], z(2, 2)), {}, ("word_to_index", "dict")),
    (ValueError, "most_similar", ("a", {"a": 0, "b": 0}, z(2, 2)), {}, ("word_to_index",)),
    (ValueError, "most_similar", ("a", {"a": 0, "b": 1}, torch.ones(3, 2)), {},
     ("W", "(3, 2)", "2")),
    (ValueError, "most_similar", ("a", {"a": 0, "b": 1}, torch.ones(2, 2)), {"k": -1},
     ("k", "-1")),
    (ValueError, "most_similar", ("a", {"a": 0, "b": 1}, torch.tensor([[1.0], [0.0]])), {},
     ("W", "row 1", "zero")),
]


@pytest.mark.parametrize(("error", "name", "args", "kwargs", "fragments"), CASES,
                         ids=[f"{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_errors_name_the_argument(a2ref: ModuleType, error: type[Exception], name: str,
                                  args: tuple[Any, ...], kwargs: dict[str, Any],
                                  fragments: tuple[str, ...]) -> None:
    assert_raises(error, getattr(a2ref, name), args, kwargs, fragments)


def test_skipgram_forward_errors(a2ref: ModuleType) -> None:
    model = a2ref.SkipGram(5, 2)
    ok_c, ok_o, ok_n = torch.tensor([0, 1]), torch.tensor([2, 3]), torch.tensor([[1], [4]])
    assert_raises(TypeError, model, (ok_c.float(), ok_o, ok_n), {}, ("centre", "int64"))
    assert_raises(ValueError, model, (ok_c, ok_o, torch.tensor([1, 4])), {},
                  ("negatives", "(B, K)", "(2,)"))
    assert_raises(ValueError, model, (ok_c, ok_o[:1], ok_n), {}, ("context", "batch size"))
    assert_raises(IndexError, model, (ok_c, torch.tensor([2, 5]), ok_n), {}, ("context", "0..4"))
    assert_raises(ValueError, model, (ok_c[:0], ok_o[:0], ok_n[:0]), {}, ("B >= 1",))


def test_sgns_step_errors_leave_the_matrices_alone(a2ref: ModuleType) -> None:
    W_in, W_out = torch.ones(4, 2), torch.ones(4, 2)
    with pytest.raises(IndexError):
        a2ref.sgns_step(W_in, W_out, 0, 1, torch.tensor([1, 2, 7]), 0.1)
    assert torch.equal(W_in, torch.ones(4, 2)) and torch.equal(W_out, torch.ones(4, 2))
