"""Planting mutants: every operator's bug at every site of the reference backward pass, compiled."""
from __future__ import annotations

import ast
import inspect
import textwrap
from types import ModuleType
from typing import Callable, Mapping

from grader.mutation.operators.apply import Site, bound_names, mutated_source, preorder, sites
from grader.mutation.operators.registry import REGISTRY, Operator
from grader.mutation.operators.terms import SPECS_ONLY
from grader.mutation.records import Mutant


def reference_source(module: ModuleType) -> str:
    """The reference backward function's source passed through ast.unparse (line 1 is its def)."""
    return function_source(getattr(module, module.BACKWARD))


def function_source(function: Callable) -> str:
    """A function's (or method's) source passed through ast.unparse, dedented (line 1 is its def)."""
    source = textwrap.dedent(inspect.getsource(function))
    defined = ast.parse(source).body[0]
    return ast.unparse(ast.Module(body=[defined], type_ignores=[]))


def _line(source: str, number: int) -> str:
    lines = source.splitlines()
    return lines[number - 1].strip() if 0 < number <= len(lines) else ""


def generate(module: ModuleType, *, registry: Mapping[str, Operator] | None = None) -> tuple[Mutant, ...]:
    """Every mutant of the module's backward function, operator by operator, in source order (a built-in
    module's: without the operators for spec assignments only)."""
    if registry is None:
        registry = {key: operator for key, operator in REGISTRY.items() if key not in SPECS_ONLY}
    return generate_source(reference_source(module), registry=registry)


def generate_source(source: str, *, registry: Mapping[str, Operator] | None = None, prefix: str = "") -> tuple[Mutant, ...]:
    """Every mutant of the function source defines, operator by operator, in source order (ids start with prefix)."""
    registry = REGISTRY if registry is None else registry
    tree = ast.parse(source)
    names = bound_names(tree)
    nodes = preorder(tree)
    found = []
    for operator in registry.values():
        for site in sites(operator, tree, names=names, nodes=nodes):
            found.append(_mutant(operator, site, tree, nodes, prefix))
    return tuple(found)


def _mutant(operator: Operator, site: Site, tree: ast.AST, nodes: list, prefix: str = "") -> Mutant:
    node = site.original
    common = dict(id=f"{prefix}{operator.id}-{site.occurrence}", operator=operator.id, family=operator.family,
                  description=operator.description, misconception=operator.misconception, line=node.lineno,
                  column=node.col_offset, end_line=node.end_lineno, end_column=node.end_col_offset,
                  original=ast.unparse(node))
    try:
        replacement = ast.unparse(site.replacement)
        source = mutated_source(tree, site, nodes=nodes)
        ast.parse(source)
    except (SyntaxError, ValueError, TypeError, AttributeError, RecursionError) as error:
        return Mutant(**common, replacement="", source="", valid=False,
                      message=f"does not re-parse: {type(error).__name__}: {error}")
    return Mutant(**common, replacement=replacement, source=source)


def compile_function(source: str, module: ModuleType, *, filename: str = "<mutant>") -> Callable:
    """The backward function defined by source, run with (a copy of) the reference module's globals."""
    return compile_named(source, module, module.BACKWARD, filename=filename)


def compile_named(source: str, module: ModuleType, name: str, *, filename: str = "<mutant>") -> Callable:
    """The function called name that source defines, run with (a copy of) module's globals."""
    namespace = dict(vars(module))
    exec(compile(source, filename, "exec"), namespace)  # our own generated code, never a student's
    return namespace[name]
