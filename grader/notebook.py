"""Jupyter notebooks as submissions: the code cells of an ``.ipynb`` become one Python module.

A notebook is read with nbformat (converted to version 4 and validated); only code cells count,
their outputs are ignored. IPython syntax that plain Python cannot run is left out, and the
caller tells the student: a cell starting with a cell magic (``%%time``) is dropped whole; a
line magic (``%matplotlib inline``), a shell escape (``!pip install ...``), help (``obj?``) and a
statement calling ``get_ipython()`` become ``pass`` at the same indentation, so line numbers and
blocks stay intact. Cells are joined with blank lines, each after a ``# cell N`` comment (N counts
every cell, markdown included, from 1). The conversion also returns a
:class:`~grader.cell_lines.CellLines` map, which the trusted side uses to name a cell and its
line wherever the worker reports a line of the module, and ``from __future__`` imports that
open a cell move to the top of the module, where Python (unlike Jupyter's per-cell compiling)
requires them.
"""

from __future__ import annotations

import ast
import json
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

from grader.cell_lines import CellLines, CellModule, first_line


def _nbf() -> Any:
    """nbformat, imported on first use: it costs about 0.15 s of CPU (jsonschema), which a
    ``grader check`` of a .py file and each grading process need not pay. Untyped, so Any."""
    import nbformat
    import nbformat.reader

    return nbformat

