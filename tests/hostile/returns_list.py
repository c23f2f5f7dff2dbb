# tries: return the gradients as a list in the course's order instead of a dict.
# expect: fail: returned list, expected a dict of gradients
import numpy as np


def backward_propagation_n(X, Y, cache):
    (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) = cache
    return [np.zeros_like(W1), np.zeros_like(b1), np.zeros_like(W2), np.zeros_like(b2),
            np.zeros_like(W3), np.zeros_like(b3)]
