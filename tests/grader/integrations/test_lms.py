"""LMS exports (Moodle, Canvas) read safely, a roster, and grades.csv in each LMS's layout."""

from __future__ import annotations

import csv
import io
import os
import re
import stat
import zipfile
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from grader.assignment import load_assignment
from grader.cli import main
from grader.errors import GradebookError as LmsError
from grader.integrations.exports import detect, read_export
from grader.integrations.lms import open_batch, read_roster
from grader.results import SubmissionResult
from grader.submission import read_submission

A1 = Path(__file__).resolve().parents[3] / "assignments" / "a1"
CODE = b"def mse(y_hat, y):\n    return ((y_hat - y) ** 2).mean()\n"
MOODLE = {
    "Ann Lee_101_assignsubmission_file_/submission.py": CODE,
    "Bo Chen_102_assignsubmission_file_/helper.py": b"K = 1\n",
    "Bo Chen_102_assignsubmission_file_/submission.ipynb":
        nbformat.writes(nbformat.v4.new_notebook(cells=[
            nbformat.v4.new_code_cell("from helper import K", id="a")])).encode(),
    "Bo Chen_102_assignsubmission_onlinetext_/onlinetext.html": b"<p>see file</p>",
    "Cy Diaz_103_assignsubmission_onlinetext_/onlinetext.html": b"<p>no file</p>",
}
CANVAS = {
    "leeann_201_9001_submission.py": CODE,
    "chenbo_late_202_9002_submission-1.py": CODE,
    "diazcy_203_9003_hw.zip": b"",  # replaced by a real zip in canvas_zip
}


def make_zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def inner_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hw/submission.py", CODE)
    return buf.getvalue()


@pytest.fixture
def canvas_zip(tmp_path: Path) -> Path:
    return make_zip(tmp_path / "submissions.zip", {**CANVAS, "diazcy_203_9003_hw.zip": inner_zip()})


def result(sid: str, score: float, failure: str = "") -> SubmissionResult:
    return SubmissionResult(sid, "a1", score, 40.0, (), "", "", "0", (), 0.0, "", "grade",
                            failure=failure)


def rows(path: Path) -> list[list[str]]:
    return list(csv.reader(path.read_text(encoding="utf-8").splitlines()))


# ---------------------------------------------------------------- detection


@pytest.mark.parametrize(("names", "layout"), [
    (["Ann Lee_101_assignsubmission_file_", "Bo_102_assignsubmission_onlinetext_"], "moodle"),
    (["Ann Lee_101_assignsubmission_file_", "Ann Lee_101_assignsubmission_file"], "moodle"),
    (["Participant_7_assignsubmission_file_hw.py"], "moodle"),  # flat, blind marking
    (["leeann_201_9001_submission.py", "chenbo_late_202_9002_a.ipynb"], "canvas"),
    (["leeann_201_text.html", "chenbo_202_9002_a.py"], "canvas"),  # no submission id
    (["leeann_201_9001_submission.py", "notes.txt"], ""),  # not every entry fits
    (["submission.py", "helper.py"], ""),
    ([], ""),
])
def test_detect(names, layout):
    assert detect(names) == layout


# ---------------------------------------------------------------- Moodle


def test_moodle_folder_is_staged_by_participant_id(tmp_path):
    export = tmp_path / "moodle"
    for name, data in MOODLE.items():
        (export / name).parent.mkdir(parents=True, exist_ok=True)
        (export / name).write_bytes(data)
    batch = open_batch([export])
    try:
        assert batch.export is not None and batch.export.layout == "moodle"
        assert [p.name for p in batch.paths] == ["101", "102", "103"]
        assert batch.students["101"].name == "Ann Lee"
        subs = {s.id: s for s in (read_submission(p) for p in batch.paths)}
        assert subs["101"].files == {"submission.py": CODE}
        assert set(subs["102"].files) == {"submission.py", "helper.py"}  # notebook + helper
        assert subs["103"].error == "103: no .py file found; submit submission.py"
    finally:
        tmp = batch.tmp
        batch.close()
    assert tmp is not None and not tmp.exists()


def test_moodle_zip_inside_a_folder_and_flat_files(tmp_path):
    entries = {f"export/{k}": v for k, v in MOODLE.items()}
    entries["export/Di Wu_104_assignsubmission_file_submission.py"] = CODE  # no folders
    batch = open_batch([make_zip(tmp_path / "moodle.zip", entries)])
    try:
        assert [p.name for p in batch.paths] == ["101", "102", "103", "104"]
        assert read_submission(batch.paths[3]).files == {"submission.py": CODE}
    finally:
        batch.close()


# ---------------------------------------------------------------- Canvas


