"""Every operator's worked examples, and the registry's promises: families, ids, purity, re-parsing."""
from __future__ import annotations

import ast

import pytest

from grader.mutation import operators

FAMILIES = {"scale", "sign", "arithmetic", "mask", "swap", "routing", "transpose", "matmul", "reduction", "zero",
            "nan", "loop"}

EXAMPLES = [pytest.param(operator, example, id=f"{operator.id}-{number}")
            for operator in operators.REGISTRY.values() for number, example in enumerate(operator.examples, 1)]


@pytest.mark.parametrize(("operator", "example"), EXAMPLES)
def test_operator_example(operator, example):
    expected = [ast.unparse(ast.parse(source)) for source in example.expected]
    assert operators.mutants_of(example.source, operator) == expected


@pytest.mark.parametrize(("operator", "example"), EXAMPLES)
def test_operator_leaves_its_input_unchanged_and_every_mutant_reparses(operator, example):
    tree = ast.parse(example.source)
    before = ast.dump(tree)
    for site in operators.sites(operator, tree):
        mutated = operators.mutated_source(tree, site)
        compile(ast.parse(mutated), "<mutant>", "exec")
    assert ast.dump(tree) == before


def test_every_family_of_the_issue_is_covered():
    assert {operator.family for operator in operators.REGISTRY.values()} == FAMILIES


def test_operators_have_one_line_descriptions_and_misconceptions():
    for operator in operators.REGISTRY.values():
        assert "\n" not in operator.description and operator.description.endswith(".")
        assert operator.misconception and "\n" not in operator.misconception


def test_the_courses_planted_bugs_are_in_the_catalogue():
    doubled = operators.mutants_of("dW2 = 1./m * np.dot(dZ2, A1.T)", operators.REGISTRY["scale-double-gradient"])
    assert doubled == ["dW2 = 1.0 / m * np.dot(dZ2, A1.T) * 2"]
    quadrupled = operators.mutants_of("db1 = 1./m * np.sum(dZ1, axis=1, keepdims=True)",
                                      operators.REGISTRY["scale-quadruple-m"])
    assert quadrupled == ["db1 = 4.0 / m * np.sum(dZ1, axis=1, keepdims=True)"]


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
    mutants = operators.mutants_of(L_LAYER_BACKWARD, operators.REGISTRY[operator_id])
    assert any(changed in mutant + "\n" for mutant in mutants)
    assert all(mutant != ast.unparse(ast.parse(L_LAYER_BACKWARD)) for mutant in mutants)


def test_string_keys_are_not_treated_as_arithmetic():
    assert operators.mutants_of(L_LAYER_BACKWARD, operators.REGISTRY["arith-mul-div"]) == []
    for mutant in operators.mutants_of(L_LAYER_BACKWARD, operators.REGISTRY["arith-add-sub"]):
        assert "'dA' - " not in mutant and "'dW' - " not in mutant


def test_an_operator_without_examples_is_refused():
    with pytest.raises(ValueError):
        operators.Operator(id="x", family="scale", description="d.", misconception="m", node_types=(ast.BinOp,),
                           function=lambda node, names: None, examples=())


def test_operators_import_nothing_of_ours():
    tree = ast.parse(open(operators.__file__).read())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(name.split(".")[0] in {"grader", "reference"} for name in imported)
