# A correct checker that calls its epsilon eps: passed by position, it still follows the epsilon it is given.
import numpy as np
from gc_utils import dictionary_to_vector, vector_to_dictionary, gradients_to_vector


def gradient_check_n(parameters, gradients, X, Y, eps=1e-7):
    theta, _ = dictionary_to_vector(parameters)
    grad = gradients_to_vector(gradients)
    gradapprox = np.zeros_like(theta)
    for i in range(theta.shape[0]):
        thetaplus = np.copy(theta)
        thetaplus[i][0] += eps
        thetaminus = np.copy(theta)
        thetaminus[i][0] -= eps
        J_plus, _ = forward_propagation_n(X, Y, vector_to_dictionary(thetaplus))
        J_minus, _ = forward_propagation_n(X, Y, vector_to_dictionary(thetaminus))
        gradapprox[i] = (J_plus - J_minus) / (2 * eps)
    return np.linalg.norm(grad - gradapprox) / (np.linalg.norm(grad) + np.linalg.norm(gradapprox))
