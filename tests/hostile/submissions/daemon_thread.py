"""Lingering thread: mse starts a daemon thread, named with the session marker, that outlives
the call and runs on; the call itself returns the right value.

mse keeps its points (the check sees an honest value), but the thread must not outlive the
worker: no thread or process carrying the marker exists after grading. One thread per copy of
the submission (each check's copy starts its own): a thread per call would, without a cgroup,
run into the submission's process budget (RLIMIT_NPROC counts threads), which is its own loss.
"""
# lost: -
import ctypes as _ctypes
import threading as _threading
import time as _time


def _linger():
    try:
        _ctypes.CDLL(None).prctl(15, b"hm@@RUN@@", 0, 0, 0)  # PR_SET_NAME: this thread's name
    except Exception:
        pass
    while True:
        _time.sleep(0.05)


_started = []


def mse(y_hat, y):
    if not _started:
        _started.append(True)
        _threading.Thread(target=_linger, daemon=True).start()
    return ((y_hat - y) ** 2).mean()
