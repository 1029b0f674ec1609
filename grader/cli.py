"""The ``grader`` command: a thin click layer over :mod:`grader.api` and :mod:`grader.terminal`.

Exit codes: 0 when grading ran (whatever the score), 1 when the grader itself failed, 2 for a
usage error, 3 when ``grader ci`` finds the score below ``--min-score``. Errors become exit
codes in one place, :class:`_Main`: a :class:`~grader.errors.GraderError` carries its own.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

import click

from grader.api import CSV_FORMATS, GradebookFormat, check_submission, grade_batch
from grader.assignment import Assignment, available_assignments, find_assignment
from grader.batch.progress import make_progress
from grader.errors import AssignmentError, GraderError
from grader.integrations import ci as ci_reports
from grader.integrations import remote
from grader.integrations.annotations import github_annotations
from grader.integrations.classroom import write_output as classroom_output
from grader.integrations.gradescope_archive import build_archive
from grader.integrations.lms import open_batch
from grader.integrations.release import MARK as RELEASE_MARK
from grader.integrations.release import build_release
from grader.integrations.similarity import (
    THRESHOLD,
    boilerplate,
    compare,
    read_codes,
    submissions_in,
)
from grader.integrations.similarity_pages import TABLE, write_similarity
from grader.outdir import ERRORS_LOG
from grader.report import render_report
from grader.results import SubmissionResult, write_atomic
from grader.scaffold import new_assignment
from grader.terminal import batch_summary, check_summary, use_colour
from grader.version import __version__

_PATH = click.Path(exists=True, path_type=Path)


def _load(spec: str | None) -> Assignment:
    if spec is None:
        names = sorted(available_assignments())
        if len(names) != 1:
            raise click.UsageError(
                f"say which assignment with --assignment (available: {', '.join(names) or 'none'})"
            )
        spec = names[0]
    try:
        return find_assignment(spec)
    except AssignmentError as exc:
        raise click.BadParameter(str(exc), param_hint="--assignment") from None


class _Main(click.Group):
    """The command group; turns the grader's errors into click's, and so into exit codes."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except GraderError as exc:
            if exc.exit_code == 2:
                raise (click.BadParameter(str(exc), param_hint=exc.option) if exc.option
                       else click.UsageError(str(exc))) from None
            raise click.ClickException(str(exc)) from None
        except OSError as exc:  # an output folder: full, read-only, ...
            where = f"cannot write {exc.filename}: " if exc.filename else ""
            raise click.ClickException(f"{where}{exc.strerror or exc}") from None


@click.group(cls=_Main)
@click.version_option(__version__, prog_name="grader")
def main() -> None:
    """Grade deep-learning assignments; student code runs only in a sandboxed worker."""
    _log_to_stderr()


