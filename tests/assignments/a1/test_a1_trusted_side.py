"""A1's checks leave torch to the worker: the trusted side imports neither torch nor the
reference to collect them, nor to grade once the reference cache is warm (README "Speed")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

A1 = Path(__file__).resolve().parents[3] / "assignments" / "a1"

COLLECT = """
import sys
from pathlib import Path
from grader.assignment import load_assignment
from grader.grading import collect_checks
a = load_assignment(Path(sys.argv[1]))
collect_checks(a, public_only=False)
print([m for m in ("torch", "nbformat", a.reference_module()) if m in sys.modules])
"""

GRADE = """
import sys
from pathlib import Path
from grader import Grader, load_assignment, read_submission
a = load_assignment(Path(sys.argv[1]))
with Grader(a) as grader:
    result = grader.grade(read_submission(Path(sys.argv[2]), a.submission_name))
print(result.score, result.max_score, "torch" in sys.modules, a.reference_module() in sys.modules)
"""


def run(code: str, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def test_collecting_the_checks_imports_neither_torch_nor_the_reference():
    assert run(COLLECT, str(A1)) == "[]"


@pytest.mark.slow
def test_with_a_warm_cache_grading_imports_neither_torch_nor_the_reference(tmp_path):
    env = dict(os.environ, GRADER_CACHE_DIR=str(tmp_path / "cache"))
    solution = str(A1 / "solution.py")
    # The first grading process fills the cache: it needs the reference, and torch for it.
    assert run(GRADE, str(A1), solution, env=env) == "40.0 40.0 True True"
    assert run(GRADE, str(A1), solution, env=env) == "40.0 40.0 False False"
