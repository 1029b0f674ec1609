"""The replay behind A1's procedure checks: on the checks' own data, different visiting orders
end further apart than the tolerance, and no known mistake passes for some order."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import numpy as np
import pytest

CHECKS = Path(__file__).resolve().parents[3] / "assignments" / "a1" / "checks"


def load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def modules() -> tuple[ModuleType, ModuleType, SimpleNamespace]:
    sys.path.insert(0, str(CHECKS))
    try:
        replay = load(CHECKS / "sgd_replay.py", "sgd_replay")
        conftest = load(CHECKS / "conftest.py", "a1_checks_conftest")
    finally:
        sys.path.remove(str(CHECKS))
    return replay, conftest, hidden_data()


def hidden_data() -> SimpleNamespace:
    """The hidden check's FEW_X and FEW_Y, read without importing a check module."""
    tree = ast.parse((CHECKS / "hidden" / "test_gradients_hidden.py").read_text())
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name in ("FEW_X", "FEW_Y") and isinstance(node.value, ast.Call):
                found[name] = np.array(ast.literal_eval(node.value.args[0]), dtype=np.float32)
    return SimpleNamespace(**found)


def min_distance(rows: np.ndarray) -> float:
    distinct = np.unique(np.round(rows, 12), axis=0)
    gaps = np.abs(distinct[:, None, :] - distinct[None, :, :]).max(axis=-1)
    return float(gaps[~np.eye(len(distinct), dtype=bool)].min())


def test_a_float32_run_in_any_order_is_explained(modules):
    # a student's float32 arithmetic (m and c as float32 tensors, say) stays within tolerance
    replay, _, hidden = modules
    xs, ys = hidden.FEW_X, hidden.FEW_Y
    rng = np.random.default_rng(1)
    for _ in range(5):
        m, c, lr, losses = np.float32(0.3), np.float32(-0.2), np.float32(0.05), []
        for _epoch in range(2):
            for i in rng.permutation(4):
                r = ys[i] - (m * xs[i] + c)
                m, c = m + np.float32(2) * lr * xs[i] * r, c + np.float32(2) * lr * r
            losses.append(float(np.mean((m * xs + c - ys) ** 2)))
        got = (float(m), float(c), losses)
        assert replay.line_explained(got, (0.3, -0.2), xs.astype(np.float64),
                                     ys.astype(np.float64), 0.05)


def test_fit_line_mistakes_are_no_order(modules):
    replay, _, hidden = modules
    xs, ys = hidden.FEW_X.astype(np.float64), hidden.FEW_Y.astype(np.float64)
    start, lr = (0.3, -0.2), 0.05

    def run(**change):
        args = {"step": replay.sgd_update, "lr": lr} | change
        order = replay.orders(4)[5:6]
        states = replay.line_epochs(start, xs, ys, args["lr"], 2, order, args["step"])
        losses = [float(replay.line_mse(s, xs, ys)[0]) for s in states]
        return (float(states[-1][0, 0]), float(states[-1][0, 1]), losses)

    assert replay.line_explained(run(), start, xs, ys, lr)
    for wrong in (run(lr=lr / 2), run(lr=2 * lr), run(step=replay.stale_update)):
        assert not replay.line_explained(wrong, start, xs, ys, lr)
    ends = replay.full_batch_epochs(start, xs, ys, lr, 2, 4)
    batch = (float(ends[-1, 0]), float(ends[-1, 1]),
             [float(v) for v in replay.line_mse(ends, xs, ys)])
    assert not replay.line_explained(batch, start, xs, ys, lr)


def test_classifier_mistakes_are_no_order(modules):
    replay, conftest, _ = modules
    rng = np.random.default_rng(0)
    start = (rng.normal(0, 0.3, (2, 5)), rng.normal(0, 0.3, 2))
    x, labels = conftest.tiny_features(3), conftest.TINY_LABELS[:3]
    plain = replay.classifier_candidates(start, x, labels, 0.5)
    scale = float(np.abs(plain).max())
    piled = replay.classifier_candidates(start, x, labels, 0.5, accumulate=True)
    batch = replay.classifier_full_batch(start, x, labels, 0.5)
    half = replay.classifier_candidates(start, x, labels, 0.25)
    for wrong in (*piled, *half, batch, np.concatenate([start[0].ravel(), start[1]])):
        assert not replay.close(plain, wrong, scale).any()


def test_the_probe_reads_an_affine_model_and_refuses_others(modules):
    replay, _, _ = modules
    W, b = np.arange(10.0).reshape(2, 5) / 7, np.array([0.3, -0.1])
    rows = replay.probe_rows(5)
    got = replay.params_of(rows @ W.T + b, 5)
    assert got is not None and np.allclose(got[0], W) and np.allclose(got[1], b)
    logits = rows @ W.T + b
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert replay.params_of(probabilities, 5) is None
