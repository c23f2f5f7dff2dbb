"""A graded function's own lines in a loaded submission and where the student wrote them, for their page."""
from __future__ import annotations

import ast
import re
from typing import Iterable

from grader.grading import absent
from grader.load import loaded
from grader.load import parse
from grader.results import FunctionSource, SourceStatus

# The most lines a result carries of one function: a page shows the student's function, and every line
# is stored again in results.json and the gradebook. A longer one keeps its first lines and says so.
MAX_LINES = 300
_PROBLEM_LINE = re.compile(r" at line (\d+)")
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
# Blocks whose statements still run at the top of the module (a def inside `if` or `try` is the module's).
_BLOCKS = (ast.If, ast.Try, ast.With, ast.For, ast.While) + ((ast.TryStar,) if hasattr(ast, "TryStar") else ())


def _top_statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements that run in a module's (or class's) own namespace, in order."""
    found = []
    for statement in body:
        found.append(statement)
        if isinstance(statement, _BLOCKS):
            for field in ("body", "orelse", "finalbody"):
                found += _top_statements(getattr(statement, field, []) or [])
            for handler in getattr(statement, "handlers", []) or []:
                found += _top_statements(handler.body)
    return found


def _binds(statement: ast.stmt, name: str) -> bool:
    if isinstance(statement, _DEFINITIONS):
        return statement.name == name
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return any((alias.asname or alias.name.split(".")[0]) == name for alias in statement.names)
    targets = (statement.targets if isinstance(statement, ast.Assign)
               else [statement.target] if isinstance(statement, (ast.AnnAssign, ast.AugAssign)) else [])
    return any(isinstance(node, ast.Name) and node.id == name for target in targets for node in ast.walk(target))


def binding(tree: ast.Module, name: str) -> ast.stmt | None:
    """The last statement that sets `name` (a dotted name looks inside the class): the one the grader called."""
    body: list[ast.stmt] = tree.body
    found = None
    for part in name.split("."):
        found = next((statement for statement in reversed(_top_statements(body)) if _binds(statement, part)), None)
        if found is None:
            return None
        body = found.body if isinstance(found, ast.ClassDef) else []
    return found


def _capped(lines: list[str]) -> tuple[str, str]:
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    if len(lines) <= MAX_LINES:
        return "\n".join(lines), ""
    return "\n".join(lines[:MAX_LINES]), f"only its first {MAX_LINES} of {len(lines)} lines are shown"


def _excerpt(program: loaded.Program, statement: ast.stmt, lines: list[str], *,
             status: SourceStatus = SourceStatus.FOUND, note: str = "") -> FunctionSource:
    decorators = [node.lineno for node in getattr(statement, "decorator_list", [])]
    start = min([statement.lineno] + decorators)
    end = statement.end_lineno or statement.lineno
    text, cut = _capped(lines[start - 1:end])
    cell, line, name = None, start, ""
    if program.line_map and start <= len(program.line_map):
        cell, line = program.line_map[start - 1]
        name = program.cell_names[cell - 1] if 1 <= cell <= len(program.cell_names) else ""
    return FunctionSource(status, text, line, cell, start, "; ".join(part for part in (note, cut) if part),
                          cell_name=name)


def _function_end(lines: list[str], start: int) -> int:
    """The index after a def's last line, by indentation alone (for code that does not parse)."""
    end = start + 1
    for index in range(start + 1, len(lines)):
        line = lines[index]
        if line.strip() and not line[0].isspace() and not line.lstrip().startswith(("#", ")", "]", "}")):
            break
        end = index + 1
    return end


def _unparsed(program: loaded.Program, name: str) -> FunctionSource | None:
    """The definition of `name` in the last skipped part that has one: the part did not parse, so never ran."""
    short = name.rsplit(".", 1)[-1]
    definition = re.compile(rf"^[ \t]*(?:async[ \t]+)?def[ \t]+{re.escape(short)}\b")
    for part in reversed(program.skipped):
        if short not in part.names or not part.text:
            continue
        lines = parse.python_lines(part.text)
        start = next((index for index, line in enumerate(lines) if definition.match(line)), 0)
        found = _PROBLEM_LINE.search(part.problem)  # in the student's numbering, as part.line is
        problem_index = int(found.group(1)) - part.line if found else None
        if problem_index is not None and not 0 <= problem_index < len(lines):
            problem_index = None
        low = start if problem_index is None else min(start, problem_index)
        high = _function_end(lines, start)
        if problem_index is not None:
            high = max(high, problem_index + 1)
        excerpt, cut = _capped(lines[low:high])
        note = f"{part.where} does not parse, so {name} was never defined: {part.problem}"
        return FunctionSource(SourceStatus.UNPARSED, excerpt, part.line + low, part.cell, 0,
                              "; ".join(piece for piece in (note, cut) if piece),
                              part.line + problem_index if problem_index is not None else None)
    return None


def _missing(program: loaded.Program, tree: ast.Module | None, name: str, *, kind: str,
             taken: Iterable[str]) -> FunctionSource:
    """What the submission defines instead: the function the student may have meant shown, if there is one."""
    functions = [statement for statement in (_top_statements(tree.body) if tree else [])
                 if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef))]
    names = list(dict.fromkeys(function.name for function in functions))
    meant = absent.near_miss(name, absent.defined_functions(program), kind=kind, taken=taken)
    statement = next((function for function in reversed(functions) if function.name == meant), None)
    if statement is not None:
        return _excerpt(program, statement, parse.python_lines(program.source), status=SourceStatus.MISSING,
                        note=f"no function is named {name}; {meant}, shown here, may be the one you meant "
                             f"(rename it {name} to have it graded)")
    if names:
        shown = ", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "")
        return FunctionSource(SourceStatus.MISSING, note=f"no function is named {name}; the submission defines {shown}")
    return FunctionSource(SourceStatus.MISSING, note=f"no function is named {name}; the submission defines no function")


def of(program: loaded.Program, name: str, *, missing: bool = False, kind: str = "",
       taken: Iterable[str] = ()) -> FunctionSource | None:
    """The source of the graded function `name` as the student wrote it.

    When the program has no such definition: where a part that does not parse defines it, that part; else,
    when missing (the grader found no function), what the submission defines instead (the function the
    student may have meant, absent.near_miss with kind and taken); else None (the function came from
    elsewhere, a course helper put in for the student).
    """
    try:
        tree = parse.syntax_tree(program.source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        tree = None
    statement = binding(tree, name) if tree is not None else None
    if statement is not None:
        # A model a spec grades through its method is defined by its class statement.
        note = "" if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else (
            f"{name} is not defined with def here: this statement sets it")
        return _excerpt(program, statement, parse.python_lines(program.source), note=note)
    unparsed = _unparsed(program, name)
    if unparsed is not None:
        return unparsed
    return _missing(program, tree, name, kind=kind, taken=taken) if missing else None
