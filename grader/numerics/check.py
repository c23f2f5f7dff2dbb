"""The numerical gradient check: central differences, relative differences, per-parameter verdicts.

Pure numpy: takes arrays and callables, returns records; no files, no printing, no processes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

EPSILON = 1e-6
THRESHOLD = 1e-7

# A batched cost takes parameters with one leading batch axis and returns one cost per batch entry.
BatchedCost = Callable[[Mapping[str, np.ndarray]], np.ndarray]


@dataclass(frozen=True)
class Expected:
    """The numerical gradients of one case made ready for checking: flat, with their norms, and concatenated.

    They are the same for every submission, so a grader prepares them once (see prepare).
    """

    gradients: Mapping[str, np.ndarray]
    names: tuple[str, ...]
    flat: Mapping[str, np.ndarray]
    norms: Mapping[str, float]
    whole: np.ndarray
    whole_norm: float


def prepare(expected: Mapping[str, np.ndarray], names: Sequence[str] | None = None) -> Expected:
    """expected (gradient names to numerical gradients) ready for check_gradients, in the order of names."""
    names = tuple(names or expected)
    flat = {name: np.asarray(expected[name], dtype=np.float64).ravel() for name in names}
    whole = np.concatenate([flat[name] for name in names])
    with np.errstate(all="ignore"):
        norms = {name: vector_norm(vector) for name, vector in flat.items()}
        whole_norm = vector_norm(whole)
    return Expected(expected, names, flat, norms, whole, whole_norm)


@dataclass(frozen=True)
class BlockCheck:
    """The verdict on one parameter's gradient in one case."""

    name: str
    passed: bool
    difference: float | None
    message: str


@dataclass(frozen=True)
class GradientCheck:
    """The verdict on one case: overall difference and one BlockCheck per parameter."""

    passed: bool
    difference: float | None
    blocks: tuple[BlockCheck, ...]

    def block(self, name: str) -> BlockCheck:
        return next(block for block in self.blocks if block.name == name)


def vector_norm(vector: np.ndarray) -> float:
    """The Euclidean norm of a flat float64 vector (inf when its squares overflow, NaN when it holds one).

    np.linalg.norm costs a few microseconds of dispatch; the vector's own dot product does not.
    """
    return math.sqrt(vector.dot(vector))


def relative_difference(grad: np.ndarray, gradapprox: np.ndarray) -> float:
    """||grad - gradapprox|| / (||grad|| + ||gradapprox||): 0 when both are zero, NaN when either is not finite."""
    grad = np.asarray(grad, dtype=np.float64).ravel()
    gradapprox = np.asarray(gradapprox, dtype=np.float64).ravel()
    with np.errstate(all="ignore"):
        return flat_difference(grad, gradapprox)


def flat_difference(grad: np.ndarray, gradapprox: np.ndarray, gradapprox_norm: float | None = None) -> float:
    """relative_difference of two flat float64 vectors; call inside np.errstate(all="ignore").

    The caller's errstate lets a whole check pay for one (a few microseconds each) instead of one per block.
    gradapprox_norm, when given, is vector_norm(gradapprox), computed once for every submission.
    """
    denominator = vector_norm(grad) + (vector_norm(gradapprox) if gradapprox_norm is None else gradapprox_norm)
    if not math.isfinite(denominator):
        return float("nan")
    if denominator == 0.0:
        return 0.0
    return vector_norm(grad - gradapprox) / denominator


def passes(difference: float | None, threshold: float) -> bool:
    """True only for a finite difference below the threshold (NaN compares False either way)."""
    return difference is not None and bool(difference < threshold)


def flatten(parameters: Mapping[str, np.ndarray], names: Sequence[str]) -> np.ndarray:
    """Parameters in the given order, flattened and concatenated into one float64 vector."""
    return np.concatenate([np.asarray(parameters[name], dtype=np.float64).ravel() for name in names])


