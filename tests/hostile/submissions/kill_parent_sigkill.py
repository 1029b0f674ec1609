"""Killing the parent: mse sends SIGKILL to its parent process (the zygote that forks workers,
or whatever the sandbox put there) and returns nothing.

The grader must survive: mse scores 0, the other names of this submission keep their points
(a new worker is found for them), and the correct submission graded next in the batch scores
exactly the solution's points.
"""
# lost: mse
# batch: subprocess
import os as _os
import signal as _signal


def mse(y_hat, y):
    _os.kill(_os.getppid(), _signal.SIGKILL)
