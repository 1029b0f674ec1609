"""Gradescope: results.json conversion, the autograder archive, and run_autograder run locally."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from grader.assignment import Assignment, load_assignment
from grader.cli import main
from grader.errors import ArchiveError
from grader.integrations.gradescope import (
    SubmissionNotFound,
    failure_results,
    find_submission,
    to_gradescope,
)
from grader.integrations.gradescope_archive import build_archive
from grader.results import CheckResult, SubmissionResult

A1 = Path(__file__).resolve().parents[3] / "assignments" / "a1"
SCHEMA = json.loads(Path(__file__).with_name("gradescope_results.schema.json").read_text())
BIN = Path(sys.executable).parent


def validate(data: dict[str, object]) -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.validate(data, SCHEMA, cls=jsonschema.Draft202012Validator)


def check(check_id: str, function: str, visibility: str = "visible", passed: bool = True,
          output: str = "", hint: str = "", points: float = 1.0) -> CheckResult:
    return CheckResult(check_id, f"{function} does {check_id}", function, (function,), visibility,
                       "passed" if passed else "failed", points if passed else 0.0, points,
                       output, 0.01, hint, "sign-flipped" if hint else "")


def result(*tests: CheckResult, output: str = "", errors: tuple[str, ...] = ()
           ) -> SubmissionResult:
    return SubmissionResult("alice", "a1", sum(t.score for t in tests),
                            sum(t.max_score for t in tests), tests, output, "ab" * 32, "0.1.0",
                            ("separate worker process",), 1.25, "2026-11-26T12:00:00+00:00",
                            "grade", errors=errors)


# ------------------------------------------------------------------ conversion


def test_conversion_keeps_gradescope_fields_and_moves_ours_to_extra_data():
    res = result(check("a", "mse"), check("b", "mse", "hidden", passed=False, output="off"),
                 check("c", "softmax", "after_due_date"), output="note\x1b[31m")
    data = to_gradescope(res, ["softmax", "mse"])
    validate(data)
    assert data["score"] == 2.0 and data["execution_time"] == 1.25
    assert data["stdout_visibility"] == "hidden" and data["output_format"] == "html"
    assert "<pre>note</pre>" in data["output"] and "\x1b" not in data["output"]
    assert [t["visibility"] for t in data["tests"]] == ["visible", "hidden", "after_due_date"]
    assert [t["number"] for t in data["tests"]] == ["2.1", "2.2", "1.1"]
    assert [t["status"] for t in data["tests"]] == ["passed", "failed", "passed"]
    assert data["tests"][1] | {"extra_data": None, "output": None} == {
        "score": 0.0, "max_score": 1.0, "status": "failed", "name": "mse does b",
        "name_format": "text", "number": "2.2", "output": None, "output_format": "html",
        "tags": ["mse"], "visibility": "hidden", "extra_data": None}
    assert data["tests"][1]["output"].startswith("<pre>off</pre>")
    assert data["extra_data"]["submission_id"] == "alice"
    assert data["extra_data"]["max_score"] == 3.0
    assert data["extra_data"]["sha256"] == "ab" * 32 and "errors" not in data["extra_data"]


def test_hint_goes_into_the_output_once():
    with_hint = check("a", "mse", passed=False, output="wrong. Likely mistake: sign.",
                      hint="sign")
    bare = dataclasses.replace(with_hint, output="wrong.")
    for test in to_gradescope(result(with_hint, bare))["tests"]:
        page = BeautifulSoup(test["output"], "html.parser")
        assert page.pre is not None and page.pre.text == "wrong."
        assert page.p is not None and page.p.text == "Likely mistake (sign flipped): sign"


HOSTILE = ('<script>alert(1)</script><img src="https://evil.example/x.png"> & '
           '<a href="javascript:x">')


def test_feedback_is_escaped_html_with_nothing_from_elsewhere():
    traced = check("a", "mse", passed=False, hint=f"hint {HOSTILE}",
                   output=f"mse(x (2, 3)): expected 1, got {HOSTILE}\n  got:      [1, 2]\n"
                          "  expected: [1, 3]\n  at submission.py, line 4, in mse: return 1\n"
                          f"  at helpers.py, line 9, in f: {HOSTILE}")
    data = to_gradescope(result(traced, check("b", "mse")), ["mse"], title=HOSTILE)
    validate(data)
    for fragment in (data["output"], data["tests"][0]["output"]):
        page = BeautifulSoup(fragment, "html.parser")
        assert not page.find_all(["script", "img", "a", "link", "style", "iframe"])
        assert not any(tag.attrs for tag in page.find_all(True)), fragment
        assert HOSTILE in page.text  # shown as text, whole
    page = BeautifulSoup(data["tests"][0]["output"], "html.parser")
    message, trace = page.find_all("pre")
    assert "  got:      [1, 2]\n  expected: [1, 3]" in message.text  # expected vs got, aligned
    assert page.details is not None and page.details.summary is not None  # folded
    assert trace.text.splitlines()[0] == "submission.py, line 4, in mse: return 1"
    summary = BeautifulSoup(data["output"], "html.parser")
    assert "1 / 2 points" in summary.text
    assert [td.text for td in summary.find_all("td")] == ["mse", "1 / 2", "1 / 2"]
    assert summary.li is not None and summary.li.text == f"mse: hint {HOSTILE}"


def test_summary_keeps_hidden_checks_to_their_own_tests():
    res = result(check("a", "mse", passed=False, output="off by one", hint="visible slip"),
                 check("b", "mse", "hidden", passed=False, output="secret", hint="hidden slip"),
                 check("c", "softmax", "after_due_date", passed=False, hint="later slip"))
    data = to_gradescope(res, ["mse", "softmax"])
    validate(data)
    summary = BeautifulSoup(data["output"], "html.parser").text
    assert "visible slip" in summary and "2 more checks are hidden" in summary
    assert "hidden slip" not in summary and "later slip" not in summary
    assert [td.text for td in BeautifulSoup(data["output"], "html.parser").find_all("td")] == [
        "mse", "0 / 1", "0 / 1"]
    hidden = BeautifulSoup(data["tests"][1]["output"], "html.parser").text
    assert "hidden slip" in hidden and "its inputs are not shown" in hidden
    assert [t["visibility"] for t in data["tests"]] == ["visible", "hidden", "after_due_date"]


def test_a_submission_that_could_not_run_says_why_on_top():
    res = dataclasses.replace(result(check("a", "mse", passed=False)),
                              failure="SyntaxError: invalid syntax (line 3)")
    summary = BeautifulSoup(to_gradescope(res)["output"], "html.parser")
    assert summary.pre is not None and summary.pre.text == "SyntaxError: invalid syntax (line 3)"


def test_unknown_visibility_is_hidden_and_internal_errors_stay_out():
    res = result(check("a", "mse", "secret"), errors=("Traceback: /autograder/source/x",))
    data = to_gradescope(res)
    validate(data)
    assert data["tests"][0]["visibility"] == "hidden"
    assert "Traceback" not in json.dumps(data)
    assert data["extra_data"]["internal_errors"] == 1


def test_failure_results_are_valid():
    data = failure_results("No .py or .ipynb file was found")
    validate(data)
    assert data["score"] == 0.0 and data["tests"] == []


def test_schema_rejects_what_gradescope_does_not_define():
    with pytest.raises(jsonschema.ValidationError):
        validate({"score": 1, "max_score": 2})
    with pytest.raises(jsonschema.ValidationError):
        validate({"tests": [{"score": 1, "status": "error"}]})
    with pytest.raises(jsonschema.ValidationError):
        validate({"tests": [{"max_score": 1}]})  # no score anywhere


# ------------------------------------------------------------------ finding the submission


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x = 1\n")
    return path


def test_find_submission_prefers_the_rubric_name_nearest_the_top(tmp_path):
    touch(tmp_path / "helpers.py")
    deep = touch(tmp_path / "repo" / "src" / "submission.py")
    assert find_submission(tmp_path, "submission.py") == deep
    top = touch(tmp_path / "submission.py")
    assert find_submission(tmp_path, "submission.py") == top


def test_find_submission_takes_a_single_file_or_a_notebook(tmp_path):
    only = touch(tmp_path / "hw1.py")
    touch(tmp_path / "__MACOSX" / "._hw1.py")
    touch(tmp_path / ".git" / "hooks.py")
    assert find_submission(tmp_path, "submission.py") == only
    notebook = touch(tmp_path / "submission.ipynb")
    assert find_submission(tmp_path, "submission.py") == notebook


def test_find_submission_follows_no_links(tmp_path):
    (tmp_path / "submission.py").symlink_to(A1 / "solution.py")
    (tmp_path / "sub").symlink_to(A1, target_is_directory=True)
    with pytest.raises(SubmissionNotFound, match=r"No \.py"):
        find_submission(tmp_path, "submission.py")


def test_find_submission_says_what_to_upload(tmp_path):
    with pytest.raises(SubmissionNotFound, match=r"No \.py or \.ipynb file.*Upload submission\.py"):
        find_submission(tmp_path, "submission.py")
    touch(tmp_path / "a.py")
    touch(tmp_path / "b.py")
    with pytest.raises(SubmissionNotFound, match=r"2 \.py/\.ipynb files \(a\.py, b\.py\).*"
                                                 r"Rename the one to grade to submission\.py"):
        find_submission(tmp_path, "submission.py")


# ------------------------------------------------------------------ the archive


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The autograder zip of A1, built once through the CLI (a wheel build: ~3 s)."""
    out = tmp_path_factory.mktemp("gradescope") / "autograder.zip"
    run = CliRunner().invoke(main, ["gradescope", "a1", "--out", str(out)])
    assert run.exit_code == 0, run.output
    assert "left out: examples/, solution.py" in run.output
    return out


