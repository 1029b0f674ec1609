"""The CLI through click's CliRunner: exit codes, output and files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from grader.cli import main

A1 = Path(__file__).resolve().parents[2] / "assignments" / "a1"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_assignments_lists_a1(runner):
    result = runner.invoke(main, ["assignments"])
    assert result.exit_code == 0, result.output
    assert "a1" in result.output and "40 points" in result.output


def test_check_writes_report_next_to_submission(runner, tmp_path):
    sub = tmp_path / "submission.py"
    shutil.copy(A1 / "solution.py", sub)
    result = runner.invoke(main, ["check", str(sub), "--assignment", "a1"])
    assert result.exit_code == 0, result.output
    assert "total" in result.output and "18 / 18" in result.output
    report = tmp_path / "report.html"
    assert str(report) in result.output
    soup = BeautifulSoup(report.read_text(), "html.parser")
    assert soup.find(id="fn-mse") is not None
    assert soup.find("meta", attrs={"http-equiv": "Content-Security-Policy"}) is not None


def test_check_of_starter_exits_zero_and_says_what_failed(runner, tmp_path):
    result = runner.invoke(main, ["check", str(A1 / "submission.py"), "-a", str(A1),
                                  "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "0 / 18" in result.output and "NotImplementedError" in result.output


def test_grade_writes_every_file(runner, tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("def mse(:\n")
    out = tmp_path / "out"
    result = runner.invoke(main, ["grade", "--assignment", "a1", "--out", str(out),
                                  str(A1 / "examples" / "sign_error.py"), str(broken)])
    assert result.exit_code == 0, result.output
    for sid in ("sign_error", "broken"):
        assert (out / sid / "result.json").is_file() and (out / sid / "report.html").is_file()
    assert (out / "grades.csv").is_file() and (out / "summary.html").is_file()
    assert "could not run" in result.output


def test_unknown_assignment_is_a_usage_error(runner):
    result = runner.invoke(main, ["check", str(A1 / "solution.py"), "--assignment", "zz"])
    assert result.exit_code == 2
    assert "'zz' not found" in result.output and "available: a1" in result.output


def test_missing_submission_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(main, ["grade", "-a", "a1", "--out", str(tmp_path),
                                  str(tmp_path / "nope.py")])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_broken_rubric_fails_with_exit_1(runner, tmp_path):
    bad = tmp_path / "a9"
    shutil.copytree(A1, bad)
    text = (bad / "rubric.toml").read_text().replace('id = "mse-lecture"', 'id = "mse-renamed"')
    (bad / "rubric.toml").write_text(text)
    result = runner.invoke(main, ["check", str(A1 / "solution.py"), "-a", str(bad),
                                  "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "mse-lecture" in result.output and "does not declare" in result.output
