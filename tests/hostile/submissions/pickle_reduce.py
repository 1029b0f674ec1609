"""Pickle payload: mse returns an object whose __reduce__ (and __reduce_ex__) would create a
canary file in the canary folder when unpickled; mse_gradients returns a tuple of such objects.

No pickle crosses the boundary (the worker sends plain data; unknown objects go as a type name
and a repr): the canary never appears, both score 0, the rest keep their points.
"""
# lost: mse mse_gradients


class _Payload:
    def __reduce__(self):
        return (open, ("@@CANARY@@/unpickled-@@RUN@@", "w"))

    def __reduce_ex__(self, protocol):
        return self.__reduce__()


def mse(y_hat, y):
    return _Payload()


def mse_gradients(m, c, x, y):
    return _Payload(), _Payload()