def test_archive_layout(archive):
    with zipfile.ZipFile(archive) as zf:
        infos = {i.filename: i for i in zf.infolist()}
        setup = zf.read("setup.sh").decode()
        wheels = [n for n in infos if n.startswith("wheels/")]
        wheel_names = zipfile.ZipFile(zf.open(wheels[0])).namelist()
    for script in ("setup.sh", "run_autograder"):
        assert infos[script].create_system == 3
        assert infos[script].external_attr >> 16 == 0o100755
    assert infos["assignments/a1/rubric.toml"].external_attr >> 16 == 0o100644
    assert "assignments/a1/checks/hidden/test_losses_hidden.py" in infos
    assert "assignments/a1/checks/public/test_losses.py" in infos
    assert "assignments/a1/data/sentiment.tsv" in infos
    assert "reference/__init__.py" in infos and "reference/losses.py" in infos
    assert not [n for n in infos if "solution" in n or "/examples/" in n or "__pycache__" in n]
    assert len(wheels) == 1 and wheels[0].endswith("-py3-none-any.whl")
    assert "grader/cli.py" in wheel_names and "grader/templates/ci-workflow.yml" in wheel_names
    assert not [n for n in wheel_names if n.startswith(("reference/", "assignments/"))]
    assert "--index-url https://download.pytorch.org/whl/cpu torch==2.13.0" in setup
    assert '-c "$here/constraints.txt" "$here"/wheels/*.whl' in setup


