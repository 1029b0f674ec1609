"""The package itself: the A2 names with the students' signatures, loadable under any name."""

from __future__ import annotations

import ast
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
import torch

PACKAGE = Path(__file__).resolve().parents[3] / "assignments" / "a2" / "reference"

# name -> the parameters of the student's signature (shared/spec/a2-api.md), with defaults.
EMPTY = inspect.Parameter.empty
SIGNATURES: dict[str, list[tuple[str, object]]] = {
    "sigmoid": [("x", EMPTY)],
    "tokenize": [("text", EMPTY)],
    "build_vocab": [("tokens", EMPTY), ("min_count", 1)],
    "skipgram_pairs": [("ids", EMPTY), ("window", EMPTY)],
    "negative_distribution": [("counts", EMPTY), ("power", 0.75)],
    "sgns_loss": [("v_c", EMPTY), ("u_o", EMPTY), ("U_neg", EMPTY)],
    "sgns_gradients": [("v_c", EMPTY), ("u_o", EMPTY), ("U_neg", EMPTY)],
    "sgns_step": [("W_in", EMPTY), ("W_out", EMPTY), ("centre", EMPTY), ("context", EMPTY),
                  ("negatives", EMPTY), ("lr", EMPTY)],
    "train_word2vec": [("tokens", EMPTY), ("dim", 16), ("window", 2), ("k", 5), ("epochs", 5),
                       ("lr", 0.05), ("seed", 0), ("min_count", 1)],
    "most_similar": [("word", EMPTY), ("word_to_index", EMPTY), ("W", EMPTY), ("k", 5)],
    "SkipGram": [("vocab_size", EMPTY), ("dim", EMPTY)],
    "train_skipgram": [("tokens", EMPTY), ("dim", 16), ("window", 2), ("k", 5), ("epochs", 5),
                       ("lr", 0.05), ("batch_size", 64), ("seed", 0)],
}
ALLOWED_IMPORTS = {"__future__", "collections", "math", "numbers", "numpy", "pathlib", "re",
                   "torch", "typing"}


def test_a2_names_are_the_spec_in_order(a2ref: ModuleType) -> None:
    assert a2ref.A2_NAMES == tuple(SIGNATURES)
    assert set(a2ref.A2_NAMES) <= set(a2ref.__all__)
    assert all(hasattr(a2ref, name) for name in a2ref.__all__)


@pytest.mark.parametrize("name", list(SIGNATURES))
def test_signatures_are_the_students(a2ref: ModuleType, name: str) -> None:
    obj = getattr(a2ref, name)
    params = list(inspect.signature(obj).parameters.values())
    assert [(p.name, p.default) for p in params] == SIGNATURES[name]
    assert all(p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD for p in params)
    assert obj.__doc__, f"{name} has no docstring"


def test_skipgram_forward_signature(a2ref: ModuleType) -> None:
    assert issubclass(a2ref.SkipGram, torch.nn.Module)
    params = list(inspect.signature(a2ref.SkipGram.forward).parameters)
    assert params == ["self", "centre", "context", "negatives"]


def _imports(path: Path) -> list[ast.Import | ast.ImportFrom]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_modules_import_each_other_relatively_and_nothing_private(path: Path) -> None:
    for node in _imports(path):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            assert node.level == 1, f"{path.name}: import from outside the package"
            continue
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
        for name in names:
            top = (name or "").split(".")[0]
            assert top in ALLOWED_IMPORTS, f"{path.name} imports {name} (absolute)"


def test_loads_under_any_module_name_without_touching_reference_or_grader(
    a2_loader: Callable[[str], ModuleType],
) -> None:
    before = {m for m in sys.modules if m.split(".")[0] in ("reference", "grader")}
    other = a2_loader("another_private_a2_name")
    try:
        assert other.sgns_loss(torch.ones(2), torch.ones(2), torch.zeros(1, 2)) > 0
        assert {m for m in sys.modules if m.split(".")[0] in ("reference", "grader")} == before
        assert other.CORPUS_PATH.is_file()
    finally:
        for name in [m for m in sys.modules if m.split(".")[0] == "another_private_a2_name"]:
            del sys.modules[name]


def test_check_settings_are_usable(a2ref: ModuleType) -> None:
    w2v = inspect.signature(a2ref.train_word2vec).parameters
    sg = inspect.signature(a2ref.train_skipgram).parameters
    assert set(a2ref.CHECK_W2V) <= set(w2v) - {"tokens", "seed"}
    assert set(a2ref.CHECK_SKIPGRAM) <= set(sg) - {"tokens", "seed"}
    assert a2ref.CHECK_W2V["dim"] == 16 and a2ref.CHECK_W2V["window"] == 2
    assert 0 < a2ref.CHECK_MIN_RECALL < 1 and a2ref.CHECK_RECALL_K >= 1
