"""clean_text: student text without escape sequences or control characters."""

from __future__ import annotations

import pytest

from grader.sandbox.text import REPLACEMENT as R
from grader.sandbox.text import clean_text


@pytest.mark.parametrize(("text", "expected"), [
    ("\x1b[31mred\x1b[0m", f"{R}red{R}"),                              # CSI colours
    ("\x1b[2J\x1b[1;1H\x1b[?25l", R * 3),                              # erase, move, hide
    ("\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\", f"{R}link{R}"),  # OSC 8, ST
    ("\x1b]8;;https://evil.example\x07link\x1b]8;;\x07", f"{R}link{R}"),      # OSC 8, BEL
    ("\x1b]0;pwned title\x07ok", f"{R}ok"),                            # window title
    ("\x1bP+q544e\x1b\\x", f"{R}x"),                                   # DCS
    ("\x9b31mred", f"{R}31mred"),                                       # C1 CSI
    ("a\x00b\x07c\x08d\x7fe", f"a{R}b{R}c{R}d{R}e"),                   # NUL, BEL, BS, DEL
    ("50%\r100%", f"50%{R}100%"),                                       # a bare CR
    ("line\r\nnext\tcol\n", "line\nnext\tcol\n"),                      # kept
    ("é, ü, 日本, ✓, \u200b", "é, ü, 日本, ✓, \u200b"),                 # printable Unicode
    ("\x1b", R),
])
def test_clean_text(text, expected):
    assert clean_text(text) == expected


def test_cleaned_text_holds_no_control_character():
    text = "".join(chr(c) for c in range(0x00, 0xA0)) + "\x1b[31m\x1b]8;;x\x07"
    cleaned = clean_text(text)
    assert not [c for c in cleaned if (ord(c) < 0x20 and c not in "\n\t") or 0x7F <= ord(c) < 0xA0]
    assert clean_text(cleaned) == cleaned
