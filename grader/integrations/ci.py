"""``grader ci``: the public checks in a CI job on a student's repository.

Writes JUnit XML (:mod:`.junit`), a Markdown summary (to ``--summary`` and appended to
``$GITHUB_STEP_SUMMARY``, GitHub's job summary file), GitHub annotations
(:mod:`.annotations`), and decides the exit status: 3 when the score is below
``--min-score`` (1 stays "the grader itself failed", 2 a usage error). ``--init github``
writes the workflow that runs it, which installs the grader from a place the course controls
(:func:`install_source`).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import jinja2

from grader.assignment import Assignment
from grader.errors import InstallSourceError
from grader.integrations.annotations import definitions, display_path, source_file
from grader.integrations.junit import junit_xml
from grader.report import clean
from grader.results import SubmissionResult, write_atomic
from grader.terminal import without_hint

EXIT_BELOW_MIN_SCORE = 3
WORKFLOW = Path(".github") / "workflows" / "grader.yml"
WHEELS = "wheels"
"""Where ``grader release`` puts the grader's wheel in the bundle (the template repository)."""
_PINNED_GIT = re.compile(r"git\+https://[^\s@\"'$`\\]+@[0-9a-f]{40}")
_MD_SPECIAL = "\\`*_[]<>|~&"
"""Escaped in inline text (our text never starts a line, so # - + . are harmless)."""


@dataclass(frozen=True)
class MinScore:
    """``--min-score``: points (``30``) or a share of the maximum (``75%``)."""

    value: float
    percent: bool = False

    def threshold(self, max_score: float) -> float:
        return max_score * self.value / 100 if self.percent else self.value

    def __str__(self) -> str:
        return f"{self.value:g}%" if self.percent else f"{self.value:g}"


def parse_min_score(text: str) -> MinScore:
    """``"30"`` or ``"75%"``; ValueError says what is accepted."""
    raw = text.strip()
    percent = raw.endswith("%")
    try:
        value = float(raw.removesuffix("%"))
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0 or (percent and value > 100):
        raise ValueError(f"{text!r} is not a score: give points (e.g. 15) or a percentage of "
                         "the public checks' maximum (e.g. 80%)")
    return MinScore(value, percent)


def below(result: SubmissionResult, min_score: MinScore) -> bool:
    return result.score < min_score.threshold(result.max_score) - 1e-9


def markdown_summary(result: SubmissionResult, assignment: Assignment,
                     min_score: MinScore) -> str:
    """The job summary: a table of points per function, then each failed check's message."""
    verdict = "below" if below(result, min_score) else "meets"
    lines = [f"## {_md(assignment.title)} ({_md(assignment.name)}): public checks", "",
             f"**{result.score:g} / {result.max_score:g} points**, {verdict} the minimum of "
             f"{min_score.threshold(result.max_score):g} points.", ""]
    if result.failure:
        lines += ["Your submission could not run:", "", *_fenced(clean(result.failure)), ""]
    lines += ["| | Function | Points | Checks passed |", "| --- | --- | ---: | ---: |"]
    for name in assignment.names:
        tests = [t for t in result.tests if t.function == name]
        if tests:
            score, top = sum(t.score for t in tests), sum(t.max_score for t in tests)
            passed = sum(1 for t in tests if t.status == "passed")
            mark = "✅" if score >= top - 1e-9 else "❌"
            lines.append(f"| {mark} | `{name}` | {score:g} / {top:g} | {passed} / {len(tests)} |")
    failed = [t for t in result.tests if t.status != "passed"]
    if failed and not result.failure:
        lines += ["", "### Failed checks"]
        for test in failed:
            lines += ["", f"**{_md(clean(test.name))}** ({test.score:g} / {test.max_score:g})",
                      "", *_fenced(clean(without_hint(test)))]
            if test.hint:
                lines += ["", f"> **Hint:** {_md(clean(test.hint))}"]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    """Text with Markdown's special characters escaped, on one line."""
    flat = " ".join(text.split())
    return "".join(f"\\{c}" if c in _MD_SPECIAL else c for c in flat)


