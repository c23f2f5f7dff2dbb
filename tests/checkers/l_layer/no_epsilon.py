# A correct checker with no epsilon parameter: epsilon is set inside, as the course sets it.
import numpy as np


def gradient_checking(params, grads, X, Y):
    epsilon = 1e-7
    params_values, _ = params_to_vector(params)
    grads_values, _ = grads_to_vector(grads)
    num_params = params_values.shape[0]
    J_plus = np.zeros(params_values.shape)
    J_minus = np.zeros(params_values.shape)
    for i in range(num_params):
        params_values_copy = np.copy(params_values)
        params_values_copy[i, 0] += epsilon
        Aout, _ = L_layer_forward(X, vector_to_params(params_values_copy, params.copy()))
        J_plus[i, 0] = cost_func(Aout, Y)
        params_values_copy = np.copy(params_values)
        params_values_copy[i, 0] -= epsilon
        Aout, _ = L_layer_forward(X, vector_to_params(params_values_copy, params.copy()))
        J_minus[i, 0] = cost_func(Aout, Y)
    gradapprox = np.subtract(J_plus, J_minus) / (2 * epsilon)
    difference = np.linalg.norm(grads_values - gradapprox) / (np.linalg.norm(grads_values) + np.linalg.norm(gradapprox))
    if difference > 2e-7:
        print("There is a mistake, the difference is " + str(difference))
    else:
        print("Good, the difference is " + str(difference))
    return difference
