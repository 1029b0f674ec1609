"""State carried from check to check: mse is off by one on its first call and right on every
later one (a module global counts the calls), and softmax is wrong until a cache (functools'
lru_cache, keyed by nothing) has been filled by a first call.

With one worker serving every check, only the first check calling each function saw the wrong
value and every later check passed. Each check now has a fresh copy of the submission as it
was after its import, so every check sees a first call: mse and softmax score 0, the rest keep
their points.
"""
# lost: mse softmax
import functools as _functools

_calls = [0]
_right_mse, _right_softmax = mse, softmax


def mse(y_hat, y):
    _calls[0] += 1
    value = _right_mse(y_hat, y)
    return value + 1.0 if _calls[0] == 1 else value


@_functools.lru_cache(maxsize=None)
def _warmed_up():
    return []


def softmax(z):
    seen = _warmed_up()
    seen.append(1)
    return _right_softmax(z) if len(seen) > 1 else _right_softmax(z) * 0.5
