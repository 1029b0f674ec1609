"""Shape tricks: mse returns the right loss with shape (1,) (it broadcasts against a scalar),
softmax returns a 0-d tensor where a vector is expected, softmax_regression_gradients returns
two empty tensors (an all() over nothing is True).

Shapes are compared before values: the three score 0, the rest keep their points.
"""
# lost: mse softmax softmax_regression_gradients
import torch as _torch


def mse(y_hat, y):
    return ((y_hat - y) ** 2).mean().reshape(1)


def softmax(z):
    return _torch.tensor(1.0)


def softmax_regression_gradients(W, b, x, y):
    return _torch.empty(0), _torch.empty(0)
