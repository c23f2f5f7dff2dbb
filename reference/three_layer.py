"""The course's network, LINEAR->RELU->LINEAR->RELU->LINEAR->SIGMOID with sizes 4-5-3-1, and its cases."""
from __future__ import annotations

from typing import Mapping

import numpy as np

from grader.reference.cases import Case, as_spec_case, hidden_layers_healthy, output_healthy
from grader.reference.cases import parameter_shapes as layer_shapes
from grader.spec import Checker, Gradients, Spec, Value

NAME = "three_layer"
TITLE = "Three-layer network (4-5-3-1)"
LAYER_SIZES = (4, 5, 3, 1)
# Every layer as wide as the batch, the output too: swapped, untransposed or entry-wise products then
# run (no shape error) and must be caught by value.
SQUARE_SIZES = (4, 4, 4, 4)
PARAMETER_NAMES = ("W1", "b1", "W2", "b2", "W3", "b3")
GRADIENT_NAMES = tuple("d" + name for name in PARAMETER_NAMES)
BACKWARD = "backward_propagation_n"
FORWARD = "forward_propagation_n"
CHECKER = "gradient_check_n"
HIDDEN_BATCH_SIZES = (1, 2, 5, 16)
HIDDEN_SEED = 20261121


def relu(x):
    return np.maximum(0, x)


def sigmoid(x):
    # exp(-logaddexp(0, -x)) equals 1 / (1 + exp(-x)) without overflow warnings for large -x.
    return np.exp(-np.logaddexp(0, -x))


def parameter_shapes(sizes: tuple[int, ...] = LAYER_SIZES) -> dict[str, tuple[int, int]]:
    """The shape of every parameter for layer sizes (n_x, n1, n2, n_y), the course's by default."""
    return layer_shapes(sizes)


def cost(X: np.ndarray, Y: np.ndarray, parameters: Mapping[str, np.ndarray]) -> np.ndarray:
    """The mean cross-entropy cost; parameters may carry leading batch axes, giving one cost each.

    -log(sigmoid(z)) is written logaddexp(0, -z), so a saturated output keeps its digits.
    """
    Z1 = parameters["W1"] @ X + parameters["b1"]
    Z2 = parameters["W2"] @ relu(Z1) + parameters["b2"]
    Z3 = parameters["W3"] @ relu(Z2) + parameters["b3"]
    logprobs = Y * np.logaddexp(0, -Z3) + (1 - Y) * np.logaddexp(0, Z3)
    return np.sum(logprobs, axis=(-2, -1)) / X.shape[1]


def forward_propagation_n(X, Y, parameters):
    """The course's forward pass: returns (cost, cache) with the course's cache layout."""
    W1, b1 = parameters["W1"], parameters["b1"]
    W2, b2 = parameters["W2"], parameters["b2"]
    W3, b3 = parameters["W3"], parameters["b3"]
    Z1 = np.dot(W1, X) + b1
    A1 = relu(Z1)
    Z2 = np.dot(W2, A1) + b2
    A2 = relu(Z2)
    Z3 = np.dot(W3, A2) + b3
    A3 = sigmoid(Z3)
    cache = (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3)
    return float(cost(X, Y, parameters)), cache


def backward_propagation_n(X, Y, cache):
    m = X.shape[1]
    (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) = cache
    dZ3 = A3 - Y
    dW3 = 1.0 / m * np.dot(dZ3, A2.T)
    db3 = 1.0 / m * np.sum(dZ3, axis=1, keepdims=True)
    dA2 = np.dot(W3.T, dZ3)
    dZ2 = np.multiply(dA2, np.int64(A2 > 0))
    dW2 = 1.0 / m * np.dot(dZ2, A1.T)
    db2 = 1.0 / m * np.sum(dZ2, axis=1, keepdims=True)
    dA1 = np.dot(W2.T, dZ2)
    dZ1 = np.multiply(dA1, np.int64(A1 > 0))
    dW1 = 1.0 / m * np.dot(dZ1, X.T)
    db1 = 1.0 / m * np.sum(dZ1, axis=1, keepdims=True)
    gradients = {'dZ3': dZ3, 'dW3': dW3, 'db3': db3, 'dA2': dA2, 'dZ2': dZ2, 'dW2': dW2, 'db2': db2, 'dA1': dA1, 'dZ1': dZ1, 'dW1': dW1, 'db1': db1}
    return gradients


