"""LMS gradebooks: a class roster in, ``grades.csv`` out in the layout each LMS imports.

``grader grade`` reads a single folder or ``.zip`` argument as an LMS export when it looks like
one (:mod:`~.exports`). A roster (``--roster``, a CSV) adds a row for every student who
handed in nothing and flags the submissions of students it does not list. ``--csv-format``:

- ``plain``: the grader's own columns (id, points per function, total, maximum, status).
- ``moodle``: for Moodle's gradebook "Import grades from CSV", which maps one column to a user
  field ("Email address" to email, or "ID number" to ID number) and other columns to grade
  items: Full name, Email address, ID number, then the assignment's title with the total.
  Needs a roster with emails or ID numbers: an export names only participant ids.
- ``canvas``: for the Canvas Gradebook's CSV import: Student, ID (the Canvas user id), SIS User
  ID, SIS Login ID, Section, then ``<title> (<assignment id>)`` (the id from the rubric's
  ``[lms] canvas_assignment_id``; without it the column is the title alone and Canvas asks
  which assignment it is).

A student with no submission gets an empty grade in the LMS formats (the LMS leaves it alone).
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.assignment import RUBRIC, Assignment
from grader.errors import GradebookError as LmsError
from grader.errors import IntakeError
from grader.integrations.exports import Export, Student, read_export
from grader.outdir import GRADES
from grader.results import SubmissionResult, csv_cell, grades_csv, write_atomic

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CSV_FORMATS = ("plain", "moodle", "canvas")
_ROSTER_COLUMNS = {
    "id": ("id", "identifier", "participant id", "user id", "userid", "student id"),
    "name": ("name", "full name", "student"),
    "email": ("email", "email address"),
    "id_number": ("id number", "idnumber"),
    "section": ("section",),
    "sis_user_id": ("sis user id",),
    "sis_login_id": ("sis login id", "login"),
    # Late work (grader.integrations.lateness); Moodle's grading worksheet names the first.
    "submitted_at": ("submitted_at", "submitted at", "last modified (submission)"),
    "extension_days": ("extension_days", "extension days"),
    "deadline": ("deadline", "due", "extended deadline"),
}
_PARTICIPANT = re.compile(r"\D+\s(\d+)")




@dataclass
class Batch:
    """What ``grader grade`` grades, and how its ``grades.csv`` is written."""

    paths: list[Path]
    roster: dict[str, Student] | None = None
    csv_format: str = "plain"
    export: Export | None = None
    """The LMS export the single argument was, if it was one."""
    tmp: Path | None = None

    @property
    def students(self) -> dict[str, Student]:
        return self.export.students if self.export else {}

    def close(self) -> None:
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def write_grades(self, out: Path, results: Sequence[SubmissionResult],
                     assignment: Assignment) -> list[str]:
        """Rewrite ``out/grades.csv`` in the batch's format; returns warnings for staff."""
        notes = self._warnings(results)
        if self.csv_format == "plain" and self.roster is None and self.export is None:
            return notes  # grade_batch's grades.csv is already the plain one
        writer = {"plain": self._plain, "moodle": self._moodle, "canvas": self._canvas}
        write_atomic(out / GRADES, writer[self.csv_format](results, assignment, notes))
        return notes

    def names(self) -> dict[str, str]:
        """Students' names by submission id, from the export and the roster (which wins)."""
        people = {**self.students, **(self.roster or {})}
        return {sid: person.name for sid, person in people.items() if person.name}

    def person(self, sid: str) -> Student:
        return (self.roster or {}).get(sid) or self.students.get(sid) or Student(sid)

    def _missing(self, results: Sequence[SubmissionResult]) -> list[Student]:
        graded = {r.submission_id for r in results}
        return [s for s in (self.roster or {}).values() if s.id not in graded]

    def _warnings(self, results: Sequence[SubmissionResult]) -> list[str]:
        notes = list(self.export.problems) if self.export else []
        if self.roster is not None:
            missing = [s.id for s in self._missing(results)]
            extra = [r.submission_id for r in results if r.submission_id not in self.roster]
            if missing:
                notes.append(f"{len(missing)} roster student(s) handed in nothing: "
                             f"{_listed(missing)}")
            if extra:
                notes.append(f"{len(extra)} submission(s) are not in the roster: "
                             f"{_listed(extra)}")
        late = [s.id for s in self.students.values() if s.late]
        if late:
            notes.append(f"{len(late)} submission(s) are marked late by Canvas: {_listed(late)}")
        return notes

    def _plain(self, results: Sequence[SubmissionResult], assignment: Assignment,
               notes: list[str]) -> str:
        rows = list(csv.reader(io.StringIO(grades_csv(results, assignment.names))))
        for result, row in zip(results, rows[1:], strict=True):
            exported = self.students.get(result.submission_id)
            flags = ["late"] if exported and exported.late else []
            if self.roster is not None and result.submission_id not in self.roster:
                flags.append("not in roster")
            row[-1] = "; ".join([row[-1], *flags])
        blanks = [""] * (len(rows[0]) - 3)
        rows += [[csv_cell(s.id), *blanks, csv_cell(assignment.max_score), "missing submission"]
                 for s in self._missing(results)]
        return _csv(rows)

    def _moodle(self, results: Sequence[SubmissionResult], assignment: Assignment,
                notes: list[str]) -> str:
        by_id = {r.submission_id: r for r in results}
        rows = [["Full name", "Email address", "ID number", assignment.title]]
        unusable = []
        for s in (self.roster or {}).values():
            if not (s.email or s.id_number):
                unusable.append(s.id)
                continue
            grade = by_id[s.id].score if s.id in by_id else ""
            rows.append([csv_cell(v) for v in (s.name, s.email, s.id_number, grade)])
        if unusable:
            notes.append(f"left out of grades.csv (no email or ID number in the roster, which "
                         f"Moodle's import needs): {_listed(unusable)}")
        extra = [r.submission_id for r in results if r.submission_id not in (self.roster or {})]
        if extra:
            notes.append(f"left out of grades.csv (not in the roster): {_listed(extra)}")
        return _csv(rows)

    def _canvas(self, results: Sequence[SubmissionResult], assignment: Assignment,
                notes: list[str]) -> str:
        by_id = {r.submission_id: r for r in results}
        ids = list(self.roster or {}) + [r.submission_id for r in results
                                         if r.submission_id not in (self.roster or {})]
        rows = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                 canvas_column(assignment)]]
        for sid in ids:
            s = self.person(sid)
            grade = by_id[sid].score if sid in by_id else ""
            rows.append([csv_cell(v) for v in (s.name, s.id, s.sis_user_id, s.sis_login_id,
                                               s.section, grade)])
        return _csv(rows)


