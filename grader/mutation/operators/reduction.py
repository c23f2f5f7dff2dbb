"""Reduction operators: np.sum over the wrong axis, without keepdims, or a mean for a sum."""
from __future__ import annotations

import ast
import copy

from grader.mutation.operators.registry import register


def _with_keywords(node: ast.Call, keywords: list[ast.keyword]) -> ast.Call:
    changed = copy.deepcopy(node)
    changed.keywords = keywords
    return changed


@register("reduce-axis-zero", family="reduction", nodes=(ast.Call,),
          misconception="db sums over the wrong axis: the examples are the columns, so sum with axis=1.",
          examples=[("db = np.sum(dZ, axis=1, keepdims=True)", ["db = np.sum(dZ, axis=0, keepdims=True)"])])
def axis_zero(node, names):
    """axis=1 becomes axis=0."""
    keywords = copy.deepcopy(node.keywords)
    for keyword in keywords:
        if keyword.arg == "axis" and isinstance(keyword.value, ast.Constant) and keyword.value.value == 1:
            keyword.value = ast.Constant(0)
            return _with_keywords(node, keywords)


@register("reduce-axis-none", family="reduction", nodes=(ast.Call,),
          misconception="db sums over every entry instead of over the examples only (axis=1).",
          examples=[("db = np.sum(dZ, axis=1, keepdims=True)", ["db = np.sum(dZ, keepdims=True)"])])
def axis_none(node, names):
    """The axis argument is dropped, so the sum runs over every entry."""
    if any(keyword.arg == "axis" for keyword in node.keywords):
        return _with_keywords(node, [copy.deepcopy(k) for k in node.keywords if k.arg != "axis"])


@register("reduce-drop-keepdims", family="reduction", nodes=(ast.Call,),
          misconception="keepdims=True is missing: db comes out with shape (n,) instead of (n, 1).",
          examples=[("db = np.sum(dZ, axis=1, keepdims=True)", ["db = np.sum(dZ, axis=1)"])])
def drop_keepdims(node, names):
    """keepdims=True is dropped (same values, wrong shape)."""
    if any(keyword.arg == "keepdims" for keyword in node.keywords):
        return _with_keywords(node, [copy.deepcopy(k) for k in node.keywords if k.arg != "keepdims"])


@register("reduce-sum-mean", family="reduction", nodes=(ast.Call,),
          misconception="np.mean already divides by m, and the 1/m factor divides again.",
          examples=[("db = 1./m * np.sum(dZ, axis=1)", ["db = 1.0 / m * np.mean(dZ, axis=1)"])])
def sum_mean(node, names):
    """np.sum becomes np.mean."""
    if isinstance(node.func, ast.Attribute) and node.func.attr == "sum":
        changed = copy.deepcopy(node)
        changed.func.attr = "mean"
        return changed