def dictionary_to_vector(parameters: Mapping[str, np.ndarray]) -> np.ndarray:
    """Parameters flattened in the course's order into one column vector."""
    return np.concatenate([np.reshape(parameters[name], (-1, 1)) for name in PARAMETER_NAMES])


def vector_to_dictionary(theta: np.ndarray, sizes: tuple[int, ...] = LAYER_SIZES) -> dict[str, np.ndarray]:
    """The inverse of dictionary_to_vector, for any layer sizes."""
    parameters, start = {}, 0
    for name, shape in parameter_shapes(sizes).items():
        size = shape[0] * shape[1]
        parameters[name] = np.reshape(theta[start:start + size], shape)
        start += size
    return parameters


def gradients_to_vector(gradients: Mapping[str, np.ndarray]) -> np.ndarray:
    return np.concatenate([np.reshape(gradients[name], (-1, 1)) for name in GRADIENT_NAMES])


def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7, print_msg=False, *, sizes=None):
    """The course's checker, done the course's way: one entry at a time, the naive log cost.

    This is the value a student's checker must reproduce, so it keeps the course's formula and
    numerics on purpose (check.py is the sound one).
    """
    grad = gradients_to_vector(gradients)
    gradapprox = course_gradapprox(parameters, X, Y, epsilon, sizes=sizes)
    numerator = np.linalg.norm(grad - gradapprox)
    denominator = np.linalg.norm(grad) + np.linalg.norm(gradapprox)
    difference = numerator / denominator
    if print_msg:
        print(f"difference = {difference}")
    return difference


def course_gradapprox(parameters, X, Y, epsilon=1e-7, *, reuse_thetaplus=False, sizes=None):
    """The course's gradapprox column vector (dictionary_to_vector's order), one entry at a time with the
    naive log cost; reuse_thetaplus: the known slip of leaving thetaminus at theta (thetaplus reused), which
    a checker grader compares students' values with."""
    sizes = sizes or (X.shape[0],) + tuple(parameters[f"W{k}"].shape[0] for k in (1, 2, 3))
    theta = dictionary_to_vector(parameters)
    gradapprox = np.zeros_like(theta)
    for i in range(theta.shape[0]):
        thetaplus = np.copy(theta)
        thetaplus[i, 0] += epsilon
        thetaminus = np.copy(theta)
        if not reuse_thetaplus:
            thetaminus[i, 0] -= epsilon
        J_plus = naive_cost(X, Y, vector_to_dictionary(thetaplus, sizes))
        J_minus = naive_cost(X, Y, vector_to_dictionary(thetaminus, sizes))
        gradapprox[i, 0] = (J_plus - J_minus) / (2 * epsilon)
    return gradapprox


def naive_cost(X, Y, parameters) -> float:
    """The course notebook's cost: log of the sigmoid, as written there."""
    Z1 = np.dot(parameters["W1"], X) + parameters["b1"]
    Z2 = np.dot(parameters["W2"], relu(Z1)) + parameters["b2"]
    A3 = 1 / (1 + np.exp(-(np.dot(parameters["W3"], relu(Z2)) + parameters["b3"])))
    logprobs = np.multiply(-np.log(A3), Y) + np.multiply(-np.log(1 - A3), 1 - Y)
    return float(1.0 / X.shape[1] * np.sum(logprobs))


def public_case() -> Case:
    """The course's own test case (gradient_check_n_test_case), with the course's exact numbers."""
    rng = np.random.RandomState(1)
    X = rng.randn(4, 3)
    Y = np.array([[1, 1, 0]])
    parameters = {}
    for name, shape in parameter_shapes().items():
        parameters[name] = rng.randn(*shape)
    return Case(name="course", X=X, Y=Y, parameters=parameters, public=True)


def pre_activations(X: np.ndarray, parameters: Mapping[str, np.ndarray]) -> list[np.ndarray]:
    """Z1, Z2, Z3 of the network for one set of parameters."""
    Z1 = parameters["W1"] @ X + parameters["b1"]
    Z2 = parameters["W2"] @ relu(Z1) + parameters["b2"]
    return [Z1, Z2, parameters["W3"] @ relu(Z2) + parameters["b3"]]


def random_case(rng: np.random.Generator, *, m: int, sizes: tuple[int, ...] = LAYER_SIZES,
                name: str, profile: str = "course") -> Case:
    """A case of batch size m drawn from rng, resampled until correct code cannot fail on it."""
    for _ in range(10_000):
        X = rng.standard_normal((sizes[0], m))
        Y = rng.integers(0, 2, size=(sizes[-1], m))
        parameters = {name_: rng.standard_normal(shape) for name_, shape in parameter_shapes(sizes).items()}
        *hidden, output = pre_activations(X, parameters)
        if hidden_layers_healthy(hidden) and output_healthy(output):
            return Case(name=name, X=X, Y=Y, parameters=parameters, profile=profile)
    raise RuntimeError(f"no healthy case found for m={m}, sizes={sizes}")