def _listed(ids: Sequence[str], limit: int = 20) -> str:
    more = f" and {len(ids) - limit} more" if len(ids) > limit else ""
    return ", ".join(ids[:limit]) + more


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows(rows)
    return out.getvalue()


def canvas_column(assignment: Assignment) -> str:
    """``<title> (<id>)`` with the rubric's ``[lms] canvas_assignment_id``, else the title."""
    try:
        data = tomllib.loads((assignment.root / RUBRIC).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        data = {}
    lms = data.get("lms")
    number = lms.get("canvas_assignment_id") if isinstance(lms, dict) else None
    return f"{assignment.title} ({number})" if number else assignment.title


# ---------------------------------------------------------------- intake


def open_batch(paths: Sequence[Path], roster: Path | None = None,
               csv_format: str = "plain") -> Batch:
    """The batch for ``grader grade``: an LMS export unpacked, and the roster read."""
    if csv_format not in CSV_FORMATS:
        raise LmsError(f"unknown CSV format {csv_format!r}; use one of {', '.join(CSV_FORMATS)}")
    people = read_roster(roster) if roster is not None else None
    if csv_format == "moodle" and not any(s.email or s.id_number for s in (people or {}).values()):
        raise LmsError("--csv-format moodle needs --roster with an email (or ID number) column: "
                       "Moodle's grade import identifies students by those, and an export names "
                       "only participant ids")
    batch = Batch(list(paths), people, csv_format)
    if len(paths) == 1:
        batch.tmp = Path(tempfile.mkdtemp(prefix="grader-lms-"))
        try:
            batch.export = read_export(paths[0], batch.tmp)
        except (IntakeError, OSError) as exc:
            batch.close()
            raise LmsError(f"{paths[0]}: {exc}") from None
        if batch.export is None:
            batch.close()
        else:
            batch.paths = batch.export.paths
    return batch


def read_roster(path: Path) -> dict[str, Student]:
    """Student id -> roster row, from a CSV with a header row (columns: README, LMS exports)."""
    try:
        reader = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig")))
        headers = {h.strip().lower(): h for h in reader.fieldnames or [] if h}
        columns = {key: next((headers[a] for a in aliases if a in headers), None)
                   for key, aliases in _ROSTER_COLUMNS.items()}
        if columns["id"] is None:
            raise LmsError(f"{path}: no id column (found: {', '.join(headers) or 'nothing'}); "
                           "the first row must name the columns, e.g. id,name,email")
        roster: dict[str, Student] = {}
        for row in reader:
            values = {k: (row.get(c) or "").strip() for k, c in columns.items() if c}
            raw = values.pop("id")
            participant = _PARTICIPANT.fullmatch(raw)  # Moodle's "Participant 123"
            sid = participant[1] if participant else raw
            if not sid or sid in roster:
                problem = "has no id" if not sid else f"repeats the id {sid}"
                raise LmsError(f"{path}, line {reader.line_num}: the row {problem}; give every "
                               "student one row with a unique id")
            student = roster[sid] = Student(sid)
            for key, value in values.items():
                setattr(student, key, value)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise LmsError(f"{path}: not a readable CSV roster ({exc}); save it as UTF-8 CSV") from None
    return roster
