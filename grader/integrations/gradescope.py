"""Gradescope: results in its format, and what runs inside its autograder container.

Gradescope's "Autograder Specifications" (https://gradescope-autograders.readthedocs.io/en/
latest/specs/) define the container: the student's files are in ``/autograder/submission``, the
uploaded archive's content in ``/autograder/source``, and ``run_autograder`` must write
``/autograder/results/results.json``. :func:`to_gradescope` turns our ``result.json`` (a
superset of that format) into it; :func:`run` is what ``run_autograder`` calls
(``python3 -m grader.integrations.gradescope run --assignment DIR``). The archive itself is
built by :mod:`.gradescope_archive`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from grader.assignment import load_assignment
from grader.errors import AssignmentError
from grader.integrations.gradescope_feedback import summary_html, test_html
from grader.report import clean
from grader.results import CheckResult, SubmissionResult, read_result, write_atomic

ROOT_ENV = "AUTOGRADER_ROOT"
GRADER_ENV = "GRADER"
# Our visibilities are Gradescope's names (it also knows "after_published", which no rubric uses).
VISIBILITY = {"visible": "visible", "hidden": "hidden", "after_due_date": "after_due_date"}
SUFFIXES = (".py", ".ipynb")
_SKIPPED_PARTS = ("__MACOSX", "__pycache__")


class SubmissionNotFound(Exception):
    """No file to grade in the submission folder; the message tells the student what to upload."""


def to_gradescope(result: SubmissionResult, names: Sequence[str] = (), title: str = "",
                  labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Gradescope's results.json for ``result``.

    Fields Gradescope defines are kept; ours that it does not (id, sha256, grader version,
    ...) move into its ``extra_data``, which it stores without showing. The feedback is HTML
    (:mod:`.gradescope_feedback`): the summary above the tests, each test's message, hint and
    where it failed. The student's own printed output is left out (``stdout_visibility``
    hidden): a submission can read the container's files, and its prints must not carry them to
    the results page.
    """
    numbers = _numbers(result.tests, names)
    return {
        "score": result.score,
        "execution_time": result.execution_time,
        "output": summary_html(result, names, title),
        "output_format": "html",
        "stdout_visibility": "hidden",
        "tests": [_test(t, n, labels or {})
                  for t, n in zip(result.tests, numbers, strict=True)],
        "extra_data": {
            "assignment": result.assignment, "submission_id": result.submission_id,
            "max_score": result.max_score, "sha256": result.sha256,
            "grader_version": result.grader_version, "graded_at": result.graded_at,
            "mode": result.mode, "isolation": list(result.isolation),
            "timed_out": list(result.timed_out), "internal_errors": len(result.errors),
        },
    }


def _test(test: CheckResult, number: str, labels: Mapping[str, str]) -> dict[str, Any]:
    return {
        "score": test.score,
        "max_score": test.max_score,
        "status": "passed" if test.status == "passed" else "failed",
        "name": clean(test.name),
        "name_format": "text",
        "number": number,
        "output": test_html(test, labels),
        "output_format": "html",
        "tags": list(test.tags),
        "visibility": VISIBILITY.get(test.visibility, "hidden"),
        "extra_data": {"id": test.id, "function": test.function, "bug_class": test.bug_class,
                       "duration": test.duration},
    }


def _numbers(tests: Sequence[CheckResult], names: Sequence[str]) -> list[str]:
    """"F.K": the function's place in the handout (``names``), then the check's within it."""
    order = list(names)
    counts: dict[str, int] = {}
    numbers = []
    for test in tests:
        if test.function not in order:
            order.append(test.function)
        counts[test.function] = counts.get(test.function, 0) + 1
        numbers.append(f"{order.index(test.function) + 1}.{counts[test.function]}")
    return numbers


def failure_results(message: str) -> dict[str, Any]:
    """results.json for a submission that could not be graded at all: 0, and why."""
    return {"score": 0.0, "output": message, "output_format": "text",
            "stdout_visibility": "hidden", "tests": []}


def find_submission(folder: Path, main_name: str) -> Path:
    """The file to grade: ``main_name`` (or its ``.ipynb``) anywhere in ``folder``, nearest the
    top, else the only ``.py``/``.ipynb`` file; :class:`SubmissionNotFound` says what to upload.
    Links are never followed.
    """
    wanted = {main_name, Path(main_name).with_suffix(".ipynb").name}
    found = sorted(
        (p for p in folder.rglob("*") if p.suffix in SUFFIXES and p.is_file()
         and not p.is_symlink()  # a link could make the reference "the submission"
         and not any(part.startswith(".") or part in _SKIPPED_PARTS
                     for part in p.relative_to(folder).parts)),
        key=lambda p: (len(p.parts), str(p)),
    )
    named = [p for p in found if p.name in wanted]
    if named:
        return named[0]
    if len(found) == 1:
        return found[0]
    if not found:
        raise SubmissionNotFound(f"No .py or .ipynb file was found in your submission. Upload "
                                 f"{main_name} and submit again.")
    listed = ", ".join(str(p.relative_to(folder)) for p in found[:5])
    raise SubmissionNotFound(f"Your submission has {len(found)} .py/.ipynb files ({listed}) and "
                             f"none is named {main_name}. Rename the one to grade to "
                             f"{main_name} and submit again.")


def run(root: Path, assignment_dir: Path, grader: str) -> int:
    """Grade ``root/submission`` and write ``root/results/results.json``; the exit status.

    A submission without a file to grade gets results saying so. When the grader itself fails
    no results.json is written, so Gradescope reports an autograder failure to the student and
    the course staff see this run's output.
    """
    results = root / "results" / "results.json"
    try:
        assignment = load_assignment(assignment_dir)
    except AssignmentError as exc:
        print(f"run_autograder: {exc}", file=sys.stderr)
        return 1
    try:
        submission = find_submission(root / "submission", assignment.submission_name)
    except SubmissionNotFound as exc:
        write_atomic(results, json.dumps(failure_results(str(exc)), indent=2) + "\n")
        print(f"run_autograder: {exc}")
        return 0
    with tempfile.TemporaryDirectory(prefix="grader-out-") as out:
        # Gradescope's containers often forbid user namespaces; grade with what the container
        # allows (the result's isolation field says what was missing) rather than not at all.
        command = [grader, "grade", "--assignment", str(assignment_dir), "--out", out,
                   "--allow-reduced-isolation", str(submission)]
        print("run_autograder:", " ".join(command), flush=True)
        code = subprocess.run(command, check=False).returncode
        graded = sorted(Path(out).glob("*/result.json"))
        if not graded:
            print(f"run_autograder: `grader grade` exited {code} and wrote no result.json",
                  file=sys.stderr)
            return 1
        result = read_result(graded[0])
    for error in result.errors:  # for the staff: Gradescope shows this output to them only
        print(f"run_autograder: internal grader error:\n{error}", file=sys.stderr)
    data = to_gradescope(result, assignment.names, assignment.title, assignment.bug_classes)
    write_atomic(results, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    print(f"run_autograder: {result.score:g} / {result.max_score:g} written to {results}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.integrations.gradescope",
                                     description="Run inside Gradescope's autograder container.")
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="grade the submission into results.json")
    run_parser.add_argument("--assignment", required=True, type=Path,
                            help="the assignment folder inside the archive")
    args = parser.parse_args(argv)
    root = Path(os.environ.get(ROOT_ENV) or "/autograder")
    return run(root, args.assignment, os.environ.get(GRADER_ENV) or "grader")


if __name__ == "__main__":
    sys.exit(main())
