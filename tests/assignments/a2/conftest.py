"""The Assignment 2 ground truth, loaded by path under a private name as the grader loads it."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
import torch

A2 = Path(__file__).resolve().parents[3] / "assignments" / "a2"
PACKAGE = A2 / "reference"
MODULE_NAME = "a2_reference_under_test"


def load_a2_reference(name: str = MODULE_NAME) -> ModuleType:
    """Import assignments/a2/reference/__init__.py as the package ``name`` (once per name)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        name, PACKAGE / "__init__.py", submodule_search_locations=[str(PACKAGE)])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


@pytest.fixture(scope="session")
def a2ref() -> ModuleType:
    return load_a2_reference()


@pytest.fixture(scope="session")
def a2_loader() -> Callable[[str], ModuleType]:
    """load_a2_reference itself, for tests that load the package under another name."""
    return load_a2_reference


@pytest.fixture(scope="session")
def a2_dir() -> Path:
    return A2


@pytest.fixture(scope="session")
def corpus_tokens(a2ref: ModuleType) -> list[str]:
    tokens: list[str] = a2ref.load_corpus()
    return tokens


@pytest.fixture
def restore_global_rng() -> Iterator[None]:
    """For tests that seed the global RNG on purpose: put it back afterwards."""
    with torch.random.fork_rng(devices=[]):
        yield


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Train with one intra-op thread (as the grader's workers do), then restore the setting.

    Tiny tensors gain nothing from a second thread, and on a loaded 2-vCPU machine OpenMP's
    spinning threads make a 1 s run take 5-30 s.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)

