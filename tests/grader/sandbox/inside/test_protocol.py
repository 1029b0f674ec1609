"""The plain-data protocol: encode -> JSON -> decode round trips, and what decode refuses."""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
from typing import Any

import numpy as np
import pytest
import torch

from grader.sandbox.inside import protocol
from grader.sandbox.inside.protocol import (
    MAX_DEPTH,
    MAX_FRAME,
    MAX_REPR,
    MAX_STR,
    Array,
    Handle,
    Opaque,
)


def wire(value: Any, handles: dict[int, Any] | None = None) -> Any:
    """What the trusted side gets for ``value``: encoded, sent as JSON text, decoded."""
    return protocol.decode(json.loads(json.dumps(protocol.encode(value, handles))))


def array_node(**overrides: Any) -> dict[str, Any]:
    node = {"$": "array", "kind": "tensor", "dtype": "float32", "wire": "float32",
            "shape": [2], "data": base64.b64encode(np.zeros(2, np.float32).tobytes()).decode()}
    node.update(overrides)
    return node


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize(("dtype", "name"), [
    (torch.float32, "float32"),
    (torch.float64, "float64"),
    (torch.int64, "int64"),
    (torch.bool, "bool"),
])
def test_tensor_round_trip_keeps_dtype_shape_and_values(dtype, name):
    t = (torch.arange(6).reshape(2, 3) % 2 == 0) if dtype is torch.bool else (
        torch.arange(6, dtype=dtype).reshape(2, 3) * 3 - 4)
    got = wire(t)
    assert isinstance(got, Array)
    assert (got.kind, got.dtype, got.shape) == ("tensor", name, (2, 3))
    assert got.values.dtype == np.dtype(name)
    np.testing.assert_array_equal(got.values, t.numpy())
    assert not got.values.flags.writeable


def test_bfloat16_travels_as_float32_but_keeps_its_name():
    t = torch.tensor([1.5, -2.25, 3.0], dtype=torch.bfloat16)
    node = protocol.encode(t)
    assert (node["wire"], node["dtype"]) == ("float32", "bfloat16")
    got = wire(t)
    assert got.dtype == "bfloat16" and got.values.dtype == np.float32
    np.testing.assert_array_equal(got.values, [1.5, -2.25, 3.0])
    assert got.describe() == "a tensor of shape (3,) and dtype bfloat16"


@pytest.mark.parametrize("value", [
    torch.tensor(2.5),
    torch.tensor(7, dtype=torch.int64),
    np.array(2.5),
], ids=["tensor-float", "tensor-int", "ndarray"])
def test_zero_dim_values_keep_shape_empty_tuple(value):
    # A past bug: np.ascontiguousarray turned 0-d arrays into shape (1,).
    got = wire(value)
    assert got.shape == ()
    assert protocol.encode(value)["shape"] == []
    assert float(got.values) == float(value)


def test_non_contiguous_and_grad_tensors_round_trip():
    t = torch.arange(12, dtype=torch.float32).reshape(3, 4).T
    got = wire(t)
    assert got.shape == (4, 3)
    np.testing.assert_array_equal(got.values, t.numpy())
    w = torch.ones(2, requires_grad=True) * 3
    np.testing.assert_array_equal(wire(w).values, [3.0, 3.0])


def test_empty_tensor_round_trips():
    got = wire(torch.zeros(0, 3))
    assert got.shape == (0, 3) and got.values.size == 0


def test_numpy_array_and_scalars():
    a = np.array([[1, 2], [3, 4]], dtype=np.int32)
    got = wire(a)
    assert (got.kind, got.dtype, got.shape) == ("ndarray", "int32", (2, 2))
    np.testing.assert_array_equal(got.values, a)
    s = wire(np.float32(1.25))
    assert (s.kind, s.dtype, s.shape) == ("npscalar", "float32", ())
    assert float(s.values) == 1.25
    f64 = wire(np.float64(0.1))  # a float subclass, but still a NumPy scalar
    assert isinstance(f64, Array) and f64.kind == "npscalar" and float(f64.values) == 0.1
    b = wire(np.bool_(True))
    assert isinstance(b, Array) and (b.kind, b.dtype) == ("npscalar", "bool")


