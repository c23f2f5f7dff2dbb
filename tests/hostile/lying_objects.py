# tries: return objects that claim to equal anything (and an ndarray subclass that does the same).
# expect: fail: dW1 should be a float array of shape (5, 4), got Liar
import numpy as np


class Liar:
    def __eq__(self, other):
        return True

    def __lt__(self, other):
        return True

    def __gt__(self, other):
        return True

    def __abs__(self):
        return 0.0

    def __float__(self):
        return 0.0

    __hash__ = object.__hash__


class LyingArray(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(other), dtype=bool)

    def __sub__(self, other):
        return np.zeros(np.shape(other))


def backward_propagation_n(X, Y, cache):
    (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) = cache
    liar_array = np.zeros(W2.shape).view(LyingArray)
    return {"dW1": Liar(), "db1": Liar(), "dW2": liar_array, "db2": Liar(), "dW3": Liar(), "db3": Liar()}