def unflatten(theta: np.ndarray, shapes: Mapping[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    """The inverse of flatten; theta may carry leading batch axes, which every block keeps."""
    blocks, start = {}, 0
    batch = theta.shape[:-1]
    for name, shape in shapes.items():
        size = int(np.prod(shape))
        blocks[name] = theta[..., start:start + size].reshape(batch + tuple(shape))
        start += size
    return blocks


def numerical_gradient(cost: BatchedCost, parameters: Mapping[str, np.ndarray], *,
                       epsilon: float = EPSILON) -> dict[str, np.ndarray]:
    """The central-difference gradient of cost at parameters, every perturbation in one batched call.

    Row i of the batch is theta + epsilon * e_i, row P + i is theta - epsilon * e_i.
    """
    shapes = {name: np.shape(value) for name, value in parameters.items()}
    theta = flatten(parameters, list(shapes))
    size = theta.size
    batch = np.tile(theta, (2 * size, 1))
    entries = np.arange(size)
    batch[entries, entries] += epsilon
    batch[size + entries, entries] -= epsilon
    costs = np.asarray(cost(unflatten(batch, shapes)), dtype=np.float64)
    gradapprox = (costs[:size] - costs[size:]) / (2 * epsilon)
    return unflatten(gradapprox, shapes)


def loop_numerical_gradient(cost: Callable[[Mapping[str, np.ndarray]], float],
                            parameters: Mapping[str, np.ndarray], *,
                            epsilon: float = EPSILON) -> dict[str, np.ndarray]:
    """The same gradient one entry at a time, as the course notebook computes it (the slow baseline)."""
    shapes = {name: np.shape(value) for name, value in parameters.items()}
    theta = flatten(parameters, list(shapes))
    gradapprox = np.zeros_like(theta)
    for i in range(theta.size):
        thetaplus = theta.copy()
        thetaplus[i] += epsilon
        thetaminus = theta.copy()
        thetaminus[i] -= epsilon
        J_plus = float(cost(unflatten(thetaplus, shapes)))
        J_minus = float(cost(unflatten(thetaminus, shapes)))
        gradapprox[i] = (J_plus - J_minus) / (2 * epsilon)
    return unflatten(gradapprox, shapes)


def describe_mismatch(name: str, got: np.ndarray, expected: np.ndarray, *, threshold: float) -> str:
    """A numpy-style account of where got differs from expected: how many entries, the worst one.

    The relative error is taken over the entries whose expected value is not 0 (dividing by 0 would print
    "max rel error 1e+307" for any error there); wrong entries where 0 is expected are counted instead.
    """
    abs_error = np.abs(got - expected)
    tolerance = threshold * (_norm(got) + _norm(expected))
    mismatched = abs_error > max(tolerance, 1e-12)
    wrong = int(np.count_nonzero(mismatched))
    worst = _unravel(int(abs_error.argmax()), abs_error.shape)
    where = "[" + ", ".join(str(i) for i in worst) + "]"
    nonzero = expected != 0
    relative = f", max rel error {(abs_error[nonzero] / np.abs(expected[nonzero])).max():.3g}" if nonzero.any() else ""
    at_zero = int(np.count_nonzero(mismatched & ~nonzero))
    zeros = f", {at_zero} wrong where 0 is expected" if at_zero else ""
    # argmax finds the first maximum (or NaN), so the worst entry's error is abs_error.max() without a second pass.
    return (f"{name}: mismatched entries {wrong} / {got.size}; worst at {where}: got {got[worst]:.6g}, "
            f"expected {expected[worst]:.6g} (max abs error {abs_error[worst]:.3g}{relative}{zeros})")


def _norm(array: Any) -> float:
    """np.linalg.norm(array), for a float64 array without its dispatch: the same dot of its entries in memory order."""
    if type(array) is np.ndarray and array.dtype == np.float64:
        return vector_norm(array.ravel(order="K"))
    return float(np.linalg.norm(array))


def _unravel(index: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    """np.unravel_index(index, shape) for a C-order index, as Python ints (numpy's call costs microseconds)."""
    where = []
    for size in reversed(shape):
        index, entry = divmod(index, size)
        where.append(entry)
    return tuple(reversed(where))


def kind_of(got: Any) -> str:
    """What a gradient that is not a float array is instead: its type's name, or "array of <dtype>"."""
    if isinstance(got, np.ndarray):
        return f"array of {got.dtype}"
    # A value the sandbox could not send as data (an Opaque) carries its own type's name.
    return getattr(got, "type_name", type(got).__name__)


def _unusable(name: str, got: Any, expected: np.ndarray) -> BlockCheck | None:
    """The verdict on a gradient that cannot be compared with expected (missing, not numbers, wrong shape), or None."""
    if got is None:
        return BlockCheck(name, False, None, f"{name} is missing from the gradients")
    if not isinstance(got, np.ndarray) or got.dtype.kind not in "biuf":
        return BlockCheck(name, False, None,
                          f"{name} should be a float array of shape {expected.shape}, got {kind_of(got)}")
    if got.shape != expected.shape:
        return BlockCheck(name, False, None, f"{name} has shape {got.shape}, expected {expected.shape}")
    return None


def _verdict(name: str, got: np.ndarray, expected: np.ndarray, difference: float, threshold: float) -> BlockCheck:
    """The verdict on a float64 gradient of the right shape whose relative difference from expected is known."""
    if math.isnan(difference):
        bad = int(np.count_nonzero(~np.isfinite(got)))
        return BlockCheck(name, False, None, f"{name} has {bad} / {got.size} entries that are NaN or infinite")
    if passes(difference, threshold):
        return BlockCheck(name, True, difference, "ok")
    return BlockCheck(name, False, difference, describe_mismatch(name, got, expected, threshold=threshold))


def check_block(name: str, got: Any, expected: np.ndarray, *, threshold: float = THRESHOLD) -> BlockCheck:
    """Compare one student gradient with the numerical one: shape, finiteness, then the difference."""
    unusable = _unusable(name, got, expected)
    if unusable is not None:
        return unusable
    got = got.astype(np.float64, copy=False)  # read only from here on
    return _verdict(name, got, expected, relative_difference(got, expected), threshold)


def check_gradients(gradients: Mapping[str, Any], expected: Mapping[str, np.ndarray] | Expected, *,
                    threshold: float = THRESHOLD, names: Sequence[str] | None = None) -> GradientCheck:
    """Check a student's gradients against numerical ones, block by block and overall.

    gradients maps gradient names (dW1, ...) to whatever the student returned; expected maps the same
    names to the numerical gradients, or is them as prepare made them. The overall difference needs
    every block in the right shape. It gives what check_block gives for each block, with one errstate
    for the whole check.
    """
    if not isinstance(expected, Expected):
        expected = prepare(expected, names)
    elif names and tuple(names) != expected.names:
        expected = prepare(expected.gradients, names)
    names, wanted = expected.names, expected.gradients
    unusable = {name: _unusable(name, gradients.get(name), wanted[name]) for name in names}
    got = {name: gradients[name].astype(np.float64, copy=False)  # read only from here on
           for name in names if unusable[name] is None}
    flat_got = {name: value.ravel() for name, value in got.items()}
    difference = None
    with np.errstate(all="ignore"):
        differences = {name: flat_difference(flat_got[name], expected.flat[name], expected.norms[name])
                       for name in got}
        # A block that is NaN somewhere has no difference of its own, so there is none overall either.
        if len(got) == len(unusable) and not any(math.isnan(value) for value in differences.values()):
            difference = flat_difference(np.concatenate([flat_got[name] for name in names]), expected.whole,
                                         expected.whole_norm)
    blocks = tuple(unusable[name] or _verdict(name, got[name], wanted[name], differences[name], threshold)
                   for name in names)
    passed = all(block.passed for block in blocks) and passes(difference, threshold)
    return GradientCheck(passed=passed, difference=difference, blocks=blocks)
