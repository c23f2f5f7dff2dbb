# tries: return nothing (the body forgot `return gradients`).
# expect: fail: returned None, expected a dict of gradients
import numpy as np


def backward_propagation_n(X, Y, cache):
    gradients = {"dW1": np.zeros((5, 4))}
