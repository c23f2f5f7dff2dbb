"""Grade functions from a Jupyter notebook (`grader.check(backward_propagation_n)`) and show the page inline.

The functions' source, and the source of the helpers they use from the notebook, is sent through the
same pipeline and sandbox as a submitted file: the student's code never runs in the kernel's process
during grading, and a function graded here gets the grade the instructor's batch will give it.
"""
from __future__ import annotations

import dataclasses
import dis
import html as html_escape
import inspect
import sys
import textwrap
import types
from dataclasses import dataclass
from typing import Any, Callable

from grader import assignments, pipeline, render, score
from grader.results import SubmissionResult
from grader.settings import Settings

CELL_FILENAME = "notebook.py"
IFRAME_HEIGHT = 520


@dataclass(frozen=True)
class Report:
    """A graded notebook function: shows as the student page in Jupyter, as the text table elsewhere."""

    result: SubmissionResult

    @property
    def passed(self) -> bool:
        return self.result.status.value == "pass"

    def __repr__(self) -> str:
        return render.text(self.result)

    def _repr_html_(self) -> str:
        from grader import html

        # An iframe keeps the page's stylesheet from restyling the notebook around it.
        page = html_escape.escape(html.student_page(self.result), quote=True)
        return (f'<iframe srcdoc="{page}" title="gradgrade report" '
                f'style="width: 100%; height: {IFRAME_HEIGHT}px; border: 1px solid #d0d7de;"></iframe>')


