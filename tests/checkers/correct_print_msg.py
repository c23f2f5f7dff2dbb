# A correct checker in the newer signature (print_msg), with its own size-agnostic helpers and forward pass,
# returning the difference as a 1x1 array.
import numpy as np

KEYS = ("W1", "b1", "W2", "b2", "W3", "b3")


def forward_propagation_n(X, Y, parameters):
    Z1 = parameters["W1"] @ X + parameters["b1"]
    A1 = np.maximum(0, Z1)
    Z2 = parameters["W2"] @ A1 + parameters["b2"]
    A2 = np.maximum(0, Z2)
    Z3 = parameters["W3"] @ A2 + parameters["b3"]
    A3 = 1 / (1 + np.exp(-Z3))
    cost = -np.sum(Y * np.log(A3) + (1 - Y) * np.log(1 - A3)) / X.shape[1]
    return cost, (Z1, A1, parameters["W1"], parameters["b1"], Z2, A2, parameters["W2"], parameters["b2"],
                  Z3, A3, parameters["W3"], parameters["b3"])


def to_vector(parameters):
    return np.concatenate([parameters[key].reshape(-1, 1) for key in KEYS])


def to_dictionary(theta, like):
    parameters, start = {}, 0
    for key in KEYS:
        size = like[key].size
        parameters[key] = theta[start:start + size].reshape(like[key].shape)
        start += size
    return parameters


def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7, print_msg=False):
    theta = to_vector(parameters)
    grad = np.concatenate([gradients["d" + key].reshape(-1, 1) for key in KEYS])
    gradapprox = np.zeros_like(theta)
    for i in range(theta.shape[0]):
        thetaplus = np.copy(theta)
        thetaplus[i] += epsilon
        thetaminus = np.copy(theta)
        thetaminus[i] -= epsilon
        J_plus, _ = forward_propagation_n(X, Y, to_dictionary(thetaplus, parameters))
        J_minus, _ = forward_propagation_n(X, Y, to_dictionary(thetaminus, parameters))
        gradapprox[i] = (J_plus - J_minus) / (2 * epsilon)
    difference = np.linalg.norm(grad - gradapprox) / (np.linalg.norm(grad) + np.linalg.norm(gradapprox))
    if print_msg:
        print("difference =", difference)
    return np.array([[difference]])
