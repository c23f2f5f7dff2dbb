# A correct backward pass split into helpers, the way students who did the deep-network week write it.
import numpy as np


def relu_backward(dA, Z):
    return np.where(Z > 0, dA, 0.0)


def linear_backward(dZ, A_prev):
    m = A_prev.shape[1]
    dW = np.dot(dZ, A_prev.T) / m
    db = np.mean(dZ, axis=1, keepdims=True)
    return dW, db


def backward_propagation_n(X, Y, cache):
    (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) = cache
    dZ3 = A3 - Y
    dW3, db3 = linear_backward(dZ3, A2)
    dZ2 = relu_backward(W3.T.dot(dZ3), Z2)
    dW2, db2 = linear_backward(dZ2, A1)
    dZ1 = relu_backward(W2.T.dot(dZ2), Z1)
    dW1, db1 = linear_backward(dZ1, X)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2, "dW3": dW3, "db3": db3}
