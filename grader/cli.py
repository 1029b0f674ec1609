"""The ``grader`` command: a thin click layer over :mod:`grader.grading`.

Exit codes: 0 when grading ran (whatever the score), 1 when the grader itself failed, 2 for a
usage error.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from grader import __version__
from grader.assignment import Assignment, AssignmentError, available, find_assignment
from grader.grading import check_submission, grade_batch
from grader.results import SubmissionResult

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


def _table(result: SubmissionResult, assignment: Assignment) -> str:
    points = result.points_by_function(assignment.names)
    maxima = result.max_by_function(assignment.names)
    width = max(len(n) for n in assignment.names)
    lines = []
    for name in assignment.names:
        if maxima[name]:
            mark = "ok " if points[name] == maxima[name] else "-- "
            lines.append(f"  {mark}{name:<{width}}  {points[name]:g} / {maxima[name]:g}")
    lines.append(f"  {'':3}{'total':<{width}}  {result.score:g} / {result.max_score:g}")
    return "\n".join(lines)


@click.group()
@click.version_option(__version__, prog_name="grader")
def main() -> None:
    """Grade deep-learning assignments; student code runs only in a sandboxed worker."""


@main.command()
@click.argument("submission", type=_PATH)
@click.option("--assignment", "-a", "spec", help="Assignment name (e.g. a1) or folder.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for report.html and result.json (default: next to the submission).")
def check(submission: Path, spec: str | None, out: Path | None) -> None:
    """Self-check SUBMISSION against the assignment's public checks."""
    assignment = _load(spec)
    try:
        result, report = check_submission(submission, assignment, out)
    except AssignmentError as exc:
        raise click.ClickException(str(exc)) from None
    if result.failure:
        click.echo(f"Your submission could not run:\n  {result.failure}\n")
    click.echo(_table(result, assignment))
    for test in result.tests:
        if test.status == "failed" and not result.failure:
            click.echo(f"\n✗ {test.name} ({test.max_score:g} points)\n  {test.output}")
    click.echo(f"\nReport: {report.resolve()}")
    _warn_internal([result])


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
    _warn_internal(results)


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
