"""Matrix-product operators: operands swapped, np.dot taken for * and @ for *."""
from __future__ import annotations

import ast
import copy

from grader.mutation.operators.helpers import is_call_to, contains_compare, arraylike
from grader.mutation.operators.registry import register


@register("matmul-swap-operands", family="matmul", nodes=(ast.Call, ast.BinOp),
          misconception="The operands of a matrix product are in the wrong order: a matrix product does not commute.",
          examples=[("dW3 = np.dot(dZ3, A2.T)", ["dW3 = np.dot(A2.T, dZ3)"]), ("y = a @ b", ["y = b @ a"])])
def swap_product(node, names):
    """np.dot(a, b) becomes np.dot(b, a); a @ b becomes b @ a."""
    if isinstance(node, ast.Call) and is_call_to(node, "dot", "matmul") and len(node.args) == 2:
        changed = copy.deepcopy(node)
        changed.args.reverse()
        return changed
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
        return ast.BinOp(copy.deepcopy(node.right), ast.MatMult(), copy.deepcopy(node.left))


@register("matmul-dot-multiply", family="matmul", nodes=(ast.Call,),
          misconception="np.dot (matrix product) and np.multiply (entry by entry) are exchanged.",
          examples=[("dA2 = np.dot(W3.T, dZ3)", ["dA2 = np.multiply(W3.T, dZ3)"]),
                    ("dZ = np.multiply(dA, g)", ["dZ = np.dot(dA, g)"])])
def dot_multiply(node, names):
    """np.dot becomes np.multiply and np.multiply becomes np.dot."""
    if isinstance(node.func, ast.Attribute) and node.func.attr in ("dot", "multiply"):
        changed = copy.deepcopy(node)
        changed.func.attr = "multiply" if node.func.attr == "dot" else "dot"
        return changed


@register("matmul-at-star", family="matmul", nodes=(ast.BinOp,),
          misconception="@ (matrix product) and * (entry by entry) are exchanged.",
          examples=[("dW = dZ @ A.T", ["dW = dZ * A.T"]), ("dZ = dA * g", ["dZ = dA @ g"]), ("y = 2 * x", [])])
def at_star(node, names):
    """@ becomes * and * between two arrays becomes @."""
    if isinstance(node.op, ast.MatMult):
        return ast.BinOp(copy.deepcopy(node.left), ast.Mult(), copy.deepcopy(node.right))
    if isinstance(node.op, ast.Mult) and arraylike(node.left) and arraylike(node.right) \
            and not contains_compare(node):
        return ast.BinOp(copy.deepcopy(node.left), ast.MatMult(), copy.deepcopy(node.right))
