"""Exact and fast gradient checks of large [LINEAR->RELU] x (L-1) -> LINEAR->SIGMOID networks.

Pure numpy: takes arrays, returns records; no files, no printing, no processes.

Exact: every parameter's central difference (J(theta + eps e_i) - J(theta - eps e_i)) / (2 eps), the
value the course's loop computes, without running the network once per parameter. Perturbing
W_l[a, j] changes only row a of Z_l, by eps * A_{l-1}[j, :]; while no ReLU pre-activation changes sign
(the kink scan below says exactly when one does), the rest of the network is linear in that one entry,
so the output moves by eps * u with u[k] = G_l[a, k] * A_{l-1}[j, k], where G_l = dZ_L/dZ_l per example
comes from one backward sweep. The cost is then evaluated at both perturbed outputs, per example, in
a form that does not cancel: l(z + d) - l(z - d) = log1p(expm1(2d) * sigmoid(z - d)) for a label 0
(mirrored for a label 1). Perturbations that do cross a kink are run through the rest of the network
as they are, so the result is the loop's on every entry.

Fast: k random unit directions per parameter block (rank one, p q^T, for a weight matrix); v . grad is
compared with the central difference along v (one layer's block moves the output linearly too), and
only blocks that disagree get the exact check.

Kinks: the smallest step that flips a pre-activation's sign, per parameter, follows from one forward
pass (the rate at which each pre-activation moves, divided into its distance from 0). Entries whose
perturbation crosses a kink are reported and rechecked with a step below that distance, instead of
blaming the student for a numerical artefact.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from grader.numerics import check

EPSILON = check.EPSILON
THRESHOLD = check.THRESHOLD
DIRECTIONS = 4
# Perturbations evaluated per numpy batch: large enough to amortise the Python loop, small enough
# (8 MB per temporary) to stay in cache.
CHUNK = 1 << 20
# A stand-in for 1 / 0 that keeps 0 * rate == 0 (a step that moves nothing crosses nothing).
_HUGE = 1e300


@dataclass(frozen=True)
class Network:
    """One forward and one backward sweep of the network: all that the checks need, computed once.

    Zs[l-1] and As[l-1] are Z_l and A_{l-1} (As[0] is X); sensitivities[l-1] is dZ_L/dZ_l per example
    (n_l x m); rates[l-1] (hidden layers only) is how fast the nearest kink approaches, per unit of
    change of Z_l[a, k]: max over this and later hidden pre-activations of |dZ'/dZ_l[a, k]| / |Z'|.
    """

    parameters: Mapping[str, np.ndarray]
    X: np.ndarray
    Y: np.ndarray
    Zs: tuple[np.ndarray, ...]
    As: tuple[np.ndarray, ...]
    sensitivities: tuple[np.ndarray, ...]
    rates: tuple[np.ndarray, ...]

    @property
    def depth(self) -> int:
        return len(self.Zs)

    @property
    def m(self) -> int:
        return int(self.X.shape[1])

    @property
    def z(self) -> np.ndarray:
        """The output pre-activation Z_L as a vector of m values."""
        return self.Zs[-1][0]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f"{kind}{layer}" for layer in range(1, self.depth + 1) for kind in ("W", "b"))


@dataclass(frozen=True)
class Kink:
    """A parameter entry whose perturbation by epsilon flips a ReLU pre-activation's sign.

    step is the smallest step that flips one; crossed is the central difference across the kink (what
    the loop computes), rechecked the central difference with the step `epsilon`, which crosses none.
    """

    parameter: str
    index: tuple[int, ...]
    step: float
    epsilon: float
    crossed: float
    rechecked: float

    def message(self) -> str:
        where = "[" + ", ".join(map(str, self.index)) + "]"
        return (f"{self.parameter}{where}: a step of {self.step:.3g} flips a ReLU; rechecked with "
                f"epsilon {self.epsilon:.3g} ({self.crossed:.6g} across the kink, {self.rechecked:.6g} without)")


@dataclass(frozen=True)
class Numerical:
    """Central differences of every parameter (the loop's values) and the kinks the steps crossed."""

    gradapprox: Mapping[str, np.ndarray]
    kinks: tuple[Kink, ...]

    def kink_safe(self) -> dict[str, np.ndarray]:
        """The central differences with every kink entry replaced by its recheck."""
        return {name: with_rechecks(np.array(value), [kink for kink in self.kinks if kink.parameter == name])
                for name, value in self.gradapprox.items()}


def with_rechecks(values: np.ndarray, kinks: Sequence[Kink]) -> np.ndarray:
    """One block's central differences with each kink entry replaced by its recheck (in place)."""
    for kink in kinks:
        values[kink.index] = kink.rechecked
    return values


@dataclass(frozen=True)
class LargeCheck:
    """The exact check of a large network: the per-block verdict and the kinks it stepped around."""

    check: check.GradientCheck
    kinks: tuple[Kink, ...]

    @property
    def passed(self) -> bool:
        return self.check.passed


@dataclass(frozen=True)
class Directional:
    """One block's fast check: the relative difference of v . grad and the central differences along v."""

    name: str
    passed: bool
    difference: float | None
    crossed_kink: bool


@dataclass(frozen=True)
class FastCheck:
    """The fast check: directional verdicts, then the exact verdict of every block that failed them."""

    check: check.GradientCheck
    directional: tuple[Directional, ...]
    rechecked: tuple[str, ...]
    kinks: tuple[Kink, ...]

    @property
    def passed(self) -> bool:
        return self.check.passed


# One forward and one backward sweep.

def _inverse_distance(Z: np.ndarray) -> np.ndarray:
    """1 / |Z|, with _HUGE where Z is exactly at the kink."""
    distance = np.abs(Z)
    inverse = np.full(Z.shape, _HUGE)
    np.divide(1.0, distance, out=inverse, where=distance > 0)
    return np.minimum(inverse, _HUGE)


def _kink_rates(Ws: Sequence[np.ndarray], Zs: Sequence[np.ndarray]) -> tuple[np.ndarray, ...]:
    """rates[l-1][a, k] for every hidden layer l (see Network)."""
    depth = len(Zs)
    masks = [Z > 0 for Z in Zs]
    inverse = [_inverse_distance(Z) for Z in Zs[:-1]]
    rates = []
    for layer in range(depth - 1):
        rate = inverse[layer].copy()
        # jacobian[c, a, k]: how Z of a later hidden layer moves per unit of Z_layer[a, k], masks fixed.
        jacobian = np.eye(Zs[layer].shape[0])[:, :, None] * np.ones_like(Zs[layer])[None]
        for later in range(layer + 1, depth - 1):
            jacobian = np.einsum("dc,cak->dak", Ws[later], masks[later - 1][:, None, :] * jacobian)
            rate = np.maximum(rate, np.max(np.abs(jacobian) * inverse[later][:, None, :], axis=0))
        rates.append(rate)
    return tuple(rates)


def forward(parameters: Mapping[str, np.ndarray], X: np.ndarray, Y: np.ndarray) -> Network:
    """The network's sweeps for the checks; ValueError when the parameters do not describe one."""
    depth = sum(1 for name in parameters if name.startswith("W"))
    if depth < 1:
        raise ValueError("parameters need at least W1 and b1")
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64).reshape(1, -1)
    Ws = [np.asarray(parameters[f"W{layer}"], dtype=np.float64) for layer in range(1, depth + 1)]
    bs = [np.asarray(parameters[f"b{layer}"], dtype=np.float64) for layer in range(1, depth + 1)]
    if Ws[-1].shape[0] != 1 or Y.shape[1] != X.shape[1]:
        raise ValueError(f"expected one output unit and Y of shape (1, {X.shape[1]})")
    As, Zs = [X], []
    for layer in range(depth):
        Z = Ws[layer] @ As[-1] + bs[layer]
        Zs.append(Z)
        if layer < depth - 1:
            As.append(np.maximum(0, Z))
    sensitivities = [np.ones_like(Zs[-1])]
    for layer in range(depth - 1, 0, -1):
        sensitivities.insert(0, (Zs[layer - 1] > 0) * (Ws[layer].T @ sensitivities[0]))
    values = {**{f"W{k + 1}": Ws[k] for k in range(depth)}, **{f"b{k + 1}": bs[k] for k in range(depth)}}
    return Network(values, X, Y, tuple(Zs), tuple(As), tuple(sensitivities), _kink_rates(Ws, Zs))


