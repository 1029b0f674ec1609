"""The decoding budget: what one frame from a worker may cost the trusted process.

Every attack here is refused with a :class:`~protocol.BudgetError` naming the budget, quickly,
and (for the frames) before ``json.loads`` builds anything.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from typing import Any

import numpy as np
import pytest

from grader.sandbox.inside import protocol
from grader.sandbox.inside.protocol import (
    MAX_DEPTH,
    MAX_KEY_INT,
    MAX_KEY_STR,
    MAX_KEYS,
    MAX_NODES,
    MAX_PLAIN,
    BudgetError,
)

HASH_MODULUS = 2**61 - 1  # CPython: hash(k + j * HASH_MODULUS) == hash(k) for ints


def frame(value: Any) -> bytes:
    """A reply frame's body holding ``value`` (already in its JSON form)."""
    return json.dumps({"ok": True, "value": value}, separators=(",", ":")).encode()


def dict_node(keys: list[Any]) -> dict[str, Any]:
    return {"$": "dict", "items": [[k, 0] for k in keys]}


def refused(body: bytes, match: str, seconds: float = 2.0) -> BudgetError:
    """Parse and decode ``body``; it must be refused with ``match`` within ``seconds``."""
    start = time.monotonic()
    with pytest.raises(BudgetError, match=match) as info:
        protocol.decode(protocol.parse_body(body)["value"])
    assert time.monotonic() - start < seconds
    return info.value


# ---------------------------------------------------------------- dict keys


@pytest.mark.parametrize("count", [1_000, MAX_KEYS])
def test_int_keys_with_colliding_hashes_are_refused_at_once(count):
    keys = [1 + j * HASH_MODULUS for j in range(count)]
    assert len({hash(k) for k in keys}) == 1
    # beyond int64 from the fifth key on: the integer range refuses those first
    refused(frame(dict_node(keys)), "an integer too large to compare", seconds=1.0)


def test_colliding_int_keys_within_int64_are_refused_by_the_key_range():
    keys = [1 + j * HASH_MODULUS for j in range(4)]
    assert max(keys) < 2**63 and len({hash(k) for k in keys}) == 1
    refused(frame(dict_node(keys)), "a dict with a key of type int")


def test_colliding_keys_over_the_node_budget_are_refused_before_parsing():
    keys = [1 + j * HASH_MODULUS for j in range(100_000)]
    refused(frame(dict_node(keys)), "more than 100000 items in all", seconds=1.0)


@pytest.mark.parametrize("key", [MAX_KEY_INT, -MAX_KEY_INT, 2**62, 1.5, float("nan"), None,
                                 True, "k" * (MAX_KEY_STR + 1)],
                         ids=["2**31", "-2**31", "2**62", "float", "nan", "None", "bool",
                              "long-str"])
def test_only_short_strings_and_small_ints_are_dict_keys(key):
    with pytest.raises(BudgetError, match=r"a dict with a key of type|MAX_KEY_STR"):
        protocol.decode(dict_node([key]))


def test_keys_within_the_budget_decode():
    keys = [MAX_KEY_INT - 1, -(MAX_KEY_INT - 1), 0, "k" * MAX_KEY_STR, "é"]
    assert list(protocol.decode(dict_node(keys))) == keys


def test_many_string_keys():
    ok = protocol.decode(protocol.parse_body(frame(dict_node([f"w{i}" for i in range(
        MAX_KEYS)])))["value"])
    assert len(ok) == MAX_KEYS
    refused(frame(dict_node([f"w{i}" for i in range(MAX_KEYS + 1)])),
            f"a dict of {MAX_KEYS + 1} keys .*MAX_KEYS")


# ---------------------------------------------------------------- size and shape


