"""HTML reports, rendered only through jinja2 with autoescape and StrictUndefined.

Student text (messages quoting their exceptions, what they printed) is untrusted: it reaches
the page only as escaped text, with control characters removed, under a Content-Security-Policy
that forbids every script, style sheet and request not inline in the file. The templates'
context objects are the frozen dataclasses below (and :mod:`grader.plotting`'s charts).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import jinja2
from markupsafe import Markup, escape

from grader.assignment import Assignment, CheckSpec
from grader.diagnose import bug_class_label, without_hint
from grader.plotting import BarChart, LineChart, histogram, line_chart
from grader.results import CheckResult, SubmissionResult

_CONTROL = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|"
                      r"[\x00-\x08\x0b-\x1f\x7f]")


def clean(text: str) -> str:
    """Text without ANSI escapes or control characters (newlines and tabs kept)."""
    return _CONTROL.sub("", text.replace("\r\n", "\n"))


templates = jinja2.Environment(
    loader=jinja2.PackageLoader("grader", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.filters["clean"] = clean
templates.filters["points"] = lambda x: f"{x:g}"
templates.filters["percent"] = lambda x: f"{100 * x:.0f}%"
# Long snake_case names may break after an underscore, so narrow screens need no scrolling.
templates.filters["breakable"] = lambda name: Markup("_<wbr>").join(
    escape(part) for part in str(name).split("_"))


@dataclass(frozen=True)
class CheckView:
    """One check as a report shows it: the message, the hint apart, the chart if any."""

    result: CheckResult
    message: str
    """The output without its trailing hint (the page shows the hint on its own)."""
    hint: str
    bug_label: str
    chart: LineChart | None


@dataclass(frozen=True)
class FunctionSection:
    """One API name's checks in a report."""

    name: str
    score: float
    max_score: float
    checks: tuple[CheckView, ...]


def check_view(check: CheckResult, labels: Mapping[str, str] | None = None) -> CheckView:
    message = without_hint(check.output, check.bug_class, check.hint)
    label = bug_class_label(check.bug_class, labels) if check.bug_class else ""
    return CheckView(check, message, check.hint, label,
                     line_chart(check.plot) if check.plot else None)


def sections(result: SubmissionResult, assignment: Assignment) -> list[FunctionSection]:
    """The checks grouped by API name, in handout order."""
    out = []
    for name in assignment.names:
        checks = tuple(t for t in result.tests if t.function == name)
        if checks:
            out.append(FunctionSection(name, sum(t.score for t in checks),
                                       sum(t.max_score for t in checks),
                                       tuple(check_view(t, assignment.bug_classes)
                                             for t in checks)))
    return out


def render_report(result: SubmissionResult, assignment: Assignment) -> str:
    return templates.get_template("report.html").render(
        result=result, title=assignment.title, sections=sections(result, assignment))


@dataclass(frozen=True)
class CheckRate:
    spec: CheckSpec
    passed: int
    graded: int

    @property
    def rate(self) -> float:
        return self.passed / self.graded if self.graded else 0.0


@dataclass(frozen=True)
class BugCount:
    label: str
    functions: tuple[str, ...]
    submissions: int


@dataclass(frozen=True)
class RateGroup:
    """Checks tied at one pass rate: one line of "hardest checks"."""

    passed: int
    graded: int
    checks: tuple[CheckRate, ...]

    @property
    def rate(self) -> float:
        return self.passed / self.graded if self.graded else 0.0


@dataclass(frozen=True)
class Row:
    result: SubmissionResult
    points: dict[str, float]
    flags: tuple[str, ...]
    name: str = ""
    """The student's name from the roster (or LMS export), "" without one."""


@dataclass(frozen=True)
class Summary:
    """The context of ``summary.html``."""

    title: str
    assignment: Assignment
    names: tuple[str, ...]
    rows: tuple[Row, ...]
    checks: tuple[CheckRate, ...]
    hardest: tuple[RateGroup, ...]
    function_means: tuple[tuple[str, float, float], ...]
    bugs: tuple[BugCount, ...]
    chart: BarChart
    mean: float


