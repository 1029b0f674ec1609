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

This module is loaded by path inside the worker too (it must import nothing from the grader),
and so are its parts, which read the budgets and value classes defined here:
``decoding.py`` (:func:`decode`, the only way the trusted side reads a worker's value: it parses
JSON, checks every field, rebuilds arrays with :func:`numpy.frombuffer`, and never calls
anything that came from a submission; anything malformed raises :class:`ProtocolError`) and
``encoding.py`` (:func:`encode`, with references to numpy, torch and json captured before any
submission is imported).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import struct
import sys
from dataclasses import dataclass
from pathlib import Path
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


def _part(name: str) -> Any:
    """A part of the protocol, loaded once this module's definitions exist (the parts read
    them): a package module on the trusted side, loaded by path (as ``_grader_<name>``) in the
    worker, where the grader package is not importable."""
    if __package__:
        return importlib.import_module(f"{__package__}.{name}")
    key = f"_grader_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, Path(__file__).with_name(f"{name}.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    return sys.modules[key]


_decoding, _encoding = _part("decoding"), _part("encoding")
_write = os.write  # captured before any submission runs, like the encoder's references
_dumps = _encoding.dumps


def decode(node: Any) -> Any:
    """Rebuild a value from its JSON form, checking every field and the decoding budget.

    Returns builtin scalars, lists, tuples and dicts of them, :class:`Array`, :class:`Handle`
    and :class:`Opaque`. Raises :class:`BudgetError` for a value over a budget (too many
    values, too deep, a dict with too many keys, too long a string, too large an integer) and
    :class:`ProtocolError` on anything else (``decoding.py``).
    """
    return _decoding.decode(node)


def encode(value: Any, handles: dict[int, Any] | None = None, depth: int = 0) -> Any:
    """Turn a value into its JSON form (``encoding.py``).

    The trusted side uses it for arguments (tensors, arrays, numbers, strings, containers and
    :class:`Handle`). In the worker, ``handles`` collects ``torch.nn.Module`` objects, which
    stay there; any other unknown object becomes an :class:`Opaque` repr.
    """
    return _encoding.encode(value, handles, depth)


_HEADER = struct.Struct(">I")


# ---------------------------------------------------------------- framing


def write_frame(fd: int, message: dict[str, Any]) -> None:
    """Send one message as a frame on a blocking file descriptor."""
    write_body(fd, _dumps(message).encode())


def write_body(fd: int, body: bytes) -> None:
    """Send an encoded frame body (a message's JSON text) as a frame."""
    if len(body) > MAX_FRAME:
        raise ProtocolError(f"frame of {len(body)} bytes exceeds the {MAX_FRAME}-byte limit")
    data = _HEADER.pack(len(body)) + body
    view = memoryview(data)
    while view:
        sent = _write(fd, view)
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
