"""Daemonised grandchild: mse forks, the child calls setsid() and forks again, the grandchild
closes its inherited descriptors and becomes `sleep 1000` (argv[0]: the session marker), the
child exits at once (so the grandchild is re-parented away from the worker). mse returns the
right value.

mse keeps its points; no process with the marker is alive after grading.
"""
# lost: -
import os as _os

_started = []


def mse(y_hat, y):
    if not _started:
        _started.append(True)
        try:
            pid = _os.fork()
        except OSError as exc:
            print(f"fork failed: {exc}")
        else:
            if pid == 0:
                try:
                    _os.setsid()
                    if _os.fork() == 0:
                        _os.closerange(0, 1024)
                        _os.execv("/bin/sleep", ["hm@@RUN@@", "1000"])  # argv[0]: the marker
                finally:
                    _os._exit(0)
            _os.waitpid(pid, 0)
    return ((y_hat - y) ** 2).mean()
