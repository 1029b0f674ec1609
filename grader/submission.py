"""Submission intake: a ``.py`` file, a directory, or a ``.zip`` of one submission.

Reading never raises for bad content: a submission that cannot be used becomes a
:class:`Submission` with ``error`` set, which grades to 0 with that reason, so a batch goes on.
Archives are read member by member (never ``extractall``): no absolute or ``..`` paths, no
links, caps on count and size; files are staged with ``O_EXCL | O_NOFOLLOW``.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import tokenize
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MAX_FILE = 1024 * 1024
MAX_TOTAL = 8 * 1024 * 1024
MAX_FILES = 50
MAX_ZIP_ENTRIES = 1000
MAX_ZIP_RATIO = 200
_SAFE_ID = re.compile(r"[^A-Za-z0-9._-]+")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_IGNORED = ("__MACOSX/", ".DS_Store", "__pycache__/")


@dataclass(frozen=True)
class Submission:
    """What a student handed in, read into memory and checked."""

    id: str
    """Its id: the file stem or directory name, made safe for a folder name."""
    origin: Path
    files: Mapping[str, bytes] = field(default_factory=dict)
    """The Python files to stage, by name (the main file among them)."""
    main: str = ""
    """The file the worker imports."""
    sha256: str = ""
    notes: tuple[str, ...] = ()
    """Things worth telling the student or staff (files ignored, bidi controls, ...)."""
    error: str | None = None
    """Why it cannot be graded at all, or None."""


class _Reject(Exception):
    pass


def read_submission(path: Path, main_name: str = "submission.py") -> Submission:
    """Read a submission from disk; the result's ``error`` says why it cannot be graded."""
    sub_id = safe_id(path.stem if path.is_file() else path.name)
    notes: list[str] = []
    try:
        if path.is_dir():
            raw, digest = _read_dir(path, notes)
        elif path.suffix == ".zip":
            raw, digest = _read_zip(path, notes)
        elif path.suffix == ".py":
            data = _read_capped(path)
            raw, digest = {path.name: data}, hashlib.sha256(data).hexdigest()
        elif path.suffix == ".ipynb":
            raise _Reject(f"{path.name}: notebooks are not graded yet; export it as a .py file "
                          "(File > Download as > Python) and submit that")
        else:
            raise _Reject(f"{path.name}: not a .py file, a folder or a .zip; submit "
                          f"{main_name}")
        main = _choose_main(raw, main_name, path)
        files = {name: data for name, data in raw.items() if name.endswith(".py")}
        _check_text(main, files[main], notes)
    except _Reject as exc:
        return Submission(sub_id, path, error=str(exc), notes=tuple(notes))
    return Submission(sub_id, path, files, main, digest, tuple(notes))


def safe_id(name: str) -> str:
    cleaned = _SAFE_ID.sub("_", name).strip("._") or "submission"
    return cleaned[:100]


def unique_ids(subs: Iterable[Submission]) -> list[Submission]:
    """The same submissions, renaming repeated ids ``x``, ``x-2``, ``x-3``...

    Every id in the result is unique, including against ids that already look renamed (``x``,
    ``x``, ``x-2`` gives ``x``, ``x-3``, ``x-2``), and the result depends only on the order.
    """
    subs = list(subs)
    # Reserve every original id first, so a generated name never takes a real one.
    taken = {sub.id for sub in subs}
    kept: set[str] = set()
    counters: dict[str, int] = {}
    out = []
    for sub in subs:
        if sub.id not in kept:
            kept.add(sub.id)
            out.append(sub)
            continue
        n = counters.get(sub.id, 1) + 1
        while f"{sub.id}-{n}" in taken:
            n += 1
        counters[sub.id] = n
        taken.add(f"{sub.id}-{n}")
        out.append(_renamed(sub, f"{sub.id}-{n}"))
    return out


def _renamed(sub: Submission, new_id: str) -> Submission:
    return Submission(new_id, sub.origin, sub.files, sub.main, sub.sha256, sub.notes, sub.error)


