"""Transpose operators: a .T dropped or added on an operand of a matrix product."""
from __future__ import annotations

import ast
import copy

from grader.mutation.operators.helpers import is_call_to
from grader.mutation.operators.registry import register


@register("transpose-drop", family="transpose", nodes=(ast.Attribute,),
          misconception="A transpose is missing: dW[l] = dZ[l] A[l-1].T and dA[l-1] = W[l].T dZ[l].",
          examples=[("dA2 = np.dot(W3.T, dZ3)", ["dA2 = np.dot(W3, dZ3)"])])
def drop_transpose(node, names):
    """x.T becomes x."""
    if node.attr == "T":
        return copy.deepcopy(node.value)


@register("transpose-add", family="transpose", nodes=(ast.Call, ast.BinOp),
          misconception="An operand of a matrix product is transposed that should not be.",
          examples=[("dW = np.dot(dZ, A.T)", ["dW = np.dot(dZ.T, A.T)"]),
                    ("dA = W.T @ dZ", ["dA = W.T @ dZ.T"])])
def add_transpose(node, names):
    """A plain operand of np.dot (or @) gets a .T."""
    if isinstance(node, ast.Call) and is_call_to(node, "dot", "matmul") and len(node.args) == 2:
        found = []
        for index, argument in enumerate(node.args):
            if isinstance(argument, ast.Name):
                changed = copy.deepcopy(node)
                changed.args[index] = ast.Attribute(copy.deepcopy(argument), "T", ast.Load())
                found.append(changed)
        return found
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
        found = []
        for side in ("left", "right"):
            if isinstance(getattr(node, side), ast.Name):
                changed = copy.deepcopy(node)
                setattr(changed, side, ast.Attribute(copy.deepcopy(getattr(node, side)), "T", ast.Load()))
                found.append(changed)
        return found
