"""The reference's values on disk: kept across processes, recomputed when the assignment
changes, safe with concurrent writers, plain data only."""

from __future__ import annotations

import json
import math
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from grader.assignment import Assignment, load_assignment
from grader.refcache import CACHE_ENV, ReferenceCache, Unsupported, cache_root, decode, encode


@pytest.fixture
def a1_copy(a1_dir: Path, tmp_path: Path) -> Path:
    root = tmp_path / "a1"
    shutil.copytree(a1_dir, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def counted(value: object, calls: list[int]) -> object:
    calls.append(1)
    return value


def test_a_value_survives_the_process_in_a_file(a1: Assignment, tmp_path: Path) -> None:
    calls: list[int] = []
    first = ReferenceCache(a1, tmp_path)
    assert first.get(("acc", 3), lambda: counted((0.75, [(1, 0.5)]), calls)) == (0.75, [(1, 0.5)])
    again = ReferenceCache(a1, tmp_path)  # another process, or a later run
    assert again.get(("acc", 3), lambda: counted(None, calls)) == (0.75, [(1, 0.5)])
    assert calls == [1] and again.computed == 0
    assert len(list((tmp_path / "reference").glob("*/*.json"))) == 1


def test_a_changed_check_reference_or_data_file_computes_again(a1_copy: Path,
                                                             tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    ReferenceCache(load_assignment(a1_copy), cache).get("k", lambda: 1)
    for changed in ("checks/conftest.py", "data/sentiment.tsv", "rubric.toml"):
        with (a1_copy / changed).open("a", encoding="utf-8") as f:
            f.write("\n# changed\n")
        fresh = ReferenceCache(load_assignment(a1_copy), cache)
        assert fresh.get("k", lambda: 2) == 2, changed
        assert fresh.computed == 1
    assert len(list((cache / "reference").iterdir())) == 4


def test_concurrent_writers_compute_once_and_leave_no_temporary_files(a1: Assignment,
                                                                     tmp_path: Path) -> None:
    calls: list[int] = []
    results: list[object] = []
    start = threading.Barrier(4)

    def grade() -> None:
        cache = ReferenceCache(a1, tmp_path)  # each its own, as each grading process has
        start.wait()
        results.append(cache.get("trained", lambda: counted(np.arange(3.0), calls)))

    threads = [threading.Thread(target=grade) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [1]
    assert all(np.array_equal(r, np.arange(3.0)) for r in results)  # type: ignore[arg-type]
    assert not list(tmp_path.rglob("*.tmp"))


@pytest.mark.parametrize("value", [
    None, True, 3, -2.5, "text", [1, [2.0]], (1, (2, "x")), {"a": 1, (1, 2): [3]},
    np.arange(6, dtype=np.float32).reshape(2, 3), np.float64(0.25), np.int64(7),
    torch.tensor([[1.0, 2.0]]), torch.tensor(3, dtype=torch.int64),
])
def test_values_come_back_equal_and_of_the_same_type(value: object) -> None:
    back = decode(json.loads(json.dumps(encode(value))))
    assert type(back) is type(value)
    if isinstance(value, np.ndarray | torch.Tensor):
        assert back.dtype == value.dtype and back.shape == value.shape  # type: ignore[union-attr]
        assert (back == value).all()  # type: ignore[union-attr]
    else:
        assert back == value


def test_non_finite_floats_come_back() -> None:
    back = decode(json.loads(json.dumps(encode([math.nan, math.inf, -math.inf]))))
    assert math.isnan(back[0]) and back[1:] == [math.inf, -math.inf]


@pytest.mark.parametrize("value", [object(), np.array(["a"]), {1, 2},
                                   torch.ones(2, requires_grad=True)])
def test_other_values_are_refused(value: object) -> None:
    with pytest.raises(Unsupported):
        encode(value)


def test_a_value_of_another_type_is_kept_in_memory_only(a1: Assignment, tmp_path: Path) -> None:
    cache = ReferenceCache(a1, tmp_path)
    model = torch.nn.Linear(2, 2)
    assert cache.get("model", lambda: model) is model
    assert cache.get("model", lambda: None) is model
    assert not list(tmp_path.rglob("*.json"))
    assert ReferenceCache(a1, tmp_path).get("model", lambda: "again") == "again"


def test_a_key_that_is_not_plain_data_is_kept_in_memory_only(a1: Assignment,
                                                             tmp_path: Path) -> None:
    key = ("vocab", frozenset({"a"}))
    assert ReferenceCache(a1, tmp_path).get(key, lambda: 1) == 1
    assert ReferenceCache(a1, tmp_path).get(key, lambda: 2) == 2


def test_a_corrupt_file_is_computed_again(a1: Assignment, tmp_path: Path) -> None:
    ReferenceCache(a1, tmp_path).get("k", lambda: 1)
    for path in (tmp_path / "reference").glob("*/*.json"):
        path.write_text('{"value": {"$pickle": "gASV"}}')
    assert ReferenceCache(a1, tmp_path).get("k", lambda: 2) == 2


def test_an_unwritable_cache_only_costs_the_recomputation(a1: Assignment,
                                                          tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert ReferenceCache(a1, blocker).get("k", lambda: 5) == 5


def test_where_the_cache_lives(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    assert cache_root() == tmp_path
    monkeypatch.setenv(CACHE_ENV, "off")
    assert cache_root() is None
    monkeypatch.delenv(CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "dl-grader"


def test_an_exception_in_compute_is_not_cached(a1: Assignment, tmp_path: Path) -> None:
    def broken() -> object:
        raise ValueError("the reference failed")

    with pytest.raises(ValueError):
        ReferenceCache(a1, tmp_path).get("k", broken)
    assert ReferenceCache(a1, tmp_path).get("k", lambda: 3) == 3
