"""Escape sequences and control characters in student text: at import and in its calls the
submission prints ANSI colours, a screen clear, OSC 8 hyperlinks, a window title, NUL bytes,
BEL and backspaces (stdout and stderr); build_vocab returns keys holding them (a visible check
quotes unexpected keys); mse raises an exception whose message and type name hold them;
softmax returns an object whose repr holds them; cross_entropy exits with such a message.

Student text is cleaned where it enters the trusted side: result.json holds no escape, control
character or NUL (newlines and tabs aside), and mse, softmax, cross_entropy and build_vocab
score 0, the rest keep their points.
"""
# lost: mse softmax cross_entropy build_vocab
import sys as _sys

_NASTY = ("\x1b[31mred\x1b[0m \x1b[2J\x1b[H \x1b]8;;https://evil.example/\x1b\\click\x1b]8;;"
          "\x1b\\ \x1b]8;;https://evil.example/\x07bel-link\x1b]8;;\x07 \x1b]0;pwned\x07"
          " nul\x00byte bell\x07 back\x08space \x9b31mc1 \x7fdel \rreturn")

print(f"import: {_NASTY}")
print(f"import (stderr): {_NASTY}", file=_sys.stderr)


def _shout():
    print(f"call: {_NASTY}")
    print(f"call (stderr): {_NASTY}", file=_sys.stderr)


def build_vocab(sentences):
    _shout()
    return {_NASTY: 0, "\x00": 1, "\x1b]8;;https://evil.example\x07": 2}


_Error = type("Error\x1b[31m\x07", (Exception,), {})


def mse(y_hat, y):
    _shout()
    raise _Error(_NASTY)


class _Shady:
    def __repr__(self):
        return _NASTY


def softmax(z):
    _shout()
    return _Shady()


def cross_entropy(p_hat, y):
    _shout()
    raise SystemExit(_NASTY)