def _flags(result: SubmissionResult, full_isolation: set[str]) -> tuple[str, ...]:
    flags = []
    if result.failure:
        flags.append("not run")
    if result.timed_out:
        flags.append("timed out: " + ", ".join(result.timed_out))
    if not full_isolation <= set(result.isolation) or any(
            layer.startswith("REDUCED") for layer in result.isolation):
        flags.append("reduced isolation")
    if result.errors:
        flags.append("grader error")
    if result.unwritten:
        flags.append("files not written")
    return tuple(flags)


def _bugs(results: Sequence[SubmissionResult], labels: Mapping[str, str]
          ) -> tuple[BugCount, ...]:
    who: dict[str, set[str]] = {}
    where: dict[str, set[str]] = {}
    for r in results:
        for t in r.tests:
            if t.bug_class:
                who.setdefault(t.bug_class, set()).add(r.submission_id)
                where.setdefault(t.bug_class, set()).add(t.function)
    ranked = sorted(who, key=lambda c: (-len(who[c]), c))
    return tuple(BugCount(bug_class_label(c, labels), tuple(sorted(where[c])), len(who[c]))
                 for c in ranked)


def _histogram(results: Sequence[SubmissionResult], max_score: float) -> BarChart:
    """Ten bins of a tenth of the maximum each, labelled in points as the title says."""
    counts = [0] * 10
    for r in results:
        fraction = r.score / r.max_score if r.max_score else 0.0
        counts[min(int(fraction * 10), 9)] += 1
    labels = [f"{round(max_score * i / 10, 1):g}-{round(max_score * (i + 1) / 10, 1):g}"
              for i in range(10)]
    return histogram(f"Scores (out of {max_score:g} points)", "score (points; the last bin "
                     "includes full marks)", labels, counts)


def summary(results: Sequence[SubmissionResult], assignment: Assignment,
            names: Mapping[str, str] | None = None) -> Summary:
    """Everything the class summary shows, computed from the per-submission results;
    ``names`` maps submission ids to students' names (from a roster)."""
    rates = tuple(
        CheckRate(spec, sum(t.status == "passed" for t in tests), len(tests))
        for spec in assignment.checks
        if (tests := [t for r in results for t in r.tests if t.id == spec.id]))
    full = {layer for r in results for layer in r.isolation if not layer.startswith("REDUCED")}
    rows = tuple(Row(r, r.points_by_function(assignment.names), _flags(r, full),
                     (names or {}).get(r.submission_id, "")) for r in results)
    n = max(len(results), 1)
    means = tuple((name, sum(row.points[name] for row in rows) / n,
                   max((r.max_by_function([name])[name] for r in results), default=0.0))
                  for name in assignment.names)
    hardest = hardest_groups(rates)
    bugs = _bugs(results, assignment.bug_classes)
    return Summary(assignment.title, assignment, tuple(assignment.names), rows, rates, hardest,
                   means, bugs, _histogram(results, assignment.max_score),
                   sum(r.score for r in results) / n)


def render_summary(results: Sequence[SubmissionResult], assignment: Assignment,
                   names: Mapping[str, str] | None = None,
                   similarity: object | None = None) -> str:
    """``summary.html``, with the students' ``names`` where given; ``similarity`` (a
    :class:`~grader.integrations.similarity_pages.SummarySection`) adds the similar
    submissions' section."""
    return templates.get_template("summary.html").render(s=summary(results, assignment, names),
                                                    similarity=similarity)


def hardest_groups(rates: Sequence[CheckRate], limit: int = 5) -> tuple[RateGroup, ...]:
    """The ``limit`` lowest pass rates below 100%, each with every check tied at it: five
    checks at 90% say less as five lines than as one."""
    groups: list[RateGroup] = []
    for c in sorted((c for c in rates if c.passed < c.graded), key=lambda c: c.rate):
        last = groups[-1] if groups else None
        if last is not None and (last.passed, last.graded) == (c.passed, c.graded):
            groups[-1] = RateGroup(c.passed, c.graded, (*last.checks, c))
        elif len(groups) < limit:
            groups.append(RateGroup(c.passed, c.graded, (c,)))
        else:
            break
    return tuple(groups)