def test_each_archive_carries_its_own_assignments_answers_only(archive, tmp_path):
    with zipfile.ZipFile(archive) as zf:
        wheel_name = next(n for n in zf.namelist() if n.startswith("wheels/"))
        wheel = tmp_path / Path(wheel_name).name
        wheel.write_bytes(zf.read(wheel_name))
        a1_names = zf.namelist()
    out = tmp_path / "a2.zip"
    run = CliRunner().invoke(main, ["gradescope", "a2", "--out", str(out), "--wheel", str(wheel)])
    assert run.exit_code == 0, run.output
    with zipfile.ZipFile(out) as zf:
        a2_names = zf.namelist()
    assert "assignments/a2/reference/sgns.py" in a2_names
    assert "assignments/a2/warmup.py" in a2_names
    assert not [n for n in a2_names if n.startswith(("reference/", "assignments/a1/"))]
    assert not [n for n in a2_names if "solution" in n or "/examples/" in n]
    assert not [n for n in a1_names if n.startswith("assignments/a2/")]


def test_scripts_are_valid_bash(archive, tmp_path):
    with zipfile.ZipFile(archive) as zf:
        for script in ("setup.sh", "run_autograder"):
            (tmp_path / script).write_bytes(zf.read(script))
            done = subprocess.run(["bash", "-n", str(tmp_path / script)], capture_output=True,
                                  text=True, check=False)
            assert done.returncode == 0, done.stderr


