"""Results: typed, frozen dataclasses, and the files derived from them.

``result.json`` follows the contract (a superset of Gradescope's autograder results format);
``grades.csv`` has one row per submission and one column per API name. Files are written
atomically (a temporary file, then ``os.replace``), so a killed run leaves no torn file.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from grader.policy import Penalty

_CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
log = logging.getLogger("grader")


@dataclass(frozen=True)
class Series:
    """One line of a plot: a legend label and its points."""

    label: str
    x: tuple[float, ...]
    y: tuple[float, ...]


@dataclass(frozen=True)
class Plot:
    """A line plot attached to a check (a loss per epoch, the student's against the reference's)."""

    title: str
    x_label: str
    y_label: str
    series: tuple[Series, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Plot:
        return cls(data["title"], data["x_label"], data["y_label"], tuple(
            Series(s["label"], tuple(s["x"]), tuple(s["y"])) for s in data["series"]))


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check on one submission."""

    id: str
    """The rubric id of the check."""
    name: str
    """A readable name: the function and what was checked."""
    function: str
    """The API name whose points this check carries."""
    tags: tuple[str, ...]
    """Every API name the check exercises."""
    visibility: str
    status: str
    """``passed`` or ``failed``."""
    score: float
    max_score: float
    output: str
    """The message for the student (hidden checks reveal no inputs or expected values),
    ending with the hint when there is one."""
    duration: float = 0.0
    hint: str = ""
    """The likely mistake, in a TA's words ("" when the evidence names none)."""
    bug_class: str = ""
    """The hint's class, a key of ``grader.diagnose.BUG_CLASSES``."""
    plot: Plot | None = None
    staff_output: str = field(default="", compare=False, repr=False)
    """A hidden check's unfiltered message (its inputs, the reference's figures), for the
    instructor only: never written to ``result.json`` or a report, only carried from a grading
    process to the batch's (``to_json(details=True)``)."""


@dataclass(frozen=True)
class OutputBlock:
    """What the submission printed during one check (or its import)."""

    check_id: str
    label: str
    visibility: str
    stdout: str
    stderr: str


@dataclass(frozen=True)
class SubmissionResult:
    """Everything known about one graded submission."""

    submission_id: str
    assignment: str
    score: float
    max_score: float
    tests: tuple[CheckResult, ...]
    output: str
    """Text shown above the tests: why nothing could run, notes about the files."""
    sha256: str
    grader_version: str
    isolation: tuple[str, ...]
    """The isolation layers applied to the worker."""
    execution_time: float
    graded_at: str
    mode: str
    """``check`` (public checks only) or ``grade`` (all checks)."""
    failure: str = ""
    """Why the submission could not run at all ("" when it was imported)."""
    timings: Mapping[str, float] = field(default_factory=dict)
    student_output: tuple[OutputBlock, ...] = ()
    timed_out: tuple[str, ...] = ()
    """API names that ran out of time (their later calls were not waited for)."""
    errors: tuple[str, ...] = ()
    """Internal grader errors (for staff): a check that could not run through no fault of the
    submission; one short line each (check, exception type), never source or a traceback."""
    error_details: tuple[str, ...] = field(default=(), compare=False, repr=False)
    """The tracebacks of ``errors``, for the instructor's log (:func:`log_internal_errors`):
    never written to ``result.json``, only carried from a grading process to the batch's."""
    late: Penalty | None = None
    """Lateness under the rubric's ``[deadline]`` (None without one): ``score`` is then the
    score after the penalty, ``late.raw_score`` the checks' total."""
    budget: Mapping[str, Any] = field(default_factory=dict)
    """The budget all the submission's processes shared: ``kind`` (``cgroup``: memory, process
    and CPU limits for them together; ``rlimit``: a process cap so low that every process at
    its address-space limit stays within ``memory_mb``), ``memory_mb``, ``processes``, ``cpu``
    (cores); ``{}`` when no worker ran."""
    unwritten: str = ""
    """Why a batch could not write this submission's files ("" when it did). Never in
    ``result.json``: a result that was written was, by definition, not unwritten."""

    def points_by_function(self, names: Iterable[str]) -> dict[str, float]:
        points = {name: 0.0 for name in names}
        for test in self.tests:
            points[test.function] = points.get(test.function, 0.0) + test.score
        return points

    def max_by_function(self, names: Iterable[str]) -> dict[str, float]:
        points = {name: 0.0 for name in names}
        for test in self.tests:
            points[test.function] = points.get(test.function, 0.0) + test.max_score
        return points

    def to_json(self, details: bool = False) -> dict[str, Any]:
        """The result as JSON data; with ``details``, also the tracebacks of internal errors
        (to carry a result between processes, never for a file)."""
        data = asdict(self)
        if not details:
            del data["error_details"]
        else:
            data["error_details"] = list(self.error_details)
        data["tests"] = [asdict(t) for t in self.tests]
        if not details:
            for test in data["tests"]:
                del test["staff_output"]
        data["student_output"] = [asdict(b) for b in self.student_output]
        data["timings"] = dict(self.timings)
        data["budget"] = dict(self.budget)
        del data["unwritten"]
        if self.late is None:
            del data["late"]  # results without a deadline stay as they were
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SubmissionResult:
        fields = dict(data)
        fields["tests"] = tuple(
            CheckResult(**{**t, "tags": tuple(t["tags"]),
                           "plot": Plot.from_json(t["plot"]) if t.get("plot") else None})
            for t in data["tests"]
        )
        fields["student_output"] = tuple(OutputBlock(**b) for b in data.get("student_output", []))
        fields["late"] = Penalty(**data["late"]) if data.get("late") else None
        for key in ("isolation", "errors", "timed_out", "error_details"):
            fields[key] = tuple(data.get(key, ()))
        return cls(**fields)


