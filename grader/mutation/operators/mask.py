"""Activation-mask operators: the derivative of ReLU, tanh or sigmoid taken wrongly or dropped."""
from __future__ import annotations

import ast
import copy

from grader.mutation.operators.helpers import expr, layer, neighbour, is_call_to, contains_compare, zero_compare
from grader.mutation.operators.registry import register


@register("mask-other-layer", family="mask", nodes=(ast.Compare,),
          misconception="The ReLU mask comes from another layer: dZ[l] needs the mask of layer l's own activation.",
          examples=[("A1 = 0\nA2 = 0\ndZ2 = np.multiply(dA2, np.int64(A2 > 0))",
                     ["A1 = 0\nA2 = 0\ndZ2 = np.multiply(dA2, np.int64(A1 > 0))"]),
                    ("A1 = 0\nA2 = 0\ndZ1 = dA1 * (A1 > 0)", ["A1 = 0\nA2 = 0\ndZ1 = dA1 * (A2 > 0)"])])
def mask_other_layer(node, names):
    """A ReLU mask uses the previous (or next) layer's activation."""
    if zero_compare(node) and isinstance(node.left, ast.Name):
        other = neighbour(node.left.id, names)
        if other:
            return ast.Compare(ast.Name(other, ast.Load()), copy.deepcopy(node.ops), copy.deepcopy(node.comparators))


@register("mask-greater-equal", family="mask", nodes=(ast.Compare,),
          misconception="The ReLU mask uses >= 0 (or < 0): after a ReLU every activation is >= 0, so the mask is all ones.",
          examples=[("mask = np.int64(A2 > 0)", ["mask = np.int64(A2 >= 0)"]),
                    ("dZ[Z <= 0] = 0", ["dZ[Z < 0] = 0"])])
def greater_equal(node, names):
    """> 0 becomes >= 0 (and <= 0 becomes < 0)."""
    if zero_compare(node):
        swapped = {ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.LtE: ast.Lt, ast.Lt: ast.LtE}.get(type(node.ops[0]))
        if swapped:
            return ast.Compare(copy.deepcopy(node.left), [swapped()], copy.deepcopy(node.comparators))


@register("mask-drop", family="mask", nodes=(ast.Call, ast.BinOp),
          misconception="The ReLU derivative is missing: dZ = dA * g'(Z), and g'(Z) is 1 where Z > 0 and 0 elsewhere.",
          examples=[("dZ2 = np.multiply(dA2, np.int64(A2 > 0))", ["dZ2 = dA2"]),
                    ("dZ1 = dA1 * (Z1 > 0)", ["dZ1 = dA1"])])
def drop_mask(node, names):
    """The ReLU mask is dropped: dZ = dA."""
    if isinstance(node, ast.Call) and is_call_to(node, "multiply") and len(node.args) == 2:
        operands = node.args
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        operands = [node.left, node.right]
    else:
        return None
    if contains_compare(operands[1]) and not contains_compare(operands[0]):
        return copy.deepcopy(operands[0])
    if contains_compare(operands[0]) and not contains_compare(operands[1]):
        return copy.deepcopy(operands[1])


@register("mask-sigmoid-derivative", family="mask", nodes=(ast.Call,),
          misconception="The sigmoid's derivative a(1 - a) is used for a ReLU layer: a ReLU's derivative is 1 where Z > 0, else 0.",
          examples=[("dZ2 = np.multiply(dA2, np.int64(A2 > 0))", ["dZ2 = np.multiply(dA2, A2 * (1 - A2))"]),
                    ("y = f(a, b)", [])])
def sigmoid_derivative(node, names):
    """A ReLU mask becomes the sigmoid's derivative a * (1 - a)."""
    if len(node.args) == 1 and not node.keywords and zero_compare(node.args[0]) \
            and isinstance(node.args[0].left, ast.Name):
        return expr("A * (1 - A)", A=node.args[0].left)


@register("mask-pre-activation", family="mask", nodes=(ast.Compare,),
          misconception="The ReLU mask is taken from Z instead of A: for a ReLU, A > 0 exactly where Z > 0, so this is fine.",
          examples=[("Z2 = 0\nmask = np.int64(A2 > 0)", ["Z2 = 0\nmask = np.int64(Z2 > 0)"]),
                    ("mask = np.int64(A2 > 0)", [])])
def pre_activation(node, names):
    """A mask on A[l] is taken on Z[l] instead (an equivalent rewrite)."""
    if zero_compare(node) and isinstance(node.left, ast.Name) and node.left.id.startswith("A"):
        other = "Z" + node.left.id[1:]
        if other in names:
            return ast.Compare(ast.Name(other, ast.Load()), copy.deepcopy(node.ops), copy.deepcopy(node.comparators))
