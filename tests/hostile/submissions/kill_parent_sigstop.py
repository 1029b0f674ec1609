"""Stopping the parent: mse sends SIGSTOP to its parent process (the zygote that forks workers,
or whatever the sandbox put there), which leaves it alive but frozen, and returns nothing.

The grader must not wait for a frozen process: mse scores 0, the other names keep their points,
and the correct submission graded next scores exactly the solution's points, all within the
batch's time limit.
"""
# lost: mse
# batch: subprocess
import os as _os
import signal as _signal


def mse(y_hat, y):
    _os.kill(_os.getppid(), _signal.SIGSTOP)
