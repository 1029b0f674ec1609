"""Notebook line maps: every line the worker reports is named by its cell in the terminal, the
report and `grader ci`'s annotations; `from __future__` imports graded as Jupyter runs them."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from grader.cell_lines import CellLines, first_line
from grader.cli import main
from grader.notebook import convert_notebook

A1 = Path(__file__).resolve().parents[2] / "assignments" / "a1"


def notebook(*cells: str | tuple[str, str]) -> bytes:
    nb = nbformat.v4.new_notebook()
    for i, cell in enumerate(cells):
        kind, text = cell if isinstance(cell, tuple) else ("code", cell)
        new = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        nb.cells.append(new(text, id=f"c{i}"))
    return nbformat.writes(nb).encode()


def converted(*cells: str | tuple[str, str]) -> tuple[str, CellLines]:
    result = convert_notebook(notebook(*cells), "submission.ipynb")
    return result.source.decode(), result.cells


# ---------------------------------------------------------------- the map


def test_every_module_line_maps_back_to_its_cell_and_line():
    code, cells = converted(("markdown", "# Title"), "x = 1\ny = 2", "\ndef f():\n    return x")
    lines = code.split("\n")
    for n, text in enumerate(lines[:-1], start=1):
        cell, within = cells.origins[n - 1]
        if cell:  # the grader's own lines (# cell N, blank separators) map to (0, 0)
            source = ["x = 1\ny = 2", "\ndef f():\n    return x"][cell - 2]
            assert source.split("\n")[within - 1] == text
    assert cells.place(lines.index("    return x") + 1) == "cell 3 (def f():), line 3"
    assert cells.place(1) is None and cells.place(999) is None and cells.place(0) is None


def test_relabel_rewrites_frames_syntax_errors_and_warning_paths():
    code, cells = converted("import torch", "def f(x):\n    return x / 0")
    n = code.split("\n").index("    return x / 0") + 1
    texts = {
        f"at submission.py, line {n}, in f: return x / 0":
            "at cell 2 (def f(x):), line 2, in f: return x / 0",
        f'  File "/tmp/grader-a/submission.py", line {n}, in f':
            "  cell 2 (def f(x):), line 2, in f",
        f"invalid syntax (submission.py, line {n})": "invalid syntax (cell 2 (def f(x):), line 2)",
        f"/tmp/x/submission.py:{n}: UserWarning: hm": "cell 2 (def f(x):), line 2: UserWarning: hm",
        f"helper.py, line {n}, in g": f"helper.py, line {n}, in g",  # another file: unchanged
        "submission.py, line 1, in <module>": "submission.py, line 1, in <module>",  # # cell 1
    }
    for text, expected in texts.items():
        assert cells.relabel(text) == expected


def test_a_cells_first_line_is_cleaned_and_shortened():
    assert first_line("\n\n   def f():  \n") == "def f():"
    assert first_line("x = '\x1b[2J\u202e'") == "x = '\ufffd\ufffd'"
    long = first_line("y = " + "1 + " * 30)
    assert len(long) == 40 and long.endswith("…")


# ---------------------------------------------------------------- from __future__


def test_future_import_after_a_magic_cell_is_moved_to_the_top():
    code, cells = converted("%matplotlib inline", "from __future__ import annotations\n"
                            "def f(x: Undefined) -> int:\n    return 1")
    compile(code, "submission.py", "exec")  # was a SyntaxError: not at the top of the module
    lines = code.split("\n")
    assert lines[1] == "from __future__ import annotations"
    assert cells.place(2) == "cell 2 (from __future__ import annotations), line 1"
    assert cells.place(lines.index("    return 1") + 1).endswith("line 3")
    namespace: dict[str, object] = {}
    exec(compile(code, "submission.py", "exec"), namespace)  # the annotation is never evaluated


def test_future_imports_of_several_cells_and_after_a_docstring_all_move():
    code, _ = converted('"""Mine."""\nfrom __future__ import annotations', "x = 1",
                        "from __future__ import (\n    annotations,\n)\ny = 2")
    compile(code, "submission.py", "exec")
    assert code.split("\n")[1:5] == ["from __future__ import annotations",
                                     "from __future__ import (", "    annotations,", ")"]


def test_a_future_import_that_does_not_open_its_cell_stays_an_error_as_in_jupyter():
    code, _ = converted("x = 1\nfrom __future__ import annotations")
    with pytest.raises(SyntaxError, match="beginning of the file"):
        compile(code, "submission.py", "exec")


# ---------------------------------------------------------------- the whole way: an error in cell 3


def error_in_cell_3() -> bytes:
    """A1's solution as a notebook whose cell 3 (mse) fails with a NameError on its line 3, after
    a magic cell, and with `from __future__` opening cell 4 (valid in Jupyter)."""
    source = (A1 / "solution.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    lines = source.split("\n")
    mse = next(n for n in tree.body if getattr(n, "name", "") == "mse")
    assert isinstance(mse, ast.FunctionDef)
    rest = lines[tree.body[1].end_lineno or 0:mse.lineno - 1] + lines[mse.end_lineno or 0:]
    return notebook(("markdown", "# A1"), "%matplotlib inline",
                    "def mse(y_hat, y):\n    diff = y_hat - y\n    return undefined_name + diff",
                    "from __future__ import annotations\n" + "\n".join(rest))


PLACE = "cell 3 (def mse(y_hat, y):), line 3"


@pytest.fixture(scope="module")
def nb_check(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    folder = tmp_path_factory.mktemp("nb")
    (folder / "submission.ipynb").write_bytes(error_in_cell_3())
    run = CliRunner().invoke(main, ["check", str(folder / "submission.ipynb"), "-a", "a1",
                                    "--out", str(folder / "out")])
    assert run.exit_code == 0, run.output
    return run.output, folder


@pytest.mark.slow
def test_terminal_names_the_cell_and_the_magics_left_out(nb_check):
    output, _ = nb_check
    assert f"at {PLACE}, in mse: return undefined_name + diff" in output
    assert "submission.py, line" not in output
    note = next(line for line in output.splitlines() if line.startswith("Note: "))
    assert "left out IPython syntax" in note and "cell 2, line 1: %matplotlib inline" in note
    # the future import in cell 4 did not stop the rest from being graded
    assert "-- mse" in output and "ok softmax" in output


@pytest.mark.slow
def test_report_names_the_cell(nb_check):
    _, folder = nb_check
    soup = BeautifulSoup((folder / "out" / "report.html").read_text(encoding="utf-8"),
                         "html.parser")
    messages = [pre.get_text() for pre in soup.select("#fn-mse pre")]
    assert messages and all(PLACE in m for m in messages)
    assert "submission.py, line" not in soup.get_text()
    assert "%matplotlib inline" in soup.select_one("#notes").get_text()


@pytest.mark.slow
def test_ci_annotation_names_the_cell(tmp_path):
    (tmp_path / "submission.ipynb").write_bytes(error_in_cell_3())
    run = CliRunner().invoke(main, ["ci", str(tmp_path / "submission.ipynb"), "-a", "a1",
                                    "--out", str(tmp_path / "report")],
                             env={"GITHUB_WORKSPACE": str(tmp_path), "GITHUB_ACTIONS": "true",
                                  "NO_COLOR": "1"})
    errors = [line for line in run.output.splitlines() if line.startswith("::error")]
    assert len(errors) == 1, run.output
    assert errors[0].startswith("::error file=submission.ipynb,title=mse (cell 3)::"
                                "defined at cell 3 (def mse(y_hat, y):), line 1")
    assert f"at {PLACE}".replace("%", "%25") in errors[0]