def stage(sub: Submission, scratch: Path) -> Path:
    """Write the submission's files into a fresh scratch directory; returns the main file."""
    for name, data in sub.files.items():
        fd = os.open(scratch / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    return scratch / sub.main


def _read_capped(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_FILE:
        raise _Reject(f"{path.name} is {size} bytes; the limit is {MAX_FILE} bytes")
    return path.read_bytes()


def _read_dir(path: Path, notes: list[str]) -> tuple[dict[str, bytes], str]:
    files: dict[str, bytes] = {}
    for entry in sorted(os.scandir(path), key=lambda e: e.name):
        if entry.is_symlink():
            notes.append(f"ignored {entry.name}: links are not followed")
        elif entry.is_file() and entry.name.endswith(".py"):
            files[entry.name] = _read_capped(Path(entry.path))
        elif not entry.name.startswith(".") and entry.name != "__pycache__":
            notes.append(f"ignored {entry.name}: only .py files at the top level are graded")
    _check_totals(files, path.name)
    return files, _digest(files)


def _read_zip(path: Path, notes: list[str]) -> tuple[dict[str, bytes], str]:
    try:
        with zipfile.ZipFile(path) as zf:
            members = [m for m in zf.infolist() if not _ignored(m.filename)]
            if len(members) > MAX_ZIP_ENTRIES:
                raise _Reject(f"{path.name} has {len(members)} entries; the limit is "
                              f"{MAX_ZIP_ENTRIES}")
            names = _zip_names(members, path.name)
            files: dict[str, bytes] = {}
            for member in members:
                name = names.get(member.filename)
                if name is None:
                    continue
                if "/" in name or not name.endswith(".py"):
                    notes.append(f"ignored {name}: only .py files at the top level are graded")
                    continue
                files[name] = _read_member(zf, member, path.name)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
        raise _Reject(f"{path.name} is not a readable zip archive ({exc})") from None
    _check_totals(files, path.name)
    return files, hashlib.sha256(path.read_bytes()).hexdigest()


def _ignored(name: str) -> bool:
    return name.endswith("/") or any(part in name for part in _IGNORED)


def _zip_names(members: list[zipfile.ZipInfo], archive: str) -> dict[str, str]:
    """Member name -> name inside the submission, after safety checks and prefix stripping."""
    paths = {}
    for m in members:
        raw = m.filename
        mode = m.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise _Reject(f"{archive}: {raw!r} is a symbolic link; archives may hold files only")
        pure = PurePosixPath(raw.replace("\\", "/"))
        if not pure.parts:
            # "." and "" name no file; parts[0] below would fail on them.
            raise _Reject(f"{archive}: entry {raw!r} has no file name; archives may hold "
                          "named files only")
        if "\x00" in raw or pure.is_absolute() or ".." in pure.parts or ":" in pure.parts[0]:
            raise _Reject(f"{archive}: unsafe path {raw!r}; archives may hold relative paths "
                          "inside the archive only")
        paths[raw] = pure
    tops = {p.parts[0] for p in paths.values()}
    strip = len(tops) == 1 and all(len(p.parts) > 1 for p in paths.values())
    names = {raw: "/".join(p.parts[1:] if strip else p.parts) for raw, p in paths.items()}
    folded = [n.casefold() for n in names.values()]
    if len(set(folded)) != len(folded):
        raise _Reject(f"{archive}: two entries differ only by letter case; rename one")
    return names


def _read_member(zf: zipfile.ZipFile, member: zipfile.ZipInfo, archive: str) -> bytes:
    if member.file_size > MAX_FILE or (
        member.compress_size and member.file_size / member.compress_size > MAX_ZIP_RATIO
    ):
        raise _Reject(f"{archive}: {member.filename} is too large or too compressed "
                      f"(limit {MAX_FILE} bytes)")
    with zf.open(member) as f:
        data = f.read(MAX_FILE + 1)
    if len(data) > MAX_FILE:
        raise _Reject(f"{archive}: {member.filename} is larger than {MAX_FILE} bytes")
    return data


def _check_totals(files: Mapping[str, bytes], where: str) -> None:
    if len(files) > MAX_FILES:
        raise _Reject(f"{where} holds {len(files)} .py files; the limit is {MAX_FILES}")
    total = sum(len(d) for d in files.values())
    if total > MAX_TOTAL:
        raise _Reject(f"{where} holds {total} bytes of code; the limit is {MAX_TOTAL}")


def _digest(files: Mapping[str, bytes]) -> str:
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(f"{name}\0{len(files[name])}\0".encode())
        h.update(files[name])
    return h.hexdigest()


def _choose_main(files: Mapping[str, bytes], main_name: str, path: Path) -> str:
    if main_name in files:
        return main_name
    py = sorted(n for n in files if n.endswith(".py"))
    if len(py) == 1:
        return py[0]
    if not py:
        raise _Reject(f"{path.name}: no .py file found; submit {main_name}")
    raise _Reject(f"{path.name}: found {len(py)} .py files ({', '.join(py[:5])}); name the one "
                  f"to grade {main_name}")


def _check_text(name: str, data: bytes, notes: list[str]) -> None:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        raise _Reject(f"{name} is not valid text ({exc}); save it as UTF-8") from None
    if "\x00" in text:
        raise _Reject(f"{name} contains NUL bytes; save it as plain UTF-8 text")
    if _BIDI.search(text):
        notes.append(f"{name} contains bidirectional control characters (Trojan Source); "
                     "what you see may not be what runs")
