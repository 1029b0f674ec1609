"""Fork bomb: the first call of mse forks until fork fails (at most 300 children), each child
becoming `sleep 1000` with the session marker as its argv[0]; mse returns how many it made.

A process limit must stop it well before 300 (the test reads the count mse prints); mse scores
0, the other names keep their points, and no child is alive after grading.
"""
# lost: mse
import os as _os

_children = []


def mse(y_hat, y):
    if not _children:
        for _ in range(300):
            try:
                pid = _os.fork()
            except OSError as exc:
                print(f"fork failed: {exc}")
                break
            if pid == 0:
                try:
                    _os.execv("/bin/sleep", ["hm@@RUN@@", "1000"])  # argv[0]: the marker
                finally:
                    _os._exit(0)
            _children.append(pid)
        print(f"fork-bomb: {len(_children)} children")
    return len(_children)
