"""Where each line of a notebook's graded module came from: a cell and a line in it.

A notebook is graded as one module (:mod:`grader.notebook`), so the worker reports errors at
``submission.py, line 30``, a file the student never saw. The trusted side converts the
notebook and keeps this map as plain data (never anything from the worker); every message that
names a line of the module is rewritten to ``cell 3 (def fit_line(...)), line 4``. Cells are
numbered as the conversion numbers them: every cell, markdown included, from 1.
:class:`CellModule` builds the module from the cells and records the map as it goes.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from grader.sandbox.text import clean_text

_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
FIRST_LINE = 40
"""Characters of a cell's first line shown to name the cell."""


@dataclass(frozen=True)
class CellLines:
    """The module's lines mapped back to the notebook's cells."""

    module: str
    """The module's file name (``submission.py``)."""
    origins: tuple[tuple[int, int], ...]
    """Line ``n`` of the module (from 1) came from ``origins[n - 1]`` = (cell, line in cell);
    (0, 0) for a line the grader added."""
    first_lines: tuple[tuple[int, str], ...] = ()
    """(cell, its first non-blank line, shortened): how a cell is named to the student."""

    def place(self, line: int) -> str | None:
        """``cell N (first line), line L`` for a line of the module, or None for a line the
        grader added (or one out of range)."""
        if not 0 < line <= len(self.origins) or self.origins[line - 1][0] == 0:
            return None
        cell, within = self.origins[line - 1]
        first = dict(self.first_lines).get(cell, "")
        return f"cell {cell} ({first}), line {within}" if first else f"cell {cell}, line {within}"

    def cell_of(self, line: int) -> int:
        """The cell a line of the module came from (0 for a line the grader added)."""
        return self.origins[line - 1][0] if 0 < line <= len(self.origins) else 0

    def relabel(self, text: str) -> str:
        """``text`` with each mention of a module line (``submission.py, line 30``,
        ``File "/tmp/x/submission.py", line 30``, ``submission.py:30``) naming its cell."""
        def swap(match: re.Match[str]) -> str:
            place = self.place(int(match.group("line")))
            return match.group(0) if place is None else place

        return self._pattern().sub(swap, text)

    def _pattern(self) -> re.Pattern[str]:
        name = re.escape(self.module)
        return re.compile(rf"(?:File \")?(?:[^\s\"'(),]*/)?{name}\"?(?:, line |:)(?P<line>\d+)")


def first_line(source: str) -> str:
    """A cell's first non-blank line, cleaned of control characters and shortened."""
    line = next((s.strip() for s in source.split("\n") if s.strip()), "")
    line = _BIDI.sub("\ufffd", clean_text(line))
    return line if len(line) <= FIRST_LINE else line[:FIRST_LINE - 1] + "…"


@dataclass
class CellModule:
    """The module being built, each line with its origin (cell, line in the cell)."""

    lines: list[str] = field(default_factory=list)
    origins: list[tuple[int, int]] = field(default_factory=list)
    futures: list[tuple[str, tuple[int, int]]] = field(default_factory=list)
    firsts: list[tuple[int, str]] = field(default_factory=list)

    def add_cell(self, number: int, code: list[str], first: str) -> None:
        if self.lines:
            self.lines += ["", ""]
            self.origins += [(0, 0), (0, 0)]
        self.lines.append(f"# cell {number}")
        self.origins.append((0, 0))
        hoisted = leading_futures(code)
        for i, line in enumerate(code):
            if i in hoisted:
                self.futures.append((line, (number, i + 1)))
                line = ""
            self.lines.append(line)
            self.origins.append((number, i + 1))
        self.firsts.append((number, first))

    def joined(self) -> tuple[list[str], list[tuple[int, int]]]:
        """The lines, with the cells' ``from __future__`` imports first: Jupyter compiles each
        cell alone, so one may open any cell (and holds from there on), where Python wants it
        at the top of the module. Moving it up changes only annotations in earlier cells."""
        if not self.futures:
            return self.lines, self.origins
        head = ["# the cells' `from __future__` imports, moved here by the grader"]
        return ([*head, *(t for t, _ in self.futures), *self.lines],
                [(0, 0), *(o for _, o in self.futures), *self.origins])


def leading_futures(code: list[str]) -> set[int]:
    """The line indexes of the ``from __future__`` imports that open a cell (after its
    docstring, if any): those Jupyter runs. Any other is a SyntaxError there as here."""
    try:
        body = ast.parse("\n".join(code)).body
    except (SyntaxError, ValueError):
        return set()
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    found: set[int] = set()
    for node in body:
        if not (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
            break
        found.update(range(node.lineno - 1, (node.end_lineno or node.lineno)))
    return found
