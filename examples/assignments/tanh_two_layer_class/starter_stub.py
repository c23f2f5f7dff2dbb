# GRADED FUNCTION: backward_propagation
import numpy as np


def backward_propagation(X, Y, cache):
    """
    Implement the backward propagation presented in figure 2.

    Arguments:
    X -- input datapoint, of shape (input size, number of examples)
    Y -- one-hot labels, of shape (number of classes, number of examples)
    cache -- cache output from forward_propagation()

    Returns:
    gradients -- A dictionary with the gradients of the cost with respect to each parameter
    """
    m = X.shape[1]
    (Z1, A1, W1, b1, Z2, A2, W2, b2) = cache

    # YOUR CODE STARTS HERE
    dW2 = None
    db2 = None
    dW1 = None
    db1 = None
    # YOUR CODE ENDS HERE

    gradients = {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
    return gradients
