"""Find where the student's backward pass assigns each gradient, and what its line says."""
from __future__ import annotations

import ast
import functools
from collections import deque
from dataclasses import dataclass
from typing import Iterator

from grader.grading.description import Description
from grader.load import parse

@dataclass(frozen=True)
class GradientLine:
    """Where the student's code assigns one name: the line and the expression."""

    line: int
    value: ast.expr


def _targets(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, (ast.Tuple, ast.List)):
        return [name for element in node.elts for name in _targets(element)]
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
        return [node.slice.value]
    return []


# The nodes that hold statements; expressions never do, so a walk for statements need not enter them.
_HOLDS_STATEMENTS = (ast.stmt, ast.excepthandler, ast.match_case)


@functools.cache
def _statement_fields(kind: type) -> tuple[str, ...]:
    """The fields of a kind of node that can list statements, except handlers or match cases, in _fields order."""
    return tuple(field for field in kind._fields if field in ("body", "handlers", "orelse", "finalbody", "cases"))


def statements(node: ast.AST) -> Iterator[ast.stmt]:
    """The statements in node (itself included), in ast.walk's order, without walking their expressions.

    Dropping the expressions keeps every statement at its depth, so the breadth-first order is ast.walk's.
    Only the fields that can list statements are read: ast.iter_child_nodes reads every field, the
    expressions too, and took most of the time of gradient_lines.
    """
    todo = deque([node])
    while todo:
        node = todo.popleft()
        if isinstance(node, ast.stmt):
            yield node
        for field in _statement_fields(type(node)):
            children = getattr(node, field, None)
            if isinstance(children, list):
                todo.extend(child for child in children if isinstance(child, _HOLDS_STATEMENTS))


def gradient_lines(source: str, function: str) -> dict[str, GradientLine]:
    """The last assignment of every name in the student's function (dW2 = ..., grads["dW2"] = ...)."""
    try:
        tree = parse.syntax_tree(source)  # the submission's program was parsed when it was loaded
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    bodies = [node for node in statements(tree) if isinstance(node, ast.FunctionDef) and node.name == function]
    found: dict[str, GradientLine] = {}
    for body in bodies[-1:]:
        for node in statements(body):
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    for name in _targets(target):
                        previous = found.get(name)
                        if previous is None or previous.line <= node.lineno:
                            found[name] = GradientLine(node.lineno, node.value)
    return found


def constant_over_m(value: ast.expr) -> bool:
    """True when the expression has a k/m (k not 1) in it: the 1/m factor is where a stray constant sits."""
    for node in ast.walk(value):
        if (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and isinstance(node.right, ast.Name)
                and node.right.id == "m" and isinstance(node.left, ast.Constant)
                and isinstance(node.left.value, (int, float)) and node.left.value != 1):
            return True
    return False


def factor_advice(description: Description, assignment: GradientLine | None) -> str:
    """Point at the 1/m factor when the student's own line holds a constant over m."""
    if description.kind == "factor" and assignment is not None and constant_over_m(assignment.value):
        return "look at the 1/m factor"
    return description.advice
