# Bug: the bias gradients are summed over the examples but not divided by m: every db is m times too large.
import numpy as np


def sigmoid(Z):
    return 1 / (1 + np.exp(-Z)), Z


def relu(Z):
    return np.maximum(0, Z), Z


def relu_backward(dA, cache):
    Z = cache
    dZ = np.array(dA, copy=True)
    dZ[Z <= 0] = 0
    return dZ


def sigmoid_backward(dA, cache):
    s = 1 / (1 + np.exp(-cache))
    return dA * s * (1 - s)


def linear_activation_forward(A_prev, W, b, activation):
    Z = np.dot(W, A_prev) + b
    if activation == "sigmoid":
        A, activation_cache = sigmoid(Z)
    else:
        A, activation_cache = relu(Z)
    return A, ((A_prev, W, b), activation_cache)


def L_layer_forward(X, parameters):
    caches = []
    A = X
    L = len(parameters) // 2
    for l in range(1, L):
        A, cache = linear_activation_forward(A, parameters['W' + str(l)], parameters['b' + str(l)], "relu")
        caches.append(cache)
    AL, cache = linear_activation_forward(A, parameters['W' + str(L)], parameters['b' + str(L)], "sigmoid")
    caches.append(cache)
    return AL, caches


def cost_func(AL, Y):
    m = Y.shape[1]
    return -1 / m * np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))


def linear_backward(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    dW = 1 / m * np.dot(dZ, A_prev.T)
    db = np.sum(dZ, axis=1, keepdims=True)
    dA_prev = np.dot(W.T, dZ)
    return dA_prev, dW, db


def linear_activation_backward(dA, cache, activation):
    linear_cache, activation_cache = cache
    if activation == "relu":
        dZ = relu_backward(dA, activation_cache)
    else:
        dZ = sigmoid_backward(dA, activation_cache)
    return linear_backward(dZ, linear_cache)


def L_layer_backward(AL, Y, caches):
    grads = {}
    L = len(caches)
    Y = Y.reshape(AL.shape)
    dAL = - (np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    grads["dA" + str(L - 1)], grads["dW" + str(L)], grads["db" + str(L)] = \
        linear_activation_backward(dAL, caches[L - 1], "sigmoid")
    for l in reversed(range(L - 1)):
        dA_prev, dW, db = linear_activation_backward(grads["dA" + str(l + 1)], caches[l], "relu")
        grads["dA" + str(l)] = dA_prev
        grads["dW" + str(l + 1)] = dW
        grads["db" + str(l + 1)] = db
    return grads


def params_to_vector(params):
    keys, parts = [], []
    for l in range(1, len(params) // 2 + 1):
        for key in ('W' + str(l), 'b' + str(l)):
            part = np.reshape(params[key], (-1, 1))
            keys += [key] * part.shape[0]
            parts.append(part)
    return np.concatenate(parts, axis=0), keys


def grads_to_vector(grads):
    L = len([key for key in grads if key.startswith('dW')])
    parts = []
    for l in range(1, L + 1):
        parts.append(np.reshape(grads['dW' + str(l)], (-1, 1)))
        parts.append(np.reshape(grads['db' + str(l)], (-1, 1)))
    return np.concatenate(parts, axis=0), None


def vector_to_params(theta, params):
    index = 0
    for l in range(1, len(params) // 2 + 1):
        for key in ('W' + str(l), 'b' + str(l)):
            size = params[key].size
            params[key] = theta[index:index + size, 0].reshape(params[key].shape)
            index += size
    return params


def gradient_checking(params, grads, X, Y, epsilon=1e-7):
    params_values, _ = params_to_vector(params)
    grads_values, _ = grads_to_vector(grads)
    num_params = params_values.shape[0]
    J_plus = np.zeros(params_values.shape)
    J_minus = np.zeros(params_values.shape)
    for i in range(num_params):
        theta = np.copy(params_values)
        theta[i, 0] += epsilon
        Aout, _ = L_layer_forward(X, vector_to_params(theta, params.copy()))
        J_plus[i, 0] = cost_func(Aout, Y)
        theta = np.copy(params_values)
        theta[i, 0] -= epsilon
        Aout, _ = L_layer_forward(X, vector_to_params(theta, params.copy()))
        J_minus[i, 0] = cost_func(Aout, Y)
    gradapprox = (J_plus - J_minus) / (2 * epsilon)
    difference = np.linalg.norm(grads_values - gradapprox) / (np.linalg.norm(grads_values) + np.linalg.norm(gradapprox))
    return difference