def write_atomic(path: Path, text: str) -> None:
    """Write a file so that readers see the old content or the new, never a torn one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def log_internal_errors(result: SubmissionResult, path: Path | None = None) -> None:
    """Send the tracebacks of ``result``'s internal errors to the instructor's log: the
    ``grader`` logger, and the file ``path`` (appended to) if given."""
    if not result.error_details:
        return
    text = "".join(f"== {result.submission_id}: {d.rstrip()}\n" for d in result.error_details)
    for detail in result.error_details:
        log.error("internal error on %s: %s", result.submission_id, detail.rstrip())
    if path is not None:
        with path.open("a", encoding="utf-8") as f:
            f.write(text)


def log_hidden_details(result: SubmissionResult, path: Path) -> None:
    """Append the unfiltered messages of ``result``'s failed hidden checks to the instructor's
    file ``path`` (what the students saw went through :func:`grader.redact.hidden_text`)."""
    notes = [t for t in result.tests if t.staff_output]
    if notes:
        with path.open("a", encoding="utf-8") as f:
            f.write("".join(f"== {result.submission_id} {t.id}: {t.staff_output.rstrip()}\n"
                            for t in notes))


def write_result(result: SubmissionResult, path: Path) -> None:
    write_atomic(path, json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n")


def read_result(path: Path) -> SubmissionResult:
    return SubmissionResult.from_json(json.loads(path.read_text(encoding="utf-8")))


def csv_cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    if isinstance(value, float):
        text = f"{value:g}"
    else:
        text = str(value)
    return f"'{text}" if text.startswith(_CSV_TRIGGERS) else text


def grades_csv(results: Iterable[SubmissionResult], names: Iterable[str]) -> str:
    """One row per submission: id, points per API name, total, maximum, and a status."""
    names = list(names)
    out = io.StringIO()
    # Every cell quoted: a line break, quote or comma in a status or id can never split or
    # shift a row, whatever the reading program's idea of "minimal" quoting.
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(["submission", *names, "total", "max_score", "status"])
    for r in results:
        points = r.points_by_function(names)
        status = f"not run: {r.failure.splitlines()[0][:200]}" if r.failure else "graded"
        if r.unwritten:  # the grade stands; only its result.json and report are missing
            status = f"{status}; failed to write its files: {r.unwritten.splitlines()[0][:200]}"
        if r.late is not None and (r.late.penalty or not r.late.known):
            status = f"{status}; late: {r.late.reason}"
        row = [r.submission_id, *(points[n] for n in names), r.score, r.max_score, status]
        writer.writerow([csv_cell(v) for v in row])
    return out.getvalue()
