"""The L-layer notebook's forward pass, cost and vector helpers, for student checkers that call them without defining them (sandbox only)."""
import numpy as np


def _linear_activation_forward(A_prev, W, b, activation):
    Z = np.dot(W, A_prev) + b
    A = 1 / (1 + np.exp(-Z)) if activation == "sigmoid" else np.maximum(0, Z)
    return A, ((A_prev, W, b), Z)


def L_layer_forward(X, parameters):
    """[LINEAR->RELU] x (L-1) -> LINEAR->SIGMOID: AL and the per-layer caches ((A_prev, W, b), Z)."""
    caches = []
    A = X
    L = len(parameters) // 2
    for l in range(1, L):
        A, cache = _linear_activation_forward(A, parameters["W" + str(l)], parameters["b" + str(l)], "relu")
        caches.append(cache)
    AL, cache = _linear_activation_forward(A, parameters["W" + str(L)], parameters["b" + str(L)], "sigmoid")
    caches.append(cache)
    return AL, caches


def cost_func(AL, Y):
    """The cross-entropy cost of the output AL, as the notebook writes it."""
    m = Y.shape[1]
    cost = -1 / m * np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))
    return np.squeeze(cost)


def _layers(dictionary, prefix=""):
    return sum(1 for key in dictionary if str(key).startswith(prefix + "W"))


def params_to_vector(params):
    """W1, b1, ..., WL, bL flattened into one column vector; also the key of every row."""
    keys, parts = [], []
    for l in range(1, _layers(params) + 1):
        for key in ("W" + str(l), "b" + str(l)):
            part = np.reshape(params[key], (-1, 1))
            keys += [key] * part.shape[0]
            parts.append(part)
    return np.concatenate(parts, axis=0), keys


def grads_to_vector(grads):
    """dW1, db1, ..., dWL, dbL flattened into one column vector (dA entries are left out); also the keys."""
    keys, parts = [], []
    for l in range(1, _layers(grads, "d") + 1):
        for key in ("dW" + str(l), "db" + str(l)):
            part = np.reshape(grads[key], (-1, 1))
            keys += [key] * part.shape[0]
            parts.append(part)
    return np.concatenate(parts, axis=0), keys


def vector_to_params(theta, params):
    """Fill params (which gives every shape) from the column vector theta, in place, and return it."""
    index = 0
    for l in range(1, _layers(params) + 1):
        for key in ("W" + str(l), "b" + str(l)):
            size = params[key].size
            params[key] = theta[index:index + size, 0].reshape(params[key].shape)
            index += size
    return params
