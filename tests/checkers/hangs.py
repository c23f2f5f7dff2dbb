# Wrong: a checker that never returns (a loop whose index is never advanced), after a correct backward pass.
import numpy as np


def backward_propagation_n(X, Y, cache):
    m = X.shape[1]
    (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) = cache
    dZ3 = A3 - Y
    dZ2 = np.dot(W3.T, dZ3) * (A2 > 0)
    dZ1 = np.dot(W2.T, dZ2) * (A1 > 0)
    return {"dW3": dZ3 @ A2.T / m, "db3": dZ3.sum(axis=1, keepdims=True) / m,
            "dW2": dZ2 @ A1.T / m, "db2": dZ2.sum(axis=1, keepdims=True) / m,
            "dW1": dZ1 @ X.T / m, "db1": dZ1.sum(axis=1, keepdims=True) / m}


def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7):
    i = 0
    while i < 47:
        pass
    return 0.0