def test_reference_outside_the_archive_is_refused(a1: Assignment, tmp_path):
    far = tmp_path / "elsewhere" / "reference"
    far.mkdir(parents=True)
    moved = dataclasses.replace(a1, reference_path=far)
    with pytest.raises(ArchiveError, match=r"rubric\.toml: reference .* lies outside the archive"):
        build_archive(moved, tmp_path / "x.zip", wheel=tmp_path / "none.whl")


def test_a_wheel_that_is_not_one_is_refused(a1: Assignment, tmp_path):
    fake = tmp_path / "grader.tar.gz"
    fake.write_text("")
    with pytest.raises(ArchiveError, match="is not a wheel file"):
        build_archive(a1, tmp_path / "x.zip", wheel=fake)
    assert not (tmp_path / "x.zip").exists()


# ------------------------------------------------------------------ run_autograder, locally


def unpack(archive: Path, root: Path) -> Path:
    """A folder laid out like Gradescope's /autograder, the archive in source/ (modes kept)."""
    source = root / "source"
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            path = Path(zf.extract(info, source))
            os.chmod(path, (info.external_attr >> 16) & 0o777)
    (root / "submission").mkdir()
    return root


def run_autograder(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "GRADER": str(BIN / "grader"),
           "PYTHON": sys.executable}
    return subprocess.run([str(root / "source" / "run_autograder")], env=env, cwd=root,
                          capture_output=True, text=True, timeout=300, check=False)


def test_run_autograder_grades_sign_error(archive, tmp_path):
    root = unpack(archive, tmp_path / "autograder")
    shutil.copy(A1 / "examples" / "sign_error.py", root / "submission" / "sign_error.py")
    done = run_autograder(root)
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads((root / "results" / "results.json").read_text())
    validate(data)
    assert data["score"] == 36.0 and sum(t["max_score"] for t in data["tests"]) == 40.0
    assert data["stdout_visibility"] == "hidden"
    rubric = {c.name: c.visibility for c in load_assignment(A1).checks}
    assert {t["name"]: t["visibility"] for t in data["tests"]} == rubric
    assert {t["visibility"] for t in data["tests"]} == {"visible", "hidden"}
    failed = [t for t in data["tests"] if t["status"] == "failed"]
    assert [t["number"] for t in failed] == ["4.1", "4.2"]
    assert all("the sign is flipped" in BeautifulSoup(t["output"], "html.parser").p.text
               for t in failed)
    assert "grade --assignment" in done.stdout and "36 / 40" in done.stdout


def test_run_autograder_without_a_file_to_grade(archive, tmp_path):
    root = unpack(archive, tmp_path / "autograder")
    (root / "submission" / "notes.txt").write_text("I forgot the code")
    done = run_autograder(root)
    assert done.returncode == 0, done.stderr
    data = json.loads((root / "results" / "results.json").read_text())
    validate(data)
    assert data["score"] == 0.0 and "Upload submission.py" in data["output"]
