"""dl-grader: grade deep-learning assignments with student code kept in a sandboxed worker."""

__version__ = "0.1.0"
