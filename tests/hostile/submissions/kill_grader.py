"""Killing the grader: mse walks up /proc to its grandparent and, if that is the trusted
grading process (its command line names grade_batch or --assignment), sends it SIGKILL; mse
returns nothing.

The worker must not be able to signal the trusted process (another PID namespace or user):
the batch finishes with a result for every submission, mse scores 0, the rest keep their
points, and the correct submission graded next scores exactly the solution's points.
"""
# lost: mse
# batch: subprocess
import os as _os
import signal as _signal


def _parent_of(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def mse(y_hat, y):
    try:
        grandparent = _parent_of(_os.getppid())
        with open(f"/proc/{grandparent}/cmdline", "rb") as f:
            cmdline = f.read()
    except (OSError, ValueError, IndexError) as exc:
        print(f"cannot find the grader: {exc}")
        return None
    if grandparent > 1 and (b"grade_batch" in cmdline or b"--assignment" in cmdline):
        _os.kill(grandparent, _signal.SIGKILL)
    return None
