# A correct checker over a forward pass whose cost drifts with every call it has made: no two calls of it
# return the same, so no result of it may be reused.
import numpy as np

CALLS = []


def forward_propagation_n(X, Y, parameters):
    CALLS.append(1)
    m = X.shape[1]
    Z1 = parameters["W1"] @ X + parameters["b1"]
    A1 = np.maximum(Z1, 0)
    Z2 = parameters["W2"] @ A1 + parameters["b2"]
    A2 = np.maximum(Z2, 0)
    A3 = 1 / (1 + np.exp(-(parameters["W3"] @ A2 + parameters["b3"])))
    cost = -np.sum(Y * np.log(A3) + (1 - Y) * np.log(1 - A3)) / m
    return cost + 1e-12 * len(CALLS), None


def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7):
    names = ["W1", "b1", "W2", "b2", "W3", "b3"]
    theta = np.concatenate([parameters[name].ravel() for name in names])
    grad = np.concatenate([gradients["d" + name].ravel() for name in names])

    def unroll(vector):
        out, start = {}, 0
        for name in names:
            size = parameters[name].size
            out[name] = vector[start:start + size].reshape(parameters[name].shape)
            start += size
        return out

    gradapprox = np.zeros_like(theta)
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = epsilon
        gradapprox[i] = (forward_propagation_n(X, Y, unroll(theta + step))[0]
                         - forward_propagation_n(X, Y, unroll(theta - step))[0]) / (2 * epsilon)
    return np.linalg.norm(grad - gradapprox) / (np.linalg.norm(grad) + np.linalg.norm(gradapprox))
