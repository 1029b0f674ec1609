"""Safe reading of zip archives, for a submission's zip and an LMS export alike.

Archives are read member by member, never with ``extractall``: no links, no absolute or ``..``
paths, no names that differ only by letter case, caps on the number of entries, each member's
size and its compression ratio.
"""

from __future__ import annotations

import stat
import zipfile
from pathlib import PurePosixPath

from grader.errors import IntakeError

MAX_ZIP_RATIO = 200
_IGNORED = ("__MACOSX/", ".DS_Store", "__pycache__/")




ZIP_ERRORS = (zipfile.BadZipFile, OSError, EOFError, NotImplementedError)
"""What reading a damaged or unsupported zip archive raises."""


def ignored(name: str) -> bool:
    """Directory entries and the litter of archivers and Python (``__MACOSX/``, ...)."""
    return name.endswith("/") or any(part in name for part in _IGNORED)


def zip_members(zf: zipfile.ZipFile, archive: str, limit: int) -> list[zipfile.ZipInfo]:
    """The archive's file entries (litter left out), at most ``limit`` of them."""
    members = [m for m in zf.infolist() if not ignored(m.filename)]
    if len(members) > limit:
        raise IntakeError(f"{archive} has {len(members)} entries; the limit is {limit}")
    return members


def safe_zip_paths(members: list[zipfile.ZipInfo], archive: str) -> dict[str, PurePosixPath]:
    """Member name -> its relative path; raises for links, absolute or ``..`` paths and names
    that differ only by letter case."""
    paths = {}
    for m in members:
        raw = m.filename
        mode = m.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise IntakeError(f"{archive}: {raw!r} is a symbolic link; archives may hold files "
                              "only")
        pure = PurePosixPath(raw.replace("\\", "/"))
        if not pure.parts:
            # "." and "" name no file; parts[0] below would fail on them.
            raise IntakeError(f"{archive}: entry {raw!r} has no file name; archives may hold "
                              "named files only")
        if "\x00" in raw or pure.is_absolute() or ".." in pure.parts or ":" in pure.parts[0]:
            raise IntakeError(f"{archive}: unsafe path {raw!r}; archives may hold relative "
                              "paths inside the archive only")
        paths[raw] = pure
    folded = [str(p).casefold() for p in paths.values()]
    if len(set(folded)) != len(folded):
        raise IntakeError(f"{archive}: two entries differ only by letter case; rename one")
    return paths


def read_member(zf: zipfile.ZipFile, member: zipfile.ZipInfo, archive: str,
                limit: int) -> bytes:
    """A member's bytes, refusing more than ``limit`` bytes or a suspicious compression ratio."""
    if member.file_size > limit or (
        member.compress_size and member.file_size / member.compress_size > MAX_ZIP_RATIO
    ):
        raise IntakeError(f"{archive}: {member.filename} is too large or too compressed "
                          f"(limit {limit} bytes)")
    with zf.open(member) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise IntakeError(f"{archive}: {member.filename} is larger than {limit} bytes")
    return data
