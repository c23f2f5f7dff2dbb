"""The course's public_tests module: the quick checks a notebook runs on itself (runs inside the sandbox).

They use only numpy and the public case, never gradgrade's reference; like the course's, each prints
"All tests passed." or raises AssertionError. gradgrade's grade does not depend on them.
"""
import numpy as np

from testCases import gradient_check_n_test_case


def forward_propagation_test(target):
    """The warm-up J(theta) = theta * x."""
    x, theta = 2, 4
    J = target(x, theta)
    assert np.isclose(J, 8), f"forward_propagation(2, 4) should be 8, got {J}"
    print("\033[92mAll tests passed.")


def backward_propagation_test(target):
    """The warm-up dtheta = x."""
    x, theta = 3, 4
    dtheta = target(x, theta)
    assert np.isclose(dtheta, 3), f"backward_propagation(3, 4) should be 3, got {dtheta}"
    print("\033[92mAll tests passed.")


def gradient_check_test(target, epsilon=1e-7):
    """The warm-up checker: a tiny difference for J(theta) = theta * x."""
    difference = target(3, 4, epsilon)
    assert np.isscalar(difference) or np.ndim(difference) == 0, "gradient_check should return a number"
    assert difference < 1e-7, f"the difference should be below 1e-7 for a correct gradient, got {difference}"
    print("\033[92mAll tests passed.")


def gradient_check_n_test(target, parameters, gradients, X, Y):
    """The N-dimensional checker returns one non-negative number, with or without print_msg."""
    try:
        difference = target(parameters, gradients, X, Y, 1e-7, False)
    except TypeError:
        difference = target(parameters, gradients, X, Y, 1e-7)
    difference = float(np.asarray(difference))
    assert difference >= 0 and np.isfinite(difference), f"the difference should be a finite number >= 0, got {difference}"
    print("\033[92mAll tests passed.")


__all__ = ["forward_propagation_test", "backward_propagation_test", "gradient_check_test",
           "gradient_check_n_test", "gradient_check_n_test_case"]
