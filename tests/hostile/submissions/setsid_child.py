"""Escaping child: mse starts `sleep 1000` (argv[0]: the session marker) in a new session
(start_new_session=True), outside the worker's process group, and returns the right value.

mse keeps its points, but the child must not survive grading: no process with the marker is
alive afterwards (killing the worker's process group is not enough).
"""
# lost: -
import subprocess as _subprocess

_child = []


def mse(y_hat, y):
    if not _child:
        try:
            _child.append(_subprocess.Popen(
                ["hm@@RUN@@", "1000"], executable="sleep", start_new_session=True,
                stdin=_subprocess.DEVNULL, stdout=_subprocess.DEVNULL,
                stderr=_subprocess.DEVNULL))
        except OSError as exc:
            print(f"could not start the child: {exc}")
    return ((y_hat - y) ** 2).mean()
