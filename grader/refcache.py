"""The reference's outputs, kept on disk across grading processes and runs (trusted side only).

Checks compute what the reference gives (its trained model's accuracy, say) through the
``memo`` fixture. A :class:`ReferenceCache` keeps each value in memory for the process and in a
file under ``<cache>/reference/<name>-<fingerprint>/``, so that ``--jobs N``, later runs and
``grader check`` pay for it once. The fingerprint covers everything a reference value may
depend on: the assignment's rubric, checks, data and reference, the grader's version and the
versions of Python, NumPy and torch; change any of them and the values are computed again in a
new folder (old folders are left for ``rm -rf``: a few kilobytes each).

Values are stored as JSON with tags for tuples, dicts, NumPy arrays and scalars and torch
tensors: reading a cache file never runs code. A value of any other type is kept in memory
only. Writers are safe under concurrency: one process computes while the others wait on a lock
file, and every file is written to a temporary name and renamed. A cache that cannot be written
(read-only home, full disk) only costs the recomputation.

Workers never see the cache: with Landlock they may read the Python runtime and their scratch
only; without it they could read the reference itself, which the cache adds nothing to.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import platform
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from grader.assignment import Assignment
from grader.version import __version__

CACHE_ENV = "GRADER_CACHE_DIR"
"""Overrides where the cache lives; ``off`` (or empty) keeps values in memory only."""


class Unsupported(TypeError):
    """A value (or key) the cache cannot store as plain data."""


def cache_root() -> Path | None:
    """``$GRADER_CACHE_DIR``, else ``$XDG_CACHE_HOME/dl-grader``, else ``~/.cache/dl-grader``."""
    own = os.environ.get(CACHE_ENV)
    if own is not None:
        return None if own.strip() in ("", "off") else Path(own)
    xdg = os.environ.get("XDG_CACHE_HOME")
    try:
        base = Path(xdg) if xdg else Path.home() / ".cache"
    except RuntimeError:  # no home directory to be found
        return None
    return base / "dl-grader"


def fingerprint(assignment: Assignment) -> str:
    """A digest of what decides the grades: grader version, rubric, checks, data, reference."""
    h = hashlib.sha256(f"dl-grader {__version__}\0".encode())
    roots = [assignment.root / "rubric.toml", assignment.root / "checks",
             assignment.root / "data"]
    if assignment.reference_path is not None:
        roots.append(assignment.reference_path)
    for top in roots:
        files = [top] if top.is_file() else sorted(top.rglob("*")) if top.is_dir() else []
        for path in files:
            if path.is_file() and "__pycache__" not in path.parts:
                h.update(f"{path.relative_to(top.parent)}\0".encode())
                h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def _runtime() -> str:
    """The versions a reference's numbers may differ between."""
    versions = [platform.python_version(), platform.machine()]
    for dist in ("numpy", "torch"):
        try:
            versions.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{dist} none")
    return "\0".join(versions)


class ReferenceCache:
    """``get(key, compute)``: ``compute()``'s value, computed once per assignment version.

    ``key`` is made of strings, numbers, booleans, None and tuples of them (its ``repr``
    names the file); any other key is kept in memory only.
    """

    def __init__(self, assignment: Assignment, root: Path | None = None,
                 use_disk: bool = True) -> None:
        self.assignment = assignment
        self._root = (root if root is not None else cache_root()) if use_disk else None
        self._folder: Path | None = None
        self.memory: dict[Any, Any] = {}
        self.computed = 0
        """How many values this process computed (the rest came from memory or disk)."""

    @classmethod
    def in_memory(cls, assignment: Assignment, memory: dict[Any, Any]) -> ReferenceCache:
        """A cache that keeps its values in ``memory`` only (one process's dict)."""
        cache = cls(assignment, use_disk=False)
        cache.memory = memory
        return cache

    def folder(self) -> Path | None:
        """This assignment version's folder (the fingerprint is taken on first use)."""
        if self._root is None:
            return None
        if self._folder is None:
            digest = hashlib.sha256(f"{fingerprint(self.assignment)}\0{_runtime()}".encode())
            safe = re.sub(r"[^A-Za-z0-9_.-]", "_", self.assignment.name)[:40]
            self._folder = self._root / "reference" / f"{safe}-{digest.hexdigest()[:32]}"
        return self._folder

    def get(self, key: Any, compute: Callable[[], Any]) -> Any:
        if key in self.memory:
            return self.memory[key]
        folder = self.folder()
        try:
            name = hashlib.sha256(repr(_plain_key(key)).encode()).hexdigest()[:32]
        except Unsupported:
            folder = None
        if folder is None:
            value = compute()
        else:
            value = self._through_disk(folder / f"{name}.json", compute)
        self.memory[key] = value
        return value

    def _through_disk(self, path: Path, compute: Callable[[], Any]) -> Any:
        found = _read(path)
        if found is not None:
            return found[0]
        with _locked(path.with_suffix(".lock")):
            found = _read(path)  # another process may have computed it while we waited
            if found is not None:
                return found[0]
            self.computed += 1
            value = compute()
            try:
                text = json.dumps({"value": encode(value)})
            except Unsupported:
                return value
            _write(path, text)
            return value


