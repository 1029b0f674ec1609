"""The grader's exceptions: one hierarchy under :class:`GraderError`.

Each error says what is wrong and how to fix it, naming the file or option concerned. The CLI
maps them to exit codes in one place (``cli.py``): ``exit_code`` 2 for what the caller gave
(a usage error, click's convention), 1 for the grader failing. Python callers catch
``GraderError``. What a *submission* does wrong is never an exception here: it is a failed
check or a 0 with the reason, in its result.
"""

from __future__ import annotations


class GraderError(Exception):
    """Base of every error the grader raises on purpose."""

    exit_code = 1
    option: str | None = None
    """The command-line option the error concerns, if one (``--assignment``, ...)."""


class AssignmentError(GraderError):
    """An assignment that cannot be found, or whose rubric or checks are wrong."""


class IntakeError(GraderError):
    """A file that cannot be read as a submission or an LMS export (the message names it)."""


class BatchError(GraderError):
    """The batch cannot run: the output folder is busy, the grading processes cannot start."""


class BadAddress(BatchError):
    """A Dask scheduler address that cannot be used."""

    exit_code = 2
    option = "--scheduler"


class GradebookError(GraderError):
    """A roster or gradebook layout that cannot be used (``--roster``, ``--csv-format``)."""

    exit_code = 2


class ReducedIsolation(GraderError):
    """Official grading refused: this machine cannot apply every sandbox layer."""

    exit_code = 2


class WorkerStartError(GraderError):
    """A sandboxed worker could not start or confine itself (the message says which layer)."""


class ReleaseError(GraderError):
    """The student bundle cannot be built (a public check uses the reference, ...)."""


class ArchiveError(GraderError):
    """The Gradescope archive cannot be built."""


class InstallSourceError(GraderError):
    """``grader ci --init``: no place the course controls to install the grader from."""

    exit_code = 2
    option = "--install"
