"""The course's L-layer network, [LINEAR->RELU] x (L-1) -> LINEAR->SIGMOID of any depth and widths, and its cases."""
from __future__ import annotations

from typing import Mapping

import numpy as np

from grader.reference.cases import Case, as_spec_case, hidden_layers_healthy, output_healthy, parameter_shapes
from grader.spec import Checker, Gradients, Spec

NAME = "l_layer"
TITLE = "L-layer network (any depth)"
LAYER_SIZES = (5, 6, 3, 1)
BACKWARD = "L_layer_backward"
FORWARD = "L_layer_forward"
CHECKER = "gradient_checking"
HIDDEN_SEED = 20261122
# (layer sizes, batch size m) of the hidden cases: two to four layers, other widths and batch sizes.
HIDDEN_SHAPES = (
    ((4, 5, 1), 3),
    ((3, 4, 2, 1), 1),
    ((5, 7, 4, 1), 16),
    ((6, 5, 4, 3, 1), 8),
    ((2, 3, 3, 2, 1), 5),
)
# Square shapes: every width equals the batch size, so a swapped or untransposed operand runs.
SQUARE_SHAPES = (((4, 4, 4, 1), 4), ((3, 3, 3, 3, 1), 3), ((5, 5, 1), 5))


def layer_names(depth: int) -> tuple[str, ...]:
    """W1, b1, ..., WL, bL: the parameters of a network with depth layers, in the course's order."""
    return tuple(f"{kind}{layer}" for layer in range(1, depth + 1) for kind in ("W", "b"))


def depth_of(parameters: Mapping[str, np.ndarray]) -> int:
    """The number of layers L of a parameters dict (one W per layer)."""
    return sum(1 for name in parameters if name.startswith("W"))


PARAMETER_NAMES = layer_names(len(LAYER_SIZES) - 1)
GRADIENT_NAMES = tuple("d" + name for name in PARAMETER_NAMES)


def parameter_names(case: Case) -> tuple[str, ...]:
    """The parameters of a case's network: their number depends on its depth."""
    return layer_names(depth_of(case.parameters))


def gradient_names(case: Case) -> tuple[str, ...]:
    """The gradients graded on a case, dW1, db1, ..., dWL, dbL."""
    return tuple("d" + name for name in parameter_names(case))


# The course's helpers: each activation returns (A, cache) and each backward takes (dA, cache).

def sigmoid(Z):
    # exp(-logaddexp(0, -Z)) equals 1 / (1 + exp(-Z)) without overflow warnings for large -Z.
    A = np.exp(-np.logaddexp(0, -Z))
    return A, Z


def relu(Z):
    A = np.maximum(0, Z)
    return A, Z


def relu_backward(dA, cache):
    Z = cache
    dZ = np.array(dA, copy=True)
    dZ[Z <= 0] = 0
    return dZ


def sigmoid_backward(dA, cache):
    Z = cache
    s = np.exp(-np.logaddexp(0, -Z))
    dZ = dA * s * (1 - s)
    return dZ


def linear_forward(A_prev, W, b):
    Z = np.dot(W, A_prev) + b
    return Z, (A_prev, W, b)


def linear_activation_forward(A_prev, W, b, activation):
    Z, linear_cache = linear_forward(A_prev, W, b)
    if activation == "sigmoid":
        A, activation_cache = sigmoid(Z)
    else:
        A, activation_cache = relu(Z)
    return A, (linear_cache, activation_cache)


def L_layer_forward(X, parameters):
    """The forward pass: returns AL and the list of per-layer caches ((A_prev, W, b), Z)."""
    caches = []
    A = X
    L = len(parameters) // 2
    for l in range(1, L):
        A_prev = A
        A, cache = linear_activation_forward(A_prev, parameters["W" + str(l)], parameters["b" + str(l)], "relu")
        caches.append(cache)
    AL, cache = linear_activation_forward(A, parameters["W" + str(L)], parameters["b" + str(L)], "sigmoid")
    caches.append(cache)
    return AL, caches


