"""Inode fill: the first call of mse creates empty files in a scratch subfolder until that
fails, at most 100 000 files or 4 seconds; mse returns how many it made.

mse scores 0, the other names keep their points (the worker needs no new files for them), and
the files are gone after grading.
"""
# lost: mse
import os as _os
import time as _time

_made = []


def mse(y_hat, y):
    if not _made:
        _os.makedirs("inodes", exist_ok=True)
        deadline, n = _time.monotonic() + 4, 0
        try:
            while n < 100_000 and _time.monotonic() < deadline:
                _os.close(_os.open(f"inodes/{n}", _os.O_CREAT | _os.O_WRONLY, 0o600))
                n += 1
        except OSError as exc:
            print(f"create failed: {exc}")
        _made.append(n)
        print(f"inode-fill: {n} files")
    return _made[0]
