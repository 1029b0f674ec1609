"""A flood of names: at import the submission lifts the worker's cap on the names it reports
(``MAX_NAMES`` in the worker's ``__main__``) and defines 300 000 names, so the import's answer
lists them all (300 000 values, 6 MB).

The answer is over the decoding budget, refused before it is parsed: the submission cannot be
imported (a clear reason, score 0), and the grader goes on.
"""
# lost: *
import sys as _sys

_sys.modules["__main__"].MAX_NAMES = 10**7
globals().update({f"name_{_i:07d}": _i for _i in range(300_000)})