def test_canvas_zip_is_staged_by_user_id_with_late_flags(canvas_zip):
    batch = open_batch([canvas_zip])
    try:
        assert batch.export is not None and batch.export.layout == "canvas"
        assert [p.name for p in batch.paths] == ["201", "202", "203.zip"]
        assert batch.students["202"].late and not batch.students["201"].late
        assert batch.students["202"].name == "chenbo"
        subs = [read_submission(p) for p in batch.paths]
        assert [s.id for s in subs] == ["201", "202", "203"]
        assert subs[1].files == {"submission-1.py": CODE}  # Canvas's renamed resubmission
        assert subs[2].files == {"submission.py": CODE}  # the student's own zip, read as one
    finally:
        batch.close()


def test_ordinary_arguments_are_not_exports(tmp_path):
    single = tmp_path / "alice.py"
    single.write_bytes(CODE)
    folder = tmp_path / "bob"
    folder.mkdir()
    (folder / "submission.py").write_bytes(CODE)
    for paths in ([single], [folder], [single, folder]):
        batch = open_batch(paths)
        assert batch.export is None and batch.paths == paths and batch.tmp is None


# ---------------------------------------------------------------- safety of the outer zip


def test_export_zip_with_traversal_is_not_unpacked_and_is_rejected(tmp_path):
    path = make_zip(tmp_path / "evil.zip", {"leeann_201_9001_a.py": CODE,
                                            "../chenbo_202_9002_b.py": CODE})
    batch = open_batch([path])
    assert batch.export is None and batch.paths == [path]
    assert not (tmp_path / "chenbo_202_9002_b.py").exists()
    error = read_submission(path).error
    assert error is not None and "unsafe path '../chenbo_202_9002_b.py'" in error


def test_export_zip_with_a_link_is_rejected(tmp_path):
    path = tmp_path / "links.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("leeann_201_9001_a.py", CODE)
        link = zipfile.ZipInfo("chenbo_202_9002_b.py")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    assert open_batch([path]).export is None
    assert "is a symbolic link" in (read_submission(path).error or "")


def test_export_zip_bomb_stops_the_batch_with_the_reason(tmp_path):
    path = make_zip(tmp_path / "bomb.zip", {"leeann_201_9001_a.py": b"0" * 5_000_000})
    with pytest.raises(LmsError, match=r"leeann_201_9001_a\.py is too large or too compressed"):
        open_batch([path])


def test_links_in_an_export_folder_are_not_followed(tmp_path):
    export = tmp_path / "export"
    student = export / "Ann Lee_101_assignsubmission_file_"
    student.mkdir(parents=True)
    secret = tmp_path / "secret.py"
    secret.write_bytes(b"SECRET = 1\n")
    os.symlink(secret, student / "submission.py")
    os.symlink(secret, export / "Bo_102_assignsubmission_file_x.py")
    export_read = read_export(export, tmp_path / "tmp")
    assert export_read is not None
    assert [p.name for p in export_read.paths] == ["101"]
    assert list(export_read.paths[0].iterdir()) == []


# ---------------------------------------------------------------- roster and grades.csv


