"""Replaying the training procedures the handout prescribes, for the procedure checks.

A correct ``fit_line`` or ``train_classifier`` may shuffle with any generator, so a check cannot
know the order a student's run visited the examples in. On a few examples it does not need to:
it replays per-example SGD for *every* order (4! = 24 per epoch) and asks whether one of them
gives what the student's run gave. A run that no order explains broke a rule; which variant of
the replay explains it instead (a full-batch step, gradients that pile up, a step twice as long)
names the mistake.

Plain NumPy in float64, no reference: public checks import this module, and it ships to students.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

RTOL, ATOL = 1e-4, 1e-5
"""A student's float32 arithmetic over a few steps stays well inside this, and every known
mistake (a factor 2, full-batch steps, piled-up gradients, ...) ends further than this from
every order's replay (tests/assignments/a1/test_sgd_replay.py proves both on the checks' data).
Two orders may end closer than this: a run then fits both, which is fine."""


def orders(n: int) -> np.ndarray:
    """Every permutation of range(n), one per row."""
    return np.array(list(itertools.permutations(range(n))), dtype=np.int64)


def close(a: np.ndarray, b: np.ndarray, scale: float) -> np.ndarray:
    """Element-wise closeness along the last axis, relative to ``scale``."""
    return (np.abs(a - b) <= ATOL + RTOL * scale).all(axis=-1)


# ---------------------------------------------------------------- fit_line

LineStep = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float],
                    tuple[np.ndarray, np.ndarray]]


def sgd_update(m: np.ndarray, c: np.ndarray, xi: np.ndarray, yi: np.ndarray,
               lr: float) -> tuple[np.ndarray, np.ndarray]:
    """The handout's update, from the old m and c both."""
    r = yi - (m * xi + c)
    return m + 2.0 * lr * xi * r, c + 2.0 * lr * r


def stale_update(m: np.ndarray, c: np.ndarray, xi: np.ndarray, yi: np.ndarray,
                 lr: float) -> tuple[np.ndarray, np.ndarray]:
    """A classic slip: m is updated first, and c's gradient uses the new m."""
    m = m + 2.0 * lr * xi * (yi - (m * xi + c))
    return m, c + 2.0 * lr * (yi - (m * xi + c))


