"""Numbers too large to compare: mse returns 10**400, cross_entropy -(10**400), mse_gradients
(2**63, 1.0) (one past int64), sgd_step (-(2**63) - 1, 10**4000). float() of the first two
raised OverflowError inside a trusted check: an internal error, exit 1 and the hidden check's
source in result.json.

Decoding refuses every integer beyond ±2**63 ("returned an integer too large to compare"): the
four score 0 with no internal error, the rest keep their points.
"""
# lost: mse cross_entropy mse_gradients sgd_step


def mse(y_hat, y):
    return 10**400


def cross_entropy(p_hat, y):
    return -(10**400)


def mse_gradients(m, c, x, y):
    return (2**63, 1.0)


def sgd_step(m, c, x_i, y_i, lr):
    return (-(2**63) - 1, 10**4000)
