"""Decoding a worker's value (the trusted side): every field checked, within the budget.

Rebuilds arrays with :func:`numpy.frombuffer` and never calls anything that came from a
submission. Loaded by path inside the worker too (it decodes the trusted side's arguments).
"""

from __future__ import annotations

import base64
import math
import sys
from typing import Any

import numpy as np

# Loaded by protocol.py once its definitions exist: the package module on the trusted side,
# ``_grader_protocol`` (loaded by path) in the worker.
_v: Any = sys.modules[f"{__package__}.protocol" if __package__ else "_grader_protocol"]

Array = _v.Array
Handle = _v.Handle
Opaque = _v.Opaque
ProtocolError = _v.ProtocolError
BudgetError = _v.BudgetError
MAX_DEPTH, MAX_NODES, MAX_STR, MAX_REPR = _v.MAX_DEPTH, _v.MAX_NODES, _v.MAX_STR, _v.MAX_REPR
MAX_INT, MAX_NDIM, MAX_KEYS = _v.MAX_INT, _v.MAX_NDIM, _v.MAX_KEYS
MAX_KEY_STR, MAX_KEY_INT, WIRE_DTYPES = _v.MAX_KEY_STR, _v.MAX_KEY_INT, _v.WIRE_DTYPES


def decode(node: Any) -> Any:
    """Rebuild a value from its JSON form, checking every field and the decoding budget.

    Returns builtin scalars, lists, tuples and dicts of them, :class:`Array`, :class:`Handle`
    and :class:`Opaque`. Raises :class:`BudgetError` for a value over a budget (too many
    values, too deep, a dict with too many keys, too long a string, too large an integer) and
    :class:`ProtocolError` on anything else.
    """
    return _decode(node, 0, [0])


def _decode(node: Any, depth: int, count: list[int]) -> Any:
    count[0] += 1
    if depth > MAX_DEPTH:
        raise BudgetError(f"a value nested deeper than {MAX_DEPTH} levels (the grader's "
                          "budget MAX_DEPTH)")
    if count[0] > MAX_NODES:
        raise BudgetError(f"a value of more than {MAX_NODES} items in all (the grader's "
                          "budget MAX_NODES)")
    if node is None or isinstance(node, (bool, float)):
        return node
    if isinstance(node, int):
        return _check_int(node)
    if isinstance(node, str):
        return _check_str(node, MAX_STR, "MAX_STR")
    if isinstance(node, list):
        return [_decode(item, depth + 1, count) for item in node]
    if not isinstance(node, dict):
        raise ProtocolError(f"unexpected JSON value of type {type(node).__name__}")
    tag = node.get("$")
    if tag == "array":
        return _decode_array(node)
    if tag == "tuple":
        return tuple(_decode(item, depth + 1, count) for item in _field(node, "items", list))
    if tag == "dict":
        return _decode_dict(node, depth, count)
    if tag == "handle":
        return _decode_handle(node)
    if tag == "object":
        return Opaque(_field(node, "type", str)[:MAX_REPR], _field(node, "repr", str)[:MAX_REPR])
    raise ProtocolError(f"unknown value tag {tag!r}")


def _check_int(value: int) -> int:
    if not -MAX_INT <= value < MAX_INT:
        raise BudgetError("an integer too large to compare (beyond ±2**63)")
    return value


def _check_str(value: str, limit: int, name: str) -> str:
    if len(value) > limit:
        raise BudgetError(f"a string of {len(value)} characters (the grader's budget {name} "
                          f"is {limit})")
    return value


def _field(node: dict[str, Any], name: str, kind: type) -> Any:
    value = node.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ProtocolError(f"field {name!r} missing or not a {kind.__name__}")
    return value


def _decode_array(node: dict[str, Any]) -> Any:
    kind = _field(node, "kind", str)
    if kind not in ("tensor", "ndarray", "npscalar"):
        raise ProtocolError(f"unknown array kind {kind!r}")
    wire = _field(node, "wire", str)
    if wire not in WIRE_DTYPES:
        raise ProtocolError(f"array dtype {wire!r} is not allowed")
    shape = _field(node, "shape", list)
    if len(shape) > MAX_NDIM or not all(
        isinstance(d, int) and not isinstance(d, bool) and 0 <= d < 2**31 for d in shape
    ):
        raise ProtocolError("array shape is not a short list of non-negative ints")
    try:
        data = base64.b64decode(_field(node, "data", str), validate=True)
    except ValueError:
        raise ProtocolError("array data is not base64") from None
    dtype = np.dtype(wire)
    if len(data) != math.prod(shape) * dtype.itemsize:
        raise ProtocolError("array data length does not match its shape and dtype")
    values = np.frombuffer(data, dtype=dtype).reshape(shape)
    return Array(kind, _field(node, "dtype", str)[:40], values)


def _decode_dict(node: dict[str, Any], depth: int, count: list[int]) -> dict[Any, Any]:
    items = _field(node, "items", list)
    if len(items) > MAX_KEYS:
        raise BudgetError(f"a dict of {len(items)} keys (the grader's budget MAX_KEYS is "
                          f"{MAX_KEYS})")
    out: dict[Any, Any] = {}
    for pair in items:
        if not (isinstance(pair, list) and len(pair) == 2):
            raise ProtocolError("dict item is not a [key, value] pair")
        key = pair[0]
        if isinstance(key, str):
            _check_str(key, MAX_KEY_STR, "MAX_KEY_STR for dict keys")
        elif type(key) is not int or not -MAX_KEY_INT < key < MAX_KEY_INT:
            # only these hash without collisions (see MAX_KEY_INT)
            kind = key.get("$") if isinstance(key, dict) else type(key).__name__
            raise BudgetError(f"a dict with a key of type {str(kind)[:20]} (the grader "
                              f"compares dicts keyed by strings or ints below 2**31 only)")
        count[0] += 1
        out[key] = _decode(pair[1], depth + 1, count)
    return out


def _decode_handle(node: dict[str, Any]) -> Any:
    params = _field(node, "params", list)
    if len(params) > 10_000 or not all(
        isinstance(p, list) and len(p) <= MAX_NDIM and all(type(d) is int for d in p)
        for p in params
    ):
        raise ProtocolError("handle params are not a list of shapes")
    module = node.get("module")
    if not isinstance(module, bool):
        raise ProtocolError("handle field 'module' is not a bool")
    return Handle(
        _field(node, "id", int),
        _field(node, "type", str)[:MAX_REPR],
        module,
        tuple(tuple(p) for p in params),
    )
