"""Plain-data frames between the trusted process and a sandboxed worker.

A frame is a 4-byte big-endian length followed by that many bytes of UTF-8 JSON. Values are
JSON scalars and lists, or objects tagged with ``"$"``:

- ``{"$": "array", "kind": "tensor"|"ndarray"|"npscalar", "dtype": "float32", "wire": "float32",
  "shape": [2, 3], "data": "<base64>"}``: ``data`` holds the C-order bytes in ``wire`` dtype
  (``dtype`` is the original one, e.g. ``bfloat16`` travels as ``float32``);
- ``{"$": "tuple", "items": [...]}`` and ``{"$": "dict", "items": [[key, value], ...]}``;
- ``{"$": "handle", "id": 3, "type": "LogisticRegression", "module": true,
  "params": [[2, 17], [2]]}``: an object that stays in the worker;
- ``{"$": "object", "type": "Foo", "repr": "..."}``: anything else, as a clipped repr.

This module is loaded by path inside the worker too (it must import nothing from the grader).
:func:`decode` is the only way the trusted side reads a worker's value: it parses JSON, checks
every field, rebuilds arrays with :func:`numpy.frombuffer`, and never calls anything that came
from a submission. Anything malformed raises :class:`ProtocolError`.
"""

from __future__ import annotations

import base64
import json
import math
import os
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_FRAME = 64 * 1024 * 1024
"""Bytes of one frame, arrays included (base64: 4/3 of their bytes); an 80 MB tensor is refused."""
MAX_ITEMS = 1_000_000
"""Items of one list the worker's encoder accepts (the trusted side's budgets are tighter)."""
MAX_NDIM = 8
MAX_REPR = 200

# ---- the decoding budget: what one frame from a worker may cost the trusted process.
# A frame is checked against the first two before json.loads builds anything, so a frame that
# would grow into a huge object graph never does; the rest are checked while decoding. The
# largest honest frames (A2's corpus checks: about 2 000 tokens sent and echoed back, a
# vocabulary of a few hundred words) use about 5% of each.
MAX_PLAIN = 4 * 1024 * 1024
"""Bytes of a frame outside array data (numbers, strings, containers): 4 MiB of JSON is about
200 000 numbers, and json.loads of it costs some tens of MB at most."""
MAX_NODES = 100_000
"""JSON values in one frame, counted before parsing as its ``[``, ``{`` and ``,`` bytes (commas
inside strings count too, so this over-estimates): 100 000 small Python objects cost about
10 MB; nested lists of 60 MB would cost gigabytes."""
MAX_DEPTH = 32
"""Nesting levels of a value: deeper values are never data a check compares."""
MAX_KEYS = 20_000
"""Keys of one dict: a vocabulary of a course-sized corpus fits many times over."""
MAX_KEY_STR = 1_000
"""Characters of a dict key (words, names)."""
MAX_KEY_INT = 2**31
"""Integer dict keys are below this in magnitude: CPython hashes such an int to itself, so no
two keys collide and a dict of them cannot be flooded. (Strings hash with a random seed;
floats, None and other keys are refused: checks never need them.)"""
MAX_STR = 10_000
"""Characters of one string (the worker's encoder clips longer ones to this)."""
MAX_INT = 2**63
"""Integers lie in [-MAX_INT, MAX_INT): what an int64 holds, so every comparison (NumPy,
float()) can take them; 10**400 would raise OverflowError inside a check."""
MAX_INT_DIGITS = 20
WIRE_DTYPES = frozenset(
    {"bool", "int8", "int16", "int32", "int64", "uint8", "float16", "float32", "float64",
     "complex64", "complex128"}
)
_HEADER = struct.Struct(">I")


class ProtocolError(Exception):
    """A frame or value that does not follow the protocol ("invalid result")."""


class BudgetError(ProtocolError):
    """A frame or value over a decoding budget; the message says which, e.g. "an integer too
    large to compare" (it follows "<function> returned ")."""


@dataclass(frozen=True)
class Array:
    """An array or tensor a worker returned, rebuilt from bytes in the trusted process."""

    kind: str
    """``tensor`` (torch.Tensor), ``ndarray`` (numpy.ndarray) or ``npscalar`` (numpy scalar)."""
    dtype: str
    """The original dtype's name, e.g. ``float32`` or ``bfloat16``."""
    values: np.ndarray[Any, Any]
    """The values, read-only, in the wire dtype."""

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.values.shape)

    def describe(self) -> str:
        noun = {"tensor": "tensor", "ndarray": "NumPy array", "npscalar": "NumPy scalar"}
        return f"a {noun.get(self.kind, self.kind)} of shape {self.shape} and dtype {self.dtype}"


