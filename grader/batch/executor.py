"""How a batch's submissions get graded: one small interface, three executors.

An :class:`Executor` grades a list of submissions and hands each result back, in this process,
as soon as it has it; it never writes files (``run.py`` does). The three:

- :class:`InProcess`: one :class:`~grader.grading.Grader` here, submission after submission;
- :class:`~grader.batch.pool.LocalPool`: ``--jobs N`` trusted child processes;
- :class:`~grader.batch.cluster.DaskCluster`: the workers of a Dask scheduler (``--scheduler``).
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from typing import Protocol

from grader.assignment import Assignment
from grader.errors import AssignmentError
from grader.grading import Grader, crashed_result, grader_failure
from grader.results import SubmissionResult
from grader.submission import Submission

Todo = list[tuple[int, Submission]]
"""Submissions to grade, each with its index in the batch."""
Emit = Callable[[int, SubmissionResult], None]
"""Called (in this process) with a submission's index and result as soon as it is graded."""
Tick = Callable[[], None]
"""Called now and then while waiting, so progress can redraw."""


class Executor(Protocol):
    """Grades submissions; every submission of ``todo`` gets exactly one ``emit``."""

    def run(self, todo: Todo, emit: Emit, tick: Tick) -> None:
        """Grade ``todo``; raise AssignmentError if the checks are broken, BatchError if the
        executor cannot go on. A submission's own failure is a result, never an exception."""


class InProcess:
    """Grade one after another in this process (no zygote is started for an empty batch)."""

    def __init__(self, assignment: Assignment) -> None:
        self.assignment = assignment

    def run(self, todo: Todo, emit: Emit, tick: Tick) -> None:
        if not todo:
            return
        # One submission: its forks would not pay back the zygote's huge pages (Grader.many).
        with Grader(self.assignment, many=len(todo) > 1) as grader:
            for index, sub in todo:
                emit(index, grade_one(grader, sub))


def grade_one(grader: Grader, sub: Submission) -> SubmissionResult:
    """A result whatever happens, except for broken checks (AssignmentError), which stop all."""
    try:
        return grader.grade(sub)
    except AssignmentError:
        raise
    except Exception as exc:
        return crashed_result(grader.assignment, sub, grader_failure(exc), False,
                              traceback.format_exc())


def available_cpus() -> int:
    """The CPUs this process may run on (a container or taskset may allow fewer than exist)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1
