"""Two assignments in one grading process: A1 and A2 interleaved grade as each does alone.

Each assignment's reference is loaded under its own private module name and each Grader keeps
its own zygote (with its own warm-up), so nothing of one assignment reaches the other.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from grader import Grader, SubmissionResult, load_assignment, read_result, read_submission

ROOT = Path(__file__).resolve().parents[2]
A1, A2 = ROOT / "assignments" / "a1", ROOT / "assignments" / "a2"
GRADE = [sys.executable, "-c", "from grader.cli import main; main()", "grade"]


def verdicts(result: SubmissionResult) -> list[tuple[str, str, float, str, str]]:
    return [(t.id, t.status, t.score, t.bug_class, t.output) for t in result.tests]


def grade_alone(assignment: Path, paths: list[Path], out: Path) -> dict[str, SubmissionResult]:
    """Grade ``paths`` in a fresh `grader grade` process that loads nothing else."""
    run = subprocess.run([*GRADE, "-a", str(assignment), "--jobs", "1", "--out", str(out),
                          *map(str, paths)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    return {p.parent.name: read_result(p) for p in out.glob("*/result.json")}


@pytest.mark.slow
def test_a1_and_a2_interleaved_in_one_process_grade_as_alone(graded, tmp_path, monkeypatch):
    a2_subs = [A2 / "examples" / "negative_sign.py", A2 / "solution.py"]
    alone = grade_alone(A2, a2_subs, tmp_path / "alone")
    # A cold reference cache, so both references are loaded here (with a warm one, A1's checks
    # never load theirs: README "Speed").
    monkeypatch.setenv("GRADER_CACHE_DIR", str(tmp_path / "cache"))
    a1, a2 = load_assignment(A1), load_assignment(A2)
    with Grader(a1) as g1, Grader(a2) as g2:
        got = {
            ("a2", "negative_sign"): g2.grade(read_submission(a2_subs[0])),
            ("a1", "sign_error"): g1.grade(read_submission(A1 / "examples" / "sign_error.py")),
            ("a2", "solution"): g2.grade(read_submission(a2_subs[1])),
            ("a1", "solution"): g1.grade(read_submission(A1 / "solution.py")),
        }
    for (name, sid), result in got.items():
        want = alone[sid] if name == "a2" else graded[sid]
        assert result.assignment == name and not result.errors, result.errors
        assert verdicts(result) == verdicts(want), (name, sid)
    assert got[("a2", "solution")].score == got[("a2", "solution")].max_score
    assert a1.reference_module() != a2.reference_module()
    assert sys.modules[a2.reference_module()].CHECK_W2V  # both loaded, side by side
    assert sys.modules[a1.reference_module()].mse
