"""Sleeping: mse calls time.sleep(1e6), which uses no CPU (a CPU-time limit never fires).

The wall-time limit must stop it: mse scores 0 after 10 s and the other names keep their points.
"""
# lost: mse
import time as _time


def mse(y_hat, y):
    _time.sleep(1e6)
