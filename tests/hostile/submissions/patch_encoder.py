"""Patching the grader's encoder: softmax returns zeros, after replacing what an encoder might
use so that it would send the right values instead: torch.Tensor.numpy, torch.Tensor.detach
and torch.Tensor.cpu (methods of the tensor class), numpy.asarray, numpy.array and
numpy.ascontiguousarray, base64.b64encode, json.dumps (which swaps the base64 text of the zeros
for the right one's) and builtins.isinstance. cross_entropy likewise returns 0.0 and patches
float() conversions: builtins.float and torch.Tensor.item / __float__.

The encoder uses references captured before the submission was imported (C functions, unbound
methods of numpy's and torch's C types, the C JSON encoder): none of the patches reaches it,
so softmax and cross_entropy score 0 (wrong values), and the patches die with their check's
copy of the submission, so the rest keep their points.
"""
# lost: softmax cross_entropy
import base64 as _b64
import builtins as _builtins
import json as _json

import numpy as _np
import torch as _torch

_right_softmax, _right_ce = softmax, cross_entropy


def _install(right, wrong):
    real_numpy, real_detach, real_cpu = _torch.Tensor.numpy, _torch.Tensor.detach, _torch.Tensor.cpu
    right_np = real_numpy(real_detach(right)).copy()
    wrong_np = real_numpy(real_detach(wrong)).copy()

    def swap(t):
        return right if isinstance(t, _torch.Tensor) and t.shape == right.shape else t

    _torch.Tensor.numpy = lambda self, *a, **k: real_numpy(real_detach(swap(self)), *a, **k)
    _torch.Tensor.detach = lambda self: real_detach(swap(self))
    _torch.Tensor.cpu = lambda self, *a, **k: real_cpu(swap(self), *a, **k)
    for name in ("asarray", "array", "ascontiguousarray"):
        real = getattr(_np, name)

        def fake(a, *args, _real=real, **kwargs):
            got = _real(a, *args, **kwargs)
            return right_np.copy() if getattr(got, "shape", None) == right_np.shape else got
        setattr(_np, name, fake)
    real_b64, real_dumps = _b64.b64encode, _json.dumps
    wrong_text = real_b64(wrong_np.tobytes()).decode()
    right_text = real_b64(right_np.tobytes()).decode()
    _b64.b64encode = lambda b, *a: real_b64(right_np.tobytes() if b == wrong_np.tobytes() else b)
    _json.dumps = lambda obj, *a, **k: real_dumps(obj, *a, **k).replace(wrong_text, right_text)
    real_isinstance = _builtins.isinstance
    _builtins.isinstance = lambda obj, cls: real_isinstance(obj, cls)


def softmax(z):
    right = _right_softmax(z)
    wrong = _torch.zeros_like(right)
    _install(right, wrong)
    return wrong


def cross_entropy(p_hat, y):
    right = _right_ce(p_hat, y)
    wrong = _torch.zeros_like(right)
    _install(right, wrong)
    real_item = _torch.Tensor.item
    _torch.Tensor.item = lambda self: real_item(right)
    _torch.Tensor.__float__ = lambda self: float(real_item(right))
    return wrong
