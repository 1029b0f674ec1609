"""The CLI through click's CliRunner: exit codes, output and files."""

from __future__ import annotations

import shutil
from pathlib import Path

import click
import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from grader import cli, terminal
from grader.cli import main
from grader.diagnose import Hint, hint_suffix
from grader.results import CheckResult, SubmissionResult, read_result

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
    assert "; 0 of 2 got full marks; 1 could not be run." in result.output.splitlines()[-1]


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


# --- the terminal summary: colour, hints, untrusted text; `--open`; `grader report` ----------

SIGN_ERROR = A1 / "examples" / "sign_error.py"
ANSI = "\x1b["


@pytest.fixture(scope="module")
def sign_error_check(tmp_path_factory) -> tuple[str, Path]:
    """One real `grader check` of the sign_error example (~4 s): its output and its folder."""
    out = tmp_path_factory.mktemp("sign_error")
    result = CliRunner().invoke(main, ["check", str(SIGN_ERROR), "-a", "a1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return result.output, out


@pytest.fixture
def replay(sign_error_check, monkeypatch) -> Path:
    """`grader check` answers at once with the sign_error result; returns the report's path."""
    _, folder = sign_error_check
    recorded = read_result(folder / "result.json")
    report = folder / "report.html"
    monkeypatch.setattr(cli, "check_submission", lambda path, assignment, out: (recorded, report))
    return report


def _check(t_id: str, function: str, score: float, max_score: float, output: str = "",
           hint: str = "", bug_class: str = "") -> CheckResult:
    status = "passed" if score == max_score else "failed"
    return CheckResult(t_id, f"{function} check {t_id}", function, (function,), "visible", status,
                       score, max_score, output, hint=hint, bug_class=bug_class)


def _submission(*tests: CheckResult, failure: str = "") -> SubmissionResult:
    return SubmissionResult(
        "s1", "a1", sum(t.score for t in tests), sum(t.max_score for t in tests), tests, failure,
        "0" * 64, "0", (), 0.0, "2026-01-01T00:00:00+00:00", "check", failure=failure)


def test_check_prints_top_hint_before_the_failures(sign_error_check):
    output, _ = sign_error_check
    assert ANSI not in output  # CliRunner is not a terminal
    hint = next(line for line in output.splitlines() if line.startswith("Hint ("))
    assert hint.startswith("Hint (mse_gradients): ") and "sign" in hint
    assert output.index("total") < output.index("Hint (") < output.index("✗ mse_gradients")
    assert "Likely mistake" not in output  # printed once, as the hint, not again in the reason
    assert "returned 4680, expected -4680" in output and "16 / 18" in output


@pytest.mark.parametrize(("args", "tty", "no_color", "coloured"), [
    ([], False, None, False),
    ([], True, None, True),
    ([], True, "1", False),
    ([], True, "", True),  # an empty NO_COLOR does not count (no-color.org)
    (["--no-color"], True, None, False),
    (["--color"], False, None, True),
    (["--color"], True, "1", True),  # an explicit flag beats the environment
])
def test_check_colours_only_on_a_terminal_without_no_color(runner, replay, monkeypatch, args,
                                                           tty, no_color, coloured):
    monkeypatch.setattr(terminal, "stdout_isatty", lambda: tty)
    result = runner.invoke(main, ["check", str(SIGN_ERROR), "-a", "a1", *args],
                           env={"NO_COLOR": no_color})
    assert result.exit_code == 0, result.output
    assert (ANSI in result.output) is coloured
    if coloured:
        assert "\x1b[32m  ok mse " in result.output
        assert "\x1b[31m  -- mse_gradients" in result.output


def test_open_launches_the_report(runner, replay, monkeypatch):
    launched = []
    monkeypatch.setattr(click, "launch", lambda url, **kw: launched.append(url) or 0)
    result = runner.invoke(main, ["check", str(SIGN_ERROR), "-a", "a1", "--open"])
    assert result.exit_code == 0, result.output
    assert launched == [str(replay.resolve())]


def test_open_without_a_browser_is_only_a_note(runner, replay, monkeypatch):
    def fail(url, **kw):
        raise OSError("no browser")

    monkeypatch.setattr(click, "launch", fail)
    result = runner.invoke(main, ["check", str(SIGN_ERROR), "-a", "a1", "--open"])
    assert result.exit_code == 0, result.output
    assert "Could not open a browser" in result.output and str(replay.resolve()) in result.output


def test_hostile_messages_are_cleaned(a1):
    evil = "boom\x1b[2J\x1b]0;pwned\x07\x1b[31mred\r\x08\x00 end\n\tnext"
    sub = _submission(_check("c1", "mse", 0, 2, output=evil, hint=f"hint {evil}",
                             bug_class="sign-flipped"))
    for colour in (False, True):
        text = terminal.check_summary(sub, a1, colour)
        assert "pwned" not in text and "\x1b]" not in text and "\x1b[2J" not in text
        assert not any(ch in text for ch in "\r\x08\x00\x07")
        assert "boomred end\n  \tnext" in text
        assert (ANSI in text) is colour
    failed = terminal.check_summary(_submission(_check("c1", "mse", 0, 2), failure=evil), a1)
    assert "\x1b" not in failed and "boomred end" in failed


def test_hints_are_deduplicated_limited_and_stripped_from_reasons(a1):
    def hinted(t_id: str, function: str, bug_class: str, text: str) -> CheckResult:
        return _check(t_id, function, 0, 1, f"{t_id} wrong." + hint_suffix(Hint(bug_class, text)),
                      hint=text, bug_class=bug_class)

    sub = _submission(
        hinted("c1", "mse", "sign-flipped", "flip one"),
        hinted("c2", "mse", "sign-flipped", "flip two"),  # same function and class: no hint
        hinted("c3", "mse_gradients", "extra-factor-2", "twice"),
        _check("c4", "softmax", 1, 2, "partly wrong."),
        hinted("c5", "sgd_step", "all-zero", "zeros"),
        hinted("c6", "fit_line", "diverges", "diverges!"),  # a fourth hint: too many
    )
    text = terminal.check_summary(sub, a1)
    assert [line for line in text.splitlines() if line.startswith("Hint")] == [
        "Hint (mse): flip one.", "Hint (mse_gradients): twice.", "Hint (sgd_step): zeros."]
    assert "  c1 wrong.\n" in text and "  c3 wrong.\n" in text
    assert "c2 wrong. Likely mistake: flip two." in text
    assert text.endswith("c6 wrong. Likely mistake: diverges!")
    coloured = terminal.check_summary(sub, a1, colour=True)
    assert "\x1b[33m  -- softmax " in coloured


def test_report_rerenders_from_result_json(runner, sign_error_check, tmp_path):
    _, folder = sign_error_check
    target = tmp_path / "again" / "page.html"
    result = runner.invoke(main, ["report", str(folder / "result.json"), "--out", str(target)])
    assert result.exit_code == 0, result.output
    assert str(target.resolve()) in result.output
    assert "sign_error" in target.read_text()
    shutil.copy(folder / "result.json", tmp_path / "result.json")
    result = runner.invoke(main, ["report", str(tmp_path / "result.json"), "-a", str(A1)])
    assert result.exit_code == 0, result.output
    soup = BeautifulSoup((tmp_path / "report.html").read_text(), "html.parser")
    assert soup.find(id="fn-mse_gradients") is not None and "sign_error" in soup.get_text()


@pytest.mark.parametrize(("content", "problem"), [
    ("{not json", "Expecting property name"),
    ("[1, 2]", "a JSON list, not an object"),
    ('{"score": 1}', "missing field"),
])
def test_report_of_a_broken_result_is_a_usage_error(runner, tmp_path, content, problem):
    broken = tmp_path / "broken-result.json"
    broken.write_text(content)
    result = runner.invoke(main, ["report", str(broken)])
    assert result.exit_code == 2
    assert "broken-result.json" in result.output and problem in result.output
    assert not (tmp_path / "report.html").exists()


def test_report_of_a_missing_file_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(main, ["report", str(tmp_path / "nope.json")])
    assert result.exit_code == 2 and "nope.json" in result.output


def test_batch_summary_counts_full_marks_and_not_run():
    full = _submission(_check("c1", "mse", 2, 2))
    partial = _submission(_check("c1", "mse", 1, 2))
    not_run = _submission(_check("c1", "mse", 0, 2), failure="SyntaxError")
    assert terminal.batch_summary([full, partial, not_run]) == (
        "Mean score 1 / 2; 1 of 3 got full marks; 1 could not be run.")