# The cost at perturbed outputs.

def _shift_difference(z: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """softplus(z + delta) - softplus(z - delta), without cancellation."""
    with np.errstate(over="ignore"):
        return np.log1p(np.expm1(2 * delta) / (1 + np.exp(delta - z)))


def cost_differences(z: np.ndarray, Y: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """Per example, l(z + delta) - l(z - delta) for the cross-entropy l; delta's last axis is the example."""
    y = Y.reshape(-1)
    if np.all((y == 0) | (y == 1)):
        # l is softplus(z) for label 0 and softplus(-z) for label 1: mirror the label-1 examples.
        sign = 1 - 2 * y
        return _shift_difference(sign * z, sign * delta)
    return y * _shift_difference(-z, -delta) + (1 - y) * _shift_difference(z, delta)


def cost(Z_out: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """The mean cross-entropy cost of output pre-activations with any leading batch axes."""
    logprobs = Y * np.logaddexp(0, -Z_out) + (1 - Y) * np.logaddexp(0, Z_out)
    return np.sum(logprobs, axis=(-2, -1)) / Z_out.shape[-1]


def _central(net: Network, u: np.ndarray, epsilon: float) -> np.ndarray:
    """Central differences of the perturbations that move the output by +-epsilon * u (masks fixed)."""
    return np.sum(cost_differences(net.z, net.Y, epsilon * u), axis=-1) / (2 * epsilon * net.m)


def _layer_of(name: str) -> tuple[str, int]:
    return name[0], int(name[1:])


def _fixed_mask_block(net: Network, name: str, epsilon: float) -> np.ndarray:
    """The central differences of every entry of one block, masks held fixed (exact away from kinks)."""
    kind, layer = _layer_of(name)
    G = net.sensitivities[layer - 1]
    if kind == "b":
        return _central(net, G, epsilon)[:, None]
    A = net.As[layer - 1]
    values = np.empty((G.shape[0], A.shape[0]))
    width = max(1, CHUNK // net.m)
    y = net.Y[0]
    binary = bool(np.all((y == 0) | (y == 1)))
    if binary:
        # The label-1 examples mirrored (z -> -z, d -> -d) once, for the whole block.
        sign = 1 - 2 * y
        scaled = G * (sign * epsilon)
        with np.errstate(over="ignore"):
            exp_minus_z = np.exp(-sign * net.z)
    for a in range(G.shape[0]):
        for start in range(0, A.shape[0], width):
            if binary:
                sums = _mirrored_sums(scaled[a] * A[start:start + width], exp_minus_z)
                values[a, start:start + width] = sums / (2 * epsilon * net.m)
            else:
                values[a, start:start + width] = _central(net, G[a] * A[start:start + width], epsilon)
    return values


def _mirrored_sums(delta: np.ndarray, exp_minus_z: np.ndarray) -> np.ndarray:
    """Row sums of softplus(z + d) - softplus(z - d), in place and with two transcendental calls per entry.

    expm1(2d) = e (e + 2) and exp(d - z) = exp(-z) (1 + e) with e = expm1(d); see _shift_difference.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.expm1(delta, out=delta)
        numerator = e + 2
        numerator *= e
        e += 1
        e *= exp_minus_z
        e += 1
        numerator /= e
        return np.sum(np.log1p(numerator, out=numerator), axis=-1)


def crossing_steps(net: Network, name: str, epsilon: float) -> tuple[np.ndarray, np.ndarray]:
    """The entries of a block whose perturbation by epsilon crosses a kink, and the smallest step that does.

    Returns (indices, steps): indices as an (n, ndim) integer array into the block.
    """
    kind, layer = _layer_of(name)
    if layer == net.depth:
        return np.empty((0, 2), dtype=int), np.empty(0)
    rate = net.rates[layer - 1]
    if kind == "b":
        rates = rate.max(axis=1)
        rows = np.flatnonzero(epsilon * rates >= 1)
        return np.stack([rows, np.zeros_like(rows)], axis=1), 1 / rates[rows]
    magnitude = np.abs(net.As[layer - 1])
    # A cheap bound first: only rows whose bound reaches 1 / epsilon need the exact maximum.
    bound = epsilon * rate.max(axis=1)[:, None] * magnitude.max(axis=1)[None, :]
    indices, steps = [], []
    for a in np.flatnonzero((bound >= 1).any(axis=1)):
        rates = np.max(magnitude * rate[a], axis=1)
        for j in np.flatnonzero(epsilon * rates >= 1):
            indices.append((a, j))
            steps.append(1 / rates[j])
    return np.array(indices, dtype=int).reshape(-1, 2), np.array(steps, dtype=np.float64)


def direct_central(net: Network, name: str, indices: np.ndarray, epsilon: float, *, batch: int = 64) -> np.ndarray:
    """Central differences of some entries of a block, each perturbed network run as it is (kinks and all)."""
    kind, layer = _layer_of(name)
    Z, A_prev = net.Zs[layer - 1], net.As[layer - 1]
    values = []
    for start in range(0, len(indices), batch):
        chunk = indices[start:start + batch]
        rows = A_prev[chunk[:, 1]] if kind == "W" else np.ones((len(chunk), net.m))
        costs = []
        for sign in (1.0, -1.0):
            Z_batch = np.repeat(Z[None], len(chunk), axis=0)
            Z_batch[np.arange(len(chunk)), chunk[:, 0]] += sign * epsilon * rows
            for later in range(layer, net.depth):
                Z_batch = net.parameters[f"W{later + 1}"] @ np.maximum(0, Z_batch) + net.parameters[f"b{later + 1}"]
            costs.append(cost(Z_batch, net.Y))
        values.append((costs[0] - costs[1]) / (2 * epsilon))
    return np.concatenate(values) if values else np.empty(0)


def block_differences(net: Network, name: str, *, epsilon: float = EPSILON) -> tuple[np.ndarray, tuple[Kink, ...]]:
    """One block's central differences (the loop's values) and the kinks its steps cross."""
    values = _fixed_mask_block(net, name, epsilon)
    indices, steps = crossing_steps(net, name, epsilon)
    if not len(indices):
        return values, ()
    crossed = direct_central(net, name, indices, epsilon)
    kinks = []
    for (a, j), step, across in zip(indices, steps, crossed):
        # Half the distance to the nearest kink crosses none; at a kink (step 0) the masks decide.
        small = min(epsilon, step / 2) if step > 0 else epsilon
        rechecked = float(_recheck(net, name, int(a), int(j), small))
        index = (int(a), int(j))
        kinks.append(Kink(name, index, float(step), small, float(across), rechecked))
        values[index] = across
    return values, tuple(kinks)


def _recheck(net: Network, name: str, a: int, j: int, epsilon: float) -> float:
    kind, layer = _layer_of(name)
    u = net.sensitivities[layer - 1][a]
    if kind == "W":
        u = u * net.As[layer - 1][j]
    return float(_central(net, u, epsilon))


def central_differences(parameters: Mapping[str, np.ndarray], X: np.ndarray, Y: np.ndarray, *,
                        epsilon: float = EPSILON) -> Numerical:
    """Every parameter's central difference, as check.loop_numerical_gradient computes it, and the kinks."""
    net = forward(parameters, X, Y)
    gradapprox, kinks = {}, []
    for name in net.names:
        values, block_kinks = block_differences(net, name, epsilon=epsilon)
        gradapprox[name] = values
        kinks.extend(block_kinks)
    return Numerical(gradapprox, tuple(kinks))


def exact_check(parameters: Mapping[str, np.ndarray], gradients: Mapping[str, Any], X: np.ndarray,
                Y: np.ndarray, *, epsilon: float = EPSILON, threshold: float = THRESHOLD) -> LargeCheck:
    """Check gradients (dW1, db1, ...) against every central difference, kinks rechecked with a smaller step."""
    numerical = central_differences(parameters, X, Y, epsilon=epsilon)
    expected = {"d" + name: value for name, value in numerical.kink_safe().items()}
    return LargeCheck(check.check_gradients(gradients, expected, threshold=threshold), numerical.kinks)


# The fast check.

def _unit_rows(rng: np.random.Generator, count: int, size: int) -> np.ndarray:
    """count random unit vectors of length size (drawn in single precision: any direction serves)."""
    vectors = rng.standard_normal((count, size), dtype=np.float32).astype(np.float64)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _probe(net: Network, name: str, got: np.ndarray, rng: np.random.Generator, count: int
           ) -> tuple[np.ndarray, np.ndarray]:
    """Random unit directions over one block: v . got for each, and how each moves Z of the block's layer.

    A weight block's directions are rank one, p q^T: v . got = p^T got q, and the move of Z_l is
    p (q^T A_{l-1}), so a direction costs one vector-matrix product instead of a matrix product.
    """
    kind, layer = _layer_of(name)
    if kind == "W":
        p = _unit_rows(rng, count, got.shape[0])
        q = _unit_rows(rng, count, got.shape[1])
        projected = np.einsum("ki,ij,kj->k", p, got, q)
        return projected, p[:, :, None] * (q @ net.As[layer - 1])[:, None, :]
    v = _unit_rows(rng, count, got.size)
    return v @ got.reshape(-1), np.repeat(v[:, :, None], net.m, axis=2)


def _output_moves(net: Network, name: str, move: np.ndarray, epsilon: float) -> tuple[np.ndarray, bool]:
    """How the output moves per unit step, given how Z of the block's layer moves; and whether epsilon crosses a kink."""
    _, layer = _layer_of(name)
    crossed = False
    for later in range(layer, net.depth):
        Z = net.Zs[later - 1]
        crossed = crossed or bool(np.any(epsilon * np.abs(move) >= np.abs(Z)))
        move = net.parameters[f"W{later + 1}"] @ ((Z > 0) * move)
    return move[:, 0, :], crossed


def _usable(got: Any, expected_shape: tuple[int, ...]) -> bool:
    return (isinstance(got, np.ndarray) and got.dtype.kind in "biuf" and got.shape == expected_shape
            and bool(np.all(np.isfinite(got))))


def fast_check(parameters: Mapping[str, np.ndarray], gradients: Mapping[str, Any], X: np.ndarray,
               Y: np.ndarray, *, directions: int = DIRECTIONS, epsilon: float = EPSILON,
               threshold: float = THRESHOLD, seed: int = 0, network: Network | None = None) -> FastCheck:
    """Check gradients along `directions` random directions per block; blocks that disagree get the exact check.

    network, when given, is forward(parameters, X, Y) computed earlier (a grader checks many
    submissions on the same case); nothing here changes it.
    """
    net = network if network is not None else forward(parameters, X, Y)
    rng = np.random.default_rng(seed)
    directional, blocks, rechecked, kinks = [], [], [], []
    for name in net.names:
        shape = net.parameters[name].shape
        got = gradients.get("d" + name)
        verdict = None
        if _usable(got, shape):
            projected, first_move = _probe(net, name, got.astype(np.float64), rng, directions)
            moves, crossed = _output_moves(net, name, first_move, epsilon)
            along = _central(net, moves, epsilon)
            difference = check.relative_difference(projected, along)
            passed = not crossed and check.passes(difference, threshold)
            directional.append(Directional(name, passed, difference, crossed))
            if passed:
                verdict = check.BlockCheck("d" + name, True, difference, f"ok along {directions} random directions")
        if verdict is None:
            values, block_kinks = block_differences(net, name, epsilon=epsilon)
            values = with_rechecks(values, block_kinks)
            verdict = check.check_block("d" + name, got, values, threshold=threshold)
            rechecked.append("d" + name)
            kinks.extend(block_kinks)
        blocks.append(verdict)
    differences = [block.difference for block in blocks]
    difference = None if any(value is None for value in differences) else max(differences)
    passed = all(block.passed for block in blocks)
    return FastCheck(check.GradientCheck(passed, difference, tuple(blocks)), tuple(directional),
                     tuple(rechecked), tuple(kinks))
