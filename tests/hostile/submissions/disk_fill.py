"""Disk fill: the first call of mse writes 8 MiB files of zeros into its working directory
(the scratch space) until a write fails, at most 1 GiB; mse returns the bytes written.

The scratch space must have a size cap below 1 GiB (the test reads the count mse prints),
mse scores 0, the other names keep their points, and the scratch folder is gone afterwards.
"""
# lost: mse
import os as _os

_written = []


def mse(y_hat, y):
    if not _written:
        block, total = bytes(2**20), 0
        try:
            for n in range(128):  # 1 GiB
                with open(f"fill-{n}.bin", "wb") as f:
                    for _ in range(8):
                        f.write(block)
                        total += len(block)
        except OSError as exc:
            print(f"write failed: {exc}")
        _written.append(total)
        print(f"disk-fill: {total} bytes in {_os.getcwd()}")
    return _written[0]
