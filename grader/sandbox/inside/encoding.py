"""Encoding a value as plain data (both sides), with the grader's own references.

In the worker a submission can rebind what an encoder would look up at call time:
``numpy.asarray``, ``torch.Tensor.numpy`` (``torch.Tensor`` is a Python class), ``json.dumps``,
``base64.b64encode``, ``builtins.isinstance``. So everything used here is captured when this
module loads, which in the worker is in the zygote, after numpy and torch and before any
submission: C functions, and unbound methods of types whose attributes cannot be set
(``numpy.ndarray``, ``numpy.dtype``, ``torch._C.TensorBase``), called with torch-function
dispatch off, so neither a patched class attribute nor a tensor subclass is consulted. Types are
tested with ``type.__subclasscheck__`` on the object's real type, which no
``__instancecheck__`` or ``__class__`` property can answer; builtin subclasses are read through
their base type's slots.

What stays in a submission's reach is its own process: it can rebind these references through
the interpreter's internals, or write any bytes to its channel. Neither gains it anything the
trusted side believes (it checks every value), and either lasts only for the check it runs in
(each check has its own copy of the submission, see ``copies.py``).
"""

from __future__ import annotations

import binascii
import builtins
import json
import json.encoder
import sys
from typing import Any

import numpy as np

# Loaded by protocol.py once its definitions exist: the package module on the trusted side,
# ``_grader_protocol`` (loaded by path) in the worker.
_v: Any = sys.modules[f"{__package__}.protocol" if __package__ else "_grader_protocol"]

_type, _len, _repr, _slice = builtins.type, builtins.len, builtins.repr, builtins.slice
_is_sub = type.__dict__["__subclasscheck__"]
_type_name = type.__dict__["__name__"].__get__
_list_iter, _list_len = list.__iter__, list.__len__
_tuple_iter, _tuple_len = tuple.__iter__, tuple.__len__
_dict_items = dict.items
_exact_int, _exact_float, _exact_str = int.__int__, float.__float__, str.__str__
_str_item, _join, _bytes_decode = str.__getitem__, "".join, bytes.decode
_b64 = binascii.b2a_base64
_NDARRAY, _GENERIC = np.ndarray, np.generic
_np_array = np.array
_tobytes = np.ndarray.tobytes
_shape = np.ndarray.__dict__["shape"].__get__
_dtype = np.ndarray.__dict__["dtype"].__get__
_dtype_name = np.dtype.__dict__["name"].__get__
_ARRAY, _HANDLE, ProtocolError = _v.Array, _v.Handle, _v.ProtocolError
MAX_DEPTH, MAX_ITEMS, MAX_STR, MAX_REPR = _v.MAX_DEPTH, _v.MAX_ITEMS, _v.MAX_STR, _v.MAX_REPR
WIRE_DTYPES = _v.WIRE_DTYPES


def _is(value: Any, cls: type) -> bool:
    return bool(_is_sub(cls, _type(value)))


def _clip(text: Any, limit: int) -> str:
    return _str_item(_exact_str(text), _slice(0, limit))


def _refuse(value: Any) -> Any:
    raise TypeError(f"a {_clip(_type_name(_type(value)), 40)} in an encoded value")


def _make_dumps() -> Any:
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # no C accelerator: the pure-Python encoder (patchable, but rare)
        return json.JSONEncoder(separators=(",", ":")).encode
    # The arguments json.JSONEncoder.iterencode passes for separators=(",", ":"), ensure_ascii.
    iterate = make(None, _refuse, json.encoder.encode_basestring_ascii, None, ":", ",", False,
                   False, True)
    return lambda value: _join(iterate(value, 0))


dumps = _make_dumps()
"""JSON text of an encoded value (what ``write_frame`` sends), with the captured C encoder."""


def _capture_torch() -> dict[str, Any] | None:
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    base = torch._C.TensorBase
    refs = {name: getattr(base, name) for name in (
        "detach", "cpu", "to_dense", "dequantize", "resolve_conj", "resolve_neg", "numpy", "to")}
    refs.update({name: base.__dict__[name].__get__ for name in (
        "dtype", "is_sparse", "is_quantized")})
    dtypes = {id(d): d for d in vars(torch).values() if _type(d) is torch.dtype}.values()
    refs.update(base=base, module=torch.nn.Module, float32=torch.float32,
                no_dispatch=torch._C.DisableTorchFunction,
                dtypes=[(d, str(d).removeprefix("torch.")) for d in dtypes])
    return refs


_torch = _capture_torch()


