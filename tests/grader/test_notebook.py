"""Notebook submissions: code cells only, IPython syntax left out with a note, bad notebooks a
clear error, the same grade as the same code in a .py file, and the starter as a notebook."""

from __future__ import annotations

import ast
import json
import re
import zipfile
from pathlib import Path

import nbformat
import pytest

from grader.api import grade_batch
from grader.assignment import load_assignment
from grader.notebook import NotebookError, notebook_to_source, starter_notebook
from grader.submission import MAX_NOTEBOOK, read_submission

A1 = Path(__file__).resolve().parents[2] / "assignments" / "a1"


def notebook(*cells: str | tuple[str, str], minor: int = 5) -> bytes:
    """A notebook of code cells (a ("markdown", text) tuple makes a markdown cell)."""
    nb = nbformat.v4.new_notebook()
    nb.nbformat_minor = minor
    for i, cell in enumerate(cells):
        kind, text = cell if isinstance(cell, tuple) else ("code", cell)
        new = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        nb.cells.append(new(text, id=f"c{i}"))
    return nbformat.writes(nb).encode()


def source_of(*cells: str | tuple[str, str]) -> tuple[str, list[str]]:
    code, notes = notebook_to_source(notebook(*cells), "submission.ipynb")
    compile(code, "submission.py", "exec")  # always valid Python
    return code.decode(), notes


# ---------------------------------------------------------------- code cells and IPython syntax


def test_code_cells_are_joined_with_cell_comments_and_markdown_is_left_out():
    code, notes = source_of(("markdown", "# Title\ndef not_code(): pass"), "x = 1",
                            "def f():\n    return x\n")
    assert code == "# cell 2\nx = 1\n\n\n# cell 3\ndef f():\n    return x\n"
    assert notes == []


def test_outputs_are_ignored():
    nb = nbformat.reads(notebook("print('hi')\nx = 1"), as_version=4)
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", text="hi\n")]
    nb.cells[0].execution_count = 3
    code, _ = notebook_to_source(nbformat.writes(nb).encode(), "n.ipynb")
    assert code.decode() == "# cell 1\nprint('hi')\nx = 1\n"


def test_line_magics_and_shell_escapes_become_pass_with_a_note():
    code, notes = source_of("%matplotlib inline\nimport torch\n!pip install numpy\n"
                            "files = !ls\nresult = %time f()\ntorch.sum?\n"
                            "for i in range(2):\n    !echo $i\n    y = i")
    lines = code.splitlines()
    assert lines[1] == "pass  # removed by the grader: IPython syntax"
    assert lines[2] == "import torch"
    assert lines[3:7] == ["pass  # removed by the grader: IPython syntax"] * 4
    assert lines[8] == "    pass  # removed by the grader: IPython syntax"  # same indent
    assert lines[9] == "    y = i"
    assert len(notes) == 1
    note = notes[0]
    assert note.startswith("submission.ipynb: left out IPython syntax")
    assert "cell 1, line 1: %matplotlib inline" in note
    assert "cell 1, line 3: !pip install numpy" in note
    assert "and 1 more" in note  # five listed, the sixth counted


def test_a_cell_magic_drops_the_whole_cell():
    code, notes = source_of("x = 1", "\n%%timeit\ny = undefined_name", "z = 2")
    assert "undefined_name" not in code and "# cell 2" not in code
    assert "# cell 1\nx = 1" in code and "# cell 3\nz = 2" in code
    assert "cell 2 (the whole cell): %%timeit" in notes[0]


def test_get_ipython_statements_are_removed_and_blocks_stay_valid():
    code, notes = source_of("ip = get_ipython(\n)\nif get_ipython() is not None:  # in Jupyter\n"
                            "    print('notebook')\nx = 1")
    assert code.splitlines()[1:5] == [
        "pass  # removed by the grader: IPython syntax", "",
        "if False:  # removed by the grader: IPython syntax", "    print('notebook')"]
    assert "cell 1, line 1: ip = get_ipython(" in notes[0]


def test_percent_and_bang_inside_statements_and_strings_are_python():
    cell = ("x = (10\n     % 3)\ny = 1 \\\n    % 2\ns = '''\n!not a shell line\n%not a magic\n'''\n"
            "t = \"a\\\"b\"  # '''\n!ls")
    code, notes = source_of(cell)
    assert code.splitlines()[1:10] == cell.splitlines()[:9]
    assert code.splitlines()[-1] == "pass  # removed by the grader: IPython syntax"
    assert "cell 1, line 10: !ls" in notes[0]


