"""Fixtures of Assignment 1's hidden checks only (this file ships with them, never to students).

The reference is called through ``memo``: with the cache warm, a grading process loads neither
the reference nor torch (1.6 s of CPU and about 200 MiB each, README "Speed").
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from grader import Array


@pytest.fixture
def ref(memo: Callable[[Any, Callable[[], Any]], Any], assignment: Any) -> Callable[..., Any]:
    """``ref(name, *args, double=True, **kwargs)``: ``reference.<name>`` called with every
    tensor argument (``grader.tensor``) as a torch tensor (float64 unless ``double=False``),
    its value as floats and NumPy arrays, kept by ``memo`` under a digest of the arguments.
    The checks' inputs come from seeded generators, so a warm cache answers every call and the
    grading process loads neither the reference nor torch."""

    def call(name: str, *args: Any, double: bool = True, **kwargs: Any) -> Any:
        def compute() -> Any:
            function = getattr(assignment.load_reference(), name)
            return _plain(function(*(_native(a, double) for a in args), **kwargs))

        return memo(("ref", name, double, _digest((args, sorted(kwargs.items())))), compute)

    return call


def _digest(value: Any) -> str:
    h = hashlib.sha256()

    def feed(v: Any) -> None:
        if isinstance(v, Array):
            h.update(f"<{v.kind} {v.values.dtype} {v.shape}>".encode())
            h.update(np.ascontiguousarray(v.values).tobytes())
        elif isinstance(v, (list, tuple)):
            h.update(f"<{type(v).__name__} {len(v)}>".encode())
            for item in v:
                feed(item)
        else:
            h.update(repr(v).encode())

    feed(value)
    return h.hexdigest()


def _native(value: Any, double: bool) -> Any:
    if isinstance(value, Array) and value.kind == "tensor":
        import torch  # only when the cache misses

        t = torch.from_numpy(value.values.copy())
        return t.double() if double else t
    return value


def _plain(value: Any) -> Any:
    """A reference value as the memo stores it without torch: tensors as NumPy arrays
    (0-d ones as floats)."""
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "detach"):
        arr = value.detach().cpu().numpy()
        return float(arr) if arr.ndim == 0 else arr
    return value
