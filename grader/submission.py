"""Submission intake: a ``.py`` file, a notebook, a directory, or a ``.zip`` of one submission.

Reading never raises for bad content: a submission that cannot be used becomes a
:class:`Submission` with ``error`` set, which grades to 0 with that reason, so a batch goes on.
Archives are read member by member by :mod:`grader.safezip` (no absolute or ``..`` paths, no
links, caps on count, size and ratio); files are staged with ``O_EXCL | O_NOFOLLOW``. A notebook
(``submission.ipynb``) becomes the module ``submission.py`` (:mod:`grader.notebook`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import re
import tokenize
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.cell_lines import CellLines
from grader.errors import IntakeError as IntakeError  # re-exported: the intake's error
from grader.notebook import NotebookError, convert_notebook
from grader.outdir import reserved
from grader.safezip import ZIP_ERRORS, read_member, safe_zip_paths, zip_members

MAX_FILE = 1024 * 1024
MAX_NOTEBOOK = 16 * 1024 * 1024
"""A notebook's cap (outputs such as plots make notebooks large; they are not graded)."""
MAX_TOTAL = 8 * 1024 * 1024
MAX_FILES = 50
MAX_ZIP_ENTRIES = 1000
_SAFE_ID = re.compile(r"[^A-Za-z0-9._-]+")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_CODE = (".py", ".ipynb")
_TOP_LEVEL_ONLY = "only .py and .ipynb files at the top level are graded"


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
    cells: CellLines | None = None
    """For a graded notebook: the main module's lines mapped back to its cells."""


def read_submission(path: Path, main_name: str = "submission.py") -> Submission:
    """Read a submission from disk; the result's ``error`` says why it cannot be graded."""
    sub_id = safe_id(path.stem if path.is_file() else path.name)
    notes: list[str] = []
    try:
        raw, digest = _read_any(path, main_name, notes)
        target = module_name(main_name)
        files, cells = _notebook_as_module(raw, target, path.name, notes)
        main = _choose_main(files, target, path)
        _check_text(main, files[main], notes)
    except IntakeError as exc:
        return Submission(sub_id, path, error=str(exc), notes=tuple(notes))
    return Submission(sub_id, path, files, main, digest, tuple(notes),
                      cells=cells if main == target else None)


def module_name(main_name: str) -> str:
    """The module a submission is graded as: ``submission.py`` for ``submission.ipynb`` too."""
    return str(PurePosixPath(main_name).with_suffix(".py"))


def _read_any(path: Path, main_name: str, notes: list[str]) -> tuple[dict[str, bytes], str]:
    if path.is_dir():
        return _read_dir(path, notes)
    if path.suffix == ".zip":
        return _read_zip(path, notes)
    if path.suffix in _CODE:
        data = _read_capped(path)
        return {path.name: data}, hashlib.sha256(data).hexdigest()
    raise IntakeError(f"{path.name}: not a .py file, a notebook (.ipynb), a folder or a .zip; "
                      f"submit {main_name}")


def _notebook_as_module(raw: Mapping[str, bytes], target: str, where: str, notes: list[str]
                        ) -> tuple[dict[str, bytes], CellLines | None]:
    """The submission's .py files, with the graded notebook (if any) as ``target``, and that
    module's line map."""
    py = {name: data for name, data in raw.items() if name.endswith(".py")}
    notebooks = sorted(name for name in raw if name.endswith(".ipynb"))
    if not notebooks:
        return py, None
    chosen = _pick_notebook(notebooks, py, target, where)
    graded = chosen or (target if target in py else "the .py file")
    notes.extend(f"ignored {name}: {graded} is graded" for name in notebooks if name != chosen)
    if chosen is None:
        return py, None
    try:
        converted = convert_notebook(raw[chosen], chosen, PurePosixPath(target).name)
    except NotebookError as exc:
        raise IntakeError(str(exc)) from None
    notes.extend(converted.notes)
    return {**py, target: converted.source}, converted.cells


def _pick_notebook(notebooks: list[str], py: Mapping[str, bytes], target: str,
                   where: str) -> str | None:
    """The notebook to grade: ``submission.ipynb`` unless ``submission.py`` is there too, or
    the only notebook of a submission without .py files."""
    if target in py:
        return None
    own = str(PurePosixPath(target).with_suffix(".ipynb"))
    if own in notebooks:
        return own
    if py:
        return None
    if len(notebooks) == 1:
        return notebooks[0]
    raise IntakeError(f"{where}: found {len(notebooks)} notebooks ({', '.join(notebooks[:5])}); "
                      f"name the one to grade {own}")


def safe_id(name: str) -> str:
    cleaned = _SAFE_ID.sub("_", name).strip("._") or "submission"
    return cleaned[:100]


