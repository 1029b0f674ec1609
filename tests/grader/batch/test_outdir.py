"""The output folder of a batch: hostile names, a submission whose files cannot be written, and
regrading a subset never cost the batch its gradebook or a row of it.

Grading itself is faked (each submission scores its file's length in points) so these run in
milliseconds: what is tested is what ``run_batch`` and ``grade_batch`` do with the folder.
``test_batch.py`` runs the real command for the same promises.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from grader import __version__
from grader.api import GradebookFormat, grade_batch
from grader.batch import run as run_module
from grader.batch.executor import Emit, Tick, Todo
from grader.batch.progress import Progress
from grader.errors import BatchError
from grader.outdir import BATCH_FILES, reserved
from grader.results import SubmissionResult, read_result

CODE = "def mse(y_hat, y):\n    return ((y_hat - y) ** 2).mean()\n"
HOSTILE = ["grades.csv.py", "summary.html.py", ".grader-batch.lock.py", "A.py", "a.py",
           "a b.py", "a_b.py", "plain.py"]


class FakeExecutor:
    """Grades at once: the score is the main file's size, so a changed file changes it."""

    def __init__(self, graded: list[str]) -> None:
        self.graded = graded

    def run(self, todo: Todo, emit: Emit, tick: Tick) -> None:
        for index, sub in todo:
            self.graded.append(sub.id)
            size = float(len(sub.files.get(sub.main, b"")))
            emit(index, SubmissionResult(
                sub.id, "a1", size, 1000.0, (), "\n".join(sub.notes), sub.sha256, __version__,
                (), 0.0, "2026-01-01T00:00:00+00:00", "grade"))


