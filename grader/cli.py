"""The ``grader`` command: a thin click layer over :mod:`grader.grading` and :mod:`grader.terminal`.

Exit codes: 0 when grading ran (whatever the score), 1 when the grader itself failed, 2 for a
usage error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from grader import __version__
from grader.assignment import Assignment, AssignmentError, available, find_assignment
from grader.grading import check_submission, grade_batch
from grader.report import render_report
from grader.results import SubmissionResult, write_atomic
from grader.terminal import batch_summary, check_summary, use_colour

_PATH = click.Path(exists=True, path_type=Path)


def _load(spec: str | None) -> Assignment:
    if spec is None:
        names = sorted(available())
        if len(names) != 1:
            raise click.UsageError(
                f"say which assignment with --assignment (available: {', '.join(names) or 'none'})"
            )
        spec = names[0]
    try:
        return find_assignment(spec)
    except AssignmentError as exc:
        raise click.BadParameter(str(exc), param_hint="--assignment") from None


@click.group()
@click.version_option(__version__, prog_name="grader")
def main() -> None:
    """Grade deep-learning assignments; student code runs only in a sandboxed worker."""


@main.command()
@click.argument("submission", type=_PATH)
@click.option("--assignment", "-a", "spec", help="Assignment name (e.g. a1) or folder.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for report.html and result.json (default: next to the submission).")
@click.option("--open", "open_report", is_flag=True,
              help="Open the report in the default browser.")
@click.option("--color/--no-color", "color", default=None,
              help="Colour the summary (default: on a terminal, unless NO_COLOR is set).")
def check(submission: Path, spec: str | None, out: Path | None, open_report: bool,
          color: bool | None) -> None:
    """Self-check SUBMISSION against the assignment's public checks."""
    assignment = _load(spec)
    try:
        result, report = check_submission(submission, assignment, out)
    except AssignmentError as exc:
        raise click.ClickException(str(exc)) from None
    colour = use_colour(color)
    click.echo(check_summary(result, assignment, colour), color=colour)
    click.echo(f"\nReport: {report.resolve()}")
    if open_report:
        _open(report.resolve())
    _warn_internal([result])


def _open(report: Path) -> None:
    """Show the report in the default browser; a missing browser is only a note."""
    try:
        opened = click.launch(str(report)) == 0
    except Exception:  # whatever the platform's opener raises, the grading itself succeeded
        opened = False
    if not opened:
        click.echo("Could not open a browser; open the report above yourself.", err=True)


@main.command()
@click.argument("submissions", nargs=-1, required=True, type=_PATH)
@click.option("--assignment", "-a", "spec", required=True,
              help="Assignment name (e.g. a1) or folder.")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for <id>/result.json, <id>/report.html, grades.csv and summary.html.")
def grade(submissions: tuple[Path, ...], spec: str, out: Path) -> None:
    """Grade SUBMISSIONS (.py files, folders or .zip files) with public and hidden checks."""
    assignment = _load(spec)

    def show(result: SubmissionResult, report: Path) -> None:
        note = "  (could not run)" if result.failure else ""
        click.echo(f"{result.submission_id:<30} {result.score:>6g} / {result.max_score:g}"
                   f"  {report}{note}")

    try:
        results = grade_batch(assignment, list(submissions), out, on_result=show)
    except AssignmentError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"\n{len(results)} submission(s) graded. Grades: {out / 'grades.csv'}; "
               f"summary: {out / 'summary.html'}")
    click.echo(batch_summary(results))
    _warn_internal(results)


@main.command()
@click.argument("result_json", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="The HTML file to write (default: report.html next to RESULT_JSON).")
@click.option("--assignment", "-a", "spec",
              help="Assignment name (e.g. a1) or folder (default: the one RESULT_JSON names).")
def report(result_json: Path, out: Path | None, spec: str | None) -> None:
    """Render report.html again from RESULT_JSON, without grading anything."""
    result = _read_result(result_json)
    assignment = _load(spec or result.assignment or None)
    path = out if out is not None else result_json.parent / "report.html"
    html = render_report(result, assignment)
    try:
        write_atomic(path, html)
    except OSError as exc:
        raise click.BadParameter(f"cannot write {click.format_filename(path)}: "
                                 f"{exc.strerror or exc}", param_hint="--out") from None
    click.echo(f"Report: {path.resolve()}")


def _read_result(path: Path) -> SubmissionResult:
    """The result in ``path``, or a usage error naming the file and what is wrong with it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError(f"a JSON {type(data).__name__}, not an object")
        return SubmissionResult.from_json(data)
    except KeyError as exc:
        problem = f"missing field {exc}"
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        problem = str(exc)
    raise click.BadParameter(f"{click.format_filename(path)} is not a readable result.json "
                             f"({problem})", param_hint="RESULT_JSON")


@main.command("assignments")
def list_assignments() -> None:
    """List the assignments the grader can find."""
    found = available()
    if not found:
        click.echo("No assignments found (looked in ./assignments and $GRADER_ASSIGNMENTS).")
    for name, folder in sorted(found.items()):
        try:
            a = find_assignment(str(folder))
            click.echo(f"{name:<10} {a.title}  ({len(a.checks)} checks, {a.max_score:g} points)"
                       f"  {folder}")
        except AssignmentError as exc:
            click.echo(f"{name:<10} BROKEN: {exc}")


def _warn_internal(results: list[SubmissionResult]) -> None:
    broken = [r for r in results if r.errors]
    if broken:
        click.echo(f"\nThe grader hit internal errors on {len(broken)} submission(s); see "
                   "'errors' in their result.json.", err=True)
        sys.exit(1)
