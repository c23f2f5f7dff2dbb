"""Test cases shared by the assignments: one record per case, and screening that keeps correct code passing."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from grader import spec as api

# Generated cases keep every ReLU pre-activation at least this far from 0, so no perturbation a
# checker makes (epsilon up to 1e-5, times inputs of a few units) can cross a kink.
KINK_MARGIN = 1e-3
# |Z| of the output layer stays below this, so the sigmoid is not saturated and no digits are lost.
SATURATION_LIMIT = 8.0


@dataclass(frozen=True)
class Case:
    """One input to grade on: data X, labels Y and the network's parameters."""

    name: str
    X: np.ndarray
    Y: np.ndarray
    parameters: Mapping[str, np.ndarray] = field(repr=False)
    public: bool = False
    profile: str = "course"

    @property
    def m(self) -> int:
        return int(self.X.shape[1])

    @property
    def inputs(self) -> dict:
        """The case as the inputs of its assignment's SPEC declarations (their args, cost and gradapprox)."""
        return {"X": self.X, "Y": self.Y, "parameters": self.parameters}


def parameter_shapes(sizes: tuple[int, ...]) -> dict[str, tuple[int, int]]:
    """The shape of every parameter, W1, b1, ..., WL, bL, for layer sizes (n_x, n1, ..., n_y)."""
    shapes = {}
    for layer in range(1, len(sizes)):
        shapes[f"W{layer}"] = (sizes[layer], sizes[layer - 1])
        shapes[f"b{layer}"] = (sizes[layer], 1)
    return shapes


def hidden_layers_healthy(pre_activations: list[np.ndarray], *, margin: float = KINK_MARGIN) -> bool:
    """True when no ReLU pre-activation sits near its kink and no hidden unit or example is dead.

    A dead example (no unit active) hides bugs in the layers below it, because their gradients are
    then zero whatever the code does; with several examples, every unit must be active somewhere and
    some entry inactive.
    """
    for Z in pre_activations:
        if np.any(np.abs(Z) < margin):
            return False
        active = Z > 0
        if not active.any(axis=0).all():
            return False
        # With several examples, an all-active layer would hide a dropped mask, and a unit that is
        # never active would hide its whole row of weights.
        if Z.shape[1] > 1 and (active.all() or not active.any(axis=1).all()):
            return False
    return True


def output_healthy(Z_out: np.ndarray, *, limit: float = SATURATION_LIMIT) -> bool:
    """True when the output pre-activation keeps the sigmoid away from saturation."""
    return bool(np.all(np.abs(Z_out) < limit))


def as_spec_case(case: Case) -> api.Case:
    """A built-in case as a record of the public spec format (its inputs X, Y and parameters)."""
    return api.Case(case.name, case.inputs, public=case.public, profile=case.profile)