@pytest.fixture
def graded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids the fake executor graded, in order (every batch of the test appends)."""
    ids: list[str] = []
    monkeypatch.setattr(run_module, "executor", lambda *args: FakeExecutor(ids))
    return ids


def grade(a1, paths: list[Path], out: Path, **kwargs) -> run_module.BatchRun:
    return run_module.run_batch(a1, paths, out, **kwargs)


def table(out: Path) -> list[list[str]]:
    with (out / "grades.csv").open(newline="") as f:
        return list(csv.reader(f))


def summary_count(out: Path) -> int:
    match = re.search(r"<p>(\d+) submission\(s\)", (out / "summary.html").read_text())
    assert match, "no count in summary.html"
    return int(match[1])


def assert_whole_gradebook(out: Path, ids: set[str]) -> None:
    rows = table(out)
    assert {r[0] for r in rows[1:]} == ids and len(rows) == len(ids) + 1
    assert summary_count(out) == len(ids)
    assert (out / "summary.html").is_file()


def hostile_batch(folder: Path) -> list[Path]:
    folder.mkdir()
    paths = []
    for name in HOSTILE:
        (folder / name).write_text(CODE)
        paths.append(folder / name)
    (folder / "grades.csv").mkdir()  # a folder submission named like the gradebook
    (folder / "grades.csv" / "submission.py").write_text(CODE)
    paths.append(folder / "grades.csv")
    return paths


# ---------------------------------------------------------------- ids


def test_hostile_names_leave_the_gradebook_whole_on_every_rerun(tmp_path, a1, graded):
    paths = hostile_batch(tmp_path / "in")
    out = tmp_path / "out"
    first = grade(a1, paths, out)
    ids = {r.submission_id for r in first}
    assert len(ids) == len(paths) and not any(reserved(i) for i in ids)
    assert {i.lower() for i in ids}.isdisjoint(n.lower() for n in BATCH_FILES)
    assert_whole_gradebook(out, ids)
    for sid in ids:
        assert read_result(out / sid / "result.json").submission_id == sid
    renamed = {r.submission_id: r.output for r in first if "graded as" in r.output}
    assert set(renamed) == {"grades.csv-2", "grades.csv-3", "summary.html-2", "a-2", "a_b-2"}
    progress = Progress()
    second = grade(a1, paths[::-1], out, resume=True, progress=progress)
    assert progress.kept == len(paths) and len(graded) == len(paths)  # nothing regraded
    assert {r.submission_id for r in second} == ids
    assert_whole_gradebook(out, ids)


# ---------------------------------------------------------------- write failures


def test_a_submission_that_cannot_be_written_keeps_its_row(tmp_path, a1, graded):
    paths = hostile_batch(tmp_path / "in")[-3:]  # a_b.py, plain.py, the folder grades.csv
    out = tmp_path / "out"
    out.mkdir()
    (out / "plain").write_text("a file where the submission's folder goes\n")
    run = grade(a1, paths, out)
    by_id = {r.submission_id: r for r in run}
    assert by_id["plain"].unwritten and not by_id["a_b"].unwritten
    assert_whole_gradebook(out, {"a_b", "plain", "grades.csv-2"})
    status = {r[0]: r[-1] for r in table(out)[1:]}
    assert status["plain"].startswith("graded; failed to write its files: ")
    assert status["a_b"] == "graded"
    assert "files not written" in (out / "summary.html").read_text()
    assert any(n.startswith("could not write the files of plain: ") for n in run.notes)
    assert (out / "a_b" / "result.json").is_file()
    # Once the way is clear, a rerun writes it and grades nothing else.
    (out / "plain").unlink()
    again = grade(a1, paths, out, resume=True)
    assert not any(r.unwritten for r in again) and graded.count("plain") == 2
    assert graded.count("a_b") == 1
    assert json.loads((out / "plain" / "result.json").read_text())["submission_id"] == "plain"
    assert "unwritten" not in json.loads((out / "plain" / "result.json").read_text())


def test_any_oserror_while_writing_costs_only_its_submission(tmp_path, a1, graded, monkeypatch):
    paths = hostile_batch(tmp_path / "in")[-3:]
    real = run_module.write_submission_files

    def failing(result: SubmissionResult, assignment, folder: Path) -> Path:
        if result.submission_id == "a_b":
            raise OSError(28, "No space left on device", str(folder / "report.html"))
        return real(result, assignment, folder)

    monkeypatch.setattr(run_module, "write_submission_files", failing)
    run = grade(a1, paths, tmp_path / "out")
    assert [bool(r.unwritten) for r in run] == [True, False, False]
    assert "No space left on device" in run[0].unwritten
    assert_whole_gradebook(tmp_path / "out", {"a_b", "plain", "grades.csv-2"})


def test_a_folder_in_place_of_the_gradebook_is_refused_before_grading(tmp_path, a1, graded):
    out = tmp_path / "out"
    (out / "grades.csv").mkdir(parents=True)  # what an older grader made of grades.csv.py
    with pytest.raises(BatchError, match=r"grades\.csv is not a file"):
        grade(a1, hostile_batch(tmp_path / "in"), out)
    assert graded == []


# ---------------------------------------------------------------- regrading a subset


def three(folder: Path) -> list[Path]:
    folder.mkdir()
    for i, name in enumerate(("ann", "bo", "cy")):
        (folder / f"{name}.py").write_text(CODE + "#" * i)
    return sorted(folder.glob("*.py"))


def test_regrading_one_keeps_every_row(tmp_path, a1, graded):
    paths, out = three(tmp_path / "in"), tmp_path / "out"
    grade(a1, paths, out)
    before = {r[0]: r for r in table(out)[1:]}
    paths[1].write_text(CODE + "# changed\n")
    run = grade(a1, [paths[1]], out)  # --force one.py
    assert [r.submission_id for r in run] == ["bo"]
    assert [r[0] for r in table(out)[1:]] == ["bo", "ann", "cy"]
    after = {r[0]: r for r in table(out)[1:]}
    assert after["ann"] == before["ann"] and after["cy"] == before["cy"]
    assert float(after["bo"][-3]) == len(CODE + "# changed\n") != float(before["bo"][-3])
    assert summary_count(out) == 3
    assert run.notes == [f"grades.csv and summary.html also list 2 submission(s) graded into "
                         f"{out} by earlier runs: ann, cy"]


def test_results_that_are_not_this_assignments_graded_rows_are_left_out(tmp_path, a1, graded):
    paths, out = three(tmp_path / "in"), tmp_path / "out"
    grade(a1, paths, out)
    data = json.loads((out / "ann" / "result.json").read_text())
    (out / "copied").mkdir()  # a folder whose result names another submission
    (out / "copied" / "result.json").write_text(json.dumps(data))
    (out / "selfcheck").mkdir()
    (out / "selfcheck" / "result.json").write_text(
        json.dumps({**data, "submission_id": "selfcheck", "mode": "check"}))
    (out / "torn").mkdir()
    (out / "torn" / "result.json").write_text('{"score": ')
    (out / "ann" / "result.json").write_text('{"score": ')  # this run's: graded again
    run = grade(a1, paths[:1], out)
    assert [r[0] for r in table(out)[1:]] == ["ann", "bo", "cy"]
    assert [n for n in run.notes if "not a readable" in n] == [
        f"ignored {out / 'torn' / 'result.json'}: not a readable result.json"]


def test_another_assignments_results_in_out_are_an_error(tmp_path, a1, graded):
    paths, out = three(tmp_path / "in"), tmp_path / "out"
    grade(a1, paths, out)
    data = json.loads((out / "bo" / "result.json").read_text())
    (out / "bo" / "result.json").write_text(json.dumps({**data, "assignment": "a2"}))
    before = (out / "grades.csv").read_text()
    with pytest.raises(BatchError, match=r"holds results of another assignment: bo \(a2\)"):
        grade(a1, paths[:1], out)
    assert graded == ["ann", "bo", "cy"]  # refused before grading anything
    assert (out / "grades.csv").read_text() == before


def test_a_roster_gradebook_keeps_earlier_rows(tmp_path, graded, a1):
    paths, out = three(tmp_path / "in"), tmp_path / "out"
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\nann,Ann\nbo,Bo\ncy,Cy\ndi,Di\n")
    book = GradebookFormat("plain", roster)
    grade_batch(a1, paths, out, gradebook=book, allow_reduced_isolation=True)
    again = grade_batch(a1, paths[2:], out, gradebook=book, allow_reduced_isolation=True)
    assert [r.submission_id for r in again] == ["cy"]
    assert [r.submission_id for r in again.gradebook] == ["cy", "ann", "bo"]
    rows = {r[0]: r[-1] for r in table(out)[1:]}
    assert rows == {"ann": "graded", "bo": "graded", "cy": "graded",
                    "di": "missing submission"}
    assert "1 roster student(s) handed in nothing: di" in again.notes
