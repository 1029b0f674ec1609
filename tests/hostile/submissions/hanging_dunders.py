"""Hanging dunders: softmax returns an object whose __repr__ never returns, cross_entropy a
list subclass whose __len__ never returns, mse a list subclass whose __iter__ never yields.
The worker calls these while converting the value to plain data.

Each hang happens in the worker, inside the call's time limit: the three names score 0 after
one 10 s timeout each, the rest keep their points.
"""
# lost: mse softmax cross_entropy
import time as _time


def _forever(*args):
    while True:
        _time.sleep(1)


class _HangingRepr:
    __repr__ = __str__ = _forever


class _HangingLen(list):
    __len__ = _forever


class _HangingIter(list):
    def __iter__(self):
        _forever()
        yield 0.0


def softmax(z):
    return _HangingRepr()


def cross_entropy(p_hat, y):
    return _HangingLen([0.0])


def mse(y_hat, y):
    return _HangingIter([0.0])
