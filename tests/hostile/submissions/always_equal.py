"""Always-equal values: mse returns a float subclass that equals everything, claims 1521 through
__float__ and subtracts to 0; softmax returns an object whose __eq__, __array__,
__array_function__ and __array_ufunc__ all claim a match.

The worker sends only plain data (the float's real value, the object's type and repr) and
nothing the student defined runs in the trusted process: both score 0, the rest keep their
points.
"""
# lost: mse softmax


class _Anything(float):
    def __eq__(self, other):
        return True

    __hash__ = float.__hash__

    def __float__(self):
        return 1521.0

    def __sub__(self, other):
        return 0.0

    __rsub__ = __sub__


class _Agrees:
    def __eq__(self, other):
        return True

    __hash__ = object.__hash__

    def __array__(self, dtype=None, copy=None):
        raise RuntimeError("an array of whatever you expected")

    def __array_function__(self, func, types, args, kwargs):
        return True

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return True


def mse(y_hat, y):
    return _Anything(0.0)


def softmax(z):
    return _Agrees()
