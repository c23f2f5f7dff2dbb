"""Assignments: what a student writes for each assignment, and what grading needs from its reference.

Receives an assignment's name (a built-in: grader.reference.<name>); hands on an Assignment that
carries its reference module, the student functions it grades, its cases per profile, the gradient
names of each case and the expected (numerical) gradients, each computed once.
"""
from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from grader.numerics import check

BUILT_IN = ("three_layer", "l_layer", "one_d")


class UnknownAssignment(ValueError):
    pass


@dataclass(frozen=True)
class Assignment:
    """An assignment's reference module and the names of what a student writes for it."""

    name: str
    module: ModuleType

    @property
    def title(self) -> str:
        return getattr(self.module, "TITLE", self.name)

    @property
    def backward(self) -> str:
        return self.module.BACKWARD

    @property
    def forward(self) -> str | None:
        return getattr(self.module, "FORWARD", None)

    @property
    def checker(self) -> str | None:
        return getattr(self.module, "CHECKER", None)

    @property
    def student_functions(self) -> tuple[str, ...]:
        """The functions a student writes for it that gradgrade grades: backward, checker, forward."""
        return tuple(name for name in (self.backward, self.checker, self.forward) if name)

    @property
    def gradient_names(self) -> tuple[str, ...]:
        """Every gradient graded on some case; per-case names (l_layer's depend on depth) in first-seen order."""
        return _gradient_names(self.name)

    def case_gradient_names(self, case_index: int, *, profile: str = "course") -> tuple[str, ...]:
        """The gradients graded on one case."""
        return _case_names(self.name, profile, case_index)[1]

    def cases(self, *, profile: str = "course") -> list:
        return _cases(self.name, profile)

    def expected_gradients(self, case_index: int, *, epsilon: float = check.EPSILON,
                           profile: str = "course") -> dict[str, np.ndarray]:
        """The numerical gradients of one case, keyed like the student's (dW1, ...)."""
        return _expected(self.name, profile, case_index, epsilon)


def available() -> tuple[str, ...]:
    """The assignments whose reference module is installed."""
    names = []
    for name in BUILT_IN:
        try:
            importlib.import_module(f"grader.reference.{name}")
        except ModuleNotFoundError:
            continue
        names.append(name)
    return tuple(names)


@functools.cache
def get(name: str) -> Assignment:
    """The assignment called name; UnknownAssignment lists the ones there are."""
    if name not in BUILT_IN:
        raise UnknownAssignment(f"unknown assignment {name!r}; choose from {', '.join(available())}")
    try:
        module = importlib.import_module(f"grader.reference.{name}")
    except ModuleNotFoundError:
        raise UnknownAssignment(f"assignment {name!r} is not installed; choose from {', '.join(available())}") from None
    return Assignment(name, module)


@functools.cache
def _cases(name: str, profile: str) -> list:
    return get(name).module.cases(profile=profile)


@functools.cache
def _case_names(name: str, profile: str, case_index: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(parameter names, gradient names) of one case: the module's per-case ones when it has them."""
    module = get(name).module
    case = _cases(name, profile)[case_index]
    if callable(getattr(module, "gradient_names", None)):
        return tuple(module.parameter_names(case)), tuple(module.gradient_names(case))
    return tuple(module.PARAMETER_NAMES), tuple(module.GRADIENT_NAMES)


@functools.cache
def _gradient_names(name: str) -> tuple[str, ...]:
    names: dict[str, None] = {}
    for index, _ in enumerate(_cases(name, "course")):
        names.update(dict.fromkeys(_case_names(name, "course", index)[1]))
    return tuple(names)


@functools.cache
def _expected(name: str, profile: str, case_index: int, epsilon: float) -> dict[str, np.ndarray]:
    module = get(name).module
    case = _cases(name, profile)[case_index]
    gradapprox = check.numerical_gradient(module.batched_cost(case), case.parameters, epsilon=epsilon)
    by_parameter = dict(zip(*_case_names(name, profile, case_index)))
    return {by_parameter[name_]: value for name_, value in gradapprox.items()}
