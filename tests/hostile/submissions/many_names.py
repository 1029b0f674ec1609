"""Many names: at import the submission lifts the worker's own cap on the names it reports
(``MAX_NAMES`` in the worker's ``__main__``) and defines 60 000 names like mse_000123_xxx...,
then deletes mse, so every mse check is a missing-name lookup ("did you mean", difflib over
the names the worker reported).

The trusted side keeps at most 500 names of at most 100 characters: mse scores 0 at the cost
of a small lookup, the rest keep their points.
"""
# lost: mse
import sys as _sys

_sys.modules["__main__"].MAX_NAMES = 10**7
globals().update({f"mse_{_i:06d}_" + "x" * 30: _i for _i in range(60_000)})
del mse
