"""``grader ci --classroom``: the public checks' points in GitHub Classroom.

Classroom shows the points its reporter action (``classroom-resources/autograding-grading-
reporter``) sends: for each runner id given in its ``runners`` input it reads the environment
variable ``<RUNNER-ID>_RESULTS`` (upper case), base64 of a JSON results object, and adds up the
objects' ``max_score`` and their tests' ``score`` (``src/notify-classroom.js``); a ``status`` of
``fail`` or ``error`` fails its step (``src/main.js``). Each test has ``name``, ``status``
(``pass``, ``fail`` or ``error``) and ``message`` (``src/console-results.js``). The workflow
passes this step's ``result`` output to it, which :func:`write_output` writes to
``$GITHUB_OUTPUT``.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping
from typing import Any

from grader.report import clean
from grader.results import CheckResult, SubmissionResult

VERSION = 1
"""The results format's version, as Classroom's own graders write it."""


def classroom_results(result: SubmissionResult) -> dict[str, Any]:
    """The reporter's results object for ``result`` (the public checks ``grader ci`` ran)."""
    tests = [_test(t) for t in result.tests]
    if result.failure:
        status = "error"
    elif all(t["status"] == "pass" for t in tests):
        status = "pass"
    else:
        status = "fail"
    return {"version": VERSION, "status": status, "max_score": result.max_score,
            "message": clean(result.failure), "tests": tests}


def _test(test: CheckResult) -> dict[str, Any]:
    message = test.output
    if test.hint and test.hint not in message:
        message = f"{message}\nLikely mistake: {test.hint}".strip()
    return {"name": clean(test.name), "status": "pass" if test.status == "passed" else "fail",
            "score": test.score, "max_score": test.max_score, "message": clean(message),
            "execution_time": f"{test.duration:.2f}s"}


def encode(result: SubmissionResult) -> str:
    """Base64 of the results object's JSON (one line, as a step output must be)."""
    text = json.dumps(classroom_results(result), ensure_ascii=False, separators=(",", ":"))
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def write_output(result: SubmissionResult, environ: Mapping[str, str] = os.environ) -> str:
    """Append ``result=<base64>`` to ``$GITHUB_OUTPUT`` when it is set; the base64 text."""
    encoded = encode(result)
    path = environ.get("GITHUB_OUTPUT")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"result={encoded}\n")
    return encoded