_LINE_ESCAPE = re.compile(r"\s*(%|!|\?)")
_ASSIGNED_ESCAPE = re.compile(r"\s*[\w.]+(\s*,\s*[\w.]+)*\s*=\s*[%!]")
_HELP = re.compile(r"\s*[\w.]+\?{1,2}\s*$")
_HEADER_END = re.compile(r":\s*(#.*)?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_FIX = "open it in Jupyter and save it again, or submit a .py file"
MAX_LISTED = 5


class NotebookError(ValueError):
    """A notebook that cannot be read; the message names the file and the fix."""


@dataclass
class _Removed:
    items: list[str] = field(default_factory=list)

    def add(self, cell: int, line: int | None, text: str) -> None:
        where = f"cell {cell}" + (f", line {line}" if line is not None else " (the whole cell)")
        shown = _CONTROL.sub(" ", text.strip())
        self.items.append(f"{where}: {shown[:60]}{'...' if len(shown) > 60 else ''}")


@dataclass(frozen=True)
class Converted:
    """A notebook as a module: its source, notes for the student, and its line map."""

    source: bytes
    notes: list[str]
    cells: CellLines


def notebook_to_source(data: bytes, name: str) -> tuple[bytes, list[str]]:
    """The Python module made of the notebook's code cells, and notes for the student.

    Raises :class:`NotebookError` for anything that is not a valid notebook.
    """
    converted = convert_notebook(data, name)
    return converted.source, converted.notes


def convert_notebook(data: bytes, name: str, module: str = "submission.py") -> Converted:
    """:func:`notebook_to_source` with the map from the module's lines back to the cells."""
    nb = read_notebook(data, name)
    removed = _Removed()
    out = CellModule()
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        source = cell.source if isinstance(cell.source, str) else "".join(cell.source)
        code = strip_ipython(source, number, removed)
        if code.strip():
            out.add_cell(number, code.rstrip().split("\n"), first_line(source))
    if not out.lines and not removed.items:
        raise NotebookError(f"{name} has no code cells; write your functions in code cells")
    notes = []
    if removed.items:
        listed = "; ".join(removed.items[:MAX_LISTED])
        more = len(removed.items) - MAX_LISTED
        listed += f"; and {more} more" if more > 0 else ""
        notes.append(f"{name}: left out IPython syntax, which plain Python (and so the grader) "
                     f"cannot run: {listed}. Code that needs it will fail.")
    lines, origins = out.joined()
    cells = CellLines(module, tuple(origins), tuple(out.firsts))
    return Converted(("\n".join(lines) + "\n").encode("utf-8") if lines else b"", notes, cells)


def read_notebook(data: bytes, name: str) -> Any:
    """The validated version-4 notebook in ``data`` (a :class:`nbformat.NotebookNode`)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NotebookError(f"{name} is not a readable notebook: not UTF-8 text ({exc}); "
                            f"{_FIX}") from None
    try:
        raw = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise NotebookError(f"{name} is not a readable notebook: invalid JSON ({exc}); "
                            f"{_FIX}") from None
    if not isinstance(raw, dict) or "nbformat" not in raw:
        raise NotebookError(f"{name} is not a Jupyter notebook (JSON without an 'nbformat' "
                            f"field); {_FIX}")
    nbf = _nbf()
    try:
        with warnings.catch_warnings():
            # Missing cell ids and the like: nbformat repairs them; the student need not know.
            warnings.simplefilter("ignore")
            nb = nbf.convert(nbf.reader.reads(text), 4)
            nbf.validate(nb)
    except nbf.ValidationError as exc:
        first = str(exc.message if hasattr(exc, "message") else exc).splitlines()[0][:200]
        raise NotebookError(f"{name} is not a valid notebook ({first}); {_FIX}") from None
    except (ValueError, TypeError, AttributeError, KeyError, IndexError, RecursionError) as exc:
        raise NotebookError(f"{name} is not a readable notebook ({str(exc)[:200]}); "
                            f"{_FIX}") from None
    return nb


def strip_ipython(source: str, cell: int, removed: _Removed) -> str:
    """The cell's code with IPython-only syntax replaced by ``pass`` (or "" for a cell magic)."""
    lines = source.split("\n")
    first = next((line for line in lines if line.strip()), "")
    if first.lstrip().startswith("%%"):
        removed.add(cell, None, first)
        return ""
    out: list[str] = []
    scanner = _Scanner()
    i = 0
    while i < len(lines):
        if _is_escape(lines[i]):
            end = _escape_end(lines, i)
            removed.add(cell, i + 1, lines[i])
            out += [_placeholder(lines[i], block=False)] + [""] * (end - i - 1)
        else:
            end = scanner.logical_end(lines, i)
            statement = "\n".join(lines[i:end])
            if "get_ipython(" in statement:
                removed.add(cell, i + 1, lines[i])
                block = bool(_HEADER_END.search(lines[end - 1]))
                out += [_placeholder(lines[i], block)] + [""] * (end - i - 1)
            else:
                out += lines[i:end]
        i = end
    return "\n".join(out)


def _is_escape(line: str) -> bool:
    return bool(_LINE_ESCAPE.match(line) or _ASSIGNED_ESCAPE.match(line) or _HELP.match(line))


def _escape_end(lines: list[str], start: int) -> int:
    """An IPython escape goes on over lines that end with a backslash."""
    end = start + 1
    while lines[end - 1].endswith("\\") and end < len(lines):
        end += 1
    return end


def _placeholder(line: str, block: bool) -> str:
    indent = line[: len(line) - len(line.lstrip())]
    # A removed block header keeps its block valid (and never run).
    statement = "if False:" if block else "pass"
    return f"{indent}{statement}  # removed by the grader: IPython syntax"


class _Scanner:
    """Finds where a logical line ends: open brackets, strings and backslashes continue it."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.depth = 0
        self.quote = ""
        self.continued = False

    def logical_end(self, lines: list[str], start: int) -> int:
        end = start
        while end < len(lines):
            self.feed(lines[end])
            end += 1
            if not (self.depth or self.quote or self.continued):
                break
        self.reset()
        return end

    def feed(self, line: str) -> None:
        i, comment = 0, False
        while i < len(line):
            if self.quote:
                if line[i] == "\\":
                    i += 2
                    continue
                if line.startswith(self.quote, i):
                    i += len(self.quote)
                    self.quote = ""
                    continue
                i += 1
                continue
            char = line[i]
            if char == "#":
                comment = True
                break
            if char in "'\"":
                self.quote = line[i:i + 3] if line[i:i + 3] in ("'''", '"""') else char
                i += len(self.quote)
                continue
            if char in "([{":
                self.depth += 1
            elif char in ")]}":
                self.depth = max(0, self.depth - 1)
            i += 1
        self.continued = not comment and line.endswith("\\")
        if self.quote in ("'", '"') and not self.continued:
            self.quote = ""  # an unterminated one-line string: Python will report it


# ---------------------------------------------------------------- writing: the starter notebook

_BANNER = re.compile(r"#\s*-{3,}\s*(Part\s+(\w+)\b.*?)\s*$")
_NOTEBOOK_NOTE = (
    "**Working in this notebook.** Hand in this notebook or a `.py` file, not both. Only the "
    "code cells are graded, run top to bottom as one plain Python module: IPython syntax "
    "(`%magic`, `!pip install ...`) is left out, and every top-level statement runs when the "
    "grader imports your code, so keep experiments under `if __name__ == \"__main__\":`."
)


def starter_notebook(starter: str, handout: str = "") -> str:
    """The starter module as a notebook (its JSON text).

    Markdown: the module docstring, then each part's section of the handout (its instructions)
    where the starter has a ``# ---- Part X: ...`` banner. Code: the imports in one cell, then
    one cell per top-level statement (function, class), each exactly as in the starter.
    """
    tree = ast.parse(starter)
    lines = starter.split("\n")
    doc = ast.get_docstring(tree) or ""
    body = tree.body[1:] if doc else tree.body
    cells = [_nbf().v4.new_markdown_cell(f"{_markdown_intro(doc)}\n\n{_NOTEBOOK_NOTE}")]
    done = (tree.body[0].end_lineno or 0) if doc else 0
    for run in _runs(body):
        start = run[0].lineno - 1 - _decorations(run[0])
        kept = []
        for line in lines[done:start]:
            banner = _BANNER.match(line)
            if banner:
                cells.append(_nbf().v4.new_markdown_cell(
                    _part_intro(handout, banner.group(2), banner.group(1))))
            else:
                kept.append(line)
        code = "\n".join(kept + lines[start:run[-1].end_lineno]).strip("\n")
        cells.append(_nbf().v4.new_code_cell(code))
        done = run[-1].end_lineno or start
    return _notebook_json(cells)


def _decorations(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", [])
    return node.lineno - min(d.lineno for d in decorators) if decorators else 0


def _runs(body: list[ast.stmt]) -> list[list[ast.stmt]]:
    """Consecutive imports together, every other statement alone."""
    runs: list[list[ast.stmt]] = []
    for node in body:
        is_import = isinstance(node, (ast.Import, ast.ImportFrom))
        if is_import and runs and isinstance(runs[-1][-1], (ast.Import, ast.ImportFrom)):
            runs[-1].append(node)
        else:
            runs.append([node])
    return runs


def _markdown_intro(doc: str) -> str:
    first, _, rest = doc.partition("\n")
    return f"# {first.strip()}\n\n{rest.strip()}".strip()


def _part_intro(handout: str, letter: str, fallback: str) -> str:
    """The handout's ``## Part X`` section, up to the next ``##`` heading or rule."""
    lines = handout.split("\n")
    heading = re.compile(rf"##\s+Part\s+{re.escape(letter)}\b")
    for i, line in enumerate(lines):
        if heading.match(line):
            end = next((j for j in range(i + 1, len(lines))
                        if lines[j].startswith(("## ", "---"))), len(lines))
            intro = "\n".join(lines[i:end]).strip()
            break
    else:
        intro = f"## {fallback[0].upper()}{fallback[1:]}\n\nThe tasks are in `handout.md`."
    return intro


def _notebook_json(cells: list[Any]) -> str:
    for i, cell in enumerate(cells, start=1):
        cell["id"] = f"{cell['cell_type']}-{i}"  # stable ids: the same starter, the same file
    nb = _nbf().v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    })
    _nbf().validate(nb)
    return str(_nbf().writes(nb))
