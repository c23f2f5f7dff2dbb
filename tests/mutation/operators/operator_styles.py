"""Helpers for the domain operators' tests: compile a style's source, its mutants, and a numerical VJP to prove it right."""
from __future__ import annotations

import ast
from typing import Any, Callable

import numpy as np

from grader.mutation.operators.apply import mutants_of
from grader.mutation.operators.registry import REGISTRY


def compiled(source: str, name: str) -> Callable:
    namespace: dict[str, Any] = {"np": np}
    exec(compile(source, "<style>", "exec"), namespace)
    return namespace[name]


def mutants(source: str, operator_id: str) -> list[str]:
    return mutants_of(source, REGISTRY[operator_id])


def changed_lines(source: str, mutant: str) -> list[str]:
    """The lines of mutant that are not in source (both as ast.unparse writes them)."""
    before = set(ast.unparse(ast.parse(source)).splitlines())
    return [line.strip() for line in mutant.splitlines() if line not in before]


def vjp(forward: Callable[..., np.ndarray], inputs: dict[str, np.ndarray], wrt: str, dout: np.ndarray,
        *, epsilon: float = 1e-6) -> np.ndarray:
    """The numerical gradient of sum(forward(**inputs) * dout) with respect to inputs[wrt]."""
    value = inputs[wrt]
    gradient = np.zeros_like(value)
    for index in np.ndindex(value.shape):
        saved = value[index]
        value[index] = saved + epsilon
        plus = np.sum(forward(**inputs) * dout)
        value[index] = saved - epsilon
        minus = np.sum(forward(**inputs) * dout)
        value[index] = saved
        gradient[index] = (plus - minus) / (2 * epsilon)
    return gradient


def same(first: Any, second: Any) -> bool:
    """Every returned array has one shape and the same entries (to rounding)."""
    first = first if isinstance(first, tuple) else (first,)
    second = second if isinstance(second, tuple) else (second,)
    return len(first) == len(second) and all(
        np.shape(a) == np.shape(b) and np.allclose(a, b, rtol=1e-9, atol=1e-12) for a, b in zip(first, second))


def differs(function: Callable, reference: Callable, *arguments: Any) -> bool:
    """function gives other values than reference on arguments, or fails where the reference does not."""
    try:
        with np.errstate(all="ignore"):
            got = function(*arguments)
    except Exception:
        return True
    return not same(got, reference(*arguments))
