"""The pytest plugin, on a tiny assignment made in a temporary folder.

It also shows that adding an assignment is adding a folder: nothing in grader/ names "add".
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from grader.api import grade_batch
from grader.assignment import load_assignment
from grader.errors import AssignmentError
from grader.grading import Grader
from grader.outdir import ERRORS_LOG
from grader.results import SubmissionResult
from grader.submission import read_submission

RUBRIC = """
[assignment]
name = "tiny"
title = "Addition"
names = ["add"]
import_timeout = 20.0
[defaults]
rtol = 1e-6
atol = 1e-9
timeout = 5.0
[[checks]]
id = "add-small"
function = "add"
points = 2
visibility = "visible"
description = "adds two small numbers"
[[checks]]
id = "add-large"
function = "add"
points = 3
visibility = "hidden"
description = "adds large numbers"
"""
PUBLIC = """
import pytest

@pytest.mark.rubric("add-small")
def test_small(student, expect):
    expect.scalar(student.add(2, 3), 5.0, expect.sig(a=2, b=3))
"""
HIDDEN = """
import pytest

@pytest.mark.rubric("add-large")
def test_large(student, expect, rng):
    a, b = float(rng.integers(10**6, 10**7)), 123456.0
    expect.scalar(student.add(a, b), a + b, expect.sig(a=a, b=b))
