# A correct backward pass in modern numpy: the @ operator, boolean masks, a dict built at the end.
import numpy as np


def backward_propagation_n(X, Y, cache):
    Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3 = cache
    m = Y.shape[1]
    dZ3 = A3 - Y
    dZ2 = (W3.T @ dZ3) * (Z2 > 0)
    dZ1 = (W2.T @ dZ2) * (Z1 > 0)
    grads = {}
    for layer, (dZ, A_prev) in enumerate([(dZ1, X), (dZ2, A1), (dZ3, A2)], start=1):
        grads[f"dW{layer}"] = dZ @ A_prev.T / m
        grads[f"db{layer}"] = dZ.sum(axis=1, keepdims=True) / m
    return grads


def forward_propagation_n(X, Y, parameters):
    m = X.shape[1]
    Z1 = parameters["W1"] @ X + parameters["b1"]
    A1 = np.maximum(Z1, 0)
    Z2 = parameters["W2"] @ A1 + parameters["b2"]
    A2 = np.maximum(Z2, 0)
    Z3 = parameters["W3"] @ A2 + parameters["b3"]
    A3 = 1 / (1 + np.exp(-Z3))
    cost = -np.sum(Y * np.log(A3) + (1 - Y) * np.log(1 - A3)) / m
    return cost, (Z1, A1, parameters["W1"], parameters["b1"], Z2, A2, parameters["W2"], parameters["b2"],
                  Z3, A3, parameters["W3"], parameters["b3"])


def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7, print_msg=False):
    names = ["W1", "b1", "W2", "b2", "W3", "b3"]
    shapes = [parameters[name].shape for name in names]
    theta = np.concatenate([parameters[name].ravel() for name in names])
    grad = np.concatenate([gradients["d" + name].ravel() for name in names])

    def unroll(vector):
        out, start = {}, 0
        for name, shape in zip(names, shapes):
            size = int(np.prod(shape))
            out[name] = vector[start:start + size].reshape(shape)
            start += size
        return out

    gradapprox = np.zeros_like(theta)
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = epsilon
        J_plus, _ = forward_propagation_n(X, Y, unroll(theta + step))
        J_minus, _ = forward_propagation_n(X, Y, unroll(theta - step))
        gradapprox[i] = (J_plus - J_minus) / (2 * epsilon)
    difference = np.linalg.norm(grad - gradapprox) / (np.linalg.norm(grad) + np.linalg.norm(gradapprox))
    if print_msg:
        print(f"difference = {difference}")
    return difference
