"""Patched comparisons: at import the submission makes numpy, torch and math comparisons always
succeed (np.allclose, np.isclose, np.array_equal, np.testing.assert_allclose,
torch.allclose, torch.equal, torch.testing.assert_close, math.isclose, Tensor.__eq__) and
defines a wrong mse (the sum instead of the mean).

Comparisons run in the trusted process on values rebuilt from bytes: mse scores 0, and nothing
else scores more (or less) than for the solution.
"""
# lost: mse
import math as _math

import numpy as _np
import torch as _torch


def _true(*args, **kwargs):
    return True


def _none(*args, **kwargs):
    return None


_np.allclose = _np.isclose = _np.array_equal = _true
_np.testing.assert_allclose = _np.testing.assert_array_equal = _none
_torch.allclose = _torch.equal = _true
_torch.testing.assert_close = _none
_math.isclose = _true
_torch.Tensor.__eq__ = _true


def mse(y_hat, y):
    return ((y_hat - y) ** 2).sum()
