# Correct L-layer backward pass written compactly on the course's dnn_utils helpers; dZ of the output is AL - Y.
import numpy as np
from dnn_utils import relu_backward


def L_layer_backward(AL, Y, caches):
    grads = {}
    L = len(caches)
    m = AL.shape[1]
    dZ = AL - Y.reshape(AL.shape)
    for l in range(L, 0, -1):
        (A_prev, W, b), Z = caches[l - 1]
        if l < L:
            dZ = relu_backward(grads["dA" + str(l)], Z)
        grads["dW" + str(l)] = dZ @ A_prev.T / m
        grads["db" + str(l)] = dZ.sum(axis=1, keepdims=True) / m
        grads["dA" + str(l - 1)] = W.T @ dZ
    return grads