def _fenced(text: str) -> list[str]:
    """A fenced code block longer than any run of backticks in ``text``."""
    run, fence = 0, 3
    for char in text:
        run = run + 1 if char == "`" else 0
        fence = max(fence, run + 1)
    return ["`" * fence + "text", text, "`" * fence]


def write_reports(result: SubmissionResult, assignment: Assignment, submission: Path,
                  min_score: MinScore, junit: Path | None, summary: Path | None,
                  environ: Mapping[str, str] = os.environ) -> None:
    """The JUnit file, the summary file, and the summary appended to $GITHUB_STEP_SUMMARY."""
    if junit is not None:
        source = source_file(submission, assignment.submission_name)
        lines, _ = definitions(source)
        file = display_path(source, environ) if source else ""
        write_atomic(junit, junit_xml(result, file, lines))
    text = markdown_summary(result, assignment, min_score)
    if summary is not None:
        write_atomic(summary, text)
    step_summary = environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        with open(step_summary, "a", encoding="utf-8") as f:
            f.write(text)


def install_source(given: str | None, repo: Path) -> str:
    """What the workflow pip-installs to get the grader: a wheel inside the repository
    (``wheels/dl_grader-...whl``, default: the one ``grader release`` put in ``repo/wheels``)
    or ``git+https://HOST/PATH@COMMIT`` with a full 40-hex commit. A bare or unpinned name is
    refused: whoever claims it on the public index would run code in every student's CI.
    """
    if given is None:
        found = sorted((repo / WHEELS).glob("dl_grader-*.whl"))
        if len(found) != 1:
            raise InstallSourceError(
                f"{repo / WHEELS} holds {len(found)} dl_grader wheels, not one: give --install "
                "with the wheel's path in the repository (grader release puts it in wheels/) "
                "or git+https://HOST/dl-grader.git@COMMIT (a 40-hex commit)")
        return f"./{found[0].relative_to(repo).as_posix()}"
    if _PINNED_GIT.fullmatch(given):
        return given
    relative = Path(given)
    if given.endswith(".whl") and not relative.is_absolute() and ".." not in relative.parts:
        if not (repo / relative).is_file():
            raise InstallSourceError(f"{repo / relative} does not exist: commit the wheel "
                                     "from the bundle (grader release) to the repository first")
        return f"./{relative.as_posix()}"
    raise InstallSourceError(f"{given!r} is neither a .whl path inside the repository nor "
                             "git+https://HOST/PATH@COMMIT with a 40-hex commit; a package "
                             "name is never installed (anyone could publish one under it)")


def workflow(assignment: str, submission: str, min_score: MinScore, install: str,
             classroom: bool = False) -> str:
    """The GitHub Actions workflow for a student repository (values quoted for YAML)."""
    text = resources.files("grader").joinpath("templates", "ci-workflow.yml").read_text(
        encoding="utf-8")
    # [[ ]] for values: GitHub's own ${{ }} expressions stay as they are.
    env = jinja2.Environment(variable_start_string="[[", variable_end_string="]]",
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             autoescape=False)  # YAML, not HTML: values are JSON-quoted below
    values = {"assignment": assignment, "submission": submission,
              "min_score": str(min_score), "install": install}
    quoted = {key: json.dumps(value) for key, value in values.items()}  # valid YAML strings
    return env.from_string(text).render(classroom=classroom, **quoted)


def write_workflow(folder: Path, text: str, force: bool = False) -> Path:
    """Write ``folder/.github/workflows/grader.yml``; FileExistsError unless ``force``."""
    path = folder / WORKFLOW
    if path.exists() and not force:
        raise FileExistsError(f"{path} exists; pass --force to replace it")
    write_atomic(path, text)
    return path
