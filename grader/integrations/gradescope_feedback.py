"""The feedback Gradescope shows: HTML fragments for its results.json (``output_format`` html).

Students see on Gradescope what ``report.html`` shows them: each check's message (the values
expected and got), its likely mistake apart, and where in their code it failed folded under a
``<details>``; above the tests, the points per function and the likely mistakes. Rendered
through jinja2 with autoescape and StrictUndefined (student text is untrusted), with no link,
script, style sheet or image: Gradescope places the fragment in its own page. The summary lists
only what the visible checks found: a hidden check's points and hint stay in its own test, which
Gradescope shows by its ``visibility``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from grader.diagnose import bug_class_label, without_hint
from grader.report import clean, templates
from grader.results import CheckResult, SubmissionResult

_FRAME = "  at "
"""How the grader writes the place in the student's code an exception came from."""


@dataclass(frozen=True)
class TestView:
    message: str
    hint: str
    label: str
    trace: str
    hidden: bool


@dataclass(frozen=True)
class FunctionRow:
    name: str
    score: float
    max_score: float
    passed: int
    count: int


def test_view(test: CheckResult, labels: Mapping[str, str]) -> TestView:
    """The check's message split into what went wrong, the hint, and where it happened."""
    message = clean(without_hint(test.output, test.bug_class, test.hint))
    lines = message.splitlines()
    trace = [line.removeprefix(_FRAME) for line in lines if line.startswith(_FRAME)]
    text = "\n".join(line for line in lines if not line.startswith(_FRAME)).strip()
    label = bug_class_label(test.bug_class, labels) if test.bug_class else ""
    return TestView(text, clean(test.hint), label, "\n".join(trace),
                    test.visibility != "visible")


def test_html(test: CheckResult, labels: Mapping[str, str] | None = None) -> str:
    """One test's ``output``."""
    view = test_view(test, labels or {})
    return templates.get_template("gradescope-test.html").render(view=view).strip()


def summary_html(result: SubmissionResult, names: Sequence[str], title: str = "") -> str:
    """The results' top-level ``output``: points per function and likely mistakes of the
    visible checks, and why the submission could not run if it could not."""
    visible = [t for t in result.tests if t.visibility == "visible"]
    order = list(names) + sorted({t.function for t in visible} - set(names))
    rows = []
    for name in order:
        tests = [t for t in visible if t.function == name]
        if tests:
            rows.append(FunctionRow(name, sum(t.score for t in tests),
                                    sum(t.max_score for t in tests),
                                    sum(t.status == "passed" for t in tests), len(tests)))
    mistakes = list(dict.fromkeys((t.function, clean(t.hint)) for t in visible
                                  if t.hint and t.status != "passed"))
    return templates.get_template("gradescope-summary.html").render(
        title=title or result.assignment, score=result.score, max_score=result.max_score,
        failure=clean(result.failure), notes=clean(result.output), rows=rows,
        hidden=len(result.tests) - len(visible), mistakes=mistakes).strip()
