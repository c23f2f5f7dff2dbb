"""Assignments: what a student writes for each assignment, and what grading needs from its reference.

Receives an assignment's name from a front door, once: a built-in (grader.reference.<name>), a spec file's
path, or a name a course package registers under the entry-point group gradgrade.assignments. Hands on an
Assignment that carries its reference module, the student functions it grades, its cases per profile,
the gradient names of each case and the expected (numerical) gradients, and every later stage's caches
(its memo, filled through `cached`), each computed once per Assignment object.
"""
from __future__ import annotations

import functools
import importlib
import importlib.metadata
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Hashable, TypeVar

import numpy as np

from grader import reference
from grader import spec as api
from grader.assignments import expect, specs
from grader.assignments.specs import Prepared, SpecError
from grader.numerics import check

# The built-in assignments: grader.reference.<name>, each declaring SPEC and giving its cases itself.
BUILT_IN = reference.BUILT_IN
# Built-in assignments written as spec files (grader.reference.<name> declaring SPEC).
BUILT_IN_SPECS = ("linear_classifiers", "layers")
ENTRY_POINTS = "gradgrade.assignments"


T = TypeVar("T")


class UnknownAssignment(ValueError):
    pass


@dataclass(frozen=True)
class Assignment:
    """An assignment's reference module, the names of what a student writes for it, and every stage's caches.

    A front door resolves the assignment once (get) and passes this object down; what a stage derives from
    the assignment (cases, expected gradients, the mutant catalogue, the checker's probes, plans) is kept
    in its memo, so it is computed once per process and lives exactly as long as the object.
    """

    name: str
    module: ModuleType
    spec: api.Spec | None = field(default=None, compare=False)  # the module fixes it (and a Spec holds dicts)
    memo: dict[Hashable, Any] = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        # An object made from a module alone (as a second process would make it) reads the module's SPEC.
        if self.spec is None and isinstance(getattr(self.module, "SPEC", None), api.Spec):
            object.__setattr__(self, "spec", self.module.SPEC)

    def remember(self, key: Hashable, make: Callable[[], T]) -> T:
        """make()'s value, computed once for this assignment and key (an exception is not remembered)."""
        try:
            return self.memo[key]
        except KeyError:
            value = self.memo[key] = make()
            return value

    @property
    def title(self) -> str:
        return self.spec.title if self.spec else getattr(self.module, "TITLE", self.name)

    @property
    def functions(self) -> tuple[api.Function, ...]:
        """The spec's declared functions."""
        return tuple(self.spec.functions) if self.spec else ()

    @property
    def fixed_cases(self) -> bool:
        """Whether the reference module gives its cases itself (cases(*, profile=...), reference.cases.Case
        records: the course's exact public numbers and its own screened hidden cases), as the built-in
        assignments do. Such an assignment is graded by the catalogue graders (grading.backward, checker,
        forward) on those cases; any other spec by grading.declared on the cases gradgrade draws."""
        return specs.gives_cases(self.module)

    @property
    def graded_by_spec(self) -> bool:
        """Whether grading.declared grades it (a spec whose cases gradgrade draws and screens)."""
        return self.spec is not None and not self.fixed_cases

    def declared(self, kind: type) -> Any:
        """The first function the spec declares of a kind (api.Gradients, api.Value, api.Checker), or None."""
        return next((declared for declared in self.functions if isinstance(declared, kind)), None)

    def spec_cases(self, profile: str = "course") -> tuple[api.Case, ...]:
        """A spec assignment's screened cases of one profile ("course": public, then hidden; "square")."""
        return _drawn(self, profile)[0]

    def prepared(self, function: str, case: api.Case) -> Prepared:
        """What the spec's function must give on the case (the case comes from spec_cases)."""
        return _drawn(self, case.profile)[1][(function, case.name)]

    def graded_on(self, declared: api.Function, profile: str = "course") -> tuple[api.Case, ...]:
        """The cases of a profile that grade one declared function."""
        prepared = _drawn(self, profile)[1]
        return tuple(case for case in self.spec_cases(profile) if (declared.function, case.name) in prepared)

    @property
    def helper_modules(self) -> dict[str, str]:
        """The source of each helper module a spec's students may import (Spec.helpers), by module name."""
        if self.spec is None or not self.spec.helpers:
            return {}
        return self.remember("helper_modules", lambda: specs.helper_sources(self.spec, self.module))

    @property
    def backward(self) -> str | None:
        """The backward pass whose gradients dict is graded (the spec's Gradients declaration)."""
        gradients = self.declared(api.Gradients)
        return gradients.function if gradients else None

    @property
    def forward(self) -> str | None:
        """The forward pass a student writes: graded by value (Value), or feeding their backward (Gradients.forward)."""
        value, gradients = self.declared(api.Value), self.declared(api.Gradients)
        return value.function if value else (gradients.forward if gradients else None)

    @property
    def checker(self) -> str | None:
        checker = self.declared(api.Checker)
        return checker.function if checker else None

    @property
    def student_functions(self) -> tuple[str, ...]:
        """The functions (and classes) a student writes for it that gradgrade grades, in the spec's order
        (a forward pass feeding a Gradients declaration's backward last)."""
        names = [getattr(declared, "cls", None) or declared.function for declared in self.functions]
        names += [declared.forward for declared in self.functions
                  if isinstance(declared, api.Gradients) and declared.forward]
        return tuple(dict.fromkeys(names))

    @property
    def gradient_names(self) -> tuple[str, ...]:
        """Every gradient graded on some case, in first-seen order (an any-depth network's depend on its depth)."""
        return _gradient_names(self)

    def case_gradient_names(self, case_index: int, *, profile: str = "course") -> tuple[str, ...]:
        """The gradients graded on one case."""
        return _case_names(self, profile, case_index)[1]

    def cases(self, *, profile: str = "course") -> list:
        return _cases(self, profile)

    def expected_gradients(self, case_index: int, *, epsilon: float = check.EPSILON,
                           profile: str = "course") -> dict[str, np.ndarray]:
        """The numerical gradients of one case, keyed like the student's (dW1, ...)."""
        return _expected(self, profile, case_index, epsilon)

    def backward_args(self, case_index: int, *, profile: str = "course") -> tuple:
        """The reference backward pass's arguments on one case, made once (a caller that may write into
        them copies them first)."""
        return _backward_args(self, profile, case_index)

    def reference_gradients(self, case: Any) -> dict[str, np.ndarray]:
        """The reference backward pass's gradients on one of cases(), those graded on it, as float64 arrays
        (a backward pass with a single gradient may return it bare)."""
        declared = self.declared(api.Gradients)
        names = _names_of(declared, case)[1]
        value = specs.reference(self.module, declared.function)(*_args_of(self, declared, case))
        if len(names) == 1 and not isinstance(value, dict):
            value = {names[0]: value}
        return {name: np.asarray(value[name], dtype=np.float64) for name in names}


