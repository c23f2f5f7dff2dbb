"""Operators on a course-style L-layer backward pass: the loop family, and the key and arithmetic operators beside it."""
from __future__ import annotations

import ast

import pytest

from grader.mutation.operators.apply import mutants_of
from grader.mutation.operators.registry import REGISTRY

L_LAYER_BACKWARD = """
def backward(AL, Y, caches):
    grads = {}
    L = len(caches)
    dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    current_cache = caches[L - 1]
    grads['dA' + str(L - 1)], grads['dW' + str(L)], grads['db' + str(L)] = step(dAL, current_cache, 'sigmoid')
    for l in reversed(range(L - 1)):
        current_cache = caches[l]
        dA_prev, dW, db = step(grads['dA' + str(l + 1)], current_cache, 'relu')
        grads['dA' + str(l)] = dA_prev
    return grads
"""


@pytest.mark.parametrize(("operator_id", "changed"), [
    pytest.param("loop-range-stop", "for l in reversed(range(L - 1 - 1)):", id="off-by-one-stop"),
    pytest.param("loop-range-start", "for l in reversed(range(1, L - 1)):", id="off-by-one-start"),
    pytest.param("loop-reversed-drop", "for l in range(L - 1):", id="not-reversed"),
    pytest.param("loop-cache-index", "current_cache = caches[l - 1]", id="cache-index"),
    pytest.param("loop-wrong-activation", "current_cache, 'sigmoid')\n", id="wrong-activation"),
    pytest.param("route-key-prefix", "grads['db' + str(L)] = step", id="key-prefix"),
])
def test_loop_operators_on_a_course_style_l_layer_backward(operator_id, changed):
    mutants = mutants_of(L_LAYER_BACKWARD, REGISTRY[operator_id])
    assert any(changed in mutant + "\n" for mutant in mutants)
    assert all(mutant != ast.unparse(ast.parse(L_LAYER_BACKWARD)) for mutant in mutants)


def test_string_keys_are_not_treated_as_arithmetic():
    assert mutants_of(L_LAYER_BACKWARD, REGISTRY["arith-mul-div"]) == []
    for mutant in mutants_of(L_LAYER_BACKWARD, REGISTRY["arith-add-sub"]):
        assert "'dA' - " not in mutant and "'dW' - " not in mutant

