"""``grader new``: a skeleton assignment that grades green without editing anything."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from grader import cli
from grader.assignment import load_assignment
from grader.scaffold import FILES


@pytest.mark.slow
def test_new_assignment_grades_its_solution_full_and_its_starter_zero(tmp_path):
    runner = CliRunner()
    made = runner.invoke(cli.main, ["new", "demo", "--dir", str(tmp_path)])
    assert made.exit_code == 0, made.output
    root = tmp_path / "demo"
    assert {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} == {
        name.format(name="demo") for name in FILES}
    out = tmp_path / "out"
    graded = runner.invoke(cli.main, ["grade", "--assignment", str(root), "--out", str(out),
                                      str(root / "solution.py"), str(root / "submission.py")])
    assert graded.exit_code == 0, graded.output
    solution = json.loads((out / "solution" / "result.json").read_text())
    starter = json.loads((out / "submission" / "result.json").read_text())
    assert solution["score"] == solution["max_score"] == 2
    assert starter["score"] == 0
    assert (out / "grades.csv").is_file() and (out / "summary.html").is_file()
    checked = runner.invoke(cli.main, ["check", str(root / "solution.py"), "-a", str(root),
                                       "--out", str(tmp_path / "check")])
    assert checked.exit_code == 0 and "1 / 1" in checked.output.replace("  ", " "), checked.output


def test_new_assignment_has_a_valid_rubric_with_its_own_bug_class(tmp_path):
    a = load_assignment(cli.new_assignment("a9", tmp_path))
    assert a.names == ("relu",) and len(a.checks) == 2
    assert a.bug_classes == {"negative-kept": "negative inputs kept"}
    assert a.load_reference().relu is not None


@pytest.mark.parametrize(("name", "message"), [
    ("9lives", "use a letter"), ("a b", "use a letter"), ("../up", "use a letter"),
])
def test_bad_names_are_usage_errors(tmp_path, name, message):
    result = CliRunner().invoke(cli.main, ["new", name, "--dir", str(tmp_path)])
    assert result.exit_code == 2 and message in result.output, result.output


def test_an_existing_folder_is_never_overwritten(tmp_path):
    (tmp_path / "a3").mkdir()
    result = CliRunner().invoke(cli.main, ["new", "a3", "--dir", str(tmp_path)])
    assert result.exit_code == 2 and "already exists" in result.output, result.output