def _names_used(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _names_used(constant)
    return names


def _is_simple_constant(value: Any) -> bool:
    if isinstance(value, (bool, int, float, str, type(None))):
        return True
    return isinstance(value, tuple) and all(_is_simple_constant(item) for item in value)


def _globals_read(code: types.CodeType) -> set[str]:
    """The names a function's code (nested code included) loads as globals: attribute names do not count."""
    names = {instruction.argval for instruction in dis.get_instructions(code) if instruction.opname == "LOAD_GLOBAL"}
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _globals_read(constant)
    return names


def _globals_of(function: Callable, names_of: Callable[[types.CodeType], set[str]]) -> list[tuple[str, Any]]:
    """(name, value) of each global of function's that names_of finds in its code, by name."""
    namespace = getattr(function, "__globals__", {})
    return [(name, namespace[name]) for name in sorted(names_of(function.__code__)) if name in namespace]


def _is_helper(value: Any, function: Callable) -> bool:
    """Whether a global is a function defined beside function (in the notebook), sent along with it."""
    return isinstance(value, types.FunctionType) and value.__module__ == function.__module__


def _reachable(functions: tuple[Callable, ...], names_of: Callable[[types.CodeType], set[str]]) -> list[Callable]:
    """The functions and the helpers beside them they reach through their globals, each once, helpers first."""
    order: list[Callable] = []
    seen: set[int] = set()

    def visit(function: Callable) -> None:
        if id(function) in seen:
            return
        seen.add(id(function))
        for _, value in _globals_of(function, names_of):
            if _is_helper(value, function):
                visit(value)
        order.append(function)

    for function in functions:
        visit(function)
    return order


def unsent_globals(functions: tuple[Callable, ...]) -> tuple[str, ...]:
    """Warnings for the notebook globals the functions (and the helpers of theirs that are sent) read but
    function_sources cannot send (an array, a dict...): in the sandbox those names are undefined, as they
    are in the instructor's batch."""
    return tuple(f"{function.__name__} reads the notebook's global {name} (a {type(value).__name__}), "
                 "which gradgrade does not get: pass it in or compute it inside the function"
                 for function in _reachable(functions, _globals_read)
                 for name, value in _globals_of(function, _globals_read)
                 if not (_is_helper(value, function) or callable(value) or isinstance(value, types.ModuleType)
                         or _is_simple_constant(value)))


def _definition(function: Callable) -> str:
    return textwrap.dedent(inspect.getsource(function))


def function_sources(functions: tuple[Callable, ...]) -> str:
    """The source of functions and of what they use from their globals: helper functions defined next
    to them, imported modules and functions, and simple constants. OSError when a source is not found."""
    imports: list[str] = []
    constants: list[str] = []
    definitions: list[str] = []
    for function in _reachable(functions, _names_used):
        for name, value in _globals_of(function, _names_used):
            if isinstance(value, types.ModuleType):
                line = f"import {value.__name__}" + ("" if value.__name__ == name else f" as {name}")
                imports.append(line) if line not in imports else None
            elif _is_helper(value, function):
                continue
            elif callable(value) and getattr(value, "__module__", None) and hasattr(value, "__name__"):
                line = f"from {value.__module__} import {value.__name__}" + (
                    "" if value.__name__ == name else f" as {name}")
                imports.append(line) if line not in imports else None
            elif _is_simple_constant(value):
                constants.append(f"{name} = {value!r}")
        definitions.append(_definition(function))
    return "\n".join(imports + constants) + "\n\n" + "\n\n".join(definitions)


def _caller_namespace() -> dict[str, Any]:
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("grader"):
        frame = frame.f_back
    return frame.f_globals if frame is not None else {}


def history_source(namespace: dict[str, Any]) -> str | None:
    """The notebook's whole input history (IPython's In[]), magics and shell escapes commented out."""
    cells = namespace.get("In")
    if not isinstance(cells, list) or not cells:
        return None
    lines = []
    for cell in cells:
        for line in str(cell).splitlines():
            stripped = line.lstrip()
            lines.append("# " + line if stripped.startswith(("%", "!")) or "get_ipython()" in line else line)
        lines.append("")
    return "\n".join(lines)


def assignment_of(functions: tuple[Callable, ...]) -> str:
    """The built-in assignment one of whose student functions has the name of a given function."""
    names = {function.__name__ for function in functions}
    for name in assignments.available():
        if names & set(assignments.get(name).student_functions):
            return name
    raise ValueError(f"cannot tell the assignment of {', '.join(sorted(names))}; pass assignment=")


def check(*functions: Callable, assignment: str | None = None, threshold: float | None = None,
          epsilon: float | None = None, timeout: float = 10.0, total_timeout: float = 60.0) -> Report:
    """Grade the given functions through the sandbox; returns a Report that Jupyter shows as the student page.

    `grader.check(backward_propagation_n)` grades the backward pass; pass the checker too (or alone)
    to grade it. Only the checks of the functions given are shown and scored.
    """
    if not functions or not all(isinstance(function, types.FunctionType) for function in functions):
        raise TypeError("grader.check takes the functions you wrote, e.g. grader.check(backward_propagation_n)")
    name = assignment or assignment_of(functions)
    options = {key: value for key, value in (("threshold", threshold), ("epsilon", epsilon)) if value is not None}
    settings = Settings(assignment=name, timeout=timeout, total_timeout=total_timeout, **options)
    try:
        source = function_sources(functions)
    except (OSError, TypeError):
        source = history_source(_caller_namespace())
        if source is None:
            raise ValueError("cannot find the source of the function; define it in a notebook cell or a file") from None
    result = pipeline.grade_source(source.encode(), CELL_FILENAME, settings, submission=functions[0].__name__)
    result = dataclasses.replace(result, warnings=result.warnings + unsent_globals(functions))
    return Report(only(result, {function.__name__ for function in functions}))


def only(result: SubmissionResult, names: set[str]) -> SubmissionResult:
    """The result restricted to the checks of the named functions, rescored (all of it when none match)."""
    checks = tuple(check_ for check_ in result.checks if check_.name in names)
    if not checks or len(checks) == len(result.checks):
        return result
    total, maximum = score.totals(checks)
    return dataclasses.replace(result, checks=checks, score=total, max_score=maximum,
                               status=pipeline.overall_status(checks),
                               message=pipeline.checks_message(checks))
