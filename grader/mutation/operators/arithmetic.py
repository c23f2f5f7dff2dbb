"""Arithmetic operators: + and -, * and / exchanged."""
from __future__ import annotations

import ast
import copy

from grader.mutation.operators.helpers import is_text
from grader.mutation.operators.registry import register


@register("arith-add-sub", family="arithmetic", nodes=(ast.BinOp,),
          misconception="A + and a - are exchanged in this formula.",
          examples=[("dZ3 = A3 - Y", ["dZ3 = A3 + Y"]), ("Z = W @ A + b", ["Z = W @ A - b"]),
                    ("key = 'dW' + str(l)", [])])
def add_sub(node, names):
    """+ becomes - and - becomes +."""
    swapped = {ast.Add: ast.Sub, ast.Sub: ast.Add}.get(type(node.op))
    if swapped and not (is_text(node.left) or is_text(node.right)):
        return ast.BinOp(copy.deepcopy(node.left), swapped(), copy.deepcopy(node.right))


@register("arith-mul-div", family="arithmetic", nodes=(ast.BinOp,),
          misconception="A * and a / are exchanged in this formula.",
          examples=[("db3 = 1./m * s", ["db3 = 1.0 / m / s", "db3 = 1.0 * m * s"])])
def mul_div(node, names):
    """* becomes / and / becomes *."""
    swapped = {ast.Mult: ast.Div, ast.Div: ast.Mult}.get(type(node.op))
    if swapped:
        return ast.BinOp(copy.deepcopy(node.left), swapped(), copy.deepcopy(node.right))
