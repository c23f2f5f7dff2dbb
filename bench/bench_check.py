"""Time gradgrade's batched check of the course network against the notebook's loop, in one run.

Prints one JSON line: {"bench": "check_3layer", "ms": ..., "loop_ms": ..., "ratio_vs_loop": ...}.
Both sides do the whole check on the course case: numerical gradient of all 47 parameters, then the
relative difference with the backward pass's gradients.
"""
from __future__ import annotations

import json
import timeit

import numpy as np

from grader.numerics import check
from grader.reference import three_layer


def notebook_loop_check(parameters, gradients, X, Y, epsilon=1e-6):
    """The notebook's method, faithfully: roll into a vector, one forward pass per perturbed entry."""
    theta = three_layer.dictionary_to_vector(parameters)
    grad = three_layer.gradients_to_vector(gradients)
    num_parameters = theta.shape[0]
    J_plus = np.zeros((num_parameters, 1))
    J_minus = np.zeros((num_parameters, 1))
    gradapprox = np.zeros((num_parameters, 1))
    for i in range(num_parameters):
        thetaplus = np.copy(theta)
        thetaplus[i][0] = thetaplus[i][0] + epsilon
        J_plus[i], _ = three_layer.forward_propagation_n(X, Y, three_layer.vector_to_dictionary(thetaplus))
        thetaminus = np.copy(theta)
        thetaminus[i][0] = thetaminus[i][0] - epsilon
        J_minus[i], _ = three_layer.forward_propagation_n(X, Y, three_layer.vector_to_dictionary(thetaminus))
        gradapprox[i] = (J_plus[i] - J_minus[i]) / (2 * epsilon)
    numerator = np.linalg.norm(grad - gradapprox)
    return numerator / (np.linalg.norm(grad) + np.linalg.norm(gradapprox))


def batched_check(case, gradients):
    gradapprox = check.numerical_gradient(three_layer.batched_cost(case), case.parameters)
    expected = {"d" + name: value for name, value in gradapprox.items()}
    return check.check_gradients(gradients, expected).difference


def best_ms(function, *, number: int, repeat: int = 7) -> float:
    return min(timeit.repeat(function, number=number, repeat=repeat)) / number * 1000


def main() -> None:
    case = three_layer.public_case()
    gradients = three_layer.reference_gradients(case)
    loop_difference = notebook_loop_check(case.parameters, gradients, case.X, case.Y)
    batched_difference = batched_check(case, gradients)
    assert abs(loop_difference - batched_difference) < 1e-8, (loop_difference, batched_difference)
    batched_ms = best_ms(lambda: batched_check(case, gradients), number=200)
    loop_ms = best_ms(lambda: notebook_loop_check(case.parameters, gradients, case.X, case.Y), number=20)
    print(json.dumps({"bench": "check_3layer", "ms": round(batched_ms, 4), "loop_ms": round(loop_ms, 4),
                      "ratio_vs_loop": round(loop_ms / batched_ms, 1), "parameters": 47,
                      "difference": batched_difference, "loop_difference": float(loop_difference)}))


if __name__ == "__main__":
    main()
