"""Numerical gradients of any scalar function of named inputs, and the screening that keeps a case healthy.

Pure numpy: a spec's reference functions go in, arrays and verdicts come out. Every perturbation is one
batched call where the function broadcasts over a leading axis (checked, not assumed), one call per
entry otherwise.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from grader.numerics import check

# The reference's analytic gradient must match the numerical one this closely on a screened case.
REFERENCE_AGREEMENT = 1e-9
# The central differences at epsilon and epsilon/4 must agree this closely: further apart, a perturbation
# crossed a kink or lost its digits, and a correct submission could fail there.
STEP_AGREEMENT = 1e-6
# Further than this from numerical gradients whose steps agree, the reference is wrong, not unlucky.
WRONG = 1e-6
# The steps of the Richardson estimate the reference is screened against.
COARSE_STEP = 1e-4
# A one-sided difference at epsilon is off by about epsilon times the curvature: an analytic gradient this close
# (relative to the gradient's largest entry) to the slope on one side of a kink is that side's derivative.
ONE_SIDED = 1e-4


def fresh(value: Any) -> Any:
    """A deep copy of inputs (arrays, dicts, lists), so a function that writes into them spoils nothing."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (dict, list, tuple)):
        return copy.deepcopy(value)
    return value


def _entries(value: Any, path: tuple) -> list[tuple[tuple, np.ndarray]]:
    """Every float array inside value (a dict of arrays, or an array) with its path of keys."""
    if isinstance(value, Mapping):
        return [found for key in value for found in _entries(value[key], path + (key,))]
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return [(path, value)]
    return []


def _set(inputs: dict[str, Any], path: tuple, array: np.ndarray) -> None:
    holder = inputs
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = array


def numerical_gradient(scalar: Callable[[dict[str, Any]], float], inputs: Mapping[str, Any], wrt: str, *,
                       epsilon: float = check.EPSILON) -> Any:
    """The central-difference gradient of scalar(inputs) with respect to inputs[wrt].

    inputs[wrt] is an array (the gradient is one array of its shape) or a dict of arrays (the gradient
    is a dict with the same keys). scalar gets a fresh copy of the inputs on every call.
    """
    found = _entries({wrt: inputs[wrt]}, ())
    gradients = {}
    for path, value in found:
        gradients[path] = _loop(scalar, inputs, path, value, epsilon)
    if isinstance(inputs[wrt], Mapping):
        return {path[-1]: gradient for path, gradient in gradients.items()}
    return gradients[(wrt,)]


def _loop(scalar: Callable[[dict[str, Any]], float], inputs: Mapping[str, Any], path: tuple, value: np.ndarray,
          epsilon: float) -> np.ndarray:
    plus, minus = _sides(scalar, inputs, path, value, epsilon)
    return (plus - minus) / (2 * epsilon)


def _sides(scalar: Callable[[dict[str, Any]], float], inputs: Mapping[str, Any], path: tuple, value: np.ndarray,
           epsilon: float) -> tuple[np.ndarray, np.ndarray]:
    """scalar with each entry of the array at path moved by +epsilon, and by -epsilon, shaped as the array."""
    plus, minus = np.zeros(value.shape, dtype=np.float64), np.zeros(value.shape, dtype=np.float64)
    for index in range(value.size):
        for step, outcome in ((epsilon, plus), (-epsilon, minus)):
            moved = {key: fresh(item) for key, item in inputs.items()}
            perturbed = value.astype(np.float64, copy=True)
            perturbed.reshape(-1)[index] += step
            _set(moved, path, perturbed)
            outcome.reshape(-1)[index] = float(scalar(moved))
    return plus, minus


def one_sided_gradients(scalar: Callable[[dict[str, Any]], float], inputs: Mapping[str, Any], wrt: str, *,
                        epsilon: float = check.EPSILON) -> tuple[Any, Any]:
    """The forward and backward differences (f(x + h) - f(x)) / h and (f(x) - f(x - h)) / h of scalar(inputs)
    with respect to inputs[wrt], each shaped as numerical_gradient's. On a kink (a hinge's max(0, .) exactly
    at 0) the central difference is the mean of the slopes on its two sides, and these are the slopes."""
    base = float(scalar({key: fresh(item) for key, item in inputs.items()}))
    forward, backward = {}, {}
    for path, value in _entries({wrt: inputs[wrt]}, ()):
        plus, minus = _sides(scalar, inputs, path, value, epsilon)
        forward[path], backward[path] = (plus - base) / epsilon, (base - minus) / epsilon
    if isinstance(inputs[wrt], Mapping):
        return ({path[-1]: gradient for path, gradient in forward.items()},
                {path[-1]: gradient for path, gradient in backward.items()})
    return forward[(wrt,)], backward[(wrt,)]


