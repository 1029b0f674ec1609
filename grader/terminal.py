"""What the ``grader`` command prints: the per-function table, the top hints, the failures.

Colour only when stdout is a terminal and ``NO_COLOR`` is unset or empty (https://no-color.org),
unless ``--color``/``--no-color`` says otherwise. Student text (messages quoting their
exceptions) is untrusted: it is printed only after :func:`grader.report.clean` has removed ANSI
escapes and control characters, so a submission cannot move the cursor or retitle the terminal.
"""

from __future__ import annotations

import math
import os
import sys
import textwrap
from collections.abc import Sequence

import click

import grader.diagnose as diagnose
from grader.assignment import Assignment
from grader.report import clean
from grader.results import CheckResult, SubmissionResult

MAX_HINTS = 3


def stdout_isatty() -> bool:
    """Whether standard output is a terminal (CliRunner's capture is not)."""
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):  # replaced by an object without it, or closed
        return False


def use_colour(flag: bool | None = None) -> bool:
    """``--color``/``--no-color`` if given, else a terminal without a non-empty NO_COLOR."""
    if flag is not None:
        return flag
    if os.environ.get("NO_COLOR"):
        return False
    return stdout_isatty()


def _full(score: float, max_score: float) -> bool:
    return math.isclose(score, max_score, rel_tol=1e-9, abs_tol=1e-9)


def _paint(text: str, score: float, max_score: float, colour: bool) -> str:
    """Green for full points, red for none, yellow for some."""
    if not colour:
        return text
    fg = "green" if _full(score, max_score) else "red" if score <= 0 else "yellow"
    return click.style(text, fg=fg)


def table(result: SubmissionResult, assignment: Assignment, colour: bool = False) -> str:
    """One line per API name with checks (handout order), then the total: the score line."""
    points = result.points_by_function(assignment.names)
    maxima = result.max_by_function(assignment.names)
    width = max(len(n) for n in [*points, "total"])
    lines = []
    for name in points:
        if maxima[name]:
            mark = "ok " if _full(points[name], maxima[name]) else "-- "
            line = f"  {mark}{clean(name):<{width}}  {points[name]:g} / {maxima[name]:g}"
            lines.append(_paint(line, points[name], maxima[name], colour))
    total = f"  {'':3}{'total':<{width}}  {result.score:g} / {result.max_score:g}"
    lines.append(_paint(total, result.score, result.max_score, colour))
    return "\n".join(lines)


def top_hints(result: SubmissionResult, limit: int = MAX_HINTS) -> list[CheckResult]:
    """The first failed checks with a hint, one per (function, bug class), at most ``limit``."""
    seen: set[tuple[str, str]] = set()
    hints = []
    for test in result.tests:
        key = (test.function, test.bug_class)
        if test.status == "failed" and test.hint and key not in seen:
            seen.add(key)
            hints.append(test)
    return hints[:limit]


def without_hint(test: CheckResult) -> str:
    """The check's message without the " Likely mistake: ..." suffix its hint added."""
    return diagnose.without_hint(test.output, test.bug_class, test.hint)


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else text + "."


def _indent(text: str) -> str:
    return textwrap.indent(text, "  ", lambda line: True)


def intake_notes(result: SubmissionResult) -> list[str]:
    """The notes about the files (IPython syntax left out, files ignored, ...): the result's
    text above the tests, after the failure."""
    text, failure = result.output.strip(), result.failure.strip()
    if failure and text.startswith(failure):
        text = text[len(failure):]
    return [line for line in text.strip().split("\n") if line.strip()]


def check_summary(result: SubmissionResult, assignment: Assignment, colour: bool = False) -> str:
    """What ``grader check`` prints above the report's path."""
    lines = []
    if result.failure:
        lines += ["Your submission could not run:", _indent(clean(result.failure)), ""]
    notes = intake_notes(result)
    if notes:
        lines += [*(f"Note: {clean(note)}" for note in notes), ""]
    lines.append(table(result, assignment, colour))
    if hidden_line(result, assignment):
        lines.append(hidden_line(result, assignment))
    if result.failure:
        return "\n".join(lines)
    hints = top_hints(result)
    if hints:
        lines.append("")
    label = click.style("Hint", bold=True) if colour else "Hint"
    for test in hints:
        lines.append(f"{label} ({clean(test.function)}): {_sentence(clean(test.hint))}")
    shown = {(t.function, t.hint) for t in hints}
    cross = click.style("✗", fg="red") if colour else "✗"
    todo = [t for t in result.tests if t.status == "failed" and _not_implemented(t)]
    if todo:
        names = list(dict.fromkeys(clean(t.function) for t in todo))
        lines += ["", f"{cross} not implemented yet (the starter's NotImplementedError): "
                  f"{', '.join(names)} ({len(todo)} checks, "
                  f"{points(sum(t.max_score for t in todo))})"]
    for test in result.tests:
        if test.status == "failed" and test not in todo:
            message = without_hint(test) if (test.function, test.hint) in shown else test.output
            lines += ["", f"{cross} {clean(test.name)} ({points(test.max_score)})",
                      _indent(clean(message))]
    return "\n".join(lines)


def points(value: float) -> str:
    """``1 point``, ``0.5 points``, ``3 points``."""
    return f"{value:g} point" + ("" if _full(value, 1.0) else "s")


def _not_implemented(test: CheckResult) -> bool:
    return test.output.startswith(f"{test.function} raised NotImplementedError")


def hidden_line(result: SubmissionResult, assignment: Assignment) -> str:
    """What a self-check leaves out: the points of the hidden checks ("" when none)."""
    if result.mode != "check":
        return ""
    hidden = [c for c in assignment.checks if not c.public]
    total = sum(c.points for c in hidden)
    if not hidden or total <= 0:
        return ""
    return (f"  + {points(total)} in {len(hidden)} hidden checks, which this self-check does "
            "not run: the course staff run them when grading")


def batch_summary(results: Sequence[SubmissionResult]) -> str:
    """One line for ``grader grade``: the mean score, full marks, and submissions not run."""
    if not results:
        return "No submissions graded."
    mean = sum(r.score for r in results) / len(results)
    top = max(r.max_score for r in results)
    full = sum(1 for r in results
               if not r.failure and r.max_score > 0 and _full(r.score, r.max_score))
    not_run = sum(1 for r in results if r.failure)
    return (f"Mean score {round(mean, 2):g} / {top:g}; {full} of {len(results)} got full marks; "
            f"{not_run} could not be run.")