def _plain_key(key: Any) -> Any:
    if key is None or isinstance(key, (str, int, float, bool)):
        return key
    if isinstance(key, tuple):
        return tuple(_plain_key(k) for k in key)
    raise Unsupported(f"a cache key of type {type(key).__name__}")


def _read(path: Path) -> tuple[Any] | None:
    """``(value,)`` from a cache file, or None if it is missing or unreadable."""
    try:
        return (decode(json.loads(path.read_text(encoding="utf-8"))["value"]),)
    except (OSError, ValueError, KeyError, TypeError, Unsupported):
        return None


def _write(path: Path, text: str) -> None:
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if needed); without one, just go on."""
    try:
        import fcntl
    except ImportError:  # not on a POSIX system: concurrent writers each compute; still safe
        yield
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


# ---------------------------------------------------------------- values as JSON data


def encode(value: Any) -> Any:
    """``value`` as JSON data; raises Unsupported for a type the cache does not store."""
    if isinstance(value, np.ndarray | np.generic):  # before float: np.float64 is a float
        return _array("$ndarray" if isinstance(value, np.ndarray) else "$npscalar", value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else {"$float": repr(value)}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, tuple):
        return {"$tuple": [encode(v) for v in value]}
    if isinstance(value, dict):
        return {"$dict": [[encode(k), encode(v)] for k, v in value.items()]}
    torch = sys.modules.get("torch")
    if torch is not None and type(value) is torch.Tensor and not value.requires_grad:
        return _array("$tensor", value.detach().cpu().numpy())
    raise Unsupported(f"a value of type {type(value).__name__}")


def _array(tag: str, value: Any) -> dict[str, Any]:
    arr = np.asarray(value)
    if arr.dtype.kind not in "biufc":
        raise Unsupported(f"an array of dtype {arr.dtype}")
    data = base64.b64encode(np.ascontiguousarray(arr).tobytes()).decode()
    return {tag: {"dtype": arr.dtype.str, "shape": list(arr.shape), "data": data}}


def decode(node: Any) -> Any:
    """The inverse of :func:`encode`."""
    if isinstance(node, list):
        return [decode(v) for v in node]
    if not isinstance(node, dict):
        return node
    if len(node) != 1:
        raise Unsupported("not a tagged value")
    (tag, body), = node.items()
    if tag == "$float":
        return float(body)
    if tag == "$tuple":
        return tuple(decode(v) for v in body)
    if tag == "$dict":
        return {decode(k): decode(v) for k, v in body}
    if tag in ("$ndarray", "$npscalar", "$tensor"):
        dtype = np.dtype(body["dtype"])
        if dtype.kind not in "biufc":
            raise Unsupported(f"an array of dtype {dtype}")
        arr = np.frombuffer(base64.b64decode(body["data"]), dtype=dtype).reshape(body["shape"])
        if tag == "$npscalar":
            return arr[()]
        if tag == "$tensor":
            import torch

            return torch.from_numpy(arr.copy())
        return arr.copy()
    raise Unsupported(f"unknown tag {tag!r}")
