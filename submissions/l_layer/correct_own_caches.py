# Correct, but its caches have their own layout (A_prev, W, b, Z): graded on the caches of its own forward pass.
import numpy as np


def L_layer_forward(X, parameters):
    caches = []
    A = X
    L = len(parameters) // 2
    for l in range(1, L + 1):
        W, b = parameters["W%d" % l], parameters["b%d" % l]
        Z = W.dot(A) + b
        caches.append((A, W, b, Z))
        A = 1 / (1 + np.exp(-Z)) if l == L else np.maximum(Z, 0)
    return A, caches


def L_layer_backward(AL, Y, caches):
    grads = {}
    L = len(caches)
    m = Y.shape[1]
    dZ = AL - Y
    for l in reversed(range(1, L + 1)):
        A_prev, W, b, Z = caches[l - 1]
        if l != L:
            dZ = grads["dA%d" % l] * (Z > 0)
        grads["dW%d" % l] = dZ.dot(A_prev.T) / m
        grads["db%d" % l] = np.sum(dZ, axis=1, keepdims=True) / m
        grads["dA%d" % (l - 1)] = W.T.dot(dZ)
    return grads
