"""The student proxy's trusted-side handling of what a worker reports: names, failures,
values over the budget and student text (no worker needed)."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace
from typing import Any

import pytest

from grader.sandbox.inside import protocol
from grader.sandbox.inside.protocol import Opaque
from grader.student import (
    MAX_NAME_LEN,
    MAX_NAMES,
    StudentFailure,
    StudentProxy,
    call_failure,
    describe_import_error,
    submission_names,
    unreadable,
)

CONTROL = ("\x1b", "\x00", "\x07", "\x9b", "\r")


def proxy() -> StudentProxy:
    return StudentProxy(SimpleNamespace(generation=1))  # type: ignore[arg-type]


def clean(text: str) -> bool:
    return not any(c in text for c in CONTROL)


# ---------------------------------------------------------------- names


@pytest.mark.parametrize("count", [300_000, 1_000_000])
def test_a_module_claiming_many_names_costs_one_capped_lookup(count):
    names = [f"mse_{i:07d}_" + "x" * 30 for i in range(count)]
    start = time.monotonic()
    kept = submission_names(names)
    failure = call_failure("mse", {"kind": "missing"}, kept)
    assert time.monotonic() - start < 1.0
    assert len(kept) == MAX_NAMES
    assert failure.message.startswith("your submission does not define mse")


@pytest.mark.parametrize(("names", "kept"), [
    (["mse", "x" * (MAX_NAME_LEN + 1), 3, None, "msee"], ("mse", "msee")),
    ("mse", ()),
    ({"mse": 1}, ()),
    (None, ()),
    (["ms\x1b[31me"], ("ms\ufffde",)),
])
def test_names_are_capped_filtered_and_cleaned(names, kept):
    assert submission_names(names) == kept


def test_a_long_name_never_reaches_difflib():
    kept = submission_names(["m" * 10**6, "mse_"])
    assert kept == ("mse_",)
    assert "found: mse_" in call_failure("mse", {"kind": "missing"}, kept).message


# ---------------------------------------------------------------- values over a budget


@pytest.mark.parametrize(("body", "says"), [
    (b'{"ok":true,"value":' + b"1" * 401 + b"}", "mse returned an integer too large to compare"),
    (b'{"ok":true,"value":[' + b"0," * protocol.MAX_NODES + b"0]}", "MAX_NODES"),
    (b'{"ok":true,"value":"' + b"x" * (protocol.MAX_PLAIN + 1) + b'"}', "MAX_PLAIN"),
])
def test_a_value_over_budget_is_the_students_failure_naming_function_and_budget(body, says):
    with pytest.raises(protocol.BudgetError) as info:
        protocol.parse_body(body)
    failure = unreadable("mse", info.value)
    assert isinstance(failure, StudentFailure) and says in failure.message
    assert failure.message.startswith("mse returned ")


def test_decoded_big_ints_and_bad_keys_are_student_failures():
    with pytest.raises(StudentFailure, match="f returned an integer too large to compare"):
        proxy()._decode("f", [10**400])
    with pytest.raises(StudentFailure, match="f returned a dict with a key of type float"):
        proxy()._decode("f", {"$": "dict", "items": [[1.5, 0]]})


def test_malformed_values_stay_invalid_results():
    failure = unreadable("f", protocol.ProtocolError("unknown value tag 'x'"))
    assert failure.message == ("f returned a value the grader could not read (invalid result: "
                               "unknown value tag 'x')")


# ---------------------------------------------------------------- student text


ANSI = "\x1b[31mred\x1b[0m \x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\ n\x00ul"


def test_returned_strings_and_reprs_are_cleaned_where_they_enter():
    node = json.loads(json.dumps(protocol.encode(
        [ANSI, (ANSI,), {ANSI: ANSI, 1: [ANSI]}])))
    node.append({"$": "object", "type": "T\x1b[1m", "repr": ANSI})
    got = proxy()._decode("f", node)
    texts: list[Any] = [got[0], got[1][0], *got[2].keys(), *got[2].values(), got[3].type_name,
                        got[3].repr]
    flat = [t for v in texts for t in (v if isinstance(v, list) else [v]) if t != 1]
    assert len(flat) == 7 and all(isinstance(t, str) and clean(t) for t in flat)
    assert "red" in got[0] and "link" in got[0] and isinstance(got[3], Opaque)
    assert got[0] != "red link nul"  # cleaned, not made equal to an honest string


@pytest.mark.parametrize("kind", ["exception", "exit", "invalid", "missing_method",
                                  "not_callable"])
def test_exception_messages_types_and_frames_are_cleaned(kind):
    info = {"kind": kind, "type": "Err\x1b[31m", "message": ANSI,
            "frames": ["submission.py, line 3, in f: \x1b[2Jraise", 5]}
    failure = call_failure("f", info, ())
    for text in (failure.message, failure.hidden_message):
        assert clean(text), text
    assert clean(describe_import_error(info, "submission.py"))


def test_arguments_sent_back_are_not_cleaned():
    node = json.loads(json.dumps(protocol.encode(["end\r\n\tO'Brien", ANSI])))
    assert proxy()._decode("f", node, clean=False) == ["end\r\n\tO'Brien", ANSI]
    assert proxy()._decode("f", node)[0] == "end\n\tO'Brien"
