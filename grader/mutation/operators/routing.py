"""Routing operators: gradients returned under the wrong keys."""
from __future__ import annotations

import ast
import copy

from grader.mutation.operators.helpers import layer
from grader.mutation.operators.registry import register


def _swapped_entries(node: ast.Dict, pairs: list[tuple[str, str]]) -> list[ast.Dict]:
    keys = [key.value if isinstance(key, ast.Constant) else None for key in node.keys]
    found = []
    for first, second in pairs:
        if first in keys and second in keys:
            values = copy.deepcopy(node.values)
            i, j = keys.index(first), keys.index(second)
            values[i], values[j] = values[j], values[i]
            found.append(ast.Dict(copy.deepcopy(node.keys), values))
    return found


@register("route-swap-layers", family="routing", nodes=(ast.Dict,),
          misconception="Two layers' weight gradients are stored under each other's keys (dW1 and dW2).",
          examples=[("g = {'dW1': a, 'dW2': b, 'dW3': c}",
                     ["g = {'dW1': b, 'dW2': a, 'dW3': c}", "g = {'dW1': a, 'dW2': c, 'dW3': b}"])])
def swap_layers(node, names):
    """The values under dW[l] and dW[l+1] are exchanged."""
    return _swapped_entries(node, [(f"dW{k}", f"dW{k + 1}") for k in range(1, 10)])


@register("route-swap-weight-bias", family="routing", nodes=(ast.Dict,),
          misconception="dW and db of one layer are stored under each other's keys.",
          examples=[("g = {'dW1': a, 'db1': b}", ["g = {'dW1': b, 'db1': a}"])])
def swap_weight_bias(node, names):
    """The values under dW[l] and db[l] are exchanged."""
    return _swapped_entries(node, [(f"dW{k}", f"db{k}") for k in range(1, 10)])


@register("route-key-prefix", family="routing", nodes=(ast.Constant,),
          misconception="A gradient is stored under the wrong key: 'dW' and 'db' are exchanged.",
          examples=[("grads['dW' + str(l)] = dW", ["grads['db' + str(l)] = dW"])])
def key_prefix(node, names):
    """The key prefix 'dW' becomes 'db' and 'db' becomes 'dW'."""
    swapped = {"dW": "db", "db": "dW"}.get(node.value) if isinstance(node.value, str) else None
    if swapped:
        return ast.Constant(swapped)
