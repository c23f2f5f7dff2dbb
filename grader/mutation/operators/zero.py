"""Zero operators: the bias gradient, or every gradient, replaced by zeros."""
from __future__ import annotations

import ast
import re

from grader.mutation.operators.helpers import expr, gradient_assignment, with_value
from grader.mutation.operators.registry import register


CANARY = "zero-all-gradients"


@register("zero-bias-gradient", family="zero", nodes=(ast.Assign,),
          misconception="The bias gradient is all zeros: b shifts every example's Z, so db = (1/m) sum of dZ over the examples.",
          examples=[("db1 = 1./m * np.sum(dZ1, axis=1, keepdims=True)",
                     ["db1 = np.zeros_like(1.0 / m * np.sum(dZ1, axis=1, keepdims=True))"]),
                    ("dW1 = x", [])])
def zero_bias(node, names):
    """A bias gradient is replaced by zeros of the same shape."""
    if gradient_assignment(node, re.compile(r"^db")) and isinstance(node.targets[0], ast.Name):
        return with_value(node, expr("np.zeros_like(VALUE)", VALUE=node.value))


@register(CANARY, family="zero", nodes=(ast.Return,),
          misconception="Every gradient is zero: the backward pass returns before computing anything.",
          examples=[("def f():\n    return gradients",
                     ["def f():\n    return {key: np.zeros_like(value) for key, value in gradients.items()} "
                      "if isinstance(gradients, dict) else np.zeros_like(gradients)"])])
def zero_all(node, names):
    """Every returned gradient becomes zeros (the canary every checker must catch)."""
    if node.value is not None:
        return ast.Return(expr("{key: np.zeros_like(value) for key, value in RETURNED.items()} "
                               "if isinstance(RETURNED, dict) else np.zeros_like(RETURNED)", RETURNED=node.value))
