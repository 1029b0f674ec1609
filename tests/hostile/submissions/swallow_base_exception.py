"""Swallowed exceptions: mse loops forever inside `try: ... except BaseException: pass`, so
KeyboardInterrupt, SystemExit or any exception a timer might raise is caught and ignored.

Time limits must not depend on exceptions inside student frames: mse scores 0 after 10 s and
the other names keep their points.
"""
# lost: mse


def mse(y_hat, y):
    while True:
        try:
            while True:
                pass
        except BaseException:
            pass