def unique_ids(subs: Iterable[Submission]) -> list[Submission]:
    """The same submissions in the same order, with ids that can share one output folder.

    Ids must differ ignoring letter case (the output may be on a case-insensitive file system)
    and never name a file of the batch (:func:`grader.outdir.reserved`: ``grades.csv``, ...).
    Of the submissions that would share an id, the first by origin path keeps it and the others
    become ``x-2``, ``x-3``...; an id that names a batch file always becomes ``x-2``... A renamed
    submission says so in its notes. Generated names never take an id of the input (``x``,
    ``x``, ``x-2`` gives ``x``, ``x-3``, ``x-2``), and ids depend on the set of submissions,
    not their order: a rerun gives each submission the id its ``result.json`` has (resume).
    """
    subs = list(subs)
    bases = [safe_id(sub.id) for sub in subs]
    # Reserve every usable original id first, so a generated name never takes a real one.
    taken = {base.lower() for base in bases if not reserved(base)}
    kept: set[str] = set()
    counters: dict[str, int] = {}
    ids = list(bases)
    for i in sorted(range(len(subs)), key=lambda i: (str(subs[i].origin), i)):
        key = bases[i].lower()
        if not reserved(bases[i]) and key not in kept:
            kept.add(key)
            continue
        n = counters.get(key, 1) + 1
        while f"{key}-{n}" in taken:
            n += 1
        counters[key] = n
        taken.add(f"{key}-{n}")
        ids[i] = f"{bases[i]}-{n}"
    return [sub if new == sub.id else _renamed(sub, new, _why(base))
            for sub, base, new in zip(subs, bases, ids, strict=True)]


def _why(base: str) -> str:
    if reserved(base):
        return f"{base} is the name of a file the batch writes next to the submissions' folders"
    return f"another submission has the id {base} (ids are compared ignoring letter case)"


def _renamed(sub: Submission, new_id: str, why: str) -> Submission:
    notes = (*sub.notes, f"graded as {new_id}: {why}") if safe_id(sub.id) != new_id else sub.notes
    return dataclasses.replace(sub, id=new_id, notes=notes)


def stage(sub: Submission, scratch: Path) -> Path:
    """Write the submission's files into a fresh scratch directory; returns the main file."""
    for name, data in sub.files.items():
        fd = os.open(scratch / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    return scratch / sub.main


def _limit(name: str) -> int:
    return MAX_NOTEBOOK if name.endswith(".ipynb") else MAX_FILE


def _read_capped(path: Path) -> bytes:
    size, limit = path.stat().st_size, _limit(path.name)
    if size > limit:
        raise IntakeError(f"{path.name} is {size} bytes; the limit is {limit} bytes")
    return path.read_bytes()


def _read_dir(path: Path, notes: list[str]) -> tuple[dict[str, bytes], str]:
    files: dict[str, bytes] = {}
    for entry in sorted(os.scandir(path), key=lambda e: e.name):
        if entry.is_symlink():
            notes.append(f"ignored {entry.name}: links are not followed")
        elif entry.is_file() and entry.name.endswith(_CODE):
            files[entry.name] = _read_capped(Path(entry.path))
        elif not entry.name.startswith(".") and entry.name != "__pycache__":
            notes.append(f"ignored {entry.name}: {_TOP_LEVEL_ONLY}")
    _check_totals(files, path.name)
    return files, _digest(files)


def _read_zip(path: Path, notes: list[str]) -> tuple[dict[str, bytes], str]:
    try:
        with zipfile.ZipFile(path) as zf:
            members = zip_members(zf, path.name, MAX_ZIP_ENTRIES)
            names = _zip_names(members, path.name)
            files: dict[str, bytes] = {}
            for member in members:
                name = names[member.filename]
                if "/" in name or not name.endswith(_CODE):
                    notes.append(f"ignored {name}: {_TOP_LEVEL_ONLY}")
                    continue
                files[name] = read_member(zf, member, path.name, _limit(name))
    except ZIP_ERRORS as exc:
        raise IntakeError(f"{path.name} is not a readable zip archive ({exc})") from None
    _check_totals(files, path.name)
    return files, hashlib.sha256(path.read_bytes()).hexdigest()


def _zip_names(members: list[zipfile.ZipInfo], archive: str) -> dict[str, str]:
    """Member name -> name inside the submission, after safety checks and prefix stripping."""
    paths = safe_zip_paths(members, archive)
    tops = {p.parts[0] for p in paths.values()}
    strip = len(tops) == 1 and all(len(p.parts) > 1 for p in paths.values())
    return {raw: "/".join(p.parts[1:] if strip else p.parts) for raw, p in paths.items()}


def _check_totals(files: Mapping[str, bytes], where: str) -> None:
    if len(files) > MAX_FILES:
        raise IntakeError(f"{where} holds {len(files)} .py and .ipynb files; the limit is "
                          f"{MAX_FILES}")
    total = sum(len(d) for name, d in files.items() if name.endswith(".py"))
    if total > MAX_TOTAL:
        raise IntakeError(f"{where} holds {total} bytes of code; the limit is {MAX_TOTAL}")
    notebooks = sum(len(d) for name, d in files.items() if name.endswith(".ipynb"))
    if notebooks > MAX_NOTEBOOK:
        raise IntakeError(f"{where} holds {notebooks} bytes of notebooks; the limit is "
                          f"{MAX_NOTEBOOK}")


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
        raise IntakeError(f"{path.name}: no .py file found; submit {main_name}")
    raise IntakeError(f"{path.name}: found {len(py)} .py files ({', '.join(py[:5])}); name "
                      f"the one to grade {main_name}")


def _check_text(name: str, data: bytes, notes: list[str]) -> None:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        raise IntakeError(f"{name} is not valid text ({exc}); save it as UTF-8") from None
    if "\x00" in text:
        raise IntakeError(f"{name} contains NUL bytes; save it as plain UTF-8 text")
    if _BIDI.search(text):
        notes.append(f"{name} contains bidirectional control characters (Trojan Source); "
                     "what you see may not be what runs")
