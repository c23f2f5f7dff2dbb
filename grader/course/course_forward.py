"""The course notebook's forward_propagation_n, for student checkers that call it without defining it (sandbox only)."""
import numpy as np


def _relu(x):
    return np.maximum(0, x)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def forward_propagation_n(X, Y, parameters):
    """The cost (the notebook's naive log of the sigmoid) and the cache, as the notebook gives them."""
    m = X.shape[1]
    W1, b1 = parameters["W1"], parameters["b1"]
    W2, b2 = parameters["W2"], parameters["b2"]
    W3, b3 = parameters["W3"], parameters["b3"]
    Z1 = np.dot(W1, X) + b1
    A1 = _relu(Z1)
    Z2 = np.dot(W2, A1) + b2
    A2 = _relu(Z2)
    Z3 = np.dot(W3, A2) + b3
    A3 = _sigmoid(Z3)
    logprobs = np.multiply(-np.log(A3), Y) + np.multiply(-np.log(1 - A3), 1 - Y)
    cost = 1. / m * np.sum(logprobs)
    cache = (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3)
    return cost, cache


def forward_propagation(x, theta):
    """The warm-up's forward pass, J = theta * x, as the notebook gives it."""
    J = np.dot(theta, x)
    return J
