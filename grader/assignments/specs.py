"""Spec files: load one, check it, and prepare what grading needs from it (screened cases, expected values).

A spec (grader.spec) names its reference functions; this module finds them in the spec's file, draws and
screens its cases, and computes, once per case, every graded function's expected value and numerical
gradients. Bad specs raise SpecError with one line for the instructor.
"""
from __future__ import annotations

import functools
import importlib.util
import inspect
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from grader import spec as api
from grader.numerics import check, gradient

# Draws of a generator's cases before a case that stays unhealthy is given up on.
REDRAWS = 25
# Module names of the course shims in the sandbox's helper folder: a spec's helper may not take one.
SHIMS_FOLDER = Path(__file__).resolve().parent.parent / "course"


class SpecError(ValueError):
    """A spec that cannot be used; the message is one line for the instructor."""


@dataclass(frozen=True)
class Prepared:
    """One graded function on one case: how the student's function is called, and what it must give.

    args/arg_names: the student's arguments (for a layer: its forward's; for a method: the method's).
    value: the reference's loss or value (None where none is compared). gradients: the expected
    (numerical) gradients by the names the student's result uses. dout: a layer's upstream gradient.
    init/attributes: a model's constructor arguments and the attributes set after it.
    """

    case: api.Case
    args: tuple
    arg_names: tuple[str, ...]
    value: Any = None
    gradients: Mapping[str, np.ndarray] = field(default_factory=dict)
    dout: np.ndarray | None = None
    init: Mapping[str, Any] = field(default_factory=dict)
    attributes: Mapping[str, Any] = field(default_factory=dict)
    # The same for each of the function's accepted conventions, by the convention's reference name.
    conventions: Mapping[str, "Prepared"] = field(default_factory=dict)


def load_file(path: Path) -> tuple[api.Spec, ModuleType]:
    """The SPEC a spec file declares and the module it lives in; SpecError when it cannot be used."""
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"{path}: no such spec file")
    name = f"gradgrade_spec_{path.stem}"
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:
        raise SpecError(f"{path}: not a Python file (.py)")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module  # dataclasses and inspect.getsource look the module up by name
    try:
        module_spec.loader.exec_module(module)
    except Exception as error:  # a broken spec file is reported, never a traceback
        sys.modules.pop(name, None)
        raise SpecError(f"{path}: cannot load the spec: {type(error).__name__}: {error}") from None
    return of_module(module, where=str(path)), module


def of_module(module: ModuleType, *, where: str) -> api.Spec:
    """The module's SPEC, checked: every declared function in the reference, no helper taking a shim's name."""
    found = getattr(module, "SPEC", None)
    if not isinstance(found, api.Spec):
        raise SpecError(f"{where}: no SPEC = grader.spec.Spec(...) in the file")
    if found.version != api.VERSION:
        raise SpecError(f"{where}: spec version {found.version}; this gradgrade reads version {api.VERSION}")
    if not found.functions:
        raise SpecError(f"{where}: the spec declares no functions")
    seen = set()
    for declared in found.functions:
        if not isinstance(declared, api.KINDS + api.CHECKER_KINDS):
            raise SpecError(f"{where}: {declared!r} is not one of Gradients, LayerBackward, Loss, Value, Method, "
                            "Checker")
        if isinstance(declared, api.Gradients):
            _check_gradients(declared, module, where=where)
        if isinstance(declared, api.Checker) and not gives_cases(module):
            # A checker is graded by the mutant catalogue's probes, built on the cases a module gives itself.
            raise SpecError(f"{where}: {declared.function}: a Checker is graded only for an assignment whose reference "
                            "module gives its cases itself (cases(*, profile=...)) in this version")
        if declared.function in seen:
            raise SpecError(f"{where}: {declared.function} is declared twice")
        seen.add(declared.function)
        for name in _reference_names(declared):
            if reference(module, name) is None:
                raise SpecError(f"{where}: {name} is declared but the spec file defines no reference {name}")
    shims = {path.stem for path in SHIMS_FOLDER.glob("*.py")} | {path.name for path in SHIMS_FOLDER.iterdir()
                                                                  if path.is_dir() and path.name != "__pycache__"}
    for helper in found.helpers:
        if helper.split(".")[0] in shims:
            raise SpecError(f"{where}: helper module {helper!r} takes the name of a course shim gradgrade provides")
        if not helper_path(module, found.helpers[helper]).is_file():
            raise SpecError(f"{where}: helper module {helper!r}: there is no file {found.helpers[helper]} beside the spec")
    return found


def _check_gradients(declared: api.Gradients, module: ModuleType, *, where: str) -> None:
    """forward and chain go together; they and relu_sigmoid are read by the catalogue graders alone, so a spec
    whose cases gradgrade draws is told so rather than have them ignored."""
    if (declared.forward is None) != (declared.chain is None):
        raise SpecError(f"{where}: {declared.function}: forward and chain go together (the forward pass students "
                        "write, and how its output gives the backward's arguments)")
    used = [name for name, value in (("forward", declared.forward), ("relu_sigmoid", declared.relu_sigmoid)) if value]
    if used and not gives_cases(module):
        verb = "is" if len(used) == 1 else "are"
        raise SpecError(f"{where}: {declared.function}: {' and '.join(used)} {verb} honoured only for an assignment "
                        "whose reference module gives its cases itself (cases(*, profile=...)) in this version")
    if declared.forward is not None and reference(module, declared.forward) is None:
        raise SpecError(f"{where}: {declared.forward} is declared but the spec file defines no reference "
                        f"{declared.forward}")