def test_escape_continued_with_backslashes_is_removed_whole():
    code, _ = source_of("!pip install \\\n    torch \\\n    numpy\nx = 1")
    assert code.splitlines()[1:5] == ["pass  # removed by the grader: IPython syntax", "", "",
                                      "x = 1"]


def test_an_old_notebook_without_cell_ids_is_converted_and_read():
    nb = {"nbformat": 4, "nbformat_minor": 2, "metadata": {},
          "cells": [{"cell_type": "code", "source": ["x = 1\n", "y = 2"], "metadata": {},
                     "outputs": [], "execution_count": None}]}
    code, _ = notebook_to_source(json.dumps(nb).encode(), "old.ipynb")
    assert code.decode() == "# cell 1\nx = 1\ny = 2\n"


@pytest.mark.parametrize(("data", "problem"), [
    (b"{not json", "is not a readable notebook: invalid JSON"),
    (b"\xff\xfe{}", "is not a readable notebook: not UTF-8 text"),
    (b"[1, 2]", "is not a Jupyter notebook (JSON without an 'nbformat' field)"),
    (b'{"cells": []}', "is not a Jupyter notebook"),
    (b'{"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": '
     b'[{"cell_type": "code", "source": 3, "metadata": {}, "outputs": []}]}',
     "is not a valid notebook ("),
    (b'{"nbformat": 4, "nbformat_minor": 4}', "is not a valid notebook ("),
    (b'{"nbformat": 99, "cells": []}', "is not a readable notebook (Unsupported nbformat"),
    (b"[" * 50_000, "is not a readable notebook: invalid JSON"),
], ids=["json", "utf8", "list", "no-nbformat", "bad-cell", "no-cells", "version", "deep"])
def test_malformed_notebooks_are_errors_naming_the_file_and_the_fix(tmp_path, data, problem):
    path = tmp_path / "hw.ipynb"
    path.write_bytes(data)
    sub = read_submission(path)
    assert sub.error is not None and sub.error.startswith(f"hw.ipynb {problem}"), sub.error
    assert "submit a .py file" in sub.error and sub.files == {}


def test_a_notebook_without_code_is_an_error():
    with pytest.raises(NotebookError, match=r"e\.ipynb has no code cells"):
        notebook_to_source(notebook(("markdown", "only words")), "e.ipynb")


# ---------------------------------------------------------------- intake


def test_notebook_file_becomes_the_module_submission_py(tmp_path):
    path = tmp_path / "alice.ipynb"
    path.write_bytes(notebook("def mse(a, b):\n    return 0", "!pip install torch"))
    sub = read_submission(path)
    assert sub.error is None and sub.id == "alice" and sub.main == "submission.py"
    assert list(sub.files) == ["submission.py"]
    assert sub.files["submission.py"].startswith(b"# cell 1\ndef mse(a, b):")
    assert any("!pip install torch" in n for n in sub.notes)


def test_folder_with_submission_ipynb_and_a_helper(tmp_path):
    folder = tmp_path / "bob"
    folder.mkdir()
    (folder / "submission.ipynb").write_bytes(notebook("from helper import K"))
    (folder / "helper.py").write_bytes(b"K = 1\n")
    sub = read_submission(folder)
    assert sub.error is None and sub.main == "submission.py"
    assert set(sub.files) == {"submission.py", "helper.py"}


def test_submission_py_wins_over_a_notebook_with_a_note(tmp_path):
    folder = tmp_path / "carol"
    folder.mkdir()
    (folder / "submission.ipynb").write_bytes(notebook("x = 'notebook'"))
    (folder / "submission.py").write_bytes(b"x = 'py'\n")
    sub = read_submission(folder)
    assert sub.files == {"submission.py": b"x = 'py'\n"}
    assert "ignored submission.ipynb: submission.py is graded" in sub.notes


def test_two_notebooks_without_submission_ipynb_is_an_error(tmp_path):
    folder = tmp_path / "dan"
    folder.mkdir()
    for name in ("a.ipynb", "b.ipynb"):
        (folder / name).write_bytes(notebook("x = 1"))
    sub = read_submission(folder)
    assert sub.error == ("dan: found 2 notebooks (a.ipynb, b.ipynb); name the one to grade "
                         "submission.ipynb")


def test_zip_of_a_notebook(tmp_path):
    path = tmp_path / "erin.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("erin/Assignment1.ipynb", notebook("x = 1"))
    sub = read_submission(path)
    assert sub.error is None and list(sub.files) == ["submission.py"]


def test_notebook_size_cap(tmp_path):
    path = tmp_path / "big.ipynb"
    path.write_bytes(b" " * (MAX_NOTEBOOK + 1))
    assert read_submission(path).error == (f"big.ipynb is {MAX_NOTEBOOK + 1} bytes; the limit "
                                           f"is {MAX_NOTEBOOK} bytes")


