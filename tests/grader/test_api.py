"""The public API: ``from grader import ...`` is all that checks, conftests and scripts need."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import grader
from grader import cli, errors
from grader.api import grade_batch
from grader.assignment import load_assignment
from grader.sandbox.isolation import Isolation

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", grader.__all__)
def test_every_public_name_resolves(name):
    assert getattr(grader, name) is not None
    assert name in dir(grader)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        grader.nope  # noqa: B018


def test_importing_the_grader_is_light():
    code = "import sys, grader; print('torch' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    assert out.split() == ["False", "False"]


def test_every_grader_error_has_one_base():
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass)
               if issubclass(c, Exception) and c.__module__ == errors.__name__]
    assert len(classes) >= 8
    assert all(issubclass(c, grader.GraderError) for c in classes)
    assert {c.exit_code for c in classes} == {1, 2}


def _grader_imports(path: Path) -> list[str]:
    """Modules imported from the grader package by ``path`` (``grader`` itself is fine)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("grader."):
            found.append(node.module or "")
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("grader.")]
    return found


CHECK_FILES = sorted((ROOT / "assignments").glob("*/checks/**/*.py"))


@pytest.mark.parametrize("path", CHECK_FILES, ids=[str(p.relative_to(ROOT)) for p in CHECK_FILES])
def test_checks_import_only_the_public_api(path):
    assert not _grader_imports(path), f"{path}: import these names from grader instead"


def test_grade_batch_keeps_the_isolation_policy_for_python_callers(monkeypatch, tmp_path):
    reduced = Isolation(namespaces=False, landlock=False, seccomp=False)
    monkeypatch.setattr("grader.api.probe", lambda: reduced)
    a1 = load_assignment(ROOT / "assignments" / "a1")
    with pytest.raises(grader.ReducedIsolation) as info:
        grade_batch(a1, [ROOT / "assignments" / "a1" / "solution.py"], tmp_path / "out")
    assert info.value.exit_code == 2 and "allow" in str(info.value)
    assert not (tmp_path / "out").exists()


def test_a_worker_that_cannot_start_is_a_clean_error_in_grader_check(tmp_path):
    root = grader.new_assignment("broken", tmp_path)
    (root / "warm.py").write_text("raise SystemExit('the warm-up broke')\n")
    rubric = root / "rubric.toml"
    rubric.write_text(rubric.read_text().replace('reference = "reference"',
                                                 'reference = "reference"\nwarmup = "warm.py"'))
    result = CliRunner().invoke(cli.main, ["check", str(root / "solution.py"), "-a", str(root),
                                           "--out", str(tmp_path / "out")])
    assert result.exit_code == 1, result.output
    assert "zygote process could not start" in result.output
    assert "the warm-up broke" in result.output
    assert "Traceback (most recent call last)" not in result.output.split("warm-up broke")[0][:0]
    assert not isinstance(result.exception, RuntimeError) or isinstance(
        result.exception, SystemExit)
