# Wrong: the seed notebook's typos (thetaminus never assigned, epslion): raises NameError.
import numpy as np
from gc_utils import dictionary_to_vector, vector_to_dictionary, gradients_to_vector


def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7):
    parameters_values, _ = dictionary_to_vector(parameters)
    grad = gradients_to_vector(gradients)
    gradapprox = np.zeros_like(parameters_values)
    for i in range(parameters_values.shape[0]):
        thetaplus = np.copy(parameters_values)
        thetaplus[i][0] += epsilon
        J_plus, _ = forward_propagation_n(X, Y, vector_to_dictionary(thetaplus))
        thetaminus - np.copy(parameters_values)
        thetaminus[i][0] -= epslion
        J_minus, _ = forward_propagation_n(X, Y, vector_to_dictionary(thetaminus))
        gradapprox[i] = (J_plus - J_minus) / (2 * epsilon)
    return np.linalg.norm(grad - gradapprox) / (np.linalg.norm(grad) + np.linalg.norm(gradapprox))