class _Stderr(logging.Handler):
    """Log records on whatever stderr is when they are emitted (click's, in tests too)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            click.echo(self.format(record), err=True)
        except Exception:
            self.handleError(record)


def _log_to_stderr() -> None:
    """The instructor's log (logger ``grader``: internal errors' tracebacks) on stderr."""
    logger = logging.getLogger("grader")
    if not any(isinstance(h, _Stderr) for h in logger.handlers):
        handler = _Stderr()
        handler.setFormatter(logging.Formatter("grader: %(levelname)s: %(message)s"))
        logger.addHandler(handler)


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
    result, report = check_submission(submission, assignment, out)
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
@click.option("--jobs", "-j", type=click.IntRange(min=1),
              help="Submissions graded in parallel, each by its own process (default: the "
                   "number of CPUs).")
@click.option("--force", is_flag=True,
              help="Grade every submission again, also those whose result.json in --out "
                   "matches (by default a rerun grades only what is missing or changed).")
@click.option("--scheduler", metavar="ADDRESS",
              help="Grade on the Dask cluster of this scheduler (tcp://HOST:PORT) instead of "
                   "here; needs dl-grader[dask].")
@click.option("--quiet", "-q", is_flag=True,
              help="No line per submission: only the progress and the summary.")
@click.option("--allow-reduced-isolation", "allow_reduced", is_flag=True,
              help="Grade even if this machine cannot apply every sandbox layer (namespaces, "
                   "Landlock, seccomp); results list the missing layers as REDUCED.")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSV of the class (id,name,email,...; README: LMS exports): adds rows for "
                   "missing submissions, flags submissions of students it does not list.")
@click.option("--csv-format", type=click.Choice(CSV_FORMATS), default="plain",
              show_default=True, help="Columns of grades.csv: the grader's own, or those of "
                                      "Moodle's or Canvas's grade import.")
@click.option("--similarity", is_flag=True,
              help="Also compare the submissions with each other (as grader similarity): pages "
                   "in OUT/similarity/, a section in summary.html; needs dl-grader[similarity].")
def grade(submissions: tuple[Path, ...], spec: str, out: Path, jobs: int | None, force: bool,
          scheduler: str | None, quiet: bool, allow_reduced: bool, roster: Path | None,
          csv_format: str, similarity: bool) -> None:
    """Grade SUBMISSIONS (.py files, notebooks, folders or .zip files, or one Moodle or Canvas
    export) with public and hidden checks.

    Progress goes to standard error: a bar on a terminal, a line every 10 submissions or 10 s
    otherwise.
    """
    if scheduler is not None and jobs is not None:
        raise click.UsageError("--jobs is for grading here; with --scheduler the cluster's "
                               "workers grade (start more workers for more parallelism)")
    assignment = _load(spec)

    def show(result: SubmissionResult, report: Path) -> None:
        note = "  (could not run)" if result.failure else ""
        note += "  (files not written)" if result.unwritten else ""
        click.echo(f"{result.submission_id:<30} {result.score:>6g} / {result.max_score:g}"
                   f"  {report}{note}")

    progress = make_progress(None if quiet else show)
    results = grade_batch(assignment, list(submissions), out, jobs=jobs, resume=not force,
                          scheduler=scheduler, progress=progress,
                          gradebook=GradebookFormat(csv_format, roster),
                          allow_reduced_isolation=allow_reduced, similarity=similarity)
    if results.export is not None:
        click.echo(f"{results.export.capitalize()} export: {len(results)} student(s)")
    click.echo(f"\n{progress.summary()}")
    click.echo(f"{len(results)} submission(s) graded. Grades: {out / 'grades.csv'}; "
               f"summary: {out / 'summary.html'}")
    click.echo(batch_summary(results))
    for warning in results.notes:
        click.echo(f"Note: {warning}", err=True)
    _warn_internal(results)
    if any(r.unwritten for r in results):
        # The gradebook is whole, but some reports are missing: scripts must notice.
        sys.exit(1)


@main.command()
@click.argument("spec", metavar="ASSIGNMENT")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the bundle (new, empty, or an earlier bundle, which is replaced).")
@click.option("--wheel", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A built dl_grader wheel to ship in wheels/ (default: built from this "
                   "checkout).")
def release(spec: str, out: Path, wheel: Path | None) -> None:
    """Build the student bundle of ASSIGNMENT: handout, starter (.py and .ipynb), public checks,
    data, a rubric of the visible checks and the grader's wheel; no hidden check, solution or
    reference."""
    assignment = _load(spec)
    files = build_release(assignment, out, wheel)
    click.echo(f"Bundle of {assignment.name}: {len(files)} files in {out.resolve()}")
    click.echo("In the bundle's folder, students check their work with: "
               f"grader check {assignment.submission_name} --assignment .")


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
    found = available_assignments()
    if not found:
        click.echo("No assignments found (looked in ./assignments and $GRADER_ASSIGNMENTS).")
    for name, folder in sorted(found.items()):
        try:
            a = find_assignment(str(folder))
            click.echo(f"{name:<10} {a.title}  ({len(a.checks)} checks, {a.max_score:g} points)"
                       f"  {folder}")
        except AssignmentError as exc:
            click.echo(f"{name:<10} BROKEN: {exc}")


@main.command("new")
@click.argument("name")
@click.option("--dir", "parent", type=click.Path(file_okay=False, path_type=Path),
              default=Path("assignments"), show_default=True,
              help="The folder to create the assignment in.")
def new_command(name: str, parent: Path) -> None:
    """Write a skeleton assignment NAME (rubric, handout, starter, solution, reference, one
    public and one hidden check) that `grader grade` runs at once."""
    try:
        root = new_assignment(name, parent)
    except AssignmentError as exc:  # a name or folder the user gave
        raise click.BadParameter(str(exc), param_hint="NAME") from None
    click.echo(f"Assignment {name}: {root}")
    click.echo(f"Try it: grader grade --assignment {root} --out /tmp/{name}-demo "
               f"{root / 'solution.py'}")


@main.command("gradescope")
@click.argument("spec", metavar="ASSIGNMENT")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("autograder.zip"), show_default=True, help="The zip to write.")
@click.option("--wheel", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A built dl_grader wheel to bundle (default: built from this checkout).")
def gradescope_command(spec: str, out: Path, wheel: Path | None) -> None:
    """Build Gradescope's autograder zip for ASSIGNMENT (public and hidden checks, reference)."""
    assignment = _load(spec)
    archive = build_archive(assignment, out, wheel)
    click.echo(f"Autograder: {out.resolve()} ({len(archive.names)} files, "
               f"{out.stat().st_size / 1024:.0f} KiB); left out: "
               f"{', '.join(archive.left_out) or 'nothing'}")
    click.echo("Upload it under Configure Autograder, with the Ubuntu 22.04 base image.")