def test_a_wide_list_is_refused_before_parsing_and_when_decoded():
    refused(frame([0] * (MAX_NODES + 1)), "MAX_NODES")
    with pytest.raises(BudgetError, match="MAX_NODES"):
        protocol.decode([[0] * 1000] * (MAX_NODES // 1000 + 1))  # counted while decoding too
    assert len(protocol.decode([0.5] * (MAX_NODES - 10))) == MAX_NODES - 10


@pytest.mark.parametrize("depth", [MAX_DEPTH + 2, 900, 50_000, 2_000_000])
def test_deep_nesting_is_refused(depth):
    body = b'{"value":' + b"[" * depth + b"]" * depth + b"}"
    with pytest.raises(protocol.ProtocolError, match=r"nested deeper|RecursionError|MAX_NODES"):
        protocol.decode(protocol.parse_body(body)["value"])


def test_a_huge_string_is_refused_before_parsing():
    refused(frame("x" * (MAX_PLAIN + 1)), "bytes of numbers, strings and containers")
    refused(frame(["x" * 10_000] * 500), "MAX_PLAIN")


def test_array_data_does_not_count_as_plain_bytes():
    data = np.arange(5_000_000, dtype=np.float32)  # 20 MB, 27 MB of base64
    body = frame(protocol.encode(data))
    assert len(body) > MAX_PLAIN
    got = protocol.decode(protocol.parse_body(body)["value"])
    np.testing.assert_array_equal(got.values[-3:], data[-3:])
    spaced = json.dumps({"ok": True, "value": protocol.encode(data)}).encode()  # '"data": "'
    assert protocol.decode(protocol.parse_body(spaced)["value"]).shape == data.shape


@pytest.mark.parametrize(("body", "counted"), [
    (b'{"data":"abc","x":["data","zz"],"data"  :  "de"}', 5),
    (b'"data"', 0), (b'"data":', 0), (b'"data":"abc', 0), (b'["data",[1,2]]', 0),
])
def test_only_data_fields_count_as_array_bytes(body, counted):
    assert protocol._array_bytes(body) == counted


def test_a_forged_data_field_is_only_one_string():
    # what a forged "data" string can hide costs its own size, never an object graph
    body = b'{"ok":true,"value":{"data":"' + b"[0]," * 200_000 + b'"}}'
    refused(body, "MAX_NODES")


# ---------------------------------------------------------------- integers


@pytest.mark.parametrize("text", ["9223372036854775808", "-9223372036854775809",
                                  "1" + "0" * 400, "-" + "9" * 5000, "1" * 100_000])
def test_integers_beyond_int64_are_refused(text):
    body = b'{"ok":true,"value":[1,' + text.encode() + b"]}"
    refused(body, "an integer too large to compare")


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 10**400])
def test_decode_refuses_big_python_ints_too(value):
    with pytest.raises(BudgetError, match="an integer too large to compare"):
        protocol.decode([value])


def test_int64_bounds_decode():
    body = b'{"ok":true,"value":[9223372036854775807,-9223372036854775808]}'
    assert protocol.decode(protocol.parse_body(body)["value"]) == [2**63 - 1, -(2**63)]


def test_the_frame_size_cap_is_a_budget_error():
    with pytest.raises(BudgetError, match="MAX_FRAME"):
        protocol.parse_header(b"\xff\xff\xff\xff")


# ---------------------------------------------------------------- memory


MEASURE = textwrap.dedent("""
    import resource, sys, time
    from grader.sandbox.inside import protocol
    unit = b"[[0,1],[2,3],{}],"
    body = b'{"ok":true,"value":[' + unit * (60_000_000 // len(unit)) + b'0]}'
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.monotonic()
    try:
        protocol.parse_body(body)
    except protocol.BudgetError as exc:
        print("refused:", str(exc)[:80], file=sys.stderr)
    else:
        raise SystemExit("the 60 MB frame was accepted")
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(len(body), before, after, time.monotonic() - start)
""")


def test_a_60_mb_frame_of_nested_data_costs_the_trusted_process_little_memory():
    """Before the budget, json.loads of this frame grew a grading process to about 4.4 GiB.

    Now it is refused by counting bytes: the process's peak RSS (ru_maxrss, measured in a
    fresh interpreter that imports the protocol, builds the frame and parses it) stays under
    400 MB in all, and parsing adds under 50 MB to the peak the frame itself needed.
    """
    # Through a shell that forks it: Linux keeps a process's peak RSS across fork and exec, so
    # a child forked straight from this (large) pytest process would report this one's peak.
    out = subprocess.run(["sh", "-c", '"$0" -c "$1"; exit $?', sys.executable, MEASURE],
                         capture_output=True, text=True, check=True, timeout=120)
    size, before, after, seconds = out.stdout.split()
    assert int(size) > 59_000_000 and "MAX_NODES" in out.stderr
    assert int(after) < 400 * 1024, f"peak RSS {int(after) // 1024} MB"  # ru_maxrss is in KiB
    assert int(after) - int(before) < 50 * 1024
    assert float(seconds) < 5.0


def test_the_budget_holds_on_random_arrays_of_every_wire_dtype():
    rng = np.random.default_rng(0)
    for dtype in ("float32", "float64", "int64", "uint8", "bool", "complex64"):
        value = (rng.random((30, 40)) * 100).astype(dtype)
        got = protocol.decode(protocol.parse_body(frame(protocol.encode(value)))["value"])
        np.testing.assert_array_equal(got.values, value)
