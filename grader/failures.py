"""What the student is told when their code does not produce a usable value.

Every way a call can fail (an exception, a missing name, a crash, a timeout, a value over the
decoding budget) becomes a :class:`StudentFailure` whose message names the function and says
what happened; hidden checks get a message without the input.
"""

from __future__ import annotations

import difflib
from typing import Any

from grader.redact import hidden_text, safe, visible_text
from grader.sandbox.inside import protocol
from grader.sandbox.text import clean_text
from grader.sandbox.worker import WorkerGone, WorkerTimeout, describe_status

MAX_NAMES = 500
"""Names of a submission's module kept for "did you mean" (difflib is quadratic in name length
and linear in their number; a module can define any number)."""
MAX_NAME_LEN = 100
"""Characters of a name kept (longer ones are not names a student would mistype)."""


class StudentFailure(Exception):
    """Student code did not produce a usable value; the check fails with this message."""

    def __init__(self, message: str, hidden_message: str | None = None) -> None:
        super().__init__(visible_text(message))
        self.message = visible_text(message)
        self.hidden_message = hidden_message or message

    def message_for(self, visible: bool) -> str:
        return self.message if visible else hidden_text(self.hidden_message)


def unreadable(function: str, exc: protocol.ProtocolError) -> StudentFailure:
    """The failure for a value the grader refused: over a budget, or malformed."""
    if isinstance(exc, protocol.BudgetError):
        return StudentFailure(f"{function} returned {exc}; the grader does not read such "
                              "values")
    return StudentFailure(f"{function} returned a value the grader could not read "
                          f"(invalid result: {exc})")


def submission_names(names: Any) -> tuple[str, ...]:
    """The module names a worker reported, capped (count and length) and cleaned."""
    if not isinstance(names, list):
        return ()
    kept = (n for n in names[:MAX_NAMES] if isinstance(n, str) and len(n) <= MAX_NAME_LEN)
    return tuple(clean_text(n) for n in kept)


def timed_out(function: str, timeout: float) -> StudentFailure:
    return StudentFailure(f"{function} did not finish within {safe(f'{timeout:g}')} s, so the "
                          "worker was stopped; look for an infinite loop or much slower code "
                          "than needed")


def copy_failure(function: str, info: Any, names: tuple[str, ...],
                 timeout: float) -> StudentFailure:
    """The failure a worker reported for a call in a check's copy of the submission: the
    copy's own end (a timeout, a crash, an answer over the budget), else :func:`call_failure`."""
    kind = info.get("kind") if isinstance(info, dict) else None
    if kind == "timeout":
        return timed_out(function, timeout)
    if kind == "crashed":
        status = info.get("status")
        valid = type(status) is int and 0 <= status < 1 << 16
        return StudentFailure(f"{function} crashed the grader's worker: "
                              f"{describe_status(status if valid else None)}")
    if kind == "budget":
        return unreadable(function, protocol.BudgetError(_text(info, "message")))
    if kind == "fork":
        return StudentFailure(f"the grader could not start a fresh copy of your submission for "
                              f"this check ({_text(info, 'type')}: {_text(info, 'message')}); "
                              f"are processes it started earlier still running?")
    return call_failure(function, info, names)


def import_failure(exc: Exception, timeout: float) -> StudentFailure:
    if isinstance(exc, WorkerTimeout):
        return StudentFailure(f"importing your submission did not finish within {timeout:g} s; "
                              "move training or other slow code out of the module's top level")
    if isinstance(exc, WorkerGone):
        return StudentFailure(f"your submission could not be imported: {exc}")
    if isinstance(exc, protocol.BudgetError):
        return StudentFailure(f"your submission could not be imported: its module's answer "
                              f"to the grader held {exc}")
    return StudentFailure(f"your submission could not be imported (invalid result: {exc})")


def _text(info: Any, key: str) -> str:
    value = info.get(key, "") if isinstance(info, dict) else ""
    return clean_text(value[:2000]) if isinstance(value, str) else ""


def _frames(info: Any) -> str:
    frames = info.get("frames", []) if isinstance(info, dict) else []
    frames = frames[-5:] if isinstance(frames, list) else []
    lines = [f"\n  at {clean_text(f[:300])}" for f in frames if isinstance(f, str)]
    return "".join(lines)


def describe_import_error(info: Any, main: str) -> str:
    kind, etype, message = _text(info, "kind"), _text(info, "type"), _text(info, "message")
    if kind == "exit":
        return f"your submission called sys.exit({message}) while being imported"
    where = ""
    if isinstance(info, dict) and type(info.get("lineno")) is int:
        # Named with the file so that a notebook's line map can rewrite it to its cell.
        where = f" at {main}, line {info['lineno']}"
    return (f"your submission could not be imported: {etype}{where}: {message}"
            f"{_missing_module(etype)}{_frames(info)}")


def _missing_module(etype: str) -> str:
    """What is installed where submissions run, after a failed import of something else."""
    if etype != "ModuleNotFoundError":
        return ""
    return (". Only torch, numpy and the Python standard library are available where your code "
            "runs: remove imports you use only for plotting or exploring (matplotlib, pandas, "
            "...), or move them under if __name__ == \"__main__\":")


def call_failure(function: str, info: Any, names: tuple[str, ...]) -> StudentFailure:
    kind, etype, message = _text(info, "kind"), _text(info, "type"), _text(info, "message")
    if kind == "missing":
        close = difflib.get_close_matches(function, names, n=3, cutoff=0.5)
        found = f" (found: {', '.join(close)})" if close else ""
        return StudentFailure(f"your submission does not define {function}{found}")
    if kind == "missing_method":
        return StudentFailure(f"{etype} object has no method {message!r} (the object was "
                              f"returned by {function})")
    if kind == "not_callable":
        return StudentFailure(f"{function} in your submission is a {etype}, not a function")
    if kind == "exit":
        return StudentFailure(f"{function} called sys.exit({message}){_frames(info)}")
    if kind == "invalid":
        return StudentFailure(f"{function} returned a value the grader could not read "
                              f"(invalid result: {etype}: {message})")
    frames = _frames(info)
    said = f": {message}{_missing_module(etype)}" if message else ""
    if etype == "NotImplementedError":
        said += " (the starter's placeholder is still there: write this function)"
    return StudentFailure(
        f"{function} raised {etype}{said}{frames}",
        f"{function} raised {etype} on a hidden input (the message is not shown for hidden "
        f"checks){frames}",
    )
