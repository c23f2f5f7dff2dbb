"""Sign operators: a difference taken the wrong way round, a gradient negated."""
from __future__ import annotations

import ast
import copy

from grader.mutation.operators.helpers import gradient_assignment, with_value, arraylike
from grader.mutation.operators.registry import register


@register("sign-swap-difference", family="sign", nodes=(ast.BinOp,),
          misconception="The operands of a difference are swapped (Y - A3 instead of A3 - Y): every gradient changes sign.",
          examples=[("dZ3 = A3 - Y", ["dZ3 = Y - A3"]), ("x = 1 - s", [])])
def swap_difference(node, names):
    """a - b becomes b - a."""
    if isinstance(node.op, ast.Sub) and arraylike(node.left) and arraylike(node.right):
        return ast.BinOp(copy.deepcopy(node.right), ast.Sub(), copy.deepcopy(node.left))


@register("sign-negate-gradient", family="sign", nodes=(ast.Assign,),
          misconception="This gradient has the wrong sign: the derivative of the cost points the other way.",
          examples=[("dW3 = 1./m * np.dot(dZ3, A2.T)", ["dW3 = -(1.0 / m * np.dot(dZ3, A2.T))"])])
def negate_gradient(node, names):
    """A gradient is negated."""
    if gradient_assignment(node):
        return with_value(node, ast.UnaryOp(ast.USub(), copy.deepcopy(node.value)))
