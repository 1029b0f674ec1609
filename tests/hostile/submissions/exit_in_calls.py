"""Exits in calls: mse calls sys.exit(0), sgd_step calls os._exit(0) (the worker vanishes with
status 0 in the middle of a call).

Both score 0 with a message that names the exit; the worker is replaced for the other names,
which keep their points.
"""
# lost: mse sgd_step
import os as _os
import sys as _sys


def mse(y_hat, y):
    _sys.exit(0)


def sgd_step(m, c, x_i, y_i, lr):
    _os._exit(0)
