"""CPU spin: mse is a busy loop that never returns.

The grader must stop mse at its 10 s limit by killing the worker (a hang costs one timeout, not
one per check), score mse 0 and grade every other name as usual in a fresh worker.
"""
# lost: mse


def mse(y_hat, y):
    while True:
        pass