def cost_func(AL, Y):
    """The course's cross-entropy cost of the output AL, as the notebook writes it."""
    m = Y.shape[1]
    cost = -1.0 / m * np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))
    return float(np.squeeze(cost))


def linear_backward(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    dW = 1.0 / m * np.dot(dZ, A_prev.T)
    db = 1.0 / m * np.sum(dZ, axis=1, keepdims=True)
    dA_prev = np.dot(W.T, dZ)
    return dA_prev, dW, db


def linear_activation_backward(dA, cache, activation):
    linear_cache, activation_cache = cache
    if activation == "relu":
        dZ = relu_backward(dA, activation_cache)
    else:
        dZ = sigmoid_backward(dA, activation_cache)
    dA_prev, dW, db = linear_backward(dZ, linear_cache)
    return dA_prev, dW, db


def L_layer_backward(AL, Y, caches):
    grads = {}
    L = len(caches)
    Y = Y.reshape(AL.shape)
    dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    current_cache = caches[L - 1]
    grads["dA" + str(L - 1)], grads["dW" + str(L)], grads["db" + str(L)] = linear_activation_backward(dAL, current_cache, "sigmoid")
    for l in reversed(range(L - 1)):
        current_cache = caches[l]
        dA_prev, dW, db = linear_activation_backward(grads["dA" + str(l + 1)], current_cache, "relu")
        grads["dA" + str(l)] = dA_prev
        grads["dW" + str(l + 1)] = dW
        grads["db" + str(l + 1)] = db
    return grads


# The course's vector helpers and checker.

def params_to_vector(params):
    """Every W and b, in the order W1, b1, ..., WL, bL, in one column vector; also each row's key."""
    keys, vectors = [], []
    for name in layer_names(depth_of(params)):
        vector = np.reshape(params[name], (-1, 1))
        keys += [name] * vector.shape[0]
        vectors.append(vector)
    return np.concatenate(vectors, axis=0), keys


def grads_to_vector(grads):
    """Every dW and db (other keys, like dA, ignored) in one column vector; also each row's key."""
    depth = sum(1 for name in grads if name.startswith("dW"))
    keys, vectors = [], []
    for name in layer_names(depth):
        vector = np.reshape(grads["d" + name], (-1, 1))
        keys += ["d" + name] * vector.shape[0]
        vectors.append(vector)
    return np.concatenate(vectors, axis=0), keys


def vector_to_params(theta, params):
    """The inverse of params_to_vector: params gives the shapes; a new dict is returned."""
    unrolled, start = {}, 0
    for name in layer_names(depth_of(params)):
        shape = np.shape(params[name])
        size = int(np.prod(shape))
        unrolled[name] = theta[start:start + size, 0].reshape(shape)
        start += size
    return unrolled


def gradient_checking(params, grads, X, Y, epsilon=1e-7):
    """The course's checker, done the course's way: one entry at a time, forward pass and cost_func.

    This is the value a student's checker must reproduce, so it keeps the course's formula and
    numerics on purpose (grader/check.py is the sound one).
    """
    grads_values, _ = grads_to_vector(grads)
    gradapprox = course_gradapprox(params, X, Y, epsilon)
    numerator = np.linalg.norm(grads_values - gradapprox)
    denominator = np.linalg.norm(grads_values) + np.linalg.norm(gradapprox)
    return float(numerator / denominator)


def course_gradapprox(params, X, Y, epsilon=1e-7, *, reuse_thetaplus=False):
    """The course's gradapprox column vector (params_to_vector's order); reuse_thetaplus: the known slip
    of starting thetaminus from thetaplus, which a checker grader compares students' values with."""
    params_values, _ = params_to_vector(params)
    num_params = params_values.shape[0]
    J_plus = np.zeros((num_params, 1))
    J_minus = np.zeros((num_params, 1))
    for i in range(num_params):
        thetaplus = np.copy(params_values)
        thetaplus[i, 0] += epsilon
        AL, _ = L_layer_forward(X, vector_to_params(thetaplus, params))
        J_plus[i, 0] = cost_func(AL, Y)
        thetaminus = np.copy(thetaplus if reuse_thetaplus else params_values)
        thetaminus[i, 0] -= epsilon
        AL, _ = L_layer_forward(X, vector_to_params(thetaminus, params))
        J_minus[i, 0] = cost_func(AL, Y)
    return (J_plus - J_minus) / (2 * epsilon)


# The sound cost and the cases.

def cost(X: np.ndarray, Y: np.ndarray, parameters: Mapping[str, np.ndarray]) -> np.ndarray:
    """The mean cross-entropy cost; parameters may carry leading batch axes, giving one cost each.

    -log(sigmoid(z)) is written logaddexp(0, -z), so a saturated output keeps its digits.
    """
    Z = pre_activations(X, parameters)[-1]
    logprobs = Y * np.logaddexp(0, -Z) + (1 - Y) * np.logaddexp(0, Z)
    return np.sum(logprobs, axis=(-2, -1)) / X.shape[1]


def pre_activations(X: np.ndarray, parameters: Mapping[str, np.ndarray]) -> list[np.ndarray]:
    """Z1, ..., ZL of the network (with any leading batch axes the parameters carry)."""
    depth = depth_of(parameters)
    A, Zs = X, []
    for layer in range(1, depth + 1):
        Z = parameters[f"W{layer}"] @ A + parameters[f"b{layer}"]
        Zs.append(Z)
        A = np.maximum(0, Z)
    return Zs


def public_case() -> Case:
    """The course's own test case (gradient_checking_test, seed 10), with the course's exact numbers."""
    rng = np.random.RandomState(10)
    X = rng.randn(5, 4)
    Y = np.array([[1, 1, 0, 0]])
    parameters = {}
    for name, shape in parameter_shapes(LAYER_SIZES).items():
        parameters[name] = rng.randn(*shape)
    return Case(name="course", X=X, Y=Y, parameters=parameters, public=True)


def random_case(rng: np.random.Generator, *, m: int, sizes: tuple[int, ...], name: str,
                profile: str = "course") -> Case:
    """A case of batch size m drawn from rng, resampled until correct code cannot fail on it."""
    for _ in range(20_000):
        X = rng.standard_normal((sizes[0], m))
        Y = rng.integers(0, 2, size=(1, m))
        parameters = {}
        for name_, shape in parameter_shapes(sizes).items():
            # Scaled by 1/sqrt(fan-in) so deep stacks neither explode nor die.
            scale = 1.0 if name_.startswith("b") else 1.5 / np.sqrt(shape[1])
            parameters[name_] = scale * rng.standard_normal(shape)
        *hidden, output = pre_activations(X, parameters)
        if hidden_layers_healthy(hidden) and output_healthy(output):
            return Case(name=name, X=X, Y=Y, parameters=parameters, profile=profile)
    raise RuntimeError(f"no healthy case found for m={m}, sizes={sizes}")


def _shape_name(prefix: str, sizes: tuple[int, ...], m: int) -> str:
    return f"{prefix}-{'-'.join(map(str, sizes))}-m{m}"


def hidden_cases(*, seed: int = HIDDEN_SEED) -> list[Case]:
    """Seeded cases of other depths, widths and batch sizes, screened so correct code always passes."""
    rng = np.random.default_rng(seed)
    return [random_case(rng, m=m, sizes=sizes, name=_shape_name("hidden", sizes, m)) for sizes, m in HIDDEN_SHAPES]


def square_cases(*, seed: int = HIDDEN_SEED + 1) -> list[Case]:
    """Cases whose widths equal the batch size, where swapped or untransposed operands run instead of crashing."""
    rng = np.random.default_rng(seed)
    return [random_case(rng, m=m, sizes=sizes, name=_shape_name("square", sizes, m), profile="square")
            for sizes, m in SQUARE_SHAPES]


def cases(*, profile: str = "course") -> list[Case]:
    """Every case a submission is graded on: the course's public case first, then the hidden ones."""
    if profile == "square":
        return square_cases()
    return [public_case(), *hidden_cases()]


# What gradgrade needs from every assignment module (see grader/assignments.py).

def _backward_args(inputs: Mapping) -> tuple:
    """The arguments of the student's backward pass: AL, Y and the reference forward's caches."""
    AL, caches = L_layer_forward(inputs["X"], inputs["parameters"])
    return AL, inputs["Y"], caches


def backward_args(case: Case) -> tuple:
    """The arguments of the student's backward pass on a case: AL, Y and the reference forward's caches."""
    return _backward_args(case.inputs)


def forward_agrees(case: Case, value, *, threshold: float = 1e-7) -> bool:
    """Whether what a student's forward pass returned is (AL, caches) with the reference's AL."""
    if not isinstance(value, (tuple, list)) or len(value) != 2 or not isinstance(value[0], np.ndarray):
        return False
    AL = L_layer_forward(case.X, case.parameters)[0]
    got = value[0]
    if got.shape != AL.shape or got.dtype.kind not in "biuf" or not np.all(np.isfinite(got)):
        return False
    difference = np.linalg.norm(got - AL) / (np.linalg.norm(got) + np.linalg.norm(AL))
    return bool(difference < threshold)


def batched_cost(case: Case):
    """The case's cost as a function of parameters with a leading batch axis."""
    return lambda parameters: cost(case.X, case.Y, parameters)


def reference_gradients(case: Case) -> dict[str, np.ndarray]:
    """The reference backward pass's gradients dW1, db1, ..., dbL on a case."""
    gradients = L_layer_backward(*backward_args(case))
    return {name: gradients[name] for name in gradient_names(case)}


def checker_args(case: Case, gradients: Mapping[str, np.ndarray] | None = None) -> tuple:
    """The arguments of the course's checker on a case: params, grads (the reference's unless given), X, Y."""
    grads = dict(reference_gradients(case) if gradients is None else gradients)
    return dict(case.parameters), grads, case.X, case.Y


def _checker_args(inputs: Mapping, gradients: Mapping) -> tuple:
    """gradient_checking's arguments before epsilon: params, grads, X, Y."""
    return dict(inputs["parameters"]), dict(gradients), inputs["X"], inputs["Y"]


def _checker_gradapprox(inputs: Mapping, epsilon: float, *, reuse_thetaplus: bool = False) -> np.ndarray:
    return course_gradapprox(inputs["parameters"], inputs["X"], inputs["Y"], epsilon, reuse_thetaplus=reuse_thetaplus)


SPEC = Spec(
    name=NAME, title=TITLE, seed=HIDDEN_SEED,
    functions=(
        # The student's caches may have their own layout: a backward pass that raises on the reference's
        # is graded on those of the student's own forward pass. [LINEAR->RELU] x (L-1) -> LINEAR->SIGMOID
        # with the cross-entropy cost: the fast check applies (--fast).
        Gradients(BACKWARD, cost=cost, args=_backward_args, forward=FORWARD,
                  chain=lambda inputs, output: (output(0), inputs["Y"], output(1)), relu_sigmoid=True),
        # gradient_checking calls the notebook's forward pass, cost and vector helpers; the course's take
        # any sizes, so the square probe is the deeper 3-3-3-3-1 network and its readings always count.
        Checker(CHECKER, args=_checker_args, gradapprox=_checker_gradapprox, square_case=1,
                helpers={name: f"course_l_layer:{name}" for name in
                         ("L_layer_forward", "cost_func", "params_to_vector", "grads_to_vector", "vector_to_params")}),
    ),
    public_cases=lambda rng: [as_spec_case(public_case())],
    hidden_cases=lambda rng: [as_spec_case(case) for case in hidden_cases()],
    square_cases=lambda rng: [as_spec_case(case) for case in square_cases()],
)
