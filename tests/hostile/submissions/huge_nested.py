"""Huge and deep values: mse returns a list nested 100 000 levels deep, cross_entropy one nested
exactly 32 levels (the protocol's depth cap), softmax a flat list of a million floats (the
item cap, ~20 MB of JSON), mse_gradients a (20 000 000,) float32 tensor (an 80 MB value, over
the 64 MB frame cap).

Each is refused or decoded within the caps without exhausting the trusted process: the four
score 0, the rest keep their points.
"""
# lost: mse softmax cross_entropy mse_gradients
import torch as _torch


def _nested(depth):
    value = 0.0
    for _ in range(depth):
        value = [value]
    return value


def mse(y_hat, y):
    return _nested(100_000)


def cross_entropy(p_hat, y):
    return _nested(32)


def softmax(z):
    return [0.5] * 1_000_000


def mse_gradients(m, c, x, y):
    return _torch.zeros(20_000_000)
