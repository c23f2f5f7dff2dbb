"""The course's warm-up: J(theta) = theta * x, its one-line backward pass and its 1-D gradient check."""
from __future__ import annotations

import numpy as np

from typing import Mapping

from grader.reference.cases import Case, as_spec_case
from grader.spec import Checker, Gradients, Spec, Value

NAME = "one_d"
TITLE = "One-dimensional warm-up (J = theta * x)"
BACKWARD = "backward_propagation"
FORWARD = "forward_propagation"
CHECKER = "gradient_check"
PARAMETER_NAMES = ("theta",)
GRADIENT_NAMES = ("dtheta",)
HIDDEN_SEED = 20261123
HIDDEN_CASES = 4


def forward_propagation(x, theta):
    """J = theta * x."""
    J = theta * x
    return J


def backward_propagation(x, theta):
    dtheta = x
    return dtheta


def gradient_check(x, theta, epsilon=1e-7, print_msg=False):
    """The course's 1-D check: central difference of the forward pass against the backward pass."""
    thetaplus = theta + epsilon
    thetaminus = theta - epsilon
    J_plus = forward_propagation(x, thetaplus)
    J_minus = forward_propagation(x, thetaminus)
    gradapprox = (J_plus - J_minus) / (2 * epsilon)
    grad = backward_propagation(x, theta)
    numerator = np.linalg.norm(grad - gradapprox)
    denominator = np.linalg.norm(grad) + np.linalg.norm(gradapprox)
    difference = numerator / denominator
    if print_msg:
        print(f"difference = {difference}")
    return difference


def _case(name: str, x: float, theta: float, *, public: bool = False, profile: str = "course") -> Case:
    return Case(name=name, X=np.array(float(x)), Y=np.array(0.0), parameters={"theta": np.array(float(theta))},
                public=public, profile=profile)


def public_case() -> Case:
    """The course's own numbers: x = 2, theta = 4."""
    return _case("course", 2, 4, public=True)


def hidden_cases(*, seed: int = HIDDEN_SEED) -> list[Case]:
    """Seeded x and theta of both signs and other magnitudes, so dtheta = theta or dtheta = 2 cannot pass."""
    rng = np.random.default_rng(seed)
    found = []
    for index in range(HIDDEN_CASES):
        x = rng.uniform(0.5, 5) * (-1) ** index
        theta = rng.uniform(0.5, 5) * (-1) ** (index // 2)
        found.append(_case(f"hidden-{index + 1}", round(x, 6), round(theta, 6)))
    return found


def cases(*, profile: str = "course") -> list[Case]:
    """The public case first, then the hidden ones (one_d has no shapes, so every profile is the same)."""
    return [public_case(), *hidden_cases()]


def _args(inputs: Mapping) -> tuple:
    """x and theta as plain floats, the way the notebook calls backward_propagation(x, theta)."""
    return float(inputs["X"]), float(inputs["parameters"]["theta"])


def backward_args(case: Case) -> tuple:
    """x and theta as plain floats, the way the notebook calls backward_propagation(x, theta)."""
    return _args(case.inputs)


def _cost(X, Y, parameters):
    """J as a function of theta (with any leading batch axis)."""
    return parameters["theta"] * float(X)


def batched_cost(case: Case):
    """J as a function of theta with a leading batch axis."""
    return lambda parameters: _cost(case.X, case.Y, parameters)


def reference_gradients(case: Case) -> dict[str, np.ndarray]:
    """dtheta = x, as a 0-d float array."""
    return {"dtheta": np.asarray(backward_propagation(*backward_args(case)), dtype=np.float64)}


# one_d's own small mutant set: the warm-up's backward pass is one line, too small for the ast operators
# (and it returns a float, not a dict), so its known bugs are listed here as (id, operator, family,
# misconception, the wrong dtheta as an expression in x and theta).
MUTANTS = (
    ("one_d-wrong-variable-1", "wrong-variable", "routing",
     "dtheta = theta: the derivative of J = theta * x with respect to theta is x, not theta.", "theta"),
    ("one_d-product-1", "keep-factor", "arithmetic",
     "dtheta = theta * x is J itself: differentiating theta * x drops theta and leaves x.", "theta * x"),
    ("one_d-double-1", "scale-double-gradient", "scale",
     "dtheta = 2 * x: a stray factor of 2, as if J were theta squared.", "2 * x"),
    ("one_d-sign-1", "sign-negate-gradient", "sign", "dtheta = -x: the derivative of theta * x is +x.", "-x"),
    ("one_d-zero-1", "zero-all-gradients", "zero",
     "dtheta = 0: x multiplies theta, so J changes with theta and dtheta is x.", "0.0 * x"),
)


def mutant_source(mutant_id: str) -> str:
    """A mutant's backward_propagation as source (our own code, which a student's checker may be run on)."""
    expression = next(entry[4] for entry in MUTANTS if entry[0] == mutant_id)
    return f"def backward_propagation(x, theta):\n    dtheta = {expression}\n    return dtheta\n"


def mutant_gradients(mutant_id: str, case: Case) -> dict[str, np.ndarray]:
    """One of MUTANTS' gradients on a case, keyed like the reference's."""
    scope: dict = {}
    exec(mutant_source(mutant_id), scope)
    return {"dtheta": np.asarray(scope["backward_propagation"](*backward_args(case)), dtype=np.float64)}



def course_gradapprox(x, theta, epsilon=1e-7, *, reuse_thetaplus=False) -> np.ndarray:
    """The course's 1-D gradapprox as a 1x1 column; reuse_thetaplus: the known slip of leaving thetaminus
    at theta, which a checker grader compares students' values with."""
    J_minus = forward_propagation(x, theta if reuse_thetaplus else theta - epsilon)
    return np.array([[(forward_propagation(x, theta + epsilon) - J_minus) / (2 * epsilon)]])


SPEC = Spec(
    name=NAME, title=TITLE, seed=HIDDEN_SEED,
    functions=(
        Gradients(BACKWARD, cost=_cost, args=_args),
        # gradient_check(x, theta, epsilon) calls the student's own backward_propagation: each probe binds
        # the reference's or a mutant's over it for that call (the assignment's own small mutant set).
        Checker(CHECKER, args=lambda inputs, gradients: _args(inputs),
                gradapprox=lambda inputs, epsilon, reuse_thetaplus=False: course_gradapprox(
                    *_args(inputs), epsilon, reuse_thetaplus=reuse_thetaplus),
                helpers={"forward_propagation": "course_forward:forward_propagation"}),
        Value(FORWARD, args=_args, tolerance=1e-7),
    ),
    public_cases=lambda rng: [as_spec_case(public_case())],
    hidden_cases=lambda rng: [as_spec_case(case) for case in hidden_cases()],
)
