"""What a reader may see of a result: all of it for staff; for a student, before the
instructor releases the assignment, the public checks only.

Held back until the release: every ``hidden`` and ``after_due_date`` check (its name, message,
points, hint), what the code printed during them, which functions timed out and the timings.
The grader's internal errors are staff's, always. The score and maximum are recomputed from
what is left, and :func:`hidden_points` says how many points are still to come.
"""

from __future__ import annotations

import dataclasses
import json

from grader.assignment import Assignment
from grader.results import SubmissionResult


def parse(data: str) -> SubmissionResult:
    return SubmissionResult.from_json(json.loads(data))


def for_student(result: SubmissionResult, released: bool) -> SubmissionResult:
    """``result`` as a student may read it (see the module's docstring)."""
    if released:
        return dataclasses.replace(result, errors=(), error_details=())
    tests = tuple(t for t in result.tests if t.visibility == "visible")
    return dataclasses.replace(
        result, errors=(), error_details=(), tests=tests, score=sum(t.score for t in tests),
        max_score=sum(t.max_score for t in tests), timed_out=(), timings={}, mode="check",
        student_output=tuple(b for b in result.student_output if b.visibility == "visible"))


def hidden_points(assignment: Assignment) -> float:
    """The points of the checks a student sees only after the release."""
    return sum(c.points for c in assignment.checks if c.visibility != "visible")


def public_points(assignment: Assignment) -> float:
    return sum(c.points for c in assignment.checks if c.visibility == "visible")
