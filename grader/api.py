"""The Python API behind the CLI (being filled in: see grader/__init__.py)."""

from grader.grading import check_submission, grade_batch

__all__ = ["check_submission", "grade_batch"]
