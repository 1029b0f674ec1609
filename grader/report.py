"""HTML reports, rendered only through jinja2 with autoescape and StrictUndefined.

Student text (messages quoting their exceptions, what they printed) is untrusted: it reaches
the page only as escaped text, with control characters removed, under a Content-Security-Policy
that forbids every script, style sheet and request not inline in the file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import jinja2

from grader.assignment import Assignment
from grader.results import CheckResult, SubmissionResult

_CONTROL = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|"
                      r"[\x00-\x08\x0b-\x1f\x7f]")


def clean(text: str) -> str:
    """Text without ANSI escapes or control characters (newlines and tabs kept)."""
    return _CONTROL.sub("", text.replace("\r\n", "\n"))


_env = jinja2.Environment(
    loader=jinja2.PackageLoader("grader", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["clean"] = clean
_env.filters["points"] = lambda x: f"{x:g}"


@dataclass(frozen=True)
class FunctionSection:
    """One API name's checks in a report."""

    name: str
    score: float
    max_score: float
    checks: tuple[CheckResult, ...]


def sections(result: SubmissionResult, assignment: Assignment) -> list[FunctionSection]:
    """The checks grouped by API name, in handout order."""
    out = []
    for name in assignment.names:
        checks = tuple(t for t in result.tests if t.function == name)
        if checks:
            out.append(FunctionSection(name, sum(t.score for t in checks),
                                       sum(t.max_score for t in checks), checks))
    return out


def render_report(result: SubmissionResult, assignment: Assignment) -> str:
    return _env.get_template("report.html").render(
        result=result, title=assignment.title, sections=sections(result, assignment))


def render_summary(results: Sequence[SubmissionResult], assignment: Assignment) -> str:
    checks = []
    for spec in assignment.checks:
        outcomes = [t.status == "passed" for r in results for t in r.tests if t.id == spec.id]
        rate = sum(outcomes) / len(outcomes) if outcomes else 0.0
        checks.append((spec, rate))
    rows = [(r, r.points_by_function(assignment.names)) for r in results]
    return _env.get_template("summary.html").render(
        title=assignment.title, assignment=assignment, rows=rows, checks=checks,
        names=assignment.names)
