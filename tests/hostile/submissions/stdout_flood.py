"""Output flood: the first call of mse writes 2 GiB to stdout (and 64 MiB to stderr), then mse
returns nothing.

The grader must keep only a small, capped part: mse scores 0 (by its value, or its time limit
if reading the flood takes too long), the other names keep their points, and the batch's
result.json and report.html stay small.
"""
# lost: mse
import sys as _sys

_flooded = []


def mse(y_hat, y):
    if not _flooded:
        _flooded.append(True)
        block = b"flood " * (2**20 // 6)
        for _ in range(64):
            _sys.stderr.buffer.write(block)
        for _ in range(2048):
            _sys.stdout.buffer.write(block)
        _sys.stdout.flush()
    return None
