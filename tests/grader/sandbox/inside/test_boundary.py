"""The trust boundary in the folder tree: code under grader/sandbox/inside/ runs confined and
never imports the grader package (nor the answers: reference, assignments)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

INSIDE = Path(__file__).resolve().parents[4] / "grader" / "sandbox" / "inside"
FORBIDDEN = {"grader", "reference", "assignments"}


def imported_roots(tree: ast.AST) -> set[str]:
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            # A relative import would resolve through the grader package.
            roots.add("grader" if node.level else (node.module or "").partition(".")[0])
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "import_module" and node.args
              and isinstance(node.args[0], ast.Constant)):
            roots.add(str(node.args[0].value).partition(".")[0])
    return roots


MODULES = sorted(p for p in INSIDE.glob("*.py") if p.name != "__init__.py")


def test_the_inside_holds_the_confined_code():
    assert {p.name for p in MODULES} >= {"worker.py", "confine.py", "landlock.py",
                                         "namespaces.py", "seccomp_filter.py", "protocol.py"}


@pytest.mark.parametrize("path", MODULES, ids=[p.name for p in MODULES])
def test_inside_code_never_imports_the_grader(path):
    roots = imported_roots(ast.parse(path.read_text(encoding="utf-8")))
    assert not roots & FORBIDDEN, f"{path} imports {sorted(roots & FORBIDDEN)}"


def test_the_check_sees_an_import_of_the_grader(tmp_path):
    for source in ("import grader.results", "from grader import api", "from . import x",
                   "import importlib\nimportlib.import_module('reference')"):
        assert imported_roots(ast.parse(source)) & FORBIDDEN, source
