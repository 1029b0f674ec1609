"""LMS exports: Moodle's "Download all submissions" and Canvas's ``submissions.zip``.

A folder or ``.zip`` is an export when every entry in it is named like one:

- Moodle (``mod/assign/locallib.php``, ``download_submissions``): a folder
  ``<full name>_<participant id>_assignsubmission_<plugin>_`` per student and submission
  plugin, or, with "Download submissions in folders" off, files named with that prefix followed
  by the student's file name. Only the ``file`` plugin's files are graded.
- Canvas: files ``<login>_<user id>_<submission id>_<file name>``, with ``_late`` after the
  login for late submissions (the submission id may be missing, as for an online text).

Each student's files are staged into a fresh folder named by the student's id (Moodle:
participant id; Canvas: user id), so results carry LMS ids; a student who handed in one
``.zip`` is staged as ``<id>.zip``. An export zip is read with the intake's archive checks (no
traversal, no links, caps on entries, sizes and compression ratio) and written with
``O_EXCL | O_NOFOLLOW``.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.errors import IntakeError
from grader.safezip import ZIP_ERRORS, read_member, safe_zip_paths, zip_members

MAX_EXPORT_ENTRIES = 20_000
MAX_EXPORT_FILE = 64 * 1024 * 1024
MAX_EXPORT_TOTAL = 1024 * 1024 * 1024
LAYOUTS = {
    "moodle": re.compile(r"(?P<name>.+)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z0-9]+)_?"
                         r"(?P<file>.*)"),
    "canvas": re.compile(r"(?P<name>[^_]+?)(?P<late>_late)?_(?P<id>\d+)(?:_\d+)?_(?P<file>.+)"),
}


@dataclass
class Student:
    """A student, as a roster row or an export names them."""

    id: str
    name: str = ""
    email: str = ""
    id_number: str = ""
    section: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    late: bool = False
    submitted_at: str = ""
    """When they handed in, as the roster says (ISO 8601, or Moodle's worksheet's format)."""
    extension_days: str = ""
    deadline: str = ""
    """Their own deadline (an extension), as the roster says."""
    files: list[tuple[Path, str]] = field(default_factory=list)
    """The export's files of this student: (where it is, the name the student gave it)."""


@dataclass
class Export:
    """An export, staged: one submission path per student."""

    layout: str
    """``moodle`` or ``canvas``."""
    students: dict[str, Student]
    paths: list[Path]
    problems: list[str]
    """What could not be taken from the export (oversized files), for staff."""


def detect(names: Sequence[str]) -> str:
    """The export layout every name fits (``moodle``, ``canvas``), or ""."""
    names = [n for n in names if not _litter(n)]
    for layout, pattern in LAYOUTS.items():
        if names and all(pattern.fullmatch(n) for n in names):
            return layout
    return ""


def _litter(name: str) -> bool:
    """Hidden files and what archivers and Python leave behind (``__MACOSX``, ...)."""
    return name.startswith(".") or name in ("__MACOSX", "__pycache__")


def read_export(path: Path, tmp: Path) -> Export | None:
    """The export at ``path`` staged under the empty folder ``tmp``, or None if not one."""
    problems: list[str] = []
    if path.is_dir():
        root, layout = _dir_layout(path)
    elif path.suffix == ".zip" and zipfile.is_zipfile(path):
        layout = _zip_layout(path)
        if layout:
            _extract(path, tmp / "export", problems)
            root, _ = _dir_layout(tmp / "export")
    else:
        return None
    if not layout:
        return None
    students = _collect(root, layout)
    return Export(layout, students, _stage(students, tmp / "staged", problems), problems)


def _dir_layout(path: Path) -> tuple[Path, str]:
    """The export's folder and layout; an export inside a single folder is found too."""
    children = [p for p in path.iterdir() if not _litter(p.name)]
    layout = detect([p.name for p in children])
    if not layout and len(children) == 1 and children[0].is_dir():
        inner = detect([p.name for p in children[0].iterdir()])
        if inner:
            return children[0], inner
    return path, layout


def _zip_layout(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            parts = [p.parts for p in safe_zip_paths(
                zip_members(zf, path.name, MAX_EXPORT_ENTRIES), path.name).values()]
    except (IntakeError, *ZIP_ERRORS):
        return ""  # not an export we can read: the intake reports it as one submission
    tops = sorted({p[0] for p in parts})
    layout = detect(tops)
    if not layout and len(tops) == 1 and all(len(p) > 1 for p in parts):
        layout = detect(sorted({p[1] for p in parts}))  # an export zipped inside a folder
    return layout


def _extract(path: Path, dst: Path, problems: list[str]) -> None:
    total = 0
    with zipfile.ZipFile(path) as zf:
        members = zip_members(zf, path.name, MAX_EXPORT_ENTRIES)
        paths = safe_zip_paths(members, path.name)
        for member in members:
            if member.file_size > MAX_EXPORT_FILE:
                problems.append(f"{path.name}: left out {member.filename} ({member.file_size} "
                                f"bytes; the limit is {MAX_EXPORT_FILE})")
                continue
            data = read_member(zf, member, path.name, MAX_EXPORT_FILE)
            total += len(data)
            if total > MAX_EXPORT_TOTAL:
                raise IntakeError(f"{path.name} holds more than {MAX_EXPORT_TOTAL} bytes")
            target = dst.joinpath(*paths[member.filename].parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            _write_new(target, data)


def _write_new(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _collect(root: Path, layout: str) -> dict[str, Student]:
    """Student id -> the student and their files, from the export's entries."""
    students: dict[str, Student] = {}
    for entry in sorted(root.iterdir()):
        match = LAYOUTS[layout].fullmatch(entry.name)
        if match is None or entry.is_symlink():
            continue
        student = students.setdefault(match["id"], Student(match["id"], match["name"]))
        student.late = student.late or bool(match.groupdict().get("late"))
        if layout == "moodle" and match["plugin"] != "file":
            continue  # online text and the like: nothing to grade
        if entry.is_dir():
            student.files += [(p, p.name) for p in sorted(entry.iterdir())
                              if p.is_file() and not p.is_symlink()]
        elif entry.is_file() and match["file"]:
            student.files.append((entry, PurePosixPath(match["file"]).name))
    return dict(sorted(students.items(), key=lambda item: int(item[0])))


def _stage(students: dict[str, Student], dst: Path, problems: list[str]) -> list[Path]:
    """One submission per student, named by id: ``<id>.zip`` for a lone zip, else ``<id>/``."""
    dst.mkdir(parents=True)
    paths = []
    for sid, student in students.items():
        files = [(src, name) for src, name in student.files if not name.startswith(".")]
        lone_zip = len(files) == 1 and files[0][1].lower().endswith(".zip")
        folder = dst if lone_zip else dst / sid
        folder.mkdir(exist_ok=True)
        for src, name in files:
            target = dst / f"{sid}.zip" if lone_zip else folder / name
            if target.exists():
                continue  # the same name twice: the first one counts
            if src.stat().st_size > MAX_EXPORT_FILE:
                problems.append(f"{sid}: left out {name} (over {MAX_EXPORT_FILE} bytes)")
                continue
            with src.open("rb") as f:
                _write_new(target, f.read(MAX_EXPORT_FILE + 1))
        paths.append(dst / f"{sid}.zip" if lone_zip else folder)
    return paths