def test_nested_containers():
    value = {"a": [1, 2.5, None, True], "b": (1, "x", (2,)), 3: {"inner": [torch.ones(2)]}}
    got = wire(value)
    assert set(got) == {"a", "b", 3}
    assert got["a"] == [1, 2.5, None, True]
    assert type(got["a"][3]) is bool
    assert got["b"] == (1, "x", (2,)) and isinstance(got["b"], tuple)
    inner = got[3]["inner"][0]
    assert isinstance(inner, Array) and inner.shape == (2,)


def test_strings_are_clipped_by_the_encoder_and_longer_ones_refused_by_decode():
    assert protocol.encode("x" * (MAX_STR + 50)) == "x" * MAX_STR
    assert protocol.decode("y" * MAX_STR) == "y" * MAX_STR
    with pytest.raises(protocol.BudgetError, match="a string of 10050 characters"):
        protocol.decode("y" * (MAX_STR + 50))


def test_nonfinite_floats_survive():
    got = wire([float("nan"), float("inf"), -float("inf")])
    assert np.isnan(got[0]) and got[1] == float("inf") and got[2] == -float("inf")


# ---------------------------------------------------------------- hostile values (worker side)


class LyingFloat(float):
    def __float__(self) -> float:
        return 1521.0

    def __sub__(self, other: object) -> float:
        return 0.0

    def __rsub__(self, other: object) -> float:
        return 0.0

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = float.__hash__

    def __repr__(self) -> str:
        return "1521.0"


class LyingInt(int):
    def __int__(self) -> int:
        return 99

    def __index__(self) -> int:
        return 99


class LyingStr(str):
    def __str__(self) -> str:
        return "lie"


def test_float_subclass_encodes_to_its_true_value():
    node = protocol.encode(LyingFloat(2.5))
    assert type(node) is float and node == 2.5
    got = wire(LyingFloat(2.5))
    assert type(got) is float and got == 2.5
    assert json.dumps(protocol.encode([LyingFloat(2.5)])) == "[2.5]"


def test_int_and_str_subclasses_encode_to_their_true_values():
    node = protocol.encode(LyingInt(7))
    assert type(node) is int and node == 7
    text = protocol.encode(LyingStr("truth"))
    assert type(text) is str and text == "truth"


class Unknown:
    def __repr__(self) -> str:
        return "U" * 1000


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no")


def test_unknown_objects_become_opaque_with_clipped_repr():
    got = wire(Unknown())
    assert got == Opaque("Unknown", "U" * MAX_REPR)
    assert wire(BadRepr()) == Opaque("BadRepr", "<repr failed: RuntimeError>")


def test_opaque_decoding_clips_type_and_repr():
    got = protocol.decode({"$": "object", "type": "T" * 500, "repr": "r" * 500})
    assert got == Opaque("T" * MAX_REPR, "r" * MAX_REPR)


def test_modules_become_handles_only_when_collecting():
    handles: dict[int, Any] = {}
    lin, conv = torch.nn.Linear(2, 3), torch.nn.Conv1d(1, 4, 3)
    node = protocol.encode([lin, conv], handles)
    assert handles == {1: lin, 2: conv}
    got = protocol.decode(json.loads(json.dumps(node)))
    assert got == [Handle(1, "Linear", True, ((3, 2), (3,))),
                   Handle(2, "Conv1d", True, ((4, 1, 3), (4,)))]
    # Without a handle table (the trusted side) a module is just an opaque repr.
    plain = wire(lin)
    assert isinstance(plain, Opaque) and plain.type_name == "Linear"
    assert plain.repr.startswith("Linear(in_features=2")


def test_handle_round_trips_from_trusted_side():
    h = Handle(5, "LogisticRegression", True, ((2, 17), (2,)))
    assert wire(h) == h