def cached(function: Callable[..., T]) -> Callable[..., T]:
    """Keep function(assignment, *args)'s values in the assignment's memo, not in a module-level cache.

    For a stage's function whose first argument is the Assignment: the value is computed once per
    assignment object and arguments. `function.cached_on(assignment, *args)` says whether it is there.
    """
    def key(args: tuple, kwargs: dict[str, Any]) -> Hashable:
        return (on_assignment, args, tuple(sorted(kwargs.items())))

    @functools.wraps(function)
    def on_assignment(assignment: Assignment, *args: Any, **kwargs: Any) -> T:
        return assignment.remember(key(args, kwargs), lambda: function(assignment, *args, **kwargs))

    on_assignment.cached_on = lambda assignment, *args, **kwargs: key(args, kwargs) in assignment.memo
    return on_assignment


def available() -> tuple[str, ...]:
    """The assignments installed: built-in ones whose reference module is there, and registered specs."""
    names = []
    for name in BUILT_IN + BUILT_IN_SPECS:
        try:
            importlib.import_module(f"grader.reference.{name}")
        except ModuleNotFoundError:
            continue
        names.append(name)
    return tuple(names) + tuple(sorted(point.name for point in _entry_points() if point.name not in names))


def _entry_points() -> tuple[importlib.metadata.EntryPoint, ...]:
    return tuple(importlib.metadata.entry_points(group=ENTRY_POINTS))


def is_path(name: str) -> bool:
    """Whether --assignment names a spec file rather than an installed assignment."""
    return name.endswith(".py") or "/" in name or "\\" in name


def setting(name: str) -> str:
    """What Settings.assignment keeps for --assignment name: a spec file's absolute path, so a worker started
    in another folder (or a results row read later) finds the same file; an installed assignment's name as given."""
    return str(Path(name).resolve()) if is_path(name) else name


def threshold(name: str) -> float:
    """The relative difference a gradient may have and pass when no --threshold is given: a spec's own
    (Spec.threshold), the default for a built-in."""
    found = get(name)
    return found.spec.threshold if found.spec is not None else check.THRESHOLD


def ready(name: str) -> Assignment:
    """get(name), with a spec's cases drawn and screened now, at the front door: a spec that cannot grade
    (a reference failing its own numerical check, cases that cannot be screened healthy, a case that
    raises) raises UnknownAssignment with its one-line reason before any submission is graded."""
    assignment = get(name)
    if assignment.graded_by_spec:
        try:
            for profile in ("course", "square"):
                assignment.spec_cases(profile)
        except SpecError as error:
            where = getattr(assignment.module, "__file__", None) or assignment.name
            raise UnknownAssignment(f"{where}: {error}") from None
    return assignment


