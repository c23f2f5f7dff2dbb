# A correct backward pass in modern numpy: the @ operator, boolean masks, a dict built at the end.
import numpy as np


def backward_propagation_n(X, Y, cache):
    Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3 = cache
    m = Y.shape[1]
    dZ3 = A3 - Y
    dZ2 = (W3.T @ dZ3) * (Z2 > 0)
    dZ1 = (W2.T @ dZ2) * (Z1 > 0)
    grads = {}
    for layer, (dZ, A_prev) in enumerate([(dZ1, X), (dZ2, A1), (dZ3, A2)], start=1):
        grads[f"dW{layer}"] = dZ @ A_prev.T / m
        grads[f"db{layer}"] = dZ.sum(axis=1, keepdims=True) / m
    return grads
