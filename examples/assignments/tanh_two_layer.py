"""A two-layer tanh network with a softmax cross-entropy cost: a gradgrade spec graded through a gradient dict.

LINEAR -> TANH -> LINEAR -> SOFTMAX, examples in columns as in the first course: X is (n_x, m), Y the
one-hot labels (C, m). Students write backward_propagation(X, Y, cache) -> {"dW1", "db1", "dW2", "db2"}
from the cache forward_propagation (below, given to them) returns.
"""
import numpy as np

from grader.spec import Case, Gradients, Spec


def softmax(Z):
    """Column-wise softmax (over the classes, axis -2), shifted by each column's maximum so exp cannot overflow."""
    E = np.exp(Z - np.max(Z, axis=-2, keepdims=True))
    return E / np.sum(E, axis=-2, keepdims=True)


def forward_propagation(X, Y, parameters):
    """The mean cross-entropy of softmax(W2 tanh(W1 X + b1) + b2) against Y, and the cache backward needs.

    Written with @ and the class axis at -2, so a stack of parameter sets (a leading axis) gives a stack of costs.
    """
    W1, b1, W2, b2 = parameters["W1"], parameters["b1"], parameters["W2"], parameters["b2"]
    m = X.shape[1]
    Z1 = W1 @ X + b1
    A1 = np.tanh(Z1)
    Z2 = W2 @ A1 + b2
    A2 = softmax(Z2)
    cost = -np.sum(Y * np.log(A2), axis=(-2, -1)) / m
    return cost, (Z1, A1, W1, b1, Z2, A2, W2, b2)


def backward_propagation(X, Y, cache):
    """The gradients of the cost with respect to W1, b1, W2, b2, from the forward pass's cache."""
    m = X.shape[1]
    (Z1, A1, W1, b1, Z2, A2, W2, b2) = cache
    dZ2 = A2 - Y
    dW2 = 1. / m * np.dot(dZ2, A1.T)
    db2 = 1. / m * np.sum(dZ2, axis=1, keepdims=True)
    dA1 = np.dot(W2.T, dZ2)
    dZ1 = dA1 * (1 - A1 ** 2)
    dW1 = 1. / m * np.dot(dZ1, X.T)
    db1 = 1. / m * np.sum(dZ1, axis=1, keepdims=True)
    return {"dZ2": dZ2, "dW2": dW2, "db2": db2, "dA1": dA1, "dZ1": dZ1, "dW1": dW1, "db1": db1}


def cost(X, Y, parameters):
    return forward_propagation(X, Y, parameters)[0]


def cases(rng, sizes):
    """One case per (n_x, n_h, C, m): small random weights, nonzero biases, every class among the labels."""
    found = []
    for n_x, n_h, C, m in sizes:
        labels = rng.permutation(np.arange(m) % C)
        parameters = {"W1": rng.standard_normal((n_h, n_x)), "b1": 0.5 * rng.standard_normal((n_h, 1)),
                      "W2": rng.standard_normal((C, n_h)), "b2": 0.5 * rng.standard_normal((C, 1))}
        found.append(Case(f"nx{n_x}-nh{n_h}-C{C}-m{m}-{len(found)}",
                          {"X": rng.standard_normal((n_x, m)), "Y": np.eye(C)[:, labels], "parameters": parameters}))
    return found


SPEC = Spec(
    name="tanh_two_layer",
    title="Two-layer tanh network with a softmax cross-entropy cost",
    functions=[Gradients("backward_propagation", cost=cost,
                         # the student's function gets the cache of the reference forward, as the notebook does
                         args=lambda inputs: (inputs["X"], inputs["Y"],
                                              forward_propagation(inputs["X"], inputs["Y"], inputs["parameters"])[1]))],
    public_cases=lambda rng: cases(rng, [(4, 5, 3, 6)]),
    hidden_cases=lambda rng: cases(rng, [(3, 4, 2, 1), (5, 3, 4, 7), (2, 6, 3, 9)]),
    # n_x = n_h = C = m: a missing transpose or the wrong layer's activation runs and must be caught by value.
    square_cases=lambda rng: cases(rng, [(4, 4, 4, 4), (3, 3, 3, 3)]),
    seed=2027,
)
