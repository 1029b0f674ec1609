"""Student text made safe to store and show: one function, applied where the text enters the
trusted side (the worker's captured output in ``sandbox/worker.py``; error messages, names,
strings and reprs a worker returns in ``student.py``).

Escape sequences (ANSI CSI such as colours and cursor moves, OSC such as hyperlinks and window
titles), the other C0 and C1 control characters and NUL bytes become U+FFFD; newlines and tabs
stay, and ``\\r\\n`` becomes ``\\n``. A replacement rather than a deletion keeps a string that
held one different from a string that did not, so a returned value never starts to equal the
expected one by being cleaned.
"""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd"
_CONTROL = re.compile(
    r"\x1b\[[0-9;:?<=>]*[ -/]*[@-~]"            # CSI: colours, cursor moves, erase
    r"|\x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC: hyperlinks (OSC 8), titles
    r"|\x1b[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?"  # DCS, SOS, PM, APC strings
    r"|\x1b[ -/]*[0-~]?"                         # any other escape
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"            # other C0 and C1 controls, NUL, DEL
    "|[\ue000\ue001]"  # the grader's own safe-figure markers (grader/redact.py)
)


def clean_text(text: str) -> str:
    """``text`` without escape sequences or control characters (each becomes U+FFFD)."""
    return _CONTROL.sub(REPLACEMENT, text.replace("\r\n", "\n"))
