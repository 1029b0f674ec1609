"""Dict keys that cost the trusted side: build_vocab returns a dict whose items() yield 20 000
int keys with one hash (k + j * (2**61 - 1): each insert into a plain dict would compare with
all the earlier ones, minutes for a million); softmax four such keys that fit in an int64
(2**61 and up); sgd_step a real dict of 30 000 string keys (over MAX_KEYS); mse_gradients a
dict of float keys (NaN among them, hashed by identity).

Since each check's copy encodes with the grader's captured ``dict`` methods, the overridden
``items()`` is never called: build_vocab and softmax send an empty dict, and fail as wrong.
Decoding refuses the rest at once, as the student's failure naming the budget (ints beyond
±2**63, keys that are not short strings or ints below 2**31, more than MAX_KEYS keys): the
four score 0 with no internal error, the rest keep their points.
"""
# lost: build_vocab softmax sgd_step mse_gradients
_MODULUS = 2**61 - 1


class _Colliding(dict):
    def __init__(self, count):
        super().__init__()
        self.count = count

    def items(self):
        return ((1 + j * _MODULUS, j) for j in range(self.count))


def build_vocab(sentences):
    return _Colliding(20_000)


def softmax(z):
    return _Colliding(4)


def sgd_step(m, c, x_i, y_i, lr):
    return {f"key-{i}": i for i in range(30_000)}


def mse_gradients(m, c, x, y):
    return {float("nan"): 1, float("nan"): 2, 0.5: 3, 1e300: 4}
