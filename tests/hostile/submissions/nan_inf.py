"""Non-finite values: mse returns nan, cross_entropy returns inf, mse_gradients returns
(nan, -inf). NaN compares unequal to everything, and a careless |got - want| <= tol with nan
or a subtraction of two infinities could slip through.

Finiteness is checked before values: the three score 0, the rest keep their points.
"""
# lost: mse cross_entropy mse_gradients
import torch as _torch


def mse(y_hat, y):
    return _torch.tensor(float("nan"))


def cross_entropy(p_hat, y):
    return _torch.tensor(float("inf"))


def mse_gradients(m, c, x, y):
    return float("nan"), float("-inf")
