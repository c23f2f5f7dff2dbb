"""Loop operators for the L-layer backward pass: the range over layers, reversed(), the cache index, the activation."""
from __future__ import annotations

import ast
import copy

from grader.mutation.operators.helpers import expr, layer
from grader.mutation.operators.registry import register


def _range_arguments(node: ast.AST) -> list[ast.expr] | None:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range" \
            and 1 <= len(node.args) <= 3 and not node.keywords:
        return node.args
    return None


def _negative_step(arguments: list[ast.expr]) -> bool:
    if len(arguments) < 3:
        return False
    step = arguments[2]
    return isinstance(step, ast.UnaryOp) and isinstance(step.op, ast.USub) or (
        isinstance(step, ast.Constant) and isinstance(step.value, (int, float)) and step.value < 0)


@register("loop-range-stop", family="loop", nodes=(ast.Call,),
          misconception="The loop over layers stops one layer early: check range's end, which is excluded.",
          examples=[("for l in range(L - 1):\n    pass", ["for l in range(L - 1 - 1):\n    pass"]),
                    ("for l in range(1, L):\n    pass", ["for l in range(1, L - 1):\n    pass"]),
                    ("for l in range(L - 2, -1, -1):\n    pass", ["for l in range(L - 2, -1 + 1, -1):\n    pass"])])
def range_stop(node, names):
    """range's end moves one step towards the start (one iteration fewer)."""
    arguments = _range_arguments(node)
    if arguments is None:
        return None
    changed = copy.deepcopy(node)
    position = 0 if len(arguments) == 1 else 1
    template = "STOP + 1" if _negative_step(arguments) else "STOP - 1"
    changed.args[position] = expr(template, STOP=arguments[position])
    return changed


@register("loop-range-start", family="loop", nodes=(ast.Call,),
          misconception="The loop over layers starts one layer late and skips a layer: check range's start.",
          examples=[("for l in range(L - 1):\n    pass", ["for l in range(1, L - 1):\n    pass"]),
                    ("for l in range(L - 2, -1, -1):\n    pass", ["for l in range(L - 2 - 1, -1, -1):\n    pass"])])
def range_start(node, names):
    """range's start moves one step towards the end (the first layer is skipped)."""
    arguments = _range_arguments(node)
    if arguments is None:
        return None
    changed = copy.deepcopy(node)
    if len(arguments) == 1:
        changed.args = [ast.Constant(1), copy.deepcopy(arguments[0])]
    else:
        template = "START - 1" if _negative_step(arguments) else "START + 1"
        changed.args[0] = expr(template, START=arguments[0])
    return changed


@register("loop-reversed-drop", family="loop", nodes=(ast.For,),
          misconception="Backpropagation runs from the last layer to the first: the loop must go in reverse.",
          examples=[("for l in reversed(range(L - 1)):\n    pass", ["for l in range(L - 1):\n    pass"])])
def reversed_drop(node, names):
    """for l in reversed(x) becomes for l in x."""
    if isinstance(node.iter, ast.Call) and isinstance(node.iter.func, ast.Name) and node.iter.func.id == "reversed" \
            and len(node.iter.args) == 1:
        changed = copy.deepcopy(node)
        changed.iter = copy.deepcopy(node.iter.args[0])
        return changed


@register("loop-reversed-add", family="loop", nodes=(ast.For,),
          misconception="The loop over layers runs in the wrong direction.",
          examples=[("for l in range(1, L):\n    pass", ["for l in reversed(range(1, L)):\n    pass"]),
                    ("for l in reversed(x):\n    pass", [])])
def reversed_add(node, names):
    """for l in x becomes for l in reversed(x)."""
    if _range_arguments(node.iter) is not None:
        changed = copy.deepcopy(node)
        changed.iter = expr("reversed(ITER)", ITER=node.iter)
        return changed


@register("loop-cache-index", family="loop", nodes=(ast.Subscript,),
          misconception="The wrong layer's cache is used: caches is 0-indexed, so layer l's cache is caches[l - 1].",
          examples=[("c = caches[l]", ["c = caches[l - 1]"]), ("c = caches[l - 1]", ["c = caches[l]"]),
                    ("c = caches[L - 1]", ["c = caches[L]"]), ("c = cache[0]", [])])
def cache_index(node, names):
    """caches[l] becomes caches[l - 1], and caches[l - 1] (or + 1) becomes caches[l]."""
    if not (isinstance(node.value, ast.Name) and "cache" in node.value.id):
        return None
    index = node.slice
    if isinstance(index, ast.Name):
        changed_index = expr("INDEX - 1", INDEX=index)
    elif isinstance(index, ast.BinOp) and isinstance(index.op, (ast.Add, ast.Sub)) \
            and isinstance(index.left, ast.Name) and isinstance(index.right, ast.Constant) and index.right.value == 1:
        changed_index = copy.deepcopy(index.left)
    else:
        return None
    return ast.Subscript(copy.deepcopy(node.value), changed_index, copy.deepcopy(node.ctx))


@register("loop-wrong-activation", family="loop", nodes=(ast.Constant,),
          misconception="The wrong activation's derivative is used for this layer: hidden layers are ReLU, the output is sigmoid.",
          examples=[("dA = backward(dAL, cache, 'sigmoid')", ["dA = backward(dAL, cache, 'relu')"]),
                    ("dA = backward(dA, cache, activation='relu')", ["dA = backward(dA, cache, activation='sigmoid')"])])
def wrong_activation(node, names):
    """The activation name 'relu' becomes 'sigmoid' and 'sigmoid' becomes 'relu'."""
    swapped = {"relu": "sigmoid", "sigmoid": "relu"}.get(node.value) if isinstance(node.value, str) else None
    if swapped:
        return ast.Constant(swapped)
