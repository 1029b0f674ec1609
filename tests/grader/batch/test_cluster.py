"""Grading on a Dask cluster: a real scheduler and two workers on 127.0.0.1 give local grades.

The cluster is the ``scheduler`` fixture's (tests/grader/conftest.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.batch.cluster import grade_payload, pack, unpack
from grader.cli import main
from grader.errors import AssignmentError
from grader.results import SubmissionResult, read_result
from grader.submission import MAX_FILE, read_submission

A1 = Path(__file__).resolve().parents[3] / "assignments" / "a1"
A2 = A1.parent / "a2"
GRADE = [sys.executable, "-c", "from grader.cli import main; main()", "grade", "-a", str(A1)]


@pytest.mark.slow
def test_cluster_grades_like_local(scheduler, graded, tmp_path):
    folder = tmp_path / "in_a_folder"
    folder.mkdir()
    (folder / "submission.py").write_bytes((A1 / "examples" / "sign_error.py").read_bytes())
    (folder / "notes.txt").write_text("my notes")
    paths = [A1 / "solution.py", A1 / "submission.py", A1 / "examples" / "sign_error.py", folder]
    out = tmp_path / "out"
    run = subprocess.run([*GRADE, "--scheduler", scheduler, "--out", str(out),
                          *map(str, paths)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr + run.stdout
    results = {p.parent.name: read_result(p) for p in out.glob("*/result.json")}
    expected = {"solution": "solution", "submission": "submission",
                "sign_error": "sign_error", "in_a_folder": "sign_error"}
    for sid, local in expected.items():
        got, want = results[sid], graded[local]
        assert got.score == want.score, sid
        assert [(t.id, t.status, t.output) for t in got.tests] == [
            (t.id, t.status, t.output) for t in want.tests], sid
    assert "ignored notes.txt" in results["in_a_folder"].output
    # One Grader per worker process, kept: two zygotes started for four submissions.
    assert sum("zygote_ready" in r.timings for r in results.values()) == 2
    assert (out / "grades.csv").is_file() and (out / "summary.html").is_file()


@pytest.mark.slow
def test_cluster_grades_a1_and_a2_interleaved_like_local(scheduler, graded, tmp_path):
    a2_subs = [A2 / "examples" / "negative_sign.py", A2 / "solution.py"]
    local = subprocess.run([*GRADE[:-2], "-a", str(A2), "--jobs", "1", "--out",
                            str(tmp_path / "local"), *map(str, a2_subs)],
                           capture_output=True, text=True, timeout=600)
    assert local.returncode == 0, local.stderr + local.stdout
    # The same workers grade A1, then A2, then A1 again: each keeps one Grader per assignment.
    runs = [(A1, [A1 / "examples" / "sign_error.py"]), (A2, a2_subs), (A1, [A1 / "solution.py"])]
    results: dict[tuple[str, str], SubmissionResult] = {}
    for i, (assignment, paths) in enumerate(runs):
        out = tmp_path / f"run{i}"
        run = subprocess.run([*GRADE[:-2], "-a", str(assignment), "--scheduler", scheduler,
                              "--out", str(out), *map(str, paths)],
                             capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stderr + run.stdout
        results.update({(assignment.name, p.parent.name): read_result(p)
                        for p in out.glob("*/result.json")})
    for (name, sid), got in results.items():
        want = graded[sid] if name == "a1" else read_result(tmp_path / "local" / sid /
                                                             "result.json")
        assert got.assignment == name and not got.errors, got.errors
        assert [(t.id, t.status, t.output) for t in got.tests] == [
            (t.id, t.status, t.output) for t in want.tests], (name, sid)
    assert len(results) == 4


# ---------------------------------------------------------------- submissions as bytes


def _same(original: Path, tmp: Path) -> None:
    payload = json.loads(json.dumps(pack(original, "x"), default=lambda b: b.hex()),
                         object_hook=_unhex)
    want = read_submission(original)
    got = read_submission(unpack(payload, tmp))
    assert (got.files, got.main, got.sha256, got.notes, got.error) == (
        want.files, want.main, want.sha256, want.notes, want.error)


def _unhex(node: dict[str, object]) -> dict[str, object]:
    # pack() output crossed as JSON here (bytes as hex), as Dask would carry it as msgpack.
    if "data" in node:
        node["data"] = bytes.fromhex(str(node["data"]))
    return node


def test_pack_round_trips_every_kind_of_submission(tmp_path):
    folder = tmp_path / "src" / "folder"
    (folder / "sub").mkdir(parents=True)
    (folder / "submission.py").write_text("def mse(a, b):\n    return 0\n")
    (folder / "helper.py").write_text("X = 1\n")
    (folder / "data.csv").write_text("1,2\n")
    (folder / "link.py").symlink_to(folder / "helper.py")
    big = tmp_path / "src" / "big"
    big.mkdir()
    (big / "submission.py").write_bytes(b"#" * (MAX_FILE + 1))
    archive = tmp_path / "src" / "zipped.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("zipped/submission.py", "def mse(a, b):\n    return 1\n")
    odd = tmp_path / "src" / "report.pdf"
    odd.write_bytes(b"%PDF")
    for i, path in enumerate([A1 / "solution.py", folder, big, archive, odd]):
        (tmp_path / str(i)).mkdir()
        _same(path, tmp_path / str(i))


def test_a_worker_with_another_assignment_refuses(tmp_path):
    payload = pack(A1 / "solution.py", "solution")
    with pytest.raises(AssignmentError, match="another version of assignment"):
        grade_payload(payload, str(A1), "a1", "0" * 64)


@pytest.mark.parametrize(("args", "message"), [
    (["--scheduler", "nonsense"], "give the scheduler as tcp://HOST:PORT"),
    (["--scheduler", "tcp://127.0.0.1:1", "--jobs", "2"], "--jobs is for grading here"),
])
def test_scheduler_usage_errors(tmp_path, args, message):
    result = CliRunner().invoke(main, ["grade", "-a", str(A1), "--out", str(tmp_path), *args,
                                       str(A1 / "solution.py")])
    assert result.exit_code == 2 and message in result.output, result.output
