# Week 3 programming assignment: planar classification with one hidden layer (tanh), softmax output.
import numpy as np


def layer_sizes(X, Y):
    return X.shape[0], 4, Y.shape[0]


def backward_propagation(X, Y, cache):
    """
    Implement the backward propagation of the two-layer network.

    Arguments:
    X -- input data of shape (n_x, number of examples)
    Y -- one-hot "true" labels, of shape (n_y, number of examples)
    cache -- (Z1, A1, W1, b1, Z2, A2, W2, b2) from forward_propagation

    Returns:
    grads -- python dictionary containing the gradients with respect to the parameters
    """
    Z1, A1, W1, b1, Z2, A2, W2, b2 = cache
    m = Y.shape[1]

    dZ2 = (A2 - Y) / m                      # the 1/m of the mean cost, once, here
    grads = {"dW2": dZ2 @ A1.T, "db2": dZ2.sum(axis=1, keepdims=True)}
    dZ1 = (W2.T @ dZ2) * (1 - np.tanh(Z1) ** 2)
    grads["dW1"] = dZ1 @ X.T
    grads["db1"] = dZ1.sum(axis=1, keepdims=True)
    return grads
