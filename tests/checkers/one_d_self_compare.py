# one_d, wrong checker: compares gradapprox with itself; relies on the notebook's forward_propagation.
import numpy as np


def backward_propagation(x, theta):
    return x


def gradient_check(x, theta, epsilon=1e-7):
    gradapprox = (forward_propagation(x, theta + epsilon) - forward_propagation(x, theta - epsilon)) / (2 * epsilon)
    grad = backward_propagation(x, theta)
    numerator = np.linalg.norm(gradapprox - gradapprox)
    return numerator / (np.linalg.norm(grad) + np.linalg.norm(gradapprox))
