"""NaN operator: a parameter gradient multiplied by NaN."""
from __future__ import annotations

import ast

from grader.mutation.operators.helpers import PARAMETER_GRADIENT, expr, gradient_assignment, with_value
from grader.mutation.operators.registry import register


@register("nan-inject", family="nan", nodes=(ast.Assign,),
          misconception="This gradient is NaN: a 0/0 or log(0) slipped into it.",
          examples=[("dW1 = 1./m * np.dot(dZ1, X.T)", ["dW1 = 1.0 / m * np.dot(dZ1, X.T) * np.nan"]),
                    ("dZ1 = x", [])])
def inject_nan(node, names):
    """A weight or bias gradient is multiplied by NaN."""
    if gradient_assignment(node, PARAMETER_GRADIENT):
        return with_value(node, expr("VALUE * np.nan", VALUE=node.value))