def write_roster(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8-sig")  # as Excel saves it
    return path


def test_roster_columns_and_moodle_participant_ids(tmp_path):
    path = write_roster(tmp_path, "Identifier,Full name,Email address,Section\n"
                                  "Participant 101,Ann Lee,ann@uni.example,S1\n"
                                  "102,Bo Chen,bo@uni.example,S2\n")
    roster = read_roster(path)
    assert list(roster) == ["101", "102"]
    assert (roster["101"].name, roster["101"].email, roster["101"].section) == \
        ("Ann Lee", "ann@uni.example", "S1")


@pytest.mark.parametrize(("text", "message"), [
    ("name,email\nAnn,a@x\n", "no id column (found: name, email)"),
    ("id,name\n1,Ann\n1,Bo\n", "line 3: the row repeats the id 1"),
    ("id,name\n,Ann\n", "line 2: the row has no id"),
])
def test_bad_rosters_name_the_file_and_line(tmp_path, text, message):
    with pytest.raises(LmsError, match=re.escape(message)):
        read_roster(write_roster(tmp_path, text))


def test_plain_grades_with_roster_add_missing_and_flag_strangers(tmp_path, canvas_zip):
    roster = write_roster(tmp_path, "id,name\n201,Ann\n202,Bo\n299,Zed\n")
    batch = open_batch([canvas_zip], roster)
    results = [result("201", 40.0), result("202", 36.0), result("203", 0.0, failure="boom")]
    notes = batch.write_grades(tmp_path, results, load_assignment(A1))
    table = rows(tmp_path / "grades.csv")
    assert [r[0] for r in table] == ["submission", "201", "202", "203", "299"]
    assert [r[-1] for r in table[1:]] == ["graded", "graded; late",
                                          "not run: boom; not in roster", "missing submission"]
    assert table[4][-3:] == ["", "40", "missing submission"]
    assert notes == ["1 roster student(s) handed in nothing: 299",
                     "1 submission(s) are not in the roster: 203",
                     "1 submission(s) are marked late by Canvas: 202"]
    batch.close()


def test_moodle_grades_need_a_roster_with_emails(tmp_path):
    with pytest.raises(LmsError, match="--csv-format moodle needs --roster with an email"):
        open_batch([tmp_path], None, "moodle")
    roster = write_roster(tmp_path, "id,name,email,id number\n101,Ann Lee,ann@x.example,\n"
                                    "102,Bo,,S-2\n103,Cy,,\n104,Di,di@x.example,\n")
    batch = open_batch([tmp_path / "a.py", tmp_path / "b.py"], roster, "moodle")
    notes = batch.write_grades(tmp_path, [result("101", 37.5), result("102", 0.0),
                                          result("999", 3.0)], load_assignment(A1))
    assert rows(tmp_path / "grades.csv") == [
        ["Full name", "Email address", "ID number", "Loss functions, gradients and SGD"],
        ["Ann Lee", "ann@x.example", "", "37.5"], ["Bo", "", "S-2", "0"],
        ["Di", "di@x.example", "", ""]]
    assert "left out of grades.csv (no email or ID number in the roster, which Moodle's " \
           "import needs): 103" in notes
    assert "left out of grades.csv (not in the roster): 999" in notes


def test_canvas_grades_columns_and_assignment_id(tmp_path):
    folder = tmp_path / "a2"
    folder.mkdir()
    (folder / "rubric.toml").write_text(
        '[assignment]\ntitle = "Attention"\nnames = ["f"]\n[lms]\ncanvas_assignment_id = 4711\n'
        '[[checks]]\nid = "f-1"\nfunction = "f"\npoints = 2\n', encoding="utf-8")
    roster = write_roster(tmp_path, "id,name,sis user id,sis login id,section\n"
                                    "201,\"Lee, Ann\",S201,alee,Sec 1\n202,=HYPERLINK(),,,\n")
    batch = open_batch([tmp_path / "x.py"], roster, "canvas")
    batch.write_grades(tmp_path, [result("201", 2.0), result("777", 1.0)],
                       load_assignment(folder))
    assert rows(tmp_path / "grades.csv") == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Attention (4711)"],
        ["Lee, Ann", "201", "S201", "alee", "Sec 1", "2"],
        ["'=HYPERLINK()", "202", "", "", "", ""],  # never a formula in a spreadsheet
        ["", "777", "", "", "", "1"]]


def test_plain_without_roster_or_export_keeps_grade_batchs_file(tmp_path):
    (tmp_path / "grades.csv").write_text("as written by grade_batch\n")
    batch = open_batch([tmp_path / "a.py"])
    assert batch.write_grades(tmp_path, [result("a", 1.0)], load_assignment(A1)) == []
    assert (tmp_path / "grades.csv").read_text() == "as written by grade_batch\n"


# ---------------------------------------------------------------- the command


@pytest.mark.slow
def test_grade_command_on_a_moodle_zip_with_roster(tmp_path):
    source = (A1 / "examples" / "sign_error.py").read_bytes()
    path = make_zip(tmp_path / "moodle.zip", {
        "Ann Lee_101_assignsubmission_file_/submission.py": source,
        "Bo Chen_102_assignsubmission_file_/submission.ipynb": b"{broken",
    })
    roster = write_roster(tmp_path, "id,name,email\n101,Ann Lee,ann@x.example\n"
                                    "102,Bo Chen,bo@x.example\n103,Cy Diaz,cy@x.example\n")
    out = tmp_path / "out"
    run = CliRunner().invoke(main, [
        "grade", "-a", "a1", "--out", str(out), "--jobs", "1", "--allow-reduced-isolation",
        "--roster", str(roster), "--csv-format", "moodle", str(path)])
    assert run.exit_code == 0, run.output
    assert "Moodle export: 2 student(s)" in run.output
    assert "Note: 1 roster student(s) handed in nothing: 103" in run.output
    assert rows(out / "grades.csv")[1:] == [["Ann Lee", "ann@x.example", "", "36"],
                                            ["Bo Chen", "bo@x.example", "", "0"],
                                            ["Cy Diaz", "cy@x.example", "", ""]]
    assert (out / "102" / "result.json").is_file()


def test_grade_command_refuses_moodle_format_without_roster(tmp_path):
    sub = tmp_path / "a.py"
    sub.write_bytes(CODE)
    run = CliRunner().invoke(main, ["grade", "-a", "a1", "--out", str(tmp_path / "o"),
                                    "--allow-reduced-isolation", "--csv-format", "moodle",
                                    str(sub)])
    assert run.exit_code == 2 and "needs --roster" in run.output