@dataclass(frozen=True)
class Handle:
    """A reference to an object that stays in the worker (a trained model, say)."""

    id: int
    type_name: str
    is_module: bool
    """Whether the object is a ``torch.nn.Module``, as the worker reports it."""
    param_shapes: tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class Opaque:
    """A value the worker could not turn into plain data: its type name and a clipped repr."""

    type_name: str
    repr: str


# ---------------------------------------------------------------- framing


def write_frame(fd: int, message: dict[str, Any]) -> None:
    """Send one message as a frame on a blocking file descriptor."""
    body = json.dumps(message, separators=(",", ":")).encode()
    if len(body) > MAX_FRAME:
        raise ProtocolError(f"frame of {len(body)} bytes exceeds the {MAX_FRAME}-byte limit")
    data = _HEADER.pack(len(body)) + body
    view = memoryview(data)
    while view:
        sent = os.write(fd, view)
        view = view[sent:]


def read_exact(fd: int, n: int) -> bytes:
    """Read exactly ``n`` bytes from a blocking descriptor; EOFError if it closes first."""
    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError("connection closed")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def parse_header(header: bytes) -> int:
    """The body length a 4-byte header announces, refusing oversized frames."""
    (length,) = _HEADER.unpack(header)
    if length > MAX_FRAME:
        raise BudgetError(f"a frame of {length} bytes, which exceeds the {MAX_FRAME}-byte "
                          "limit (the grader's budget MAX_FRAME)")
    return int(length)


def parse_body(body: bytes) -> dict[str, Any]:
    """Parse a frame body into a JSON object (not yet a decoded value), within the budget."""
    check_budget(body)
    try:
        message = json.loads(body.decode("utf-8"), parse_int=_parse_int)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProtocolError(f"frame is not valid JSON ({type(exc).__name__})") from None
    if not isinstance(message, dict):
        raise ProtocolError("frame is not a JSON object")
    return message


def check_budget(body: bytes) -> None:
    """Refuse a frame over the node or plain-byte budget, by counting bytes (no parsing)."""
    nodes = body.count(b",") + body.count(b"[") + body.count(b"{")
    if nodes > MAX_NODES:
        raise BudgetError(f"a value of more than {MAX_NODES} items in all (the grader's "
                          f"budget MAX_NODES; this one has about {nodes})")
    plain = len(body) - _array_bytes(body)
    if plain > MAX_PLAIN:
        raise BudgetError(f"{plain} bytes of numbers, strings and containers (the grader's "
                          f"budget MAX_PLAIN is {MAX_PLAIN} bytes; arrays do not count)")


def _array_bytes(body: bytes) -> int:
    """Bytes of array data strings (``"data":"<base64>"``): they do not count as plain data.

    A JSON string cannot hold an unescaped quote, so the pattern only finds real fields; a
    forged one holds a single string, which costs its own size, not an object graph.
    """
    total, start = 0, body.find(_DATA)
    while start >= 0:
        begin = start + len(_DATA)
        while body[begin : begin + 1] in _BLANK:  # ": " (json.dumps' default) or ":"
            begin += 1
        end = body.find(b'"', begin + 1) if body[begin : begin + 1] == b'"' else -1
        if end < 0:
            start = body.find(_DATA, begin)
            continue
        total += end - begin - 1
        start = body.find(_DATA, end + 1)
    return total


_DATA = b'"data"'
_BLANK = frozenset({b":", b" ", b"\n", b"\r", b"\t"})


def _parse_int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS:
        raise BudgetError("an integer too large to compare (beyond ±2**63)")
    value = int(text)
    if not -MAX_INT <= value < MAX_INT:
        raise BudgetError("an integer too large to compare (beyond ±2**63)")
    return value


def read_frame(fd: int) -> dict[str, Any]:
    """Read one frame from a blocking descriptor."""
    return parse_body(read_exact(fd, parse_header(read_exact(fd, _HEADER.size))))


# ---------------------------------------------------------------- decoding (trusted side)


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


def _decode_array(node: dict[str, Any]) -> Array:
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


def _decode_handle(node: dict[str, Any]) -> Handle:
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


# ---------------------------------------------------------------- encoding (both sides)


