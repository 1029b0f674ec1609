"""dl-grader: grade deep-learning assignments with student code kept in a sandboxed worker.

This module is the public API, as ``src/pytest/__init__.py`` is pytest's: checks, conftests,
benchmarks and scripts import from ``grader`` only; the modules behind it may change freely.
Names are imported on first use, so ``import grader`` stays light (a student's
``grader check`` pays for torch only where a check needs it).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from grader.version import __version__

# Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    # For check authors: the fixtures' types, verdicts and hints.
    "Expect": "grader.checks",
    "tensor": "grader.checks",
    "CheckFailure": "grader.checks",
    "StudentFailure": "grader.student",
    "StudentProxy": "grader.student",
    "RemoteObject": "grader.student",
    "Array": "grader.sandbox.inside.protocol",
    "Opaque": "grader.sandbox.inside.protocol",
    "Hint": "grader.diagnose",
    "Variant": "grader.diagnose",
    "Plot": "grader.results",
    "Series": "grader.results",
    # Assignments.
    "Assignment": "grader.assignment",
    "CheckSpec": "grader.assignment",
    "load_assignment": "grader.assignment",
    "find_assignment": "grader.assignment",
    "available_assignments": "grader.assignment",
    "new_assignment": "grader.scaffold",
    # Grading, from Python.
    "Grader": "grader.grading",
    "run_checks": "grader.grading",
    "check_submission": "grader.api",
    "grade_batch": "grader.api",
    "GradebookFormat": "grader.api",
    "Submission": "grader.submission",
    "read_submission": "grader.submission",
    "Limits": "grader.sandbox.limits",
    # Results.
    "CheckResult": "grader.results",
    "SubmissionResult": "grader.results",
    "read_result": "grader.results",
    # Errors: one hierarchy under GraderError.
    "GraderError": "grader.errors",
    "AssignmentError": "grader.errors",
    "IntakeError": "grader.errors",
    "BatchError": "grader.errors",
    "ReducedIsolation": "grader.errors",
    "WorkerStartError": "grader.errors",
}

__all__ = [
    "Array",
    "Assignment",
    "AssignmentError",
    "BatchError",
    "CheckFailure",
    "CheckResult",
    "CheckSpec",
    "Expect",
    "GradebookFormat",
    "Grader",
    "GraderError",
    "Hint",
    "IntakeError",
    "Limits",
    "Opaque",
    "Plot",
    "ReducedIsolation",
    "RemoteObject",
    "Series",
    "StudentFailure",
    "StudentProxy",
    "Submission",
    "SubmissionResult",
    "Variant",
    "WorkerStartError",
    "__version__",
    "available_assignments",
    "check_submission",
    "find_assignment",
    "grade_batch",
    "load_assignment",
    "new_assignment",
    "read_result",
    "read_submission",
    "run_checks",
    "tensor",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'grader' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # the same names, eagerly, for mypy and editors
    from grader.api import GradebookFormat, check_submission, grade_batch
    from grader.assignment import (
        Assignment,
        CheckSpec,
        available_assignments,
        find_assignment,
        load_assignment,
    )
    from grader.checks import CheckFailure, Expect, tensor
    from grader.diagnose import Hint, Variant
    from grader.errors import (
        AssignmentError,
        BatchError,
        GraderError,
        IntakeError,
        ReducedIsolation,
        WorkerStartError,
    )
    from grader.grading import Grader, run_checks
    from grader.results import CheckResult, Plot, Series, SubmissionResult, read_result
    from grader.sandbox.inside.protocol import Array, Opaque
    from grader.sandbox.limits import Limits
    from grader.scaffold import new_assignment
    from grader.student import RemoteObject, StudentFailure, StudentProxy
    from grader.submission import Submission, read_submission
