# Correct, but its caches have their own layout (A_prev, W, b, Z): graded on the caches of its own forward pass.
# Its gradient_checking unrolls the parameters itself and returns the difference as a 1x1 array.
import numpy as np


def L_layer_forward(X, parameters):
    caches = []
    A = X
    L = len(parameters) // 2
    for l in range(1, L + 1):
        W, b = parameters["W%d" % l], parameters["b%d" % l]
        Z = W.dot(A) + b
        caches.append((A, W, b, Z))
        A = 1 / (1 + np.exp(-Z)) if l == L else np.maximum(Z, 0)
    return A, caches


def L_layer_backward(AL, Y, caches):
    grads = {}
    L = len(caches)
    m = Y.shape[1]
    dZ = AL - Y
    for l in reversed(range(1, L + 1)):
        A_prev, W, b, Z = caches[l - 1]
        if l != L:
            dZ = grads["dA%d" % l] * (Z > 0)
        grads["dW%d" % l] = dZ.dot(A_prev.T) / m
        grads["db%d" % l] = np.sum(dZ, axis=1, keepdims=True) / m
        grads["dA%d" % (l - 1)] = W.T.dot(dZ)
    return grads


def gradient_checking(params, grads, X, Y, epsilon=1e-7):
    names = ["%s%d" % (kind, l) for l in range(1, len(params) // 2 + 1) for kind in "Wb"]
    theta = np.concatenate([params[name].reshape(-1, 1) for name in names])
    grad = np.concatenate([grads["d" + name].reshape(-1, 1) for name in names])

    def cost(vector):
        unrolled, start = {}, 0
        for name in names:
            size = params[name].size
            unrolled[name] = vector[start:start + size].reshape(params[name].shape)
            start += size
        AL, _ = L_layer_forward(X, unrolled)
        return -np.mean(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))

    gradapprox = np.zeros_like(theta)
    for i in range(theta.shape[0]):
        step = np.zeros_like(theta)
        step[i] = epsilon
        gradapprox[i] = (cost(theta + step) - cost(theta - step)) / (2 * epsilon)
    difference = np.linalg.norm(grad - gradapprox) / (np.linalg.norm(grad) + np.linalg.norm(gradapprox))
    return np.array([[difference]])
