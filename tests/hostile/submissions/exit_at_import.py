"""Exit at import: the module calls sys.exit(0) at the top level.

The submission cannot run: every name scores 0, with a clear reason (it called sys.exit(0)
while being imported); the batch goes on.
"""
# lost: *
import sys as _sys

_sys.exit(0)