def hidden_cases(*, seed: int = HIDDEN_SEED) -> list[Case]:
    """Seeded cases with other batch sizes, screened so that a correct backward pass always passes."""
    rng = np.random.default_rng(seed)
    return [random_case(rng, m=m, name=f"hidden-m{m}") for m in HIDDEN_BATCH_SIZES]


def square_cases(*, seed: int = HIDDEN_SEED + 1) -> list[Case]:
    """Cases with n_x = n1 = n2 = m, where swapped or untransposed operands run instead of crashing."""
    rng = np.random.default_rng(seed)
    m = SQUARE_SIZES[0]
    return [random_case(rng, m=m, sizes=SQUARE_SIZES, name=f"square-{k}", profile="square") for k in range(3)]


def cases(*, profile: str = "course") -> list[Case]:
    """Every case a submission is graded on: the course's public case first, then the hidden ones."""
    if profile == "square":
        return square_cases()
    return [public_case(), *hidden_cases()]


# What gradgrade needs from every assignment module (see reference/__init__.py).

def _backward_args(inputs: Mapping) -> tuple:
    """The arguments of the student's backward pass: X, Y and the reference forward's cache."""
    _, cache = forward_propagation_n(inputs["X"], inputs["Y"], inputs["parameters"])
    return inputs["X"], inputs["Y"], cache


def backward_args(case: Case) -> tuple:
    """The arguments of the student's backward pass on a case: X, Y and the reference forward's cache."""
    return _backward_args(case.inputs)


def batched_cost(case: Case):
    """The case's cost as a function of parameters with a leading batch axis."""
    return lambda parameters: cost(case.X, case.Y, parameters)


def reference_gradients(case: Case) -> dict[str, np.ndarray]:
    """The reference backward pass's gradients dW1..db3 on a case."""
    gradients = backward_propagation_n(*backward_args(case))
    return {name: gradients[name] for name in GRADIENT_NAMES}


def _checker_args(inputs: Mapping, gradients: Mapping) -> tuple:
    """gradient_check_n's arguments before epsilon: parameters, gradients, X, Y."""
    return dict(inputs["parameters"]), dict(gradients), inputs["X"], inputs["Y"]


def _checker_gradapprox(inputs: Mapping, epsilon: float, *, reuse_thetaplus: bool = False) -> np.ndarray:
    return course_gradapprox(inputs["parameters"], inputs["X"], inputs["Y"], epsilon, reuse_thetaplus=reuse_thetaplus)


# The helpers the notebook's checker calls: the course's, unless the submission defines its own.
COURSE_HELPERS = {
    "forward_propagation_n": "course_forward:forward_propagation_n",
    "dictionary_to_vector": "gc_utils:dictionary_to_vector",
    "vector_to_dictionary": "gc_utils:vector_to_dictionary",
    "gradients_to_vector": "gc_utils:gradients_to_vector",
    "relu": "gc_utils:relu",
    "sigmoid": "gc_utils:sigmoid",
}

SPEC = Spec(
    name=NAME, title=TITLE, seed=HIDDEN_SEED,
    functions=(
        # [LINEAR->RELU] x 2 -> LINEAR->SIGMOID with W1..b3: the fast check applies (--fast).
        Gradients(BACKWARD, cost=cost, args=_backward_args, relu_sigmoid=True),
        # The course's vector_to_dictionary knows only the 4-5-3-1 sizes: failing at square sizes is what
        # the course's own helpers do, not a flaw of the checker.
        Checker(CHECKER, args=_checker_args, gradapprox=_checker_gradapprox, helpers=COURSE_HELPERS,
                square_skipped="skipped: its helpers work only for the course's 4-5-3-1 sizes"),
        # The course's naive log cost and the reference's logaddexp agree far better than 1e-7 on screened cases.
        Value(FORWARD, output=0, tolerance=1e-7),
    ),
    public_cases=lambda rng: [as_spec_case(public_case())],
    hidden_cases=lambda rng: [as_spec_case(case) for case in hidden_cases()],
    square_cases=lambda rng: [as_spec_case(case) for case in square_cases()],
)
