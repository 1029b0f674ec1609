"""GitHub Actions annotations for ``grader ci``: an ``::error`` at each failing function.

The workflow command is ``::error file=F,line=N,title=T::MESSAGE`` ("Workflow commands for
GitHub Actions", https://docs.github.com/actions/reference/workflow-commands-for-github-actions).
Values are escaped as the Actions toolkit does (``escapeData``/``escapeProperty`` in
actions/toolkit's ``command.ts``): ``%``, CR and LF in the message; also ``:`` and ``,`` in
properties. The line of ``def name`` (or ``class Name``) comes from parsing the student's source
with :mod:`ast`: parsed, never executed. A notebook is converted here as intake converts it
(:func:`grader.notebook.convert_notebook`, on the trusted side): its annotations name the file
without a line (GitHub's lines would be the JSON's) and say in the title and the message which
cell, and which line of it, defines the function. GitHub shows at most 10 error annotations
per step, so more failing functions than that share the last one.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from grader.assignment import Assignment
from grader.cell_lines import CellLines
from grader.notebook import NotebookError, convert_notebook
from grader.report import clean
from grader.results import SubmissionResult
from grader.terminal import without_hint

MAX_ANNOTATIONS = 10
MAX_MESSAGE = 600
"""Characters of one check's message in an annotation (the report has the rest)."""


@dataclass(frozen=True)
class Annotation:
    title: str
    message: str
    file: str = ""
    line: int = 0

    def command(self) -> str:
        props = [f"file={escape_property(self.file)}"] if self.file else []
        if self.file and self.line:
            props.append(f"line={self.line}")
        props.append(f"title={escape_property(self.title)}")
        return f"::error {','.join(props)}::{escape_data(self.message)}"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def definition_lines(source: str) -> dict[str, int]:
    """Top-level ``def``/``class`` name -> its line (the last definition wins, as at run time)."""
    tree = ast.parse(source)
    return {node.name: node.lineno for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def definitions(source: Path | None) -> tuple[dict[str, int], int]:
    """:func:`definition_lines` of a .py file, and the line of its syntax error (or 0)."""
    if source is None or source.suffix != ".py":
        return {}, 0
    try:
        return definition_lines(source.read_text(encoding="utf-8", errors="replace")), 0
    except SyntaxError as exc:
        return {}, exc.lineno or 0
    except (OSError, ValueError):  # unreadable, or NUL bytes: annotate without lines
        return {}, 0


def notebook_definitions(source: Path | None) -> tuple[dict[str, int], CellLines | None]:
    """For a notebook: :func:`definition_lines` of the module it is graded as, and the map
    from that module's lines to the cells ({} and None for anything else)."""
    if source is None or source.suffix != ".ipynb":
        return {}, None
    try:
        converted = convert_notebook(source.read_bytes(), source.name)
        return definition_lines(converted.source.decode("utf-8")), converted.cells
    except (NotebookError, OSError, SyntaxError, ValueError):
        return {}, None


def source_file(submission: Path, main_name: str) -> Path | None:
    """The student's main file for a .py/.ipynb path or a folder; None for a .zip."""
    if submission.is_dir():
        notebook = submission / Path(main_name).with_suffix(".ipynb").name
        if (submission / main_name).is_file():
            return submission / main_name
        if notebook.is_file():
            return notebook
        py = sorted(submission.glob("*.py"))
        return py[0] if len(py) == 1 else None
    return submission if submission.suffix in (".py", ".ipynb") else None


def display_path(path: Path, environ: Mapping[str, str] = os.environ) -> str:
    """``path`` relative to the repository (``$GITHUB_WORKSPACE``, else the current folder),
    which is how annotations name files."""
    full = path.resolve()
    for base in (environ.get("GITHUB_WORKSPACE"), os.getcwd()):
        if base and full.is_relative_to(Path(base).resolve()):
            return full.relative_to(Path(base).resolve()).as_posix()
    return full.as_posix()


def github_annotations(result: SubmissionResult, assignment: Assignment, submission: Path,
                environ: Mapping[str, str] = os.environ) -> list[Annotation]:
    """One annotation per failing function, or one for a submission that could not run."""
    source = source_file(submission, assignment.submission_name)
    file = display_path(source, environ) if source else ""
    lines, syntax_line = definitions(source)
    if result.failure:
        return [Annotation("submission could not run", _clip(clean(result.failure), 2000),
                           file, syntax_line)]
    cell_lines, cells = notebook_definitions(source)
    found = [_function_annotation(result, name, file, lines.get(name, 0))
             for name in _failing(result, assignment)]
    if cells is not None:
        found = [_in_cell(a, cells, cell_lines.get(a.title, 0)) for a in found]
    return _capped(found, file)


def _in_cell(annotation: Annotation, cells: CellLines, line: int) -> Annotation:
    """A notebook's annotation, naming the cell that defines the function."""
    place = cells.place(line)
    if place is None:
        return annotation
    title = f"{annotation.title} (cell {cells.cell_of(line)})"
    return Annotation(title, f"defined at {place}\n{annotation.message}", annotation.file)


def _failing(result: SubmissionResult, assignment: Assignment) -> list[str]:
    points = result.points_by_function(assignment.names)
    maxima = result.max_by_function(assignment.names)
    return [name for name in points if points[name] < maxima[name] - 1e-9]


def _function_annotation(result: SubmissionResult, name: str, file: str,
                         line: int) -> Annotation:
    tests = [t for t in result.tests if t.function == name]
    score = sum(t.score for t in tests)
    top = sum(t.max_score for t in tests)
    parts = [f"{name}: {score:g} / {top:g} points"]
    for test in tests:
        if test.status != "passed":
            parts.append(f"✗ {clean(test.name)}: {_clip(clean(without_hint(test)), MAX_MESSAGE)}")
    hints = dict.fromkeys(t.hint for t in tests if t.status != "passed" and t.hint)
    parts += [f"Hint: {clean(hint)}" for hint in hints]
    return Annotation(name, "\n".join(parts), file, line)


def _capped(found: list[Annotation], file: str) -> list[Annotation]:
    if len(found) <= MAX_ANNOTATIONS:
        return found
    rest = found[MAX_ANNOTATIONS - 1:]
    names = ", ".join(a.title for a in rest)
    merged = Annotation(f"{len(rest)} more functions",
                        f"Also failing: {names}. See the job summary or the report.", file)
    return [*found[:MAX_ANNOTATIONS - 1], merged]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"