def get(name: str) -> Assignment:
    """The assignment called name, or the spec file name is the path of.

    UnknownAssignment lists the ones there are; a spec that cannot be used raises it with the spec's
    one-line reason.
    """
    return _get(str(Path(name).resolve()) if is_path(name) else name)


@functools.cache
def _get(name: str) -> Assignment:
    if is_path(name):
        try:
            found, module = specs.load_file(Path(name))
        except SpecError as error:
            raise UnknownAssignment(str(error)) from None
        return Assignment(found.name, module, found)
    if name in BUILT_IN + BUILT_IN_SPECS:
        try:
            module = importlib.import_module(f"grader.reference.{name}")
        except ModuleNotFoundError:
            raise UnknownAssignment(f"assignment {name!r} is not installed; choose from {', '.join(available())}") from None
        return Assignment(name, module, _spec_of(module, name))
    registered = [point for point in _entry_points() if point.name == name]
    if not registered:
        raise UnknownAssignment(f"unknown assignment {name!r}; choose from {', '.join(available())}, "
                                f"or give a spec file's path")
    try:
        loaded = registered[0].load()
    except Exception as error:  # a broken course package is reported, not a traceback
        raise UnknownAssignment(f"assignment {name!r} ({registered[0].value}) cannot be loaded: "
                                f"{type(error).__name__}: {error}") from None
    module = loaded if isinstance(loaded, ModuleType) else importlib.import_module(registered[0].module)
    return Assignment(name, module, _spec_of(module, registered[0].value))


def _spec_of(module: ModuleType, where: str) -> api.Spec:
    try:
        return specs.of_module(module, where=where)
    except SpecError as error:
        raise UnknownAssignment(str(error)) from None


@cached
def _drawn(assignment: Assignment, profile: str) -> tuple[tuple[api.Case, ...], dict[tuple[str, str], Prepared]]:
    if assignment.spec is None or (profile == "square" and assignment.spec.square_cases is None):
        return (), {}
    return expect.draw(assignment.spec, assignment.module, profile)


def built_in_student_functions() -> tuple[tuple[str, ...], ...]:
    """The student functions of every installed built-in assignment (which of a submission's functions belong
    to another exercise of the course, rather than being near misses of this one's)."""
    found = []
    for name in available():
        try:
            found.append(get(name).student_functions)
        except UnknownAssignment:  # a course package's broken spec is its own error, not every assignment's
            continue
    return tuple(found)


@cached
def _cases(assignment: Assignment, profile: str) -> list:
    return assignment.module.cases(profile=profile)


def _names_of(declared: api.Gradients, case: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(parameter names, gradient names) a Gradients declaration grades on a case (its depth may set them)."""
    parameters = tuple(declared.only or case.inputs[declared.wrt])
    return parameters, tuple(declared.gradient.format(name) for name in parameters)


def _args_of(assignment: Assignment, declared: api.Gradients, case: Any) -> tuple:
    if declared.args is not None:
        return tuple(declared.args(case.inputs))
    return specs.positional(specs.reference(assignment.module, declared.function), case.inputs)[0]


@cached
def _case_names(assignment: Assignment, profile: str, case_index: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(parameter names, gradient names) of one case."""
    return _names_of(assignment.declared(api.Gradients), _cases(assignment, profile)[case_index])


@cached
def _gradient_names(assignment: Assignment) -> tuple[str, ...]:
    names: dict[str, None] = {}
    for index, _ in enumerate(_cases(assignment, "course")):
        names.update(dict.fromkeys(_case_names(assignment, "course", index)[1]))
    return tuple(names)


@cached
def _expected(assignment: Assignment, profile: str, case_index: int, epsilon: float) -> dict[str, np.ndarray]:
    inputs, declared = _cases(assignment, profile)[case_index].inputs, assignment.declared(api.Gradients)
    parameters, gradients = _case_names(assignment, profile, case_index)
    held = inputs[declared.wrt]

    def cost(values: dict[str, np.ndarray]) -> np.ndarray:
        return declared.cost(**{**inputs, declared.wrt: {**held, **values}})

    gradapprox = check.numerical_gradient(cost, {name: held[name] for name in parameters}, epsilon=epsilon)
    by_parameter = dict(zip(parameters, gradients))
    return {by_parameter[name]: value for name, value in gradapprox.items()}


@cached
def _backward_args(assignment: Assignment, profile: str, case_index: int) -> tuple:
    return _args_of(assignment, assignment.declared(api.Gradients), _cases(assignment, profile)[case_index])
