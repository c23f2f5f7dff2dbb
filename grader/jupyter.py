"""Grade functions from a Jupyter notebook (`grader.check(f)`, f a function the student wrote) and show the page inline.

The functions' source, and the source of the helpers they use from the notebook, is sent through the
same pipeline and sandbox as a submitted file: the student's code never runs in the kernel's process
during grading, and a function graded here gets the grade the instructor's batch will give it.
"""
from __future__ import annotations

import builtins
import dataclasses
import dis
import html as html_escape
import inspect
import linecache
import re
import sys
import textwrap
import types
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, Callable

from grader import assignments
from grader.grading import pipeline, score
from grader.report import render
from grader.load import loaded
from grader.load import parse
from grader.load import program as load
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
        from grader.report import html

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


def _methods(cls: type) -> list[types.FunctionType]:
    """A class's own methods (a model a Method spec grades: its __init__, loss, helpers)."""
    found = []
    for value in vars(cls).values():
        value = value.__func__ if isinstance(value, (staticmethod, classmethod)) else value
        if isinstance(value, types.FunctionType):
            found.append(value)
    return found


def _globals_of(function: Callable, names_of: Callable[[types.CodeType], set[str]]) -> list[tuple[str, Any]]:
    """(name, value) of each global of function's (a class's: of its methods') that names_of finds in its code."""
    if isinstance(function, type):
        found = {name: value for method in _methods(function) for name, value in _globals_of(method, names_of)}
        return sorted(found.items(), key=lambda item: item[0])
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


# IPython before 7.x named a cell's code `<ipython-input-4-1a2b3c4d5e6f>`; ipykernel 6 names it
# /tmp/ipykernel_<pid>/<hash>.py and keeps the cell's number in the shell's compiler (_filename_map).
_IPYTHON_INPUT = re.compile(r"^<ipython-input-(\d+)-[0-9a-fA-F]+>$")
# The lines gradgrade writes itself (imports and constants a function uses) belong to no cell.
ADDED = "the imports gradgrade added"


def cell_name(filename: str) -> str:
    """What the student calls the place code was compiled from: `In [4]` for a notebook cell (either
    IPython naming), else the file's name."""
    match = _IPYTHON_INPUT.match(filename)
    if match:
        return f"In [{match.group(1)}]"
    shell = getattr(builtins, "get_ipython", None)  # IPython puts it in builtins while a kernel runs
    try:
        number = shell().compile._filename_map.get(filename) if callable(shell) else None
    except Exception:  # another shell, or an IPython whose compiler keeps no map
        number = None
    if isinstance(number, int) and not isinstance(number, bool):
        return f"In [{number}]"
    return PurePath(filename).name or filename


Places = list[tuple[str, int]]


def _class_lines(cls: type) -> tuple[list[str], int, str]:
    """A class's source lines, first line number and file, found from its methods' code: inspect.getsource
    looks a class up by its module's file, and a notebook's __main__ has none (Python before 3.13)."""
    codes = sorted((method.__code__ for method in _methods(cls)), key=lambda code: code.co_firstlineno)
    if not codes:
        raise OSError(f"the class {cls.__name__} has no methods to find its source by")
    filename = codes[0].co_filename
    lines = linecache.getlines(filename)
    header = re.compile(rf"^\s*class\s+{re.escape(cls.__name__)}\b")
    starts = [index for index in range(min(codes[0].co_firstlineno, len(lines))) if header.match(lines[index])]
    if not starts:
        raise OSError(f"cannot find the source of the class {cls.__name__}")
    return inspect.getblock(lines[starts[-1]:]), starts[-1] + 1, filename


def _definition(function: Callable) -> tuple[str, Places]:
    """A function's source, dedented, and for each of its lines the cell and line the student sees."""
    if isinstance(function, type):
        lines, start, filename = _class_lines(function)
    else:
        lines, start = inspect.getsourcelines(function)
        filename = function.__code__.co_filename
    name = cell_name(filename)
    source = textwrap.dedent("".join(lines))
    return source, [(name, max(start, 1) + offset) for offset in range(source.count("\n") + 1)]


def function_sources(functions: tuple[Callable, ...]) -> str:
    """The source of functions and of what they use from their globals: helper functions defined next
    to them, imported modules and functions, and simple constants. OSError when a source is not found."""
    return function_program(functions)[0]


def function_program(functions: tuple[Callable, ...]) -> tuple[str, Places]:
    """function_sources, and for each of its lines the cell and line the student sees (ADDED for lines
    gradgrade wrote)."""
    imports: list[str] = []
    constants: list[str] = []
    definitions: list[tuple[str, Places]] = []
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
    head = "\n".join(imports + constants) + "\n\n"
    places: Places = [(ADDED, line) for line in range(1, head.count("\n") + 1)]
    for index, (definition, lines) in enumerate(definitions):
        if index:
            places.append((ADDED, 0))  # the blank line between two definitions ("\n\n".join)
        places += lines
    return head + "\n\n".join(definition for definition, _ in definitions), places


