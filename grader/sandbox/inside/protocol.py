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
and so are its parts, which it re-exports: ``values.py`` (the budgets and the value classes),
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
from pathlib import Path
from typing import TYPE_CHECKING, Any


def _part(name: str) -> Any:
    """A part of the protocol: a package module on the trusted side, loaded by path (as
    ``_grader_<name>``) in the worker, where the grader package is not importable."""
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


if TYPE_CHECKING:
    from grader.sandbox.inside import decoding, encoding, values
else:
    values, decoding, encoding = _part("values"), _part("decoding"), _part("encoding")

Array = values.Array
Handle = values.Handle
Opaque = values.Opaque
ProtocolError = values.ProtocolError
BudgetError = values.BudgetError
MAX_FRAME, MAX_ITEMS, MAX_NDIM, MAX_REPR = (values.MAX_FRAME, values.MAX_ITEMS, values.MAX_NDIM,
                                            values.MAX_REPR)
MAX_PLAIN, MAX_NODES, MAX_DEPTH, MAX_KEYS = (values.MAX_PLAIN, values.MAX_NODES, values.MAX_DEPTH,
                                             values.MAX_KEYS)
MAX_KEY_STR, MAX_KEY_INT, MAX_STR = values.MAX_KEY_STR, values.MAX_KEY_INT, values.MAX_STR
MAX_INT, MAX_INT_DIGITS, WIRE_DTYPES = values.MAX_INT, values.MAX_INT_DIGITS, values.WIRE_DTYPES
decode = decoding.decode
encode = encoding.encode
_HEADER = struct.Struct(">I")
_write = os.write  # captured before any submission runs, like the encoder's references
_dumps = encoding.dumps


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
