"""The term operators: they plant a spec loss's typical bugs, and never touch a built-in backward pass."""
from __future__ import annotations

import ast

import pytest

from grader import assignments
from grader.mutation import plant
from grader.mutation.operators import terms
from grader.mutation.operators.apply import mutants_of, sites
from grader.mutation.operators.registry import REGISTRY

TERMS = [operator for operator in REGISTRY.values() if operator.function.__module__ == terms.__name__]

SOFTMAX = """\
def loss(W, X, y, reg):
    num_train = X.shape[0]
    p = np.exp(X.dot(W))
    p /= np.sum(p, axis=1, keepdims=True)
    loss = -np.sum(np.log(p[np.arange(num_train), y])) / num_train + 0.5 * reg * np.sum(W * W)
    p[np.arange(num_train), y] -= 1
    dW = X.T.dot(p) / num_train
    dW += reg * W
    return loss, dW
"""


@pytest.mark.parametrize("name", assignments.BUILT_IN)
def test_no_term_operator_but_the_specs_only_ones_applies_to_a_built_in_backward_pass(name):
    tree = ast.parse(plant.reference_source(assignments.get(name).module))
    assert [operator.id for operator in TERMS if sites(operator, tree) and operator.id not in terms.SPECS_ONLY] == []


@pytest.mark.parametrize("name", assignments.BUILT_IN)
def test_a_built_in_catalogue_has_no_mutant_of_a_specs_only_operator(name):
    assert not [m.id for m in plant.generate(assignments.get(name).module) if m.operator in terms.SPECS_ONLY]


def test_a_spec_function_gets_the_specs_only_operators_mutants():
    made = plant.generate_source("def f(A, Y):\n    return A - Y")
    assert [m.id for m in made if m.operator in terms.SPECS_ONLY] == ["term-drop-subtracted-1"]


def test_a_softmax_loss_gets_each_term_bug():
    made = {operator.id: mutants_of(SOFTMAX, operator) for operator in TERMS}
    assert len(made["term-drop-update"]) == 3 and len(made["term-flip-update"]) == 3
    assert any("dW = X.T.dot(p)\n" in source for source in made["scale-drop-count"])
    assert any("+ reg * np.sum(W * W)" in source for source in made["scale-drop-half"])
    assert [source.splitlines()[1] for source in made["scale-examples-axis"]] == ["    num_train = X.shape[1]"]
