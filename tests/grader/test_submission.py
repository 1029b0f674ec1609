"""Submission intake: files, folders and zips read safely, and errors that say the fix."""

from __future__ import annotations

import hashlib
import os
import stat
import zipfile
from pathlib import Path

import pytest

from grader.outdir import BATCH_FILES, reserved
from grader.submission import (
    MAX_FILE,
    MAX_ZIP_ENTRIES,
    Submission,
    read_submission,
    safe_id,
    stage,
    unique_ids,
)

CODE = b"def mse(y_hat, y):\n    return ((y_hat - y) ** 2).mean()\n"


def make_zip(path: Path, entries: dict[str, bytes],
             compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in entries.items():
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return path


# ---------------------------------------------------------------- single files


def test_py_file_is_read_with_sha256_of_its_bytes(tmp_path):
    path = tmp_path / "alice.py"
    path.write_bytes(CODE)
    sub = read_submission(path)
    assert sub.error is None
    assert sub.id == "alice"
    assert sub.main == "alice.py"
    assert dict(sub.files) == {"alice.py": CODE}
    assert sub.sha256 == hashlib.sha256(CODE).hexdigest()
    assert sub.notes == ()


def test_oversized_py_file_is_an_error(tmp_path):
    path = tmp_path / "big.py"
    path.write_bytes(b"#" * (MAX_FILE + 1))
    sub = read_submission(path)
    assert sub.error == f"big.py is {MAX_FILE + 1} bytes; the limit is {MAX_FILE} bytes"
    assert sub.files == {}


def test_malformed_notebook_is_an_error_naming_the_file(tmp_path):
    # Notebooks are read by grader.notebook (tests/grader/test_notebook.py); a bad one is a
    # readable error here, never a crash.
    path = tmp_path / "hw.ipynb"
    path.write_text("{}")
    sub = read_submission(path)
    assert sub.error is not None
    assert sub.error.startswith("hw.ipynb is not a Jupyter notebook")
    assert "submit a .py file" in sub.error


def test_other_suffix_is_refused(tmp_path):
    path = tmp_path / "hw.txt"
    path.write_bytes(CODE)
    sub = read_submission(path)
    assert sub.error == ("hw.txt: not a .py file, a notebook (.ipynb), a folder or a .zip; "
                         "submit submission.py")


# ---------------------------------------------------------------- text checks


@pytest.mark.parametrize("data", [
    b"\xff\xfe = 1\n",  # the first line is not UTF-8 (and there is no coding cookie)
    b"x = 1\ny = 2\ns = '\xe9t\xe9'\n",  # a later line is not UTF-8
], ids=["first-line", "third-line"])
def test_non_utf8_without_cookie_is_not_valid_text(tmp_path, data):
    path = tmp_path / "submission.py"
    path.write_bytes(data)
    sub = read_submission(path)
    assert sub.error is not None
    assert sub.error.startswith("submission.py is not valid text (")
    assert sub.error.endswith("); save it as UTF-8")


def test_latin1_coding_cookie_decodes(tmp_path):
    path = tmp_path / "submission.py"
    path.write_bytes(b"# -*- coding: latin-1 -*-\ns = 'caf\xe9'\n")
    sub = read_submission(path)
    assert sub.error is None
    assert sub.files["submission.py"].endswith(b"'caf\xe9'\n")


def test_unknown_coding_cookie_is_not_valid_text(tmp_path):
    path = tmp_path / "submission.py"
    path.write_bytes(b"# -*- coding: klingon -*-\nx = 1\n")
    sub = read_submission(path)
    assert sub.error is not None and "is not valid text" in sub.error


def test_nul_bytes_are_an_error(tmp_path):
    path = tmp_path / "submission.py"
    path.write_bytes(b"x = 1\n\x00\n")
    sub = read_submission(path)
    assert sub.error == "submission.py contains NUL bytes; save it as plain UTF-8 text"


def test_bidi_controls_are_a_note_not_an_error(tmp_path):
    path = tmp_path / "submission.py"
    path.write_text("access = 'user\u202e \u2066# admin\u2069 \u2066'\n", encoding="utf-8")
    sub = read_submission(path)
    assert sub.error is None
    assert len(sub.notes) == 1
    assert sub.notes[0].startswith("submission.py contains bidirectional control characters")
    assert "Trojan Source" in sub.notes[0]


# ---------------------------------------------------------------- folders


def test_folder_with_submission_and_helper_stages_both(tmp_path):
    folder = tmp_path / "bob"
    folder.mkdir()
    (folder / "submission.py").write_bytes(b"from helper import k\n")
    (folder / "helper.py").write_bytes(b"k = 3\n")
    (folder / "notes.txt").write_text("hi")
    sub = read_submission(folder)
    assert sub.error is None
    assert sub.id == "bob" and sub.main == "submission.py"
    assert set(sub.files) == {"submission.py", "helper.py"}
    assert "ignored notes.txt: only .py and .ipynb files at the top level are graded" in sub.notes
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    main = stage(sub, scratch)
    assert main == scratch / "submission.py"
    assert sorted(p.name for p in scratch.iterdir()) == ["helper.py", "submission.py"]
    assert (scratch / "helper.py").read_bytes() == b"k = 3\n"
    assert stat.S_IMODE((scratch / "helper.py").stat().st_mode) == 0o600


def test_folder_digest_depends_on_names_and_content(tmp_path):
    def digest(files: dict[str, bytes], name: str) -> str:
        folder = tmp_path / name
        folder.mkdir()
        for fname, data in files.items():
            (folder / fname).write_bytes(data)
        return read_submission(folder).sha256

    a = digest({"submission.py": b"x=1\n", "h.py": b""}, "a")
    assert a == digest({"submission.py": b"x=1\n", "h.py": b""}, "a2")
    assert a != digest({"submission.py": b"x=2\n", "h.py": b""}, "b")
    assert a != digest({"submission.py": b"x=1\n", "g.py": b""}, "c")


def test_folder_with_two_files_and_no_main_names_them_and_the_fix(tmp_path):
    folder = tmp_path / "carol"
    folder.mkdir()
    (folder / "part1.py").write_bytes(b"x = 1\n")
    (folder / "part2.py").write_bytes(b"y = 1\n")
    sub = read_submission(folder)
    assert sub.error == ("carol: found 2 .py files (part1.py, part2.py); name the one to grade "
                         "submission.py")


def test_folder_with_one_file_of_another_name_uses_it(tmp_path):
    folder = tmp_path / "dan"
    folder.mkdir()
    (folder / "my_answers.py").write_bytes(CODE)
    sub = read_submission(folder)
    assert sub.error is None and sub.main == "my_answers.py"


def test_empty_folder_says_no_py_file(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    assert read_submission(folder).error == "empty: no .py file found; submit submission.py"


def test_folder_symlinks_are_not_followed(tmp_path):
    secret = tmp_path / "secret.py"
    secret.write_bytes(b"ANSWER = 42\n")
    folder = tmp_path / "eve"
    folder.mkdir()
    (folder / "submission.py").write_bytes(CODE)
    (folder / "helper.py").symlink_to(secret)
    sub = read_submission(folder)
    assert sub.error is None
    assert set(sub.files) == {"submission.py"}
    assert "ignored helper.py: links are not followed" in sub.notes


# ---------------------------------------------------------------- zips


def test_zip_with_single_top_folder_is_stripped(tmp_path):
    path = make_zip(tmp_path / "frank.zip", {
        "hw1/": b"",
        "hw1/submission.py": CODE,
        "hw1/helper.py": b"k = 1\n",
        "hw1/data/notes.py": b"",
        "__MACOSX/hw1/._submission.py": b"junk",
    })
    sub = read_submission(path)
    assert sub.error is None
    assert sub.id == "frank"
    assert set(sub.files) == {"submission.py", "helper.py"}
    assert sub.files["submission.py"] == CODE
    assert ("ignored data/notes.py: only .py and .ipynb files at the top level are graded"
            in sub.notes)
    assert sub.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_zip_without_common_folder_is_not_stripped(tmp_path):
    path = make_zip(tmp_path / "z.zip", {"submission.py": CODE, "lib/helper.py": b""})
    sub = read_submission(path)
    assert sub.error is None and set(sub.files) == {"submission.py"}


@pytest.mark.parametrize("name", ["../x.py", "/abs.py", "hw/../../x.py", "..\\x.py", "C:/x.py"])
def test_zip_slip_is_an_error_naming_the_archive(tmp_path, name):
    path = make_zip(tmp_path / "slip.zip", {"submission.py": CODE, name: b"x = 1\n"})
    sub = read_submission(path)
    assert sub.error == (f"slip.zip: unsafe path {name!r}; archives may hold relative paths "
                         "inside the archive only")
    assert sub.files == {}


def test_zip_symlink_entry_is_an_error(tmp_path):
    path = tmp_path / "link.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("submission.py", CODE)
        info = zipfile.ZipInfo("helper.py")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    sub = read_submission(path)
    assert sub.error == ("link.zip: 'helper.py' is a symbolic link; archives may hold files "
                         "only")


def test_zip_case_fold_duplicates_are_an_error(tmp_path):
    path = make_zip(tmp_path / "case.zip", {"submission.py": CODE, "Submission.py": b"x=1\n"})
    assert read_submission(path).error == (
        "case.zip: two entries differ only by letter case; rename one")


def test_zip_with_too_many_entries_is_an_error(tmp_path):
    entries = {f"f{i}.txt": b"" for i in range(MAX_ZIP_ENTRIES + 1)}
    entries["submission.py"] = CODE
    path = make_zip(tmp_path / "many.zip", entries, zipfile.ZIP_STORED)
    assert read_submission(path).error == (
        f"many.zip has {MAX_ZIP_ENTRIES + 2} entries; the limit is {MAX_ZIP_ENTRIES}")


def test_zip_member_larger_than_max_file_is_an_error(tmp_path):
    big = os.urandom(MAX_FILE + 1)
    path = make_zip(tmp_path / "big.zip", {"submission.py": big}, zipfile.ZIP_STORED)
    assert read_submission(path).error == (
        f"big.zip: submission.py is too large or too compressed (limit {MAX_FILE} bytes)")


def test_zip_bomb_by_ratio_is_an_error(tmp_path):
    # Under MAX_FILE, but compressed about a thousandfold.
    path = make_zip(tmp_path / "bomb.zip", {"submission.py": b"#" + b"\0" * (MAX_FILE // 2)})
    sub = read_submission(path)
    assert sub.error is not None
    assert sub.error.startswith("bomb.zip: submission.py is too large or too compressed")


def test_not_a_zip_is_an_error(tmp_path):
    path = tmp_path / "fake.zip"
    path.write_bytes(b"PK\x03\x04 definitely not a zip")
    sub = read_submission(path)
    assert sub.error is not None
    assert sub.error.startswith("fake.zip is not a readable zip archive (")


@pytest.mark.parametrize("name", [".", ""])
def test_zip_entry_without_path_parts_is_an_error_not_an_exception(tmp_path, name):
    path = make_zip(tmp_path / "dot.zip", {"submission.py": CODE, name: b"x = 1\n"})
    sub = read_submission(path)  # must not raise: reading never raises for bad content
    assert sub.error == (f"dot.zip: entry {name!r} has no file name; archives may hold named "
                         "files only")


# ---------------------------------------------------------------- ids and staging


def test_safe_id():
    assert safe_id("Jane Doe (late)") == "Jane_Doe_late"
    assert safe_id("../..") == "submission"
    assert safe_id("x" * 300) == "x" * 100


def test_unique_ids_renames_repeats():
    subs = [Submission("x", Path("a")), Submission("y", Path("b")), Submission("x", Path("c")),
            Submission("x", Path("d"), error="broken")]
    out = unique_ids(subs)
    assert [s.id for s in out] == ["x", "y", "x-2", "x-3"]
    assert [s.origin for s in out] == [Path("a"), Path("b"), Path("c"), Path("d")]
    assert out[3].error == "broken"
    assert out[0] is subs[0]


def test_unique_ids_never_collides_with_an_existing_id():
    subs = [Submission("x", Path("x.py")), Submission("x", Path("x.zip")),
            Submission("x-2", Path("x-2.py"))]
    ids = [s.id for s in unique_ids(subs)]
    assert ids == ["x", "x-3", "x-2"]
    more = [Submission(i, Path(i)) for i in ("x", "x-2", "x", "x-2", "x", "x-3")]
    ids = [s.id for s in unique_ids(more)]
    assert len(set(ids)) == len(ids), ids
    assert ids == ["x", "x-2", "x-4", "x-2-2", "x-5", "x-3"]
    assert [s.id for s in unique_ids(more)] == ids  # deterministic


def hostile_named(folder: Path) -> list[Path]:
    """Submissions whose names are the batch's own files, or clash after sanitising."""
    folder.mkdir(exist_ok=True)
    paths = [folder / n for n in ("grades.csv.py", "summary.html.py", ".grader-batch.lock.py",
                                  "GRADES.CSV.py", "A.py", "a.py", "a b.py", "a_b.py")]
    for path in paths:
        path.write_bytes(CODE)
    (folder / "grades.csv").mkdir()
    (folder / "grades.csv" / "submission.py").write_bytes(CODE)
    paths.append(folder / "grades.csv")
    paths.append(make_zip(folder / "summary.html.zip", {"submission.py": CODE}))
    return paths


@pytest.mark.parametrize("sub_id", ["grades.csv", "GRADES.CSV", "Summary.Html",
                                    ".grader-batch.lock", "", ".", "..", ".x", "a/b"])
def test_reserved_ids(sub_id):
    assert reserved(sub_id)


@pytest.mark.parametrize("sub_id", ["grades", "grades.csv-2", "summary.html.bak", "x.y", "-"])
def test_ordinary_ids_are_not_reserved(sub_id):
    assert not reserved(sub_id)


def test_ids_never_name_a_batch_file_nor_clash_ignoring_case(tmp_path):
    subs = unique_ids(read_submission(p) for p in hostile_named(tmp_path / "in"))
    ids = [s.id for s in subs]
    assert len({i.lower() for i in ids}) == len(ids), ids
    assert not any(reserved(i) for i in ids), ids
    assert {i.lower() for i in BATCH_FILES}.isdisjoint(i.lower() for i in ids)
    by_name = {s.origin.name: s for s in subs}
    # Ordered by origin path: GRADES.CSV.py, the folder grades.csv, grades.csv.py.
    assert [by_name[n].id for n in ("GRADES.CSV.py", "grades.csv", "grades.csv.py")] == [
        "GRADES.CSV-2", "grades.csv-3", "grades.csv-4"]
    assert by_name["summary.html.py"].id == "summary.html-2"
    assert by_name["summary.html.zip"].id == "summary.html-3"
    assert by_name[".grader-batch.lock.py"].id == "grader-batch.lock"
    assert by_name["A.py"].id == "A" and by_name["a.py"].id == "a-2"
    assert by_name["a b.py"].id == "a_b" and by_name["a_b.py"].id == "a_b-2"
    for name in ("grades.csv.py", "a.py", "a_b.py", "summary.html.zip", "grades.csv"):
        assert any(n.startswith(f"graded as {by_name[name].id}: ")
                   for n in by_name[name].notes), name
    assert not any(n.startswith("graded as") for n in by_name["A.py"].notes)
    assert all(s.error is None for s in subs)


def test_ids_depend_on_the_set_of_submissions_not_their_order(tmp_path):
    paths = hostile_named(tmp_path / "in")
    ids = {s.origin: s.id for s in unique_ids(read_submission(p) for p in paths)}
    for order in (paths[::-1], paths[3:] + paths[:3], sorted(paths, key=lambda p: p.name[::-1])):
        assert {s.origin: s.id for s in unique_ids(read_submission(p) for p in order)} == ids


def test_unusable_ids_given_directly_are_made_safe():
    subs = [Submission(i, Path(f"p{n}")) for n, i in enumerate(["", ".", "..", "a/b", "x"])]
    ids = [s.id for s in unique_ids(subs)]
    assert ids == ["submission", "submission-2", "submission-3", "a_b", "x"]


def test_stage_refuses_to_overwrite(tmp_path):
    sub = Submission("s", tmp_path, {"submission.py": CODE}, "submission.py")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (scratch / "submission.py").write_bytes(b"planted\n")
    with pytest.raises(FileExistsError):
        stage(sub, scratch)
    assert (scratch / "submission.py").read_bytes() == b"planted\n"


def test_stage_does_not_follow_a_planted_symlink(tmp_path):
    sub = Submission("s", tmp_path, {"submission.py": CODE}, "submission.py")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    victim = tmp_path / "victim.txt"
    (scratch / "submission.py").symlink_to(victim)  # dangling: O_CREAT would create the target
    with pytest.raises(OSError):
        stage(sub, scratch)
    assert not victim.exists()
    victim.write_bytes(b"keep")
    with pytest.raises(OSError):
        stage(sub, scratch)
    assert victim.read_bytes() == b"keep"
