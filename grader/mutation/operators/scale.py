"""Scale operators: a gradient off by a factor, mostly the 1/m of the batch mean."""
from __future__ import annotations

import ast
import copy

from grader.mutation.operators.helpers import expr, is_one_over_m, over_m, gradient_assignment, with_value
from grader.mutation.operators.registry import register


@register("scale-double-gradient", family="scale", nodes=(ast.Assign,),
          misconception="This gradient is twice as large as it should be: a stray factor of 2 multiplies it.",
          examples=[("dW2 = 1./m * np.dot(dZ2, A1.T)", ["dW2 = 1.0 / m * np.dot(dZ2, A1.T) * 2"]),
                    ("m = X.shape[1]", [])])
def double_gradient(node, names):
    """A gradient is multiplied by 2."""
    if gradient_assignment(node):
        return with_value(node, expr("VALUE * 2", VALUE=node.value))


@register("scale-quadruple-m", family="scale", nodes=(ast.BinOp,),
          misconception="The 1/m factor became 4/m: this gradient is 4 times too large; look at the 1/m factor.",
          examples=[("db1 = 1./m * np.sum(dZ1, axis=1, keepdims=True)",
                     ["db1 = 4.0 / m * np.sum(dZ1, axis=1, keepdims=True)"]),
                    ("y = 1 / n", [])])
def quadruple_m(node, names):
    """1/m becomes 4/m."""
    if is_one_over_m(node):
        return ast.BinOp(ast.Constant(type(node.left.value)(4)), ast.Div(), copy.deepcopy(node.right))


@register("scale-double-m", family="scale", nodes=(ast.BinOp,),
          misconception="The 1/m factor became 2/m: this gradient is twice too large; look at the 1/m factor.",
          examples=[("dW3 = 1./m * np.dot(dZ3, A2.T)", ["dW3 = 2.0 / m * np.dot(dZ3, A2.T)"])])
def double_m(node, names):
    """1/m becomes 2/m."""
    if is_one_over_m(node):
        return ast.BinOp(ast.Constant(type(node.left.value)(2)), ast.Div(), copy.deepcopy(node.right))


@register("scale-drop-m", family="scale", nodes=(ast.BinOp,),
          misconception="The 1/m factor is missing: the cost averages over the m examples, so its gradient does too.",
          examples=[("dW1 = 1./m * np.dot(dZ1, X.T)", ["dW1 = np.dot(dZ1, X.T)"]),
                    ("db = np.sum(dZ, axis=1, keepdims=True) / m", ["db = np.sum(dZ, axis=1, keepdims=True)"])])
def drop_m(node, names):
    """The 1/m factor is dropped."""
    if over_m(node):
        return copy.deepcopy(node.right if isinstance(node.op, ast.Mult) else node.left)


@register("scale-divide-twice", family="scale", nodes=(ast.BinOp,),
          misconception="You divided by m twice: the 1/m of the mean cost belongs in dW and db once.",
          examples=[("dW1 = 1./m * np.dot(dZ1, X.T)", ["dW1 = 1.0 / m * np.dot(dZ1, X.T) / m"]),
                    ("db = np.sum(dZ) / m", ["db = np.sum(dZ) / m / m"])])
def divide_twice(node, names):
    """A gradient is divided by m a second time."""
    if over_m(node):
        return expr("VALUE / m", VALUE=node)
