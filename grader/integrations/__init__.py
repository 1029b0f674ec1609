"""The grader's neighbours: LMS exports and gradebooks (``exports.py``, ``lms.py``),
Gradescope (``gradescope.py``, ``gradescope_archive.py``), GitHub CI (``ci.py``, ``junit.py``,
``annotations.py``) and the student bundle (``release.py``).

Each builds on the core (assignment, submission, results, reports); the core never imports
them.
"""