def _caller_namespace() -> dict[str, Any]:
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("grader"):
        frame = frame.f_back
    return frame.f_globals if frame is not None else {}


def history_source(namespace: dict[str, Any]) -> str | None:
    """The notebook's whole input history (IPython's In[]), magics and shell escapes commented out."""
    found = history_program(namespace)
    return found[0] if found else None


def history_program(namespace: dict[str, Any]) -> tuple[str, Places] | None:
    """history_source, and for each of its lines the cell (`In [4]`) and line the student sees."""
    cells = namespace.get("In")
    if not isinstance(cells, list) or not cells:
        return None
    lines, places = [], []
    for number, cell in enumerate(cells):
        for index, line in enumerate(str(cell).splitlines(), start=1):
            stripped = line.lstrip()
            lines.append("# " + line if stripped.startswith(("%", "!")) or "get_ipython()" in line else line)
            places.append((f"In [{number}]", index))
        lines.append("")
        places.append((ADDED, 0))
    return "\n".join(lines), places


def _placed(program: loaded.Program, places: Places) -> loaded.Program:
    """program, its lines named as the student sees them (`In [4], line 11`) where places covers them all."""
    count = len(parse.python_lines(program.source))
    if len(places) < count:
        return program
    names = list(dict.fromkeys(name for name, _ in places[:count]))
    return dataclasses.replace(program, line_map=tuple((names.index(name) + 1, line) for name, line in places[:count]),
                               cell_names=tuple(names))


def assignment_of(functions: tuple[Callable, ...]) -> str:
    """The built-in assignment one of whose student functions has the name of a given function."""
    names = {function.__name__ for function in functions}
    for name in assignments.available():
        try:
            functions = assignments.get(name).student_functions
        except assignments.UnknownAssignment:  # a registered spec that cannot load is not this one
            continue
        if names & set(functions):
            return name
    raise ValueError(f"cannot tell the assignment of {', '.join(sorted(names))}; pass assignment=")


def check(*functions: Callable, assignment: str | None = None, threshold: float | None = None,
          epsilon: float | None = None, timeout: float = 10.0, total_timeout: float = 60.0) -> Report:
    """Grade the given functions through the sandbox; returns a Report that Jupyter shows as the student page.

    `grader.check(f)` grades f, the backward pass the student wrote; pass the checker too (or alone)
    to grade it. Only the checks of the functions given are shown and scored. assignment: a built-in's
    name, a name a course package registers, or a spec file's path (relative to the notebook's folder).
    """
    if not functions or not all(isinstance(function, (types.FunctionType, type)) for function in functions):
        raise TypeError("grader.check takes the functions (or the model class) you wrote, "
                        "e.g. grader.check(my_backward_pass)")
    name = assignments.setting(assignment) if assignment else assignment_of(functions)
    resolved = assignments.ready(name)  # a spec file's path is the notebook's folder's, as the student wrote it
    threshold = threshold or assignments.threshold(name)
    options = {key: value for key, value in (("threshold", threshold), ("epsilon", epsilon)) if value is not None}
    settings = Settings(assignment=name, timeout=timeout, total_timeout=total_timeout, **options)
    try:
        source, places = function_program(functions)
    except (OSError, TypeError):
        found = history_program(_caller_namespace())
        if found is None:
            raise ValueError("cannot find the source of the function; define it in a notebook cell or a file") from None
        source, places = found
    submission = functions[0].__name__
    try:
        program = load.load_bytes(source.encode(), filename=CELL_FILENAME, run_all=settings.run_all)
    except loaded.LoadError as error:
        result = pipeline.error_result(submission, settings, str(error), assignment=resolved)
    else:
        # Messages name the cell and line the student sees, not lines of the file gradgrade built.
        result = pipeline.grade_program(_placed(program, places), submission, settings, assignment=resolved)
    result = dataclasses.replace(result, warnings=result.warnings + unsent_globals(functions))
    return Report(only(result, {function.__name__ for function in functions}))


def only(result: SubmissionResult, names: set[str]) -> SubmissionResult:
    """The result restricted to the checks of the named functions, rescored (all of it when none match)."""
    # A model's method is graded as "TwoLayerNet.loss" and given as the class.
    checks = tuple(check_ for check_ in result.checks if check_.name in names or check_.name.split(".")[0] in names)
    if not checks or len(checks) == len(result.checks):
        return result
    total, maximum = score.totals(checks)
    return dataclasses.replace(result, checks=checks, score=total, max_score=maximum,
                               status=pipeline.overall_status(checks),
                               message=pipeline.checks_message(checks))