def encode(value: Any, handles: dict[int, Any] | None = None, depth: int = 0) -> Any:
    """Turn a value into its JSON form.

    The trusted side uses it for arguments (tensors, arrays, numbers, strings, containers and
    :class:`Handle`). In the worker, ``handles`` collects ``torch.nn.Module`` objects, which
    stay there; any other unknown object becomes an :class:`Opaque` repr.
    """
    if depth > MAX_DEPTH:
        raise ProtocolError(f"value nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, bool):
        return None if value is None else bool(value)
    if isinstance(value, (int, float, str)) and not isinstance(value, np.generic):
        return _encode_builtin(value)
    if isinstance(value, Handle):
        return {"$": "handle", "id": value.id, "type": value.type_name,
                "module": value.is_module, "params": [list(p) for p in value.param_shapes]}
    if isinstance(value, (np.ndarray, np.generic)):
        return _encode_numpy(value)
    if isinstance(value, Array):
        return _encode_numpy(value.values, value.kind)
    torch = _torch()
    if torch is not None and isinstance(value, torch.Tensor):
        return _encode_tensor(value, torch)
    if isinstance(value, (list, tuple)):
        if len(value) > MAX_ITEMS:
            raise ProtocolError(f"more than {MAX_ITEMS} items")
        items = _plain(value) if type(value) in (list, tuple) else None
        if items is None:
            items = [encode(v, handles, depth + 1) for v in value]
        return items if isinstance(value, list) else {"$": "tuple", "items": items}
    if isinstance(value, dict):
        keys = _plain(value.keys()) if type(value) is dict else None
        values = _plain(value.values()) if keys is not None else None
        if keys is not None and values is not None:
            return {"$": "dict", "items": [list(p) for p in zip(keys, values, strict=True)]}
        return {"$": "dict", "items": [
            [encode(k, handles, depth + 1), encode(v, handles, depth + 1)]
            for k, v in value.items()
        ]}
    return _encode_other(value, handles, torch)


def _plain(values: Any) -> list[Any] | None:
    """The items encoded, if every one is exactly a str, int or float (a corpus, a vocabulary:
    thousands of items, each encoded as ``encode`` would, without its checks per item); else
    None."""
    out = []
    for v in values:
        kind = type(v)
        if kind is str:
            out.append(v[:MAX_STR])
        elif kind is int or kind is float:
            out.append(v)
        else:
            return None
    return out


def _encode_builtin(value: int | float | str) -> int | float | str:
    # The base types' own slots: a subclass's overridden __float__ or __str__ is not consulted.
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    return str.__str__(value)[:MAX_STR]


def _torch() -> Any:
    import sys

    # Only use torch if it is already loaded: the protocol itself never needs it.
    return sys.modules.get("torch")


def _encode_numpy(value: Any, kind: str | None = None) -> dict[str, Any]:
    arr = np.asarray(value)
    if arr.dtype.name not in WIRE_DTYPES:
        raise ProtocolError(f"array dtype {arr.dtype.name!r} cannot be sent")
    if kind is None:
        kind = "npscalar" if isinstance(value, np.generic) else "ndarray"
    # np.array rather than np.ascontiguousarray, which turns 0-d arrays into shape (1,).
    arr = np.array(arr, order="C")
    return {"$": "array", "kind": kind, "dtype": arr.dtype.name, "wire": arr.dtype.name,
            "shape": list(arr.shape), "data": base64.b64encode(arr.tobytes()).decode()}


def _encode_tensor(value: Any, torch: Any) -> dict[str, Any]:
    t = torch.Tensor.detach(value).cpu()
    if t.is_sparse or t.is_quantized:
        t = t.to_dense() if t.is_sparse else t.dequantize()
    original = str(t.dtype).removeprefix("torch.")
    if original not in WIRE_DTYPES:
        t = t.to(torch.float32)
    node = _encode_numpy(t.resolve_conj().resolve_neg().numpy(), "tensor")
    node["dtype"] = original
    return node


def _encode_other(value: Any, handles: dict[int, Any] | None, torch: Any) -> dict[str, Any]:
    if handles is not None and torch is not None and isinstance(value, torch.nn.Module):
        hid = len(handles) + 1
        handles[hid] = value
        params = [list(p.shape) for p in value.parameters()][:10_000]
        return {"$": "handle", "id": hid, "type": type(value).__name__, "module": True,
                "params": params}
    try:
        text = repr(value)
    except Exception as exc:  # a hostile __repr__ only hurts the worker it runs in
        text = f"<repr failed: {type(exc).__name__}>"
    return {"$": "object", "type": type(value).__name__[:MAX_REPR], "repr": text[:MAX_REPR]}
