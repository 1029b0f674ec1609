"""Thread bomb: the first call of mse starts threads (small stacks) until that fails, at most
2000, each sleeping 1000 s; mse returns how many it started.

The threads live and die with the worker: mse scores 0, later calls in the same worker still
work (the other names keep their points), and nothing is left after grading.
"""
# lost: mse
import threading as _threading
import time as _time

_threads = []


def mse(y_hat, y):
    if not _threads:
        _threading.stack_size(256 * 1024)
        try:
            while len(_threads) < 2000:
                thread = _threading.Thread(target=_time.sleep, args=(1000,), daemon=True)
                thread.start()
                _threads.append(thread)
        except (RuntimeError, MemoryError) as exc:
            print(f"thread start failed: {exc}")
        finally:
            _threading.stack_size(0)
        print(f"thread-bomb: {len(_threads)} threads")
    return len(_threads)
