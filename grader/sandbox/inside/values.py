"""The protocol's values and budgets: what a frame may hold and what the trusted side rebuilds.

Loaded by path inside the worker too (see ``protocol.py``): it imports nothing from the grader.
"""

from __future__ import annotations

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