# ---------------------------------------------------------------- the same grade either way


def as_notebook(source: str) -> bytes:
    """The module split into cells at top-level statements, with IPython lines added."""
    tree = ast.parse(source)
    lines = source.split("\n")
    starts = [n.lineno - 1 - len(getattr(n, "decorator_list", [])) for n in tree.body[1:]]
    chunks = ["\n".join(lines[a:b]) for a, b in zip([0, *starts], [*starts, len(lines)],
                                                    strict=True)]
    cells: list[str | tuple[str, str]] = [("markdown", "# My assignment")]
    cells += ["%matplotlib inline\n!pip install torch\n" + chunks[0], "%%time\nimport time"]
    cells += chunks[1:]
    return notebook(*cells)


@pytest.mark.slow
def test_same_code_as_py_and_as_ipynb_grades_the_same(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    paths = []
    for name in ("sign_error", "correct"):
        source = (A1 / "examples" / f"{name}.py").read_text(encoding="utf-8")
        (folder / f"{name}.py").write_text(source, encoding="utf-8")
        (folder / f"{name}_nb.ipynb").write_bytes(as_notebook(source))
        paths += [folder / f"{name}.py", folder / f"{name}_nb.ipynb"]
    (folder / "broken.ipynb").write_text('{"nbformat": 4, "cells": [', encoding="utf-8")
    results = grade_batch(load_assignment(A1), [*paths, folder / "broken.ipynb"], tmp_path / "out")
    by_id = {r.submission_id: r for r in results}
    for name in ("sign_error", "correct"):
        py, nb = by_id[name], by_id[f"{name}_nb"]
        assert [(t.id, t.status, t.score) for t in nb.tests] == \
            [(t.id, t.status, t.score) for t in py.tests]
        assert nb.score == py.score and not nb.failure
        assert "left out IPython syntax" in nb.output and "%%time" in nb.output
    assert by_id["sign_error"].score == by_id["sign_error"].max_score - 4
    assert by_id["correct"].score == by_id["correct"].max_score
    broken = by_id["broken"]
    assert broken.score == 0 and broken.max_score == 40
    assert broken.output.startswith("broken.ipynb is not a readable notebook: invalid JSON")


# ---------------------------------------------------------------- the starter as a notebook


def code_lines(text: str) -> list[str]:
    """Lines of code, leaving out blank lines, `# cell N` and the starter's part banners."""
    skip = re.compile(r"\s*$|# cell \d+$|# -{3,} Part ")
    return [line for line in text.splitlines() if not skip.match(line)]


def test_starter_notebook_code_equals_the_starter():
    starter = (A1 / "submission.py").read_text(encoding="utf-8")
    code, notes = notebook_to_source((A1 / "submission.ipynb").read_bytes(), "submission.ipynb")
    tree = ast.parse(starter)
    docstring_end = tree.body[0].end_lineno
    assert code_lines(code.decode()) == code_lines("\n".join(
        starter.split("\n")[docstring_end:]))
    assert notes == []


def test_starter_notebook_is_generated_from_the_starter_and_handout():
    fresh = starter_notebook((A1 / "submission.py").read_text(encoding="utf-8"),
                             (A1 / "handout.md").read_text(encoding="utf-8"))
    assert (A1 / "submission.ipynb").read_text(encoding="utf-8") == fresh, (
        "assignments/a1/submission.ipynb is out of date: run `grader release a1 --out DIR` "
        "and copy DIR/submission.ipynb over it")


def test_starter_notebook_has_the_instructions_of_each_part():
    nb = nbformat.reads((A1 / "submission.ipynb").read_text(encoding="utf-8"), as_version=4)
    nbformat.validate(nb)
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert markdown[0].startswith("# Assignment 1: Loss functions, gradients and SGD.")
    assert "Only the code cells are graded" in markdown[0]
    parts = [m.split("\n")[0] for m in markdown[1:]]
    assert parts == ["## Part A: Losses and softmax (11 points)",
                     "## Part B: Fitting a line by hand (11 points)",
                     "## Part C: Softmax regression by hand (5 points)",
                     "## Part D: A bag-of-words sentiment classifier (13 points)"]
    assert "### 1. `mse(y_hat, y)`" in markdown[1]  # the part's tasks come along
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert code[0] == "import re\n\nimport torch"
    assert [c.split("(")[0] for c in code[1:]] == [
        "def mse", "def softmax", "def cross_entropy", "def mse_gradients", "def sgd_step",
        "def fit_line", "def softmax_regression_gradients", "def build_vocab",
        "def bag_of_words", "class LogisticRegression", "def train_classifier"]
