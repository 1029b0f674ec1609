"""The one filter every hidden check's student-visible text goes through.

Hidden checks promise to show only shapes and error sizes, never their inputs or the
reference's figures. That is enforced here, not left to each check's author: in the text of a
hidden check's failure, every number is masked as ``…`` unless it is

- part of a shape, a parenthesised tuple of integers such as ``(3, 4)`` or ``(7,)``;
- a figure the grader marked as safe with :func:`safe` (error sizes, counts of wrong values,
  the rubric's tolerances and time limits, which the handout publishes anyway);
- on a line of the student's own traceback (``  at submission.py, line 12, ...``),

and ``name=value`` arguments lose their value (unless it is marked safe). Words holding digits
(``float32``, ``x_1``) are not numbers. The unfiltered text stays available to the instructor
(``CheckResult.staff_output``). Visible checks' text only loses the safe-markers.
"""

from __future__ import annotations

import re

_OPEN, _CLOSE = "\ue000", "\ue001"
"""Private-use characters: :func:`grader.sandbox.text.clean_text` never lets a student's text
carry them, so a submission cannot mark its own figures safe."""

MASK = "…"
_SAFE = re.compile(f"{_OPEN}([^{_OPEN}{_CLOSE}]*){_CLOSE}")
_SHAPE = re.compile(r"\((?:\d+,\s?)+\d*\)|\(\)")
_NUMBER = re.compile(r"(?<![\w])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?%?(?![\w])")
_KEYWORD = re.compile(f"\\b([A-Za-z_]\\w*)=(?:'[^']*'|\"[^\"]*\"|[^,)\\s{_OPEN}][^,)\\s]*)")
_FRAME = "  at "


def safe(value: object) -> str:
    """``value`` as text a hidden check may show (an error size, a count, a tolerance)."""
    return f"{_OPEN}{value}{_CLOSE}"


def visible_text(message: str) -> str:
    """A visible check's text: everything, without the safe-markers."""
    return message.replace(_OPEN, "").replace(_CLOSE, "")


def hidden_text(message: str) -> str:
    """A hidden check's text as the student sees it (see the module docstring)."""
    return "\n".join(line if line.startswith(_FRAME) else _redact_line(line)
                     for line in message.split("\n"))


def _redact_line(line: str) -> str:
    kept: list[str] = []

    def keep(match: re.Match[str]) -> str:
        kept.append(match.group(1) if match.re is _SAFE else match.group(0))
        return f"{_OPEN}{len(kept) - 1}{_CLOSE}"

    line = _SAFE.sub(keep, line)
    line = _KEYWORD.sub(lambda m: m.group(1), line)
    line = _SHAPE.sub(keep, line)
    parts = re.split(f"({_OPEN}\\d+{_CLOSE})", line)
    out = [kept[int(p[1:-1])] if p.startswith(_OPEN) else _NUMBER.sub(MASK, p) for p in parts]
    return "".join(out)
