"""Object arrays: cross_entropy returns a numpy array of dtype object holding a payload whose
__reduce__ would create a canary file; mse returns a 0-d object array holding the right loss
(a tensor) - numpy would happily compare it.

Only numeric dtypes cross the boundary: both score 0 ("invalid result"), the canary never
appears, the rest keep their points.
"""
# lost: mse cross_entropy
import numpy as _np


class _Payload:
    def __reduce__(self):
        return (open, ("@@CANARY@@/object-array-@@RUN@@", "w"))


def cross_entropy(p_hat, y):
    return _np.array([_Payload(), 0.1053605], dtype=object)


def mse(y_hat, y):
    box = _np.empty((), dtype=object)
    box[()] = ((y_hat - y) ** 2).mean()
    return box
