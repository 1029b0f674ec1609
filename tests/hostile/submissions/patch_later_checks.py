"""Patches that outlive a call: mse returns the right value, but first replaces what the other
functions use: torch.exp and torch.xlogy (module functions), torch.Tensor.sum and
torch.Tensor.max (methods of the tensor class), numpy.exp and numpy.asarray, and
torch.randperm, each with a version that is wrong.

With one worker serving every check, every check after the first mse check graded broken
functions (softmax, cross_entropy, fit_line, ...). Each check now has a fresh copy of the
submission, so the patches die with mse's copy: nothing is lost (mse itself uses none of them).
"""
# lost: -
import numpy as _np
import torch as _torch

_right_mse = mse


def _wrong(real):
    def patched(*args, **kwargs):
        return real(*args, **kwargs) * 0 + 0.5
    return patched


def mse(y_hat, y):
    value = _right_mse(y_hat, y)
    _torch.exp = _wrong(_torch.exp)
    _torch.xlogy = _wrong(_torch.xlogy)
    _torch.Tensor.sum = _wrong(_torch.Tensor.sum)
    real_max = _torch.Tensor.max
    _torch.Tensor.max = lambda self, *a, **k: real_max(self * 0, *a, **k)
    _np.exp = _wrong(_np.exp)
    _np.asarray = _wrong(_np.asarray)
    real_randperm = _torch.randperm
    _torch.randperm = lambda n, *a, **k: real_randperm(n, *a, **k).flip(0) * 0
    return value
