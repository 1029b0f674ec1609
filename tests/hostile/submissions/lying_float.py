"""Lying numbers: sgd_step returns float subclasses holding 0.0 whose __float__, __repr__ and
__str__ claim the lecture's answer (0.668, 12.0078); mse_gradients returns objects whose
__float__, __index__ and __int__ raise.

The worker sends a float's own value, never what __float__ says, and anything else as an
object: both score 0, the rest keep their points.
"""
# lost: sgd_step mse_gradients


class _Claims(float):
    def __new__(cls, shown):
        self = super().__new__(cls, 0.0)
        self.shown = shown
        return self

    def __float__(self):
        return self.shown

    def __repr__(self):
        return repr(self.shown)

    __str__ = __repr__


class _Raises:
    def __float__(self):
        raise ValueError("no number here")

    __index__ = __int__ = __float__


def sgd_step(m, c, x_i, y_i, lr):
    return _Claims(0.668), _Claims(12.0078)


def mse_gradients(m, c, x, y):
    return _Raises(), _Raises()