def test_encode_refuses_object_arrays_and_deep_nesting():
    with pytest.raises(protocol.ProtocolError, match="'object' cannot be sent"):
        protocol.encode(np.array([object()]))
    deep: list[Any] = []
    for _ in range(MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(protocol.ProtocolError, match="nested deeper than 32"):
        protocol.encode(deep)


# ---------------------------------------------------------------- decode refuses


def test_valid_array_node_decodes():
    got = protocol.decode(array_node())
    assert got.shape == (2,) and got.values.tolist() == [0.0, 0.0]


@pytest.mark.parametrize(("node", "match"), [
    ({"$": "exec", "code": "1"}, "unknown value tag 'exec'"),
    ({"no": "tag"}, "unknown value tag None"),
    (array_node(shape=[3]), "data length does not match"),
    (array_node(shape=[1]), "data length does not match"),
    (array_node(wire="object"), "array dtype 'object' is not allowed"),
    (array_node(wire="V8"), "is not allowed"),
    (array_node(shape=[-2]), "non-negative ints"),
    (array_node(shape=[1] * 9, data=base64.b64encode(b"\0" * 4).decode()), "non-negative ints"),
    (array_node(shape=[True, True]), "non-negative ints"),
    (array_node(shape=[2.0]), "non-negative ints"),
    (array_node(shape="2"), "'shape' missing or not a list"),
    (array_node(kind="tensorish"), "unknown array kind"),
    (array_node(data="!!not base64!!"), "not base64"),
    (array_node(data=None), "'data' missing"),
    (array_node(dtype=3), "'dtype' missing"),
    ({"$": "tuple", "items": "abc"}, "'items' missing or not a list"),
    ({"$": "dict", "items": [[1, 2, 3]]}, "not a \\[key, value\\] pair"),
    ({"$": "dict", "items": [[[1], 2]]}, "a dict with a key of type list"),
    ({"$": "dict", "items": [[{"$": "tuple", "items": []}, 2]]}, "key of type tuple"),
    ({"$": "object", "type": "X"}, "'repr' missing"),
])
def test_decode_rejects_malformed_nodes(node, match):
    with pytest.raises(protocol.ProtocolError, match=match):
        protocol.decode(node)


def test_eight_dims_is_the_limit():
    assert protocol.decode(array_node(shape=[1] * 8, data=base64.b64encode(
        b"\0" * 4).decode())).shape == (1,) * 8


def test_decode_depth_limit():
    ok: Any = 1
    for _ in range(MAX_DEPTH):
        ok = [ok]
    assert protocol.decode(ok) is not None
    deep: Any = 1
    for _ in range(MAX_DEPTH + 1):
        deep = [deep]
    with pytest.raises(protocol.ProtocolError, match="nested deeper than 32 levels"):
        protocol.decode(deep)
    tuples: Any = 1
    for _ in range(MAX_DEPTH + 1):
        tuples = {"$": "tuple", "items": [tuples]}
    with pytest.raises(protocol.ProtocolError, match="nested deeper"):
        protocol.decode(tuples)
    dicts: Any = 1
    for _ in range(MAX_DEPTH + 1):
        dicts = {"$": "dict", "items": [["k", dicts]]}
    with pytest.raises(protocol.ProtocolError, match="nested deeper"):
        protocol.decode(dicts)


def handle_node(**overrides: Any) -> dict[str, Any]:
    node = {"$": "handle", "id": 1, "type": "Linear", "module": True, "params": [[2, 3], [2]]}
    node.update(overrides)
    return node


def test_handle_node_decodes():
    assert protocol.decode(handle_node()) == Handle(1, "Linear", True, ((2, 3), (2,)))


@pytest.mark.parametrize(("node", "match"), [
    (handle_node(id=True), "field 'id' missing or not a int"),
    (handle_node(id="1"), "field 'id' missing or not a int"),
    (handle_node(id=1.0), "field 'id' missing or not a int"),
    (handle_node(module=1), "'module' is not a bool"),
    (handle_node(params=[[True]]), "not a list of shapes"),
    (handle_node(params=[[1] * 9]), "not a list of shapes"),
    (handle_node(params="[]"), "'params' missing"),
])
def test_decode_rejects_bad_handles(node, match):
    with pytest.raises(protocol.ProtocolError, match=match):
        protocol.decode(node)


def test_decode_rejects_non_json_python_values():
    with pytest.raises(protocol.ProtocolError, match="unexpected JSON value of type bytes"):
        protocol.decode(b"abc")


# ---------------------------------------------------------------- frames


@pytest.mark.parametrize(("body", "match"), [
    (b"\xff\xfe{}", r"not valid JSON \(UnicodeDecodeError\)"),
    (b"{not json", r"not valid JSON \(JSONDecodeError\)"),
    (b"[" * 50_000 + b"]" * 50_000, r"not valid JSON \(RecursionError\)"),
    (b"[" * 200_000 + b"]" * 200_000, r"more than 100000 items in all"),
    (b"[1, 2]", "frame is not a JSON object"),
    (b'"ok"', "frame is not a JSON object"),
    (b"null", "frame is not a JSON object"),
])
def test_parse_body_rejects(body, match):
    with pytest.raises(protocol.ProtocolError, match=match):
        protocol.parse_body(body)


def test_parse_body_accepts_object():
    assert protocol.parse_body(b'{"ok": true}') == {"ok": True}


def test_parse_header_limit():
    assert protocol.parse_header(struct.pack(">I", MAX_FRAME)) == MAX_FRAME
    assert protocol.parse_header(b"\0\0\0\x05") == 5
    with pytest.raises(protocol.ProtocolError, match="exceeds the 67108864-byte limit"):
        protocol.parse_header(struct.pack(">I", MAX_FRAME + 1))
    with pytest.raises(protocol.ProtocolError, match="exceeds"):
        protocol.parse_header(b"\xff\xff\xff\xff")


def test_frames_over_a_socket():
    a, b = socket.socketpair()
    try:
        message = {"ok": True, "value": protocol.encode((torch.ones(3), "é"))}
        protocol.write_frame(a.fileno(), message)
        got = protocol.read_frame(b.fileno())
        assert got == json.loads(json.dumps(message))
        value = protocol.decode(got["value"])
        assert value[1] == "é" and value[0].values.tolist() == [1.0, 1.0, 1.0]
        a.close()
        with pytest.raises(EOFError):
            protocol.read_frame(b.fileno())
    finally:
        a.close()
        b.close()


def test_read_exact_reports_a_short_stream():
    r, w = os.pipe()
    os.write(w, b"\0\0\0\x10{")
    os.close(w)
    try:
        with pytest.raises(EOFError):
            protocol.read_frame(r)
    finally:
        os.close(r)


class _List(list):  # type: ignore[type-arg]
    """A subclass of list: it must encode as a plain list does."""


class _Dict(dict):  # type: ignore[type-arg]
    pass


class _Str(str):
    def __str__(self) -> str:
        return "not the value"


@pytest.mark.parametrize("items", [
    ["a", "bb", 3, -4, 2.5, 1e300], [], ["x" * (protocol.MAX_STR + 5)], [True, "a"],
    [_Str("s"), 1], [None, "a"], [[1, 2], "a"],
])
def test_plain_containers_encode_as_item_by_item(items: list[object]) -> None:
    assert protocol.encode(items) == protocol.encode(_List(items))
    assert protocol.encode(tuple(items)) == {"$": "tuple", "items": protocol.encode(_List(items))}
    as_dict = {f"k{i}": v for i, v in enumerate(items) if not isinstance(v, list)}
    assert protocol.encode(as_dict) == protocol.encode(_Dict(as_dict))
    keyed_by_int = {i: f"v{i}" for i in range(len(items))}
    assert protocol.encode(keyed_by_int) == protocol.encode(_Dict(keyed_by_int))
