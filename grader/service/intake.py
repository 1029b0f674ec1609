"""An upload, from the request to the data folder: the grader's safe intake decides.

The bytes go to a private temporary file named like the upload (``.py``, ``.ipynb``,
``.zip``), are read with :func:`grader.submission.read_submission` (archive checks: no
traversal, no links, caps on entries, sizes and compression ratio; notebooks converted), and
only a readable submission is kept, under ``uploads/<sha256><suffix>`` (written once, never
overwritten: the same content is the same file).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import tempfile
from pathlib import Path, PurePath

from grader.assignment import Assignment
from grader.errors import IntakeError
from grader.submission import Submission, read_submission

SUFFIXES = (".py", ".ipynb", ".zip")


@dataclasses.dataclass(frozen=True)
class Stored:
    filename: str
    stored: str
    """The file's name under ``uploads/``."""
    sha256: str


def clean_filename(name: str) -> str:
    """The upload's own file name (no folders), checked to be a kind the grader reads."""
    base = PurePath(name.replace("\\", "/")).name.strip()[:200]
    suffix = PurePath(base).suffix.lower()
    if suffix not in SUFFIXES:
        raise IntakeError(f"{base or 'the upload'}: not a .py file, a notebook (.ipynb) or a "
                          ".zip; upload one of those")
    return base


def accept(data: bytes, filename: str, assignment: Assignment, uploads: Path) -> Stored:
    """Check ``data`` as a submission of ``assignment`` and store it; IntakeError says why
    it cannot be graded."""
    name = clean_filename(filename)
    suffix = PurePath(name).suffix.lower()
    uploads.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=uploads, prefix=".intake-") as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        sub = read_submission(path, assignment.submission_name)
        if sub.error is not None:
            raise IntakeError(sub.error.replace("upload" + suffix, name))
    digest = hashlib.sha256(data).hexdigest()
    stored = f"{digest}{suffix}"
    target = uploads / stored
    if not target.exists():
        fd, staged = tempfile.mkstemp(dir=uploads, prefix=".store-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(staged, target)
    return Stored(name, stored, digest)


def load(uploads: Path, stored: str, student: str, assignment: Assignment) -> Submission:
    """The stored upload as a submission graded under the student's id."""
    sub = read_submission(uploads / stored, assignment.submission_name)
    return dataclasses.replace(sub, id=student)