def gives_cases(module: ModuleType) -> bool:
    """Whether the module gives its cases itself, as the built-in assignments do: a function
    cases(*, profile="course"|"square") -> records with a name and the inputs (a spec file's own helper
    called cases, taking a generator, is not that)."""
    function = getattr(module, "cases", None)
    if not callable(function):
        return False
    try:
        parameter = inspect.signature(function).parameters.get("profile")
    except (TypeError, ValueError):
        return False
    return parameter is not None and parameter.kind is parameter.KEYWORD_ONLY


def helper_path(module: ModuleType, file: str) -> Path:
    """Where a spec's helper module file is: beside the spec's own file."""
    return Path(getattr(module, "__file__", None) or ".").resolve().parent / file


def helper_sources(spec: api.Spec, module: ModuleType) -> dict[str, str]:
    """The source of each helper module a spec's students may import, by module name."""
    return {name: helper_path(module, file).read_text(encoding="utf-8") for name, file in spec.helpers.items()}


def _reference_names(declared: api.Function) -> tuple[str, ...]:
    names = (declared.forward, declared.function) if isinstance(declared, api.LayerBackward) else (declared.function,)
    return names + tuple(f"{name}.{declared.method}" if isinstance(declared, api.Method) else name
                         for name in getattr(declared, "conventions", ()))


def convention(declared: api.Function, name: str) -> api.Function:
    """The declaration with one of its conventions' reference in place of its own."""
    if isinstance(declared, api.LayerBackward):
        return replace(declared, forward=name, conventions=())
    if isinstance(declared, api.Method):
        return replace(declared, cls=name, conventions=())
    return replace(declared, function=name, conventions=())


def reference(module: ModuleType, name: str) -> Callable | None:
    """The reference function (or Class.method) called name in the spec's module, or None."""
    holder: Any = module
    for part in name.split("."):
        holder = getattr(holder, part, None)
    return holder if callable(holder) else None


def gradient_names(declared: api.Function, case: api.Case) -> tuple[str, ...]:
    """The names of what the function returns that are graded on the case, in order."""
    if isinstance(declared, api.Gradients):
        keys = declared.only or tuple(case.inputs[declared.wrt])
        return tuple(declared.gradient.format(key) for key in keys)
    if isinstance(declared, api.LayerBackward):
        return tuple(f"d{name}" for name in declared.wrt)
    if isinstance(declared, api.Loss):
        return ("loss", f"d{declared.wrt}")
    if isinstance(declared, api.Method):
        return ("loss",) + tuple(case.inputs[declared.wrt])
    return ("value",)


def positional(function: Callable, inputs: Mapping[str, Any]) -> tuple[tuple, tuple[str, ...]]:
    """The inputs named by function's parameters, in its order (parameters with defaults only when given)."""
    names, args = [], []
    for parameter in _parameters(function):
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if parameter.name in inputs:
            names.append(parameter.name)
            args.append(inputs[parameter.name])
        elif parameter.default is parameter.empty:
            raise SpecError(f"a case gives no input {parameter.name!r} for {getattr(function, '__qualname__', function)}")
        else:
            break
    return tuple(args), tuple(names)


@functools.lru_cache(maxsize=256)
def _parameters(function: Callable) -> tuple[inspect.Parameter, ...]:
    # Read once per function: a plan calls a reference forward thousands of times for its numerical gradients.
    return tuple(inspect.signature(function).parameters.values())


def applies(declared: api.Function, case: api.Case, module: ModuleType) -> bool:
    """Whether the case grades the function: it names it (Case.functions) or names none and has its inputs."""
    if isinstance(declared, api.Checker):
        return False  # graded on the catalogue's probes, never on drawn cases
    wanted = getattr(case, "functions", ())
    if wanted:
        # By name only: a case that grades a layer's forward in test mode must not grade its backward too.
        return declared.function in wanted
    try:
        prepare_inputs(declared, case, module)
    except (SpecError, KeyError):
        return False
    return True


def prepare_inputs(declared: api.Function, case: api.Case, module: ModuleType) -> tuple[tuple, tuple[str, ...]]:
    """The student's (and reference's) positional arguments for the function on the case."""
    if isinstance(declared, (api.Gradients, api.Value)):
        function = reference(module, declared.function)
        if declared.args is not None:
            args = tuple(declared.args(gradient.fresh(dict(case.inputs))))
            names = tuple(inspect.signature(function).parameters)[:len(args)]
            return args, names
        return positional(function, case.inputs)
    if isinstance(declared, api.LayerBackward):
        return positional(reference(module, declared.forward), case.inputs)
    if isinstance(declared, api.Method):
        for name in declared.args + (declared.wrt,):
            if name not in case.inputs:
                raise SpecError(f"case {case.name} gives no input {name!r} for {declared.function}")
        return tuple(case.inputs[name] for name in declared.args), declared.args
    return positional(reference(module, declared.function), case.inputs)
