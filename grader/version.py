"""The grader's version: recorded in every result (a resumed batch regrades on a change)."""

__version__ = "0.2.0"
