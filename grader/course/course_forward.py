"""The course notebook's forward_propagation_n, for student checkers that call it without defining it (sandbox only)."""
import numpy as np


def _relu(x):
    return np.maximum(0, x)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


# A checker runs the same perturbed parameters once per probe (the reference's gradients, then each
# mutant's): the cost and the computed cache of each input, kept for the rest of the child's life.
_SEEN = {}
_MOST_SEEN = 4096


def _key(X, Y, parameters):
    """The inputs' values as a dict key, or None for anything but plain numeric arrays (computed afresh)."""
    try:
        arrays = (X, Y, parameters["W1"], parameters["b1"], parameters["W2"], parameters["b2"],
                  parameters["W3"], parameters["b3"])
    except (KeyError, TypeError):
        return None
    key = []
    for array in arrays:
        if type(array) is not np.ndarray or array.dtype.kind not in "biuf":
            return None
        key += (array.dtype, array.shape, array.tobytes())
    return tuple(key)


def _computed(X, Y, parameters):
    m = X.shape[1]
    W1, b1 = parameters["W1"], parameters["b1"]
    W2, b2 = parameters["W2"], parameters["b2"]
    W3, b3 = parameters["W3"], parameters["b3"]
    Z1 = np.dot(W1, X) + b1
    A1 = _relu(Z1)
    Z2 = np.dot(W2, A1) + b2
    A2 = _relu(Z2)
    Z3 = np.dot(W3, A2) + b3
    A3 = _sigmoid(Z3)
    logprobs = np.multiply(-np.log(A3), Y) + np.multiply(-np.log(1 - A3), 1 - Y)
    cost = 1. / m * np.sum(logprobs)
    return cost, (Z1, A1, Z2, A2, Z3, A3)


def forward_propagation_n(X, Y, parameters):
    """The cost (the notebook's naive log of the sigmoid) and the cache, as the notebook gives them.

    Computed once per distinct input: a repeat gets the same cost and fresh copies of the same arrays.
    A cost that is not finite (the floating-point warnings came with it) is computed afresh each time.
    """
    key = _key(X, Y, parameters)
    seen = _SEEN.get(key) if key is not None else None
    if seen is None:
        cost, computed = _computed(X, Y, parameters)
        if key is not None and np.isfinite(cost):
            if len(_SEEN) >= _MOST_SEEN:
                _SEEN.clear()
            _SEEN[key] = cost, tuple(array.copy() for array in computed)
    else:
        cost, computed = seen[0], tuple(array.copy() for array in seen[1])
    Z1, A1, Z2, A2, Z3, A3 = computed
    cache = (Z1, A1, parameters["W1"], parameters["b1"], Z2, A2, parameters["W2"], parameters["b2"],
             Z3, A3, parameters["W3"], parameters["b3"])
    return cost, cache


def forward_propagation(x, theta):
    """The warm-up's forward pass, J = theta * x, as the notebook gives it."""
    J = np.dot(theta, x)
    return J
