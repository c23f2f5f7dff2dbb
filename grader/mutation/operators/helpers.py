"""Small ast helpers the operators share: expression templates, layer numbers, recognising gradients and 1/m."""
from __future__ import annotations

import ast
import copy
import re


LAYERED = re.compile(r"^([A-Za-z_]*?)(\d+)$")
GRADIENT_TARGET = re.compile(r"^d[A-Za-z]")
PARAMETER_GRADIENT = re.compile(r"^d[Wb]")


def expr(template: str, **holes: ast.AST) -> ast.expr:
    """Parse an expression template, filling every Name called like a hole with a copy of its node."""
    class Fill(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.AST:
            return copy.deepcopy(holes[node.id]) if node.id in holes else node

    return Fill().visit(ast.parse(template, mode="eval").body)


def layer(name: str) -> tuple[str, int] | None:
    """('W', 2) for 'W2'; None for a name without a layer number."""
    match = LAYERED.match(name)
    return (match.group(1), int(match.group(2))) if match else None


def neighbour(name: str, names: frozenset, *, prefer: int = -1) -> str | None:
    """The same role one layer away (prefer -1: the previous layer, else the next) if the code binds it."""
    parts = layer(name)
    if parts is None:
        return None
    prefix, number = parts
    for step in (prefer, -prefer):
        candidate = f"{prefix}{number + step}"
        if candidate in names:
            return candidate
    return None


def is_one_over_m(node: ast.AST) -> bool:
    return (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)
            and isinstance(node.left, ast.Constant) and node.left.value == 1
            and isinstance(node.right, ast.Name) and node.right.id == "m")


def over_m(node: ast.BinOp) -> bool:
    """True for 1/m * x and x / m (1/m itself aside): a term that divides by m once."""
    return (isinstance(node.op, ast.Mult) and is_one_over_m(node.left)) or (
        isinstance(node.op, ast.Div) and isinstance(node.right, ast.Name) and node.right.id == "m"
        and not is_one_over_m(node))


def is_call_to(node: ast.AST, *names: str) -> bool:
    """True for np.<name>(...) or <name>(...)."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    return (isinstance(func, ast.Attribute) and func.attr in names) or (isinstance(func, ast.Name) and func.id in names)


def gradient_assignment(node: ast.Assign, pattern: re.Pattern = GRADIENT_TARGET) -> bool:
    """An assignment of one gradient: dW2 = ..., or grads[...] = ..."""
    if len(node.targets) != 1:
        return False
    target = node.targets[0]
    if isinstance(target, ast.Name):
        return bool(pattern.match(target.id))
    return isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and "grad" in target.value.id


def with_value(node: ast.Assign, value: ast.expr) -> ast.Assign:
    return ast.Assign(targets=copy.deepcopy(node.targets), value=value, type_comment=None)


def contains_compare(node: ast.AST) -> bool:
    return any(isinstance(child, ast.Compare) for child in ast.walk(node))


def zero_compare(node: ast.AST) -> bool:
    """x > 0, x >= 0, x <= 0 or x < 0."""
    return (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.comparators[0], ast.Constant)
            and node.comparators[0].value == 0)


def arraylike(node: ast.AST) -> bool:
    """An operand that is an array, not a scalar factor such as 1/m or 2."""
    if isinstance(node, ast.Name):
        return node.id != "m"
    return isinstance(node, (ast.Attribute, ast.Subscript, ast.Call))


def is_text(node: ast.AST) -> bool:
    """A string constant, or a str(...) call: + joins text there, it is not arithmetic."""
    return (isinstance(node, ast.Constant) and isinstance(node.value, str)) or (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "str")
