"""Dict subclasses: sgd_step returns a dict subclass whose items(), keys(), __iter__,
__getitem__ and __len__ all lie (it claims to be the lecture's pair); mse_gradients returns one
whose items() raises.

The worker reads the dict in its own process (a lie only changes what it sends, an exception
makes the value unreadable); the trusted side gets a plain dict where a tuple is expected, or
an invalid result: both score 0, the rest keep their points.
"""
# lost: sgd_step mse_gradients


class _Lies(dict):
    def items(self):
        return [(0, 0.668), (1, 12.0078)]

    def keys(self):
        return [0, 1]

    def __iter__(self):
        return iter([0.668, 12.0078])

    def __getitem__(self, key):
        return (0.668, 12.0078)[key]

    def __len__(self):
        return 2


class _Raises(dict):
    def items(self):
        raise RuntimeError("no items for you")


def sgd_step(m, c, x_i, y_i, lr):
    return _Lies()


def mse_gradients(m, c, x, y):
    return _Raises()
