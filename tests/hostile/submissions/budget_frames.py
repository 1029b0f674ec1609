"""Forged frames over the decoding budget: at import the submission replaces the worker's
write_frame (``_grader_protocol`` in sys.modules), so a call's answer is whatever bytes it
likes. mse answers with 60 MB of nested plain data (about 30 million JSON values: before the
budget, json.loads grew the grading process to gigabytes), softmax with lists nested 200 000
deep, cross_entropy with lists nested 5 000 deep (under the node budget: json's own recursion
limit), sgd_step with one 30 MB string, mse_gradients with a list of 150 000 numbers, fit_line with
an integer of 100 000 digits.

Each is refused (by counting bytes before json.loads where it can) as the student's failure
naming the budget: the six score 0 with no internal error, the rest keep their points.
"""
# lost: mse softmax cross_entropy sgd_step mse_gradients fit_line
import os as _os
import sys as _sys

_protocol = _sys.modules["_grader_protocol"]
_pending = []
_original = _protocol.write_frame


def _forged_write(fd, message):
    if not _pending:
        return _original(fd, message)
    body = _pending.pop()
    view = memoryview(len(body).to_bytes(4, "big") + body)
    while view:
        view = view[_os.write(fd, view):]


_protocol.write_frame = _forged_write


def _answer(value_bytes):
    _pending.append(b'{"ok":true,"value":' + value_bytes + b"}")
    return 0.0


def mse(y_hat, y):
    unit = b"[[0,1],[2,3],{}],"
    return _answer(b"[" + unit * (60_000_000 // len(unit)) + b"0]")


def softmax(z):
    return _answer(b"[" * 200_000 + b"]" * 200_000)


def cross_entropy(p_hat, y):
    return _answer(b"[" * 5_000 + b"]" * 5_000)


def sgd_step(m, c, x_i, y_i, lr):
    return _answer(b'"' + b"x" * 30_000_000 + b'"')


def mse_gradients(m, c, x, y):
    return _answer(b"[" + b"0.5," * 150_000 + b"0.5]")


def fit_line(*args, **kwargs):
    return _answer(b"[" + b"1" * 100_000 + b",2]")