def _torch_refs() -> dict[str, Any] | None:
    """The captured torch references; on the trusted side torch may be imported later."""
    global _torch
    if _torch is None and "torch" in sys.modules:
        _torch = _capture_torch()
    return _torch


def encode(value: Any, handles: dict[int, Any] | None = None, depth: int = 0) -> Any:
    """Turn a value into its JSON form.

    The trusted side uses it for arguments (tensors, arrays, numbers, strings, containers and
    :class:`Handle`). In the worker, ``handles`` collects ``torch.nn.Module`` objects, which
    stay there; any other unknown object becomes an :class:`Opaque` repr.
    """
    if depth > MAX_DEPTH:
        raise ProtocolError(f"value nested deeper than {MAX_DEPTH} levels")
    cls = _type(value)
    if value is None or cls is bool:
        return value
    if _is_sub(_GENERIC, cls) or _is_sub(_NDARRAY, cls):
        return _encode_numpy(value)
    if _is_sub(int, cls):
        return _exact_int(value)
    if _is_sub(float, cls):
        return _exact_float(value)
    if _is_sub(str, cls):
        return _clip(value, MAX_STR)
    if cls is _HANDLE:
        return {"$": "handle", "id": value.id, "type": value.type_name,
                "module": value.is_module, "params": [list(p) for p in value.param_shapes]}
    if cls is _ARRAY:
        return _encode_numpy(value.values, value.kind)
    torch = _torch_refs()
    if torch is not None and _is_sub(torch["base"], cls):
        return _encode_tensor(value, torch)
    if _is_sub(list, cls) or _is_sub(tuple, cls):
        return _encode_sequence(value, _is_sub(list, cls), handles, depth)
    if _is_sub(dict, cls):
        return {"$": "dict", "items": [
            [encode(k, handles, depth + 1), encode(v, handles, depth + 1)]
            for k, v in _dict_items(value)
        ]}
    return _encode_other(value, handles, torch)


def _encode_sequence(value: Any, is_list: bool, handles: dict[int, Any] | None,
                     depth: int) -> Any:
    if (_list_len if is_list else _tuple_len)(value) > MAX_ITEMS:
        raise ProtocolError(f"more than {MAX_ITEMS} items")
    items = [encode(v, handles, depth + 1) for v in (_list_iter if is_list else _tuple_iter)(value)]
    return items if is_list else {"$": "tuple", "items": items}


def _encode_numpy(value: Any, kind: str | None = None) -> dict[str, Any]:
    # A C-ordered copy of the base class: no subclass attribute or hook is consulted after this
    # (np.array rather than np.ascontiguousarray, which turns 0-d arrays into shape (1,)).
    arr = _np_array(value, copy=True, order="C", subok=False)
    name = _dtype_name(_dtype(arr))
    if name not in WIRE_DTYPES:
        raise ProtocolError(f"array dtype {name!r} cannot be sent")
    if kind is None:
        kind = "npscalar" if _is(value, _GENERIC) else "ndarray"
    data = _bytes_decode(_b64(_tobytes(arr), newline=False), "ascii")
    return {"$": "array", "kind": kind, "dtype": name, "wire": name,
            "shape": [_exact_int(d) for d in _shape(arr)], "data": data}


def _encode_tensor(value: Any, torch: dict[str, Any]) -> dict[str, Any]:
    with torch["no_dispatch"]():
        t = torch["cpu"](torch["detach"](value))
        if torch["is_sparse"](t):
            t = torch["to_dense"](t)
        elif torch["is_quantized"](t):
            t = torch["dequantize"](t)
        dtype = torch["dtype"](t)
        original = next((n for d, n in torch["dtypes"] if d is dtype), "unknown")
        if original not in WIRE_DTYPES:
            t = torch["to"](t, torch["float32"])
        arr = torch["numpy"](torch["resolve_neg"](torch["resolve_conj"](t)))
        node = _encode_numpy(arr, "tensor")
    node["dtype"] = original
    return node


def _encode_other(value: Any, handles: dict[int, Any] | None,
                  torch: dict[str, Any] | None) -> dict[str, Any]:
    name = _clip(_type_name(_type(value)), MAX_REPR)
    if handles is not None and torch is not None and _is(value, torch["module"]):
        hid = _len(handles) + 1
        handles[hid] = value
        params = [list(p.shape) for p in value.parameters()][:10_000]
        return {"$": "handle", "id": hid, "type": name, "module": True, "params": params}
    try:
        text = _clip(_repr(value), MAX_REPR)
    except Exception as exc:  # a hostile __repr__ only hurts the worker it runs in
        text = f"<repr failed: {_clip(_type_name(_type(exc)), 40)}>"
    return {"$": "object", "type": name, "repr": text}