def _min_score(ctx: click.Context, param: click.Parameter, value: str) -> ci_reports.MinScore:
    try:
        return ci_reports.parse_min_score(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@main.command("ci")
@click.argument("submission", required=False, type=click.Path(path_type=Path))
@click.option("--assignment", "-a", "spec", help="Assignment name (e.g. a1) or folder.")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path),
              help="Write JUnit XML (one testcase per check) to this file.")
@click.option("--summary", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the Markdown summary here (also appended to $GITHUB_STEP_SUMMARY).")
@click.option("--min-score", default="0", callback=_min_score, show_default=True,
              help="Exit 3 below this score: points (15) or a share of the maximum (80%).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for report.html and result.json (default: next to the submission).")
@click.option("--annotations/--no-annotations", "annotate", default=None,
              help="Print GitHub annotations (default: when GITHUB_ACTIONS is true).")
@click.option("--init", type=click.Choice(["github"]),
              help="Write .github/workflows/grader.yml instead of checking.")
@click.option("--dir", "init_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("."), help="With --init: the repository's folder.")
@click.option("--install", "install", metavar="SOURCE",
              help="With --init: where the workflow installs the grader from: the wheel's path "
                   "in the repository (default: the one in DIR/wheels, which grader release "
                   "writes) or git+https://HOST/PATH@COMMIT with a 40-hex commit.")
@click.option("--classroom", is_flag=True,
              help="Write GitHub Classroom's results (the public checks' points) as the step's "
                   "`result` output to $GITHUB_OUTPUT; with --init, add Classroom's reporter.")
@click.option("--force", is_flag=True, help="With --init: replace an existing workflow.")
@click.option("--server", metavar="URL",
              help="Grade on this `grader serve` (token: $GRADER_TOKEN) instead of here.")
@click.option("--wait-timeout", type=click.FloatRange(min=1), default=600.0, show_default=True,
              help="With --server: seconds to wait for the result.")
def ci_command(submission: Path | None, spec: str | None, junit: Path | None,
               summary: Path | None, min_score: ci_reports.MinScore, out: Path | None,
               annotate: bool | None, init: str | None, init_dir: Path, install: str | None,
               classroom: bool, force: bool, server: str | None, wait_timeout: float) -> None:
    """Public checks for a CI job: JUnit XML, summary, annotations.

    Runs SUBMISSION's public checks like `grader check`, writes JUnit XML and a Markdown summary,
    prints GitHub annotations, and exits 3 when the score is below --min-score.
    """
    if init is not None:
        _ci_init(submission, spec, min_score, init_dir, install, classroom, force)
        return
    if submission is None or not submission.exists():
        raise click.BadParameter("give an existing .py/.ipynb file, folder or .zip to check "
                                 "(or --init github to write the workflow)",
                                 param_hint="SUBMISSION")
    if server is not None:
        result, assignment, where = _ci_remote(submission, spec, server, wait_timeout, out)
    else:
        assignment = _load(spec)
        result, report = check_submission(submission, assignment, out)
        where = str(report.resolve())
    ci_reports.write_reports(result, assignment, submission, min_score, junit, summary)
    if classroom:
        encoded = classroom_output(result)
        if not os.environ.get("GITHUB_OUTPUT"):
            click.echo(f"GitHub Classroom result (GITHUB_OUTPUT is not set): {encoded}")
    click.echo(check_summary(result, assignment))
    if annotate if annotate is not None else os.environ.get("GITHUB_ACTIONS") == "true":
        for note in github_annotations(result, assignment, submission):
            click.echo(note.command())
    click.echo(f"\nReport: {where}")
    _warn_internal([result])
    if ci_reports.below(result, min_score):
        click.echo(f"Score {result.score:g} / {result.max_score:g} is below --min-score "
                   f"{min_score}.", err=True)
        sys.exit(ci_reports.EXIT_BELOW_MIN_SCORE)


def _ci_remote(submission: Path, spec: str | None, url: str, wait: float, out: Path | None
               ) -> tuple[SubmissionResult, Assignment, str]:
    """Grade on a server (``--server``); the result, an assignment to print it with, and
    where its report is."""
    token = os.environ.get("GRADER_TOKEN", "").strip()
    if not token:
        raise click.UsageError("--server needs the API token in $GRADER_TOKEN (printed by "
                               "`grader users add`; in CI, a repository secret)")
    name = spec if spec is not None else _load(None).name
    server = remote.Server(url, token)
    graded = remote.grade_remotely(server, name, submission, wait)
    try:
        assignment = find_assignment(name)
    except AssignmentError:  # nothing to grade here: the server has the assignment
        assignment = remote.stand_in(name, graded.result)
    if out is not None:
        write_atomic(out / "result.json", json.dumps(graded.result.to_json(), indent=2) + "\n")
    return graded.result, assignment, server.endpoint(f"submissions/{graded.id}/report")


def _ci_init(submission: Path | None, spec: str | None, min_score: ci_reports.MinScore,
             folder: Path, install: str | None, classroom: bool, force: bool) -> None:
    if spec is not None:
        name = spec
    elif (folder / RELEASE_MARK).is_file():  # the repository is a bundle: its own assignment
        name = "."
    else:
        name = _load(None).root.name
    target = submission.as_posix() if submission is not None else "submission.py"
    source = ci_reports.install_source(install, folder)
    text = ci_reports.workflow(name, target, min_score, source, classroom)
    try:
        path = ci_reports.write_workflow(folder, text, force)
    except FileExistsError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"Workflow: {path}")


@main.command("similarity")
@click.argument("folder", metavar="DIR", type=click.Path(exists=True, file_okay=False,
                                                         path_type=Path))
@click.option("--assignment", "-a", "spec", help="Assignment name (e.g. a1) or folder: its "
                                                   "starter and handout code never count.")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for similarity.html, similarity.csv and pairs/.")
@click.option("--threshold", type=click.FloatRange(0, 1), default=THRESHOLD,
              show_default=True, help="List a pair for a closer look when either submission "
                                      "has at least this share of its code in the other.")
def similarity_command(folder: Path, spec: str | None, out: Path, threshold: float) -> None:
    """Rank every pair of the submissions in DIR (or one LMS export) by how alike their code is.

    Needs dl-grader[similarity]. The numbers only choose which pairs a person reads first.
    """
    assignment = _load(spec)
    batch = open_batch([folder])
    try:
        paths = batch.paths if batch.export is not None else submissions_in(folder)
        sim = compare(read_codes(paths, assignment), boilerplate(assignment), threshold)
    finally:
        batch.close()
    index = write_similarity(sim, out, assignment.title)
    for code in sim.codes:
        if code.error:
            click.echo(f"Not compared: {code.id}: {code.error}", err=True)
    click.echo(f"{len(sim.codes)} submission(s), {len(sim.pairs)} pair(s); "
               f"{len(sim.flagged)} listed for a closer look (either score >= {threshold:.0%}).")
    for rank, pair in enumerate(sim.pairs[:10], start=1):
        mark = "  look closer" if pair.flagged else ""
        click.echo(f"{rank:>4}  {pair.a:<24} {pair.score_a:>5.0%}  {pair.b:<24} "
                   f"{pair.score_b:>5.0%}{mark}")
    click.echo(f"Pairs: {index.resolve()} (all of them in {out / TABLE}). Similar code has "
               "innocent causes too: a person decides.")


def _warn_internal(results: list[SubmissionResult]) -> None:
    broken = [r for r in results if r.errors]
    if broken:
        click.echo(f"\nThe grader hit internal errors on {len(broken)} submission(s); see "
                   "'errors' in their result.json, and the tracebacks above (grader grade "
                   f"also writes them to {ERRORS_LOG} in --out).", err=True)
        sys.exit(1)


# The grading service's commands (grader/service/commands.py: its libraries load on use).
from grader.service.commands import serve_command, users_group  # noqa: E402

main.add_command(serve_command)
main.add_command(users_group)
