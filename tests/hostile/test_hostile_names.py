"""Hostile names: a submission named like the batch's own files, or like another submission
once sanitised, costs no one a row and the batch never its gradebook, on any rerun.

``grades.csv.py`` once had the id ``grades.csv``: its folder took the place of
``DIR/grades.csv`` and the batch ended without a gradebook or a summary, run after run. Here
the real ``grader grade`` command grades such a batch, then grades it again (a resume).
"""

from __future__ import annotations

import csv
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from hostile_support import A1, SOLUTION

from grader.outdir import BATCH_FILES
from grader.results import read_result

pytestmark = pytest.mark.slow
GRADE = [sys.executable, "-c", "from grader.cli import main; main()", "grade", "-a", str(A1),
         "--jobs", "1"]
STARTER = (A1 / "submission.py").read_text(encoding="utf-8")
# The starter raises NotImplementedError at once, so the batch is quick; one solution shows
# a renamed submission is graded as itself, not as the submission it was renamed away from.
FILES = {"grades.csv.py": SOLUTION, "summary.html.py": STARTER, ".grader-batch.lock.py": STARTER,
         "A.py": STARTER, "a.py": STARTER, "a b.py": STARTER, "a_b.py": STARTER}


def hostile_names(folder: Path) -> list[Path]:
    folder.mkdir()
    paths = []
    for name, text in FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
        paths.append(folder / name)
    (folder / "grades.csv").mkdir()
    (folder / "grades.csv" / "submission.py").write_text(STARTER, encoding="utf-8")
    with zipfile.ZipFile(folder / "summary.html.zip", "w") as zf:
        zf.writestr("summary.html/submission.py", STARTER)
    return [*paths, folder / "grades.csv", folder / "summary.html.zip"]


def gradebook(out: Path) -> dict[str, list[str]]:
    assert (out / "grades.csv").is_file(), "no gradebook"
    assert (out / "summary.html").is_file(), "no summary"
    with (out / "grades.csv").open(newline="") as f:
        rows = list(csv.reader(f))
    assert len(rows) == len({r[0] for r in rows}), rows
    return {r[0]: r for r in rows[1:]}


def test_hostile_names_leave_a_whole_gradebook_on_every_run(tmp_path):
    paths = hostile_names(tmp_path / "subs")
    out = tmp_path / "out"
    for attempt in ("first", "rerun"):
        run = subprocess.run([*GRADE, "--out", str(out), *map(str, paths)],
                             capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, f"{attempt}: {run.stderr}{run.stdout}"
        rows = gradebook(out)
        assert len(rows) == len(paths), f"{attempt}: {sorted(rows)}"
        assert {i.lower() for i in rows}.isdisjoint(n.lower() for n in BATCH_FILES)
        assert len({i.lower() for i in rows}) == len(rows)
        summary = (out / "summary.html").read_text(encoding="utf-8")
        assert re.search(rf"<p>{len(paths)} submission\(s\)", summary), attempt
        if attempt == "rerun":
            assert run.stderr.startswith(f"grading 0 submission(s); {len(paths)} already")
    # By origin path: the folder grades.csv is grades.csv-2, the file grades.csv.py -3.
    solution = read_result(out / "grades.csv-3" / "result.json")
    assert solution.score == solution.max_score > 0
    assert "graded as grades.csv-3: grades.csv is the name of a file" in solution.output
    assert {i for i, row in rows.items() if float(row[-3]) > 0} == {"grades.csv-3"}
