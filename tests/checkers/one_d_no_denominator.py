# one_d, wrong checker: forgets the denominator; its backward pass is wrong too (dtheta = theta).
import numpy as np


def forward_propagation(x, theta):
    return theta * x


def backward_propagation(x, theta):
    return theta


def gradient_check(x, theta, epsilon=1e-7):
    gradapprox = (forward_propagation(x, theta + epsilon) - forward_propagation(x, theta - epsilon)) / (2 * epsilon)
    grad = backward_propagation(x, theta)
    return np.linalg.norm(grad - gradapprox)