"""


def make_assignment(root: Path, public: str = PUBLIC, hidden: str = HIDDEN) -> Path:
    folder = root / "tiny"
    (folder / "checks" / "public").mkdir(parents=True)
    (folder / "checks" / "hidden").mkdir()
    (folder / "rubric.toml").write_text(RUBRIC)
    (folder / "checks" / "public" / "test_add.py").write_text(public)
    (folder / "checks" / "hidden" / "test_add_hidden.py").write_text(hidden)
    return folder


def grade(folder: Path, source: str, tmp: Path, public_only: bool = False):
    sub = tmp / "submission.py"
    sub.write_text(source)
    with Grader(load_assignment(folder), public_only=public_only) as grader:
        return grader.grade(read_submission(sub))


@pytest.mark.parametrize(("source", "score"), [
    ("def add(a, b):\n    return a + b\n", 5.0),
    ("def add(a, b):\n    return a - b\n", 0.0),
    ("def add(a, b):\n    return 5\n", 2.0),
], ids=["right", "wrong", "hardcoded"])
def test_scores(tmp_path, source, score):
    result = grade(make_assignment(tmp_path), source, tmp_path)
    assert result.score == score and result.max_score == 5.0
    assert [t.id for t in result.tests] == ["add-small", "add-large"]


def test_check_mode_runs_public_checks_only(tmp_path):
    result = grade(make_assignment(tmp_path), "def add(a, b):\n    return a + b\n", tmp_path,
                   public_only=True)
    assert [t.id for t in result.tests] == ["add-small"] and result.max_score == 2.0
    assert result.mode == "check"


def test_grades_are_deterministic(tmp_path):
    folder = make_assignment(tmp_path)
    source = "def add(a, b):\n    return a + b + (1e-3 if a > 5e6 else 0)\n"
    first = grade(folder, source, tmp_path)
    (tmp_path / "submission.py").unlink()
    second = grade(folder, source, tmp_path)
    assert [t.status for t in first.tests] == [t.status for t in second.tests]


@pytest.mark.parametrize(("public", "message"), [
    (PUBLIC.replace('@pytest.mark.rubric("add-small")\n', ""), "needs exactly one"),
    (PUBLIC.replace("add-small", "add-tiny"), "names rubric id 'add-tiny'"),
    (PUBLIC.replace("add-small", "add-large"), "is hidden in rubric.toml but its test is under "
                                               "checks/public"),
], ids=["unmarked", "unknown-id", "wrong-folder"])
def test_misconfigured_checks_name_file_and_line(tmp_path, public, message):
    folder = make_assignment(tmp_path, public=public)
    with pytest.raises(AssignmentError, match=message) as info:
        grade(folder, "def add(a, b):\n    return a + b\n", tmp_path)
    assert "test_add.py:" in str(info.value) or "has no test" in str(info.value)


def test_rubric_check_without_test_is_an_error(tmp_path):
    folder = make_assignment(tmp_path, hidden="")
    with pytest.raises(AssignmentError, match="rubric check 'add-large' has no test"):
        grade(folder, "def add(a, b):\n    return a + b\n", tmp_path)


def test_bug_in_a_check_is_an_internal_error_not_a_silent_zero(tmp_path):
    folder = make_assignment(tmp_path, hidden=HIDDEN.replace("a + b, expect", "a + c, expect"))
    result = grade(folder, "def add(a, b):\n    return a + b\n", tmp_path)
    assert result.errors and "NameError" in result.errors[0]
    assert "internal error" in result.tests[1].output


def test_checks_in_nested_folders_keep_their_visibility(tmp_path):
    folder = make_assignment(tmp_path)
    for kind, name in (("public", "test_add.py"), ("hidden", "test_add_hidden.py")):
        nested = folder / "checks" / kind / "arithmetic" / "integers"
        nested.mkdir(parents=True)
        (folder / "checks" / kind / name).rename(nested / name)
    right = "def add(a, b):\n    return a + b\n"
    assert grade(folder, right, tmp_path).score == 5.0
    public = grade(folder, right, tmp_path, public_only=True)
    assert [t.id for t in public.tests] == ["add-small"] and public.score == 2.0


def test_a_hidden_check_in_a_nested_public_folder_is_an_error(tmp_path):
    folder = make_assignment(tmp_path)
    nested = folder / "checks" / "public" / "more"
    nested.mkdir()
    (folder / "checks" / "hidden" / "test_add_hidden.py").rename(nested / "test_add_hidden.py")
    with pytest.raises(AssignmentError, match=r"'add-large' is hidden in rubric\.toml but its "
                                              "test is under checks/public"):
        grade(folder, "def add(a, b):\n    return a + b\n", tmp_path)


# ---------------------------------------------------------------- internal errors stay with staff

BROKEN_SOURCE = "a + c, expect"  # the hidden check's line that raises NameError


def test_an_internal_error_stores_one_short_line_and_no_check_source(tmp_path):
    folder = make_assignment(tmp_path, hidden=HIDDEN.replace("a + b, expect", BROKEN_SOURCE))
    result = grade(folder, "def add(a, b):\n    return a + b\n", tmp_path)
    assert result.errors == ("add-large: internal error in the check (NameError); the "
                             "traceback is in the instructor's log (grader-errors.log)",)
    stored = json.dumps(result.to_json())
    for secret in (BROKEN_SOURCE, "Traceback", "test_add_hidden.py", "line "):
        assert secret not in stored
    (detail,) = result.error_details
    assert "Traceback" in detail and BROKEN_SOURCE in detail and "NameError" in detail
    back = SubmissionResult.from_json(result.to_json(details=True))
    assert back.error_details == result.error_details and back == result


def test_a_batch_logs_internal_errors_to_the_grader_logger_and_grader_errors_log(tmp_path,
                                                                                caplog):
    folder = make_assignment(tmp_path, hidden=HIDDEN.replace("a + b, expect", BROKEN_SOURCE))
    sub = tmp_path / "student.py"
    sub.write_text("def add(a, b):\n    return a + b\n")
    out = tmp_path / "out"
    with caplog.at_level(logging.ERROR, logger="grader"):
        (result,) = grade_batch(load_assignment(folder), [sub], out,
                                allow_reduced_isolation=True)
    assert result.errors and result.score == 2.0
    log = (out / ERRORS_LOG).read_text()
    assert "== student: add-large: internal error in the check (NameError)" in log
    assert BROKEN_SOURCE in log and "Traceback" in log
    assert any(BROKEN_SOURCE in r.getMessage() for r in caplog.records if r.name == "grader")
    for name in ("result.json", "report.html"):
        assert BROKEN_SOURCE not in (out / "student" / name).read_text()
    assert BROKEN_SOURCE not in (out / "summary.html").read_text()


def test_an_integer_too_large_is_the_students_failure_not_an_internal_error(tmp_path):
    for value in ("10**400", "-(10**30)", "2**63"):
        result = grade(make_assignment(tmp_path / value), f"def add(a, b):\n    return {value}\n",
                       tmp_path)
        assert result.score == 0 and not result.errors, result.errors
        assert all("add returned an integer too large to compare" in t.output
                   for t in result.tests)


def test_a_grading_session_runs_no_garbage_collection(tmp_path, monkeypatch):
    # pytest's unraisable-exception plugin ran gc.collect() twice per session (0.1 to 0.3 s
    # each with torch loaded): a cost per submission for warnings nobody reads.
    import gc

    from grader.grading import collect_checks

    folder = make_assignment(tmp_path)
    collect_checks(load_assignment(folder))  # imports done: what is left is per session
    calls = []
    monkeypatch.setattr(gc, "collect", lambda *args: calls.append(args) or 0)
    assert grade(folder, "def add(a, b):\n    return a + b\n", tmp_path).score == 5.0
    assert calls == []


MEMO_HIDDEN = """
import pytest

@pytest.mark.rubric("add-large")
def test_large(student, expect, memo):
    import os
    def compute():
        with open(os.environ["MEMO_LOG"], "a") as f:
            f.write("x")
        return (3e6, [1e6, 2e6])
    total, (a, b) = memo(("sum", 2), compute)
    expect.scalar(student.add(a, b), total, expect.sig(a=a, b=b))
"""


def test_memo_values_are_computed_once_across_graders(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("MEMO_LOG", str(tmp_path / "computed.log"))
    folder = make_assignment(tmp_path, hidden=MEMO_HIDDEN)
    for _ in range(2):  # two grading processes, or two runs
        assert grade(folder, "def add(a, b):\n    return a + b\n", tmp_path).score == 5.0
    assert (tmp_path / "computed.log").read_text() == "x"
