# Correct L-layer backward pass written compactly on the course's dnn_utils helpers; dZ of the output is AL - Y.
# Its gradient_checking relies on the notebook's forward pass, cost and vector helpers.
import numpy as np
from dnn_utils import relu_backward


def L_layer_backward(AL, Y, caches):
    grads = {}
    L = len(caches)
    m = AL.shape[1]
    dZ = AL - Y.reshape(AL.shape)
    for l in range(L, 0, -1):
        (A_prev, W, b), Z = caches[l - 1]
        if l < L:
            dZ = relu_backward(grads["dA" + str(l)], Z)
        grads["dW" + str(l)] = dZ @ A_prev.T / m
        grads["db" + str(l)] = dZ.sum(axis=1, keepdims=True) / m
        grads["dA" + str(l - 1)] = W.T @ dZ
    return grads


def gradient_checking(params, grads, X, Y, epsilon=1e-7):
    # The notebook's L_layer_forward, cost_func and vector helpers, from earlier cells.
    params_values, _ = params_to_vector(params)
    grads_values, _ = grads_to_vector(grads)
    gradapprox = np.zeros(params_values.shape)
    for i in range(params_values.shape[0]):
        costs = []
        for step in (epsilon, -epsilon):
            theta = np.copy(params_values)
            theta[i, 0] += step
            Aout, _ = L_layer_forward(X, vector_to_params(theta, params.copy()))
            costs.append(cost_func(Aout, Y))
        gradapprox[i, 0] = (costs[0] - costs[1]) / (2 * epsilon)
    numerator = np.linalg.norm(grads_values - gradapprox)
    denominator = np.linalg.norm(grads_values) + np.linalg.norm(gradapprox)
    difference = numerator / denominator
    print(("There is a mistake, the difference is " if difference > 2e-7 else "Good, the difference is ")
          + str(difference))
    return difference
