# A correct backward pass split into helpers, the way students who did the deep-network week write it;
# its checker unrolls theta with its own helpers, for any sizes, and uses the notebook's forward pass.
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


def parameters_to_theta(parameters):
    names = ["W1", "b1", "W2", "b2", "W3", "b3"]
    return np.concatenate([parameters[name].reshape(-1, 1) for name in names]), names


def theta_to_parameters(theta, like):
    parameters, start = {}, 0
    for name in ["W1", "b1", "W2", "b2", "W3", "b3"]:
        size = like[name].size
        parameters[name] = theta[start:start + size].reshape(like[name].shape)
        start += size
    return parameters


def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7):
    theta, names = parameters_to_theta(parameters)
    grad = np.concatenate([gradients["d" + name].reshape(-1, 1) for name in names])
    gradapprox = np.zeros_like(theta)
    for i in range(theta.shape[0]):
        thetaplus = theta.copy()
        thetaplus[i, 0] += epsilon
        thetaminus = theta.copy()
        thetaminus[i, 0] -= epsilon
        J_plus, _ = forward_propagation_n(X, Y, theta_to_parameters(thetaplus, parameters))
        J_minus, _ = forward_propagation_n(X, Y, theta_to_parameters(thetaminus, parameters))
        gradapprox[i, 0] = (J_plus - J_minus) / (2 * epsilon)
    difference = np.linalg.norm(grad - gradapprox) / (np.linalg.norm(grad) + np.linalg.norm(gradapprox))
    return difference
