"""The assignment spec API (version 1): how an instructor declares an assignment gradgrade grades.

A spec is one Python file holding the reference implementation of what students write and a module-level
`SPEC = Spec(...)`. The reference functions are found in that file by the names the declarations give;
gradgrade derives everything else from them: screened hidden cases, the expected values and numerical
gradients, the catalogue of known-bad variants, sandboxed grading, diagnosis and every report.

    from grader.spec import Case, Loss, Spec

    def softmax_loss_vectorized(W, X, y, reg): ...          # the reference, as students should write it

    def cases(rng, sizes):
        return [Case(f"N{N}", {"W": 0.01 * rng.standard_normal((D, C)), "X": rng.standard_normal((N, D)),
                               "y": rng.integers(0, C, N), "reg": 0.1}) for N, D, C in sizes]

    SPEC = Spec(name="softmax_l2", title="Softmax regression with L2 regularisation",
                functions=[Loss("softmax_loss_vectorized", wrt="W")],
                public_cases=lambda rng: cases(rng, [(5, 4, 3)]),
                hidden_cases=lambda rng: cases(rng, [(1, 3, 2), (7, 6, 4)]),
                square_cases=lambda rng: cases(rng, [(4, 4, 4)]))

Every case is a name and the inputs of the functions graded on it, by argument name. Numbers in the
inputs are float64 arrays or Python scalars; dicts of arrays and plain values are fine anywhere.
This module is data only: the declarations are frozen records that gradgrade reads.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence, Union

import numpy as np

VERSION = 1


@dataclass(frozen=True)
class Case:
    """One input to grade on: a name shown to students, and every function's inputs by argument name.

    functions: the names of the functions graded on it, a layer's backward by its own name (by default,
    every function whose reference takes only inputs the case has). public: the case the assignment's
    notebook shows (students see its numbers); profile is set by gradgrade ("course" for public and hidden
    cases, "square" for square ones).
    """

    name: str
    inputs: Mapping[str, Any] = field(repr=False)
    functions: tuple[str, ...] = ()
    public: bool = False
    profile: str = "course"


@dataclass(frozen=True)
class Gradients:
    """A function returning a dict of the gradients of a scalar cost with respect to named parameters.

    cost(**inputs) -> float is the reference cost; wrt names the input holding the dict of parameters
    (`parameters`), and the student's dict must hold gradient.format(name) for each one ("dW1").
    args(inputs) -> tuple gives the student function's arguments (e.g. X, Y and the reference forward's
    cache); by default, the inputs named by the reference function's own parameters. only: the
    parameters graded (all by default). Points are shared equally over the graded gradients.

    forward and chain (optional, together): where students write the forward pass whose cache their
    backward reads, in a layout of their own, forward names it and chain(inputs, output) -> tuple gives
    the backward's arguments from what it returned (output(i) stands for item i of it); a backward that
    raises on the reference's cache is then graded on its own forward's, when that forward's first output
    agrees with the reference forward's. relu_sigmoid=True (opt-in): the cost is the cross-entropy of a
    [LINEAR->RELU] x (L-1) -> LINEAR->SIGMOID network of inputs X, Y and parameters W1, b1, ..., bL, so
    `--fast` may check random directional derivatives first and exact gradients only where they disagree.
    """

    function: str
    cost: Callable[..., Any]
    wrt: str = "parameters"
    args: Callable[[Mapping[str, Any]], tuple] | None = None
    gradient: str = "d{}"
    only: tuple[str, ...] | None = None
    points: float = 10.0
    forward: str | None = None
    chain: Callable[[Mapping[str, Any], Callable[[int], Any]], tuple] | None = None
    relu_sigmoid: bool = False


@dataclass(frozen=True)
class LayerBackward:
    """A layer's backward pass as a vector-Jacobian product: function(dout, cache) -> (dx, dw, ...).

    forward names the layer's forward function, forward(**inputs) -> (out, cache). The student's own
    forward runs on the case and its cache (whatever its format) goes to their backward with a random
    upstream dout; the expected gradients are the numerical gradients of sum(forward(inputs)[0] * dout)
    of the reference forward with respect to each input named in wrt, in the order the backward returns
    them (one gradient is returned bare). own_forward=True judges the backward against the student's own
    forward instead (a random forward such as dropout's: the same seeded call gives the same mask).
    """

    function: str
    forward: str
    wrt: tuple[str, ...]
    own_forward: bool = False
    conventions: tuple[str, ...] = ()
    points: float = 10.0


@dataclass(frozen=True)
class Loss:
    """A loss returning (loss, gradient): function(**inputs) -> (loss, d wrt).

    The loss is compared by value with the reference's (relative tolerance), the gradient with the
    numerical gradient of the reference loss with respect to the input wrt.
    """

    function: str
    wrt: str
    tolerance: float = 1e-6
    conventions: tuple[str, ...] = ()
    points: float = 10.0


@dataclass(frozen=True)
class Value:
    """A function compared by value with the reference: a forward pass, a prediction.

    output: compare only that item of a returned tuple (a forward pass's out, not its cache).
    args(inputs) -> tuple (optional): the function's arguments; by default, the inputs named by the
    reference function's own parameters.
    """

    function: str
    output: int | None = None
    tolerance: float = 1e-6
    conventions: tuple[str, ...] = ()
    points: float = 10.0
    args: Callable[[Mapping[str, Any]], tuple] | None = None


@dataclass(frozen=True)
class Method:
    """A model's method returning (loss, gradient dict): cls(**init(inputs)).method(*args) -> (loss, grads).

    After construction the attribute wrt is set to a copy of inputs[wrt] (the parameter dict), as the
    notebook sets a model's weights; args names the inputs passed to the method. The loss is compared
    by value, each grads[name] with the numerical gradient of the reference loss for parameter name.
    """

    cls: str
    method: str = "loss"
    wrt: str = "params"
    init: Callable[[Mapping[str, Any]], Mapping[str, Any]] = field(default=lambda inputs: {})
    args: tuple[str, ...] = ("X", "y")
    tolerance: float = 1e-6
    conventions: tuple[str, ...] = ()
    points: float = 10.0

    @property
    def function(self) -> str:
        return f"{self.cls}.{self.method}"


@dataclass(frozen=True)
class Checker:
    """A student's gradient checker, graded by the assignment's mutant catalogue.

    function(*args(inputs, gradients), epsilon) -> the relative difference ||grad - gradapprox|| /
    (||grad|| + ||gradapprox||). gradgrade calls it on the public case with the reference's gradients (it
    must accept them), with a wide epsilon (its value must follow the epsilon given) and with a few
    catalogued known-bad gradients (it must reject each), and compares every value with the course
    method's: gradapprox(inputs, epsilon, reuse_thetaplus=False) -> the course's gradapprox column, in
    the order the checker flattens the gradients (reuse_thetaplus=True: the known slip of starting
    thetaminus from thetaplus, which gradgrade recognises in students' values).
    helpers: {name: "module:attribute"} of the course helper modules the notebook's checker calls, put
    in the student's namespace unless they define their own. square_case: the square-profile case probed.
    square_skipped: where the course helpers work only at the course's sizes, why the square-size
    readings did not count when the checker rejects the square case's correct gradients (None: they
    always count). The checker needs the assignment's mutant catalogue, so this version grades it for
    assignments whose reference module gives its cases itself (the built-in ones).
    """

    function: str
    args: Callable[[Mapping[str, Any], Mapping[str, Any]], tuple]
    gradapprox: Callable[..., Any]
    helpers: Mapping[str, str] = field(default_factory=dict)
    square_case: int = 0
    square_skipped: str | None = None
    points: float = 10.0


# conventions (LayerBackward, Loss, Value, Method): the names of other reference functions in the spec file
# (a layer's: other forward functions) that are accepted as well, for conventions that changed between
# years (0.5 * reg * sum(W**2) or reg * sum(W**2); dropout's p as keep or drop probability). A submission
# that agrees with one of them on every case passes, and its result names the convention it follows.

Function = Union[Gradients, LayerBackward, Loss, Value, Method, Checker]
# The kinds graded on the cases gradgrade draws for the spec; a Checker is graded on the mutant catalogue's
# probes instead (CHECKER_KINDS).
KINDS = (Gradients, LayerBackward, Loss, Value, Method)
CHECKER_KINDS = (Checker,)


@dataclass(frozen=True)
class Spec:
    """An assignment: its functions, its cases, and what grading may take for granted.

    public_cases(rng), hidden_cases(rng) and square_cases(rng) return cases, drawn from a numpy Generator
    seeded with seed (each from its own stream). Square cases make every dimension equal, so transposed
    or swapped operands run and must be caught by value. gradgrade screens every case: where the
    numerical gradient is unstable (a kink, an overflow) it draws the generator's next cases instead.
    helpers maps module names students may import (`from layer_utils import ...`) to files beside the
    spec. threshold: the relative difference a gradient may have.
    """

    name: str
    title: str
    functions: Sequence[Function]
    public_cases: Callable[[np.random.Generator], Sequence[Case]]
    hidden_cases: Callable[[np.random.Generator], Sequence[Case]] = lambda rng: ()
    square_cases: Callable[[np.random.Generator], Sequence[Case]] | None = None
    seed: int = 0
    helpers: Mapping[str, str] = field(default_factory=dict)
    threshold: float = 1e-7
    version: int = VERSION
