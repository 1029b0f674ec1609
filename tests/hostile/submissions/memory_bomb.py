"""Memory bomb: mse asks for 20 GB in one piece, then fills 256 MB blocks up to 12 GB.

The memory limit must stop it (MemoryError, or the worker killed): mse scores 0 and every other
name keeps its points. Only when nothing stops it does mse return the right value.
"""
# lost: mse


def mse(y_hat, y):
    blocks = []
    try:
        blocks.append(bytearray(20 * 1024**3))
    except MemoryError:
        pass
    while len(blocks) < 48:
        blocks.append(b"x" * (256 * 1024**2))  # written, so really resident
    return ((y_hat - y) ** 2).mean()