def on_kink(analytic: Any, forward: Any, backward: Any) -> bool:
    """Whether an analytic gradient the central difference disagrees with is the derivative on one side of a
    kink: its two sides' slopes differ somewhere, and entry by entry it is one of them (to ONE_SIDED)."""
    try:
        if isinstance(forward, Mapping):  # a dict of gradients is judged as one vector
            keys = tuple(forward)
            if not isinstance(analytic, Mapping) or any(np.shape(analytic.get(key)) != np.shape(forward[key])
                                                        for key in keys):
                return False
            analytic, forward, backward = (np.concatenate([np.ravel(np.asarray(part[key], dtype=np.float64))
                                                           for key in keys]) for part in (analytic, forward, backward))
        analytic = np.asarray(analytic, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    forward, backward = np.asarray(forward, dtype=np.float64), np.asarray(backward, dtype=np.float64)
    if analytic.shape != forward.shape or not np.all(np.isfinite(forward) & np.isfinite(backward)):
        return False
    scale = max(float(np.max(np.abs(analytic), initial=0.0)), float(np.max(np.abs(forward), initial=0.0)), 1e-12)
    sides = np.minimum(np.abs(analytic - forward), np.abs(analytic - backward))
    return bool(np.all(sides <= ONE_SIDED * scale) and np.any(np.abs(forward - backward) > ONE_SIDED * scale))


def batched_gradient(batched: Callable[[Mapping[str, np.ndarray]], np.ndarray], parameters: Mapping[str, np.ndarray],
                     *, epsilon: float = check.EPSILON) -> dict[str, np.ndarray] | None:
    """check.numerical_gradient when batched broadcasts over a leading axis of every parameter, else None.

    Broadcasting is proved on the spot: two perturbed copies through one call must give the costs the
    unbatched calls give, or the batched path is not taken.
    """
    try:
        with np.errstate(all="ignore"):
            stacked = {name: np.stack([value, value + 0.5 * epsilon]) for name, value in parameters.items()}
            together = np.asarray(batched(stacked), dtype=np.float64)
            alone = [float(batched({name: value[k] for name, value in stacked.items()})) for k in range(2)]
        if together.shape != (2,) or not np.allclose(together, alone, rtol=1e-12, atol=0):
            return None
        return check.numerical_gradient(batched, parameters, epsilon=epsilon)
    except Exception:  # the reference does not broadcast: the looped path it is
        return None


@dataclass(frozen=True)
class Health:
    """Whether a case's numerical gradients can be trusted, and if not, what is wrong (one line)."""

    healthy: bool
    problem: str = ""
    reference_wrong: bool = False


def richardson(coarse: Any, half: Any) -> Any:
    """(4 D(h/2) - D(h)) / 3 of two central differences at steps h and h/2: the estimate without its h**2 error,
    precise to about 1e-12 at h = 1e-4 where one central difference at 1e-6 keeps only 1e-10 of the cost's scale."""
    if isinstance(coarse, Mapping):
        return {key: richardson(coarse[key], half[key]) for key in coarse}
    return (4 * np.asarray(half, dtype=np.float64) - np.asarray(coarse, dtype=np.float64)) / 3


def screen(name: str, analytic: Any, numerical: Any, finer: Any, accurate: Any = None) -> Health:
    """Screen one gradient (array, or dict of arrays) of one case.

    numerical and finer: the central differences at epsilon and epsilon/4; accurate: the Richardson
    estimate (see richardson). Non-finite values or steps that disagree make the case unhealthy (draw
    another); a reference that disagrees with steps that agree is wrong; one that agrees with them but not
    to REFERENCE_AGREEMENT with the accurate estimate sits too near a kink or loses digits (draw another).
    """
    if isinstance(numerical, Mapping):
        for key in numerical:
            health = screen(f"{name}[{key!r}]", _get(analytic, key), numerical[key], finer[key],
                            None if accurate is None else accurate[key])
            if not health.healthy:
                return health
        return Health(True)
    numerical, finer = np.asarray(numerical, dtype=np.float64), np.asarray(finer, dtype=np.float64)
    if not (np.all(np.isfinite(numerical)) and np.all(np.isfinite(finer))):
        return Health(False, f"the numerical gradient of {name} is not finite")
    steps = check.relative_difference(numerical, finer)
    if not steps < STEP_AGREEMENT:
        return Health(False, f"the numerical gradient of {name} changes with the step ({steps:.1e}): "
                             f"a kink or lost digits")
    if analytic is None:
        return Health(True)
    try:
        analytic = np.asarray(analytic, dtype=np.float64)
    except (TypeError, ValueError):
        return Health(False, f"the reference's {name} is not an array", reference_wrong=True)
    if analytic.shape != numerical.shape:
        return Health(False, f"the reference's {name} has shape {analytic.shape}, its numerical gradient "
                             f"{numerical.shape}", reference_wrong=True)
    difference = check.relative_difference(analytic, numerical)
    if not difference < WRONG:
        return Health(False, f"the reference's {name} differs from its numerical gradient by {difference:.1e}",
                      reference_wrong=True)
    if accurate is not None:
        difference = check.relative_difference(analytic, accurate)
    if not difference < REFERENCE_AGREEMENT:
        return Health(False, f"the reference's {name} differs from its numerical gradient by {difference:.1e}")
    return Health(True)


def _get(analytic: Any, key: Any) -> Any:
    if isinstance(analytic, Mapping):
        return analytic.get(key)
    return None