def line_epochs(start: tuple[float, float], x: np.ndarray, y: np.ndarray, lr: float,
                epochs: int, visits: np.ndarray, step: LineStep = sgd_update
                ) -> list[np.ndarray]:
    """The (m, c) after each epoch for every combination of per-epoch visit orders.

    ``visits`` holds one candidate order per row; epoch e's states have len(visits)**(e+1)
    rows (all combinations), each a (m, c) pair.
    """
    m, c = np.array([start[0]], dtype=np.float64), np.array([start[1]], dtype=np.float64)
    states = []
    for _ in range(epochs):
        m = np.repeat(m, len(visits))
        c = np.repeat(c, len(visits))
        order = np.tile(visits, (len(m) // len(visits), 1))
        for t in range(order.shape[1]):
            m, c = step(m, c, x[order[:, t]], y[order[:, t]], lr)
        states.append(np.stack([m, c], axis=1))
    return states


def line_mse(states: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The MSE over the whole data of each (m, c) row."""
    return ((states[:, :1] * x + states[:, 1:] - y) ** 2).mean(axis=1)


def full_batch_epochs(start: tuple[float, float], x: np.ndarray, y: np.ndarray, lr: float,
                      epochs: int, steps: int) -> np.ndarray:
    """(m, c) after each epoch of ``steps`` full-batch gradient steps (the wrong algorithm)."""
    m, c, out = start[0], start[1], []
    for _ in range(epochs):
        for _ in range(steps):
            r = y - (m * x + c)
            m, c = m + 2.0 * lr * float((x * r).mean()), c + 2.0 * lr * float(r.mean())
        out.append((m, c))
    return np.array(out)


def line_explained(got: tuple[float, float, list[float]], start: tuple[float, float],
                   x: np.ndarray, y: np.ndarray, lr: float, step: LineStep = sgd_update,
                   visits: np.ndarray | None = None) -> bool:
    """Whether some per-epoch orders (permutations unless ``visits``) reproduce the final
    (m, c) and every epoch's loss of ``got`` from ``start``."""
    m, c, losses = got
    visits = orders(len(x)) if visits is None else visits
    states = line_epochs(start, x, y, lr, len(losses), visits, step)
    scale = max(1.0, abs(m), abs(c))
    # which combinations are still consistent with every loss seen so far
    alive = np.ones(1, dtype=bool)
    for e, state in enumerate(states):
        alive = np.repeat(alive, len(visits))
        loss = line_mse(state, x, y)
        alive &= np.abs(loss - losses[e]) <= ATOL + RTOL * max(1.0, abs(losses[e]))
    final = close(states[-1], np.array([m, c]), scale)
    return bool((alive & final).any())


# ---------------------------------------------------------------- train_classifier


def softmax_rows(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def ce_grad(W: np.ndarray, b: np.ndarray, x: np.ndarray, label: int
            ) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of cross-entropy(softmax(W x + b), label) for one example."""
    dz = softmax_rows(W @ x + b)
    dz[label] -= 1.0
    return np.outer(dz, x), dz


def classifier_epoch(start: tuple[np.ndarray, np.ndarray], x: np.ndarray, labels: list[int],
                     lr: float, order: tuple[int, ...], accumulate: bool = False,
                     has_bias: bool = True) -> np.ndarray:
    """The parameters (W and b flattened) after one epoch of per-example SGD in ``order``.

    ``accumulate``: the gradients are never zeroed, so each step adds up all earlier ones.
    """
    W, b = start[0].copy(), start[1].copy()
    gW, gb = np.zeros_like(W), np.zeros_like(b)
    for i in order:
        dW, db = ce_grad(W, b, x[i], labels[i])
        gW, gb = (gW + dW, gb + db) if accumulate else (dW, db)
        W = W - lr * gW
        if has_bias:
            b = b - lr * gb
    return np.concatenate([W.ravel(), b])


def classifier_full_batch(start: tuple[np.ndarray, np.ndarray], x: np.ndarray,
                          labels: list[int], lr: float) -> np.ndarray:
    """One step on the mean loss of the whole batch (the wrong algorithm)."""
    W, b = start
    grads = [ce_grad(W, b, x[i], labels[i]) for i in range(len(labels))]
    dW = np.mean([g[0] for g in grads], axis=0)
    db = np.mean([g[1] for g in grads], axis=0)
    return np.concatenate([(W - lr * dW).ravel(), b - lr * db])


def classifier_candidates(start: tuple[np.ndarray, np.ndarray], x: np.ndarray,
                          labels: list[int], lr: float, accumulate: bool = False
                          ) -> np.ndarray:
    """One epoch's end for every order of the examples, one row each."""
    has_bias = bool(np.any(start[1] != 0.0))
    return np.array([classifier_epoch(start, x, labels, lr, o, accumulate, has_bias)
                     for o in itertools.permutations(range(len(labels)))])


def params_of(probe_out: np.ndarray, n_features: int, tol: float = 1e-4
              ) -> tuple[np.ndarray, np.ndarray] | None:
    """(W, b) of an affine model from its outputs on the probe rows, or None if not affine.

    ``probe_out`` is the model's output on :func:`probe_rows`: a zero row, the unit rows, and
    one mixed row that an affine map must send to W @ mixed + b.
    """
    b = probe_out[0]
    W = (probe_out[1:n_features + 1] - b).T
    mixed = probe_rows(n_features)[-1]
    if not np.allclose(W @ mixed + b, probe_out[-1], rtol=tol, atol=tol):
        return None
    return W, b


def probe_rows(n_features: int) -> np.ndarray:
    """Rows that reveal an affine model's W and b: 0, e_1 .. e_V, and a check row."""
    mixed = np.arange(1, n_features + 1, dtype=np.float64) / n_features
    return np.vstack([np.zeros(n_features), np.eye(n_features), mixed])
