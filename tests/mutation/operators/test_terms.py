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
def test_no_term_operator_applies_to_a_built_in_backward_pass(name):
    tree = ast.parse(plant.reference_source(assignments.get(name).module))
    assert [(operator.id, len(sites(operator, tree))) for operator in TERMS if sites(operator, tree)] == []


def test_a_softmax_loss_gets_each_term_bug():
    made = {operator.id: mutants_of(SOFTMAX, operator) for operator in TERMS}
    assert len(made["term-drop-update"]) == 3 and len(made["term-flip-update"]) == 3
    assert any("dW = X.T.dot(p)\n" in source for source in made["scale-drop-count"])
    assert any("+ reg * np.sum(W * W)" in source for source in made["scale-drop-half"])
    assert [source.splitlines()[1] for source in made["scale-examples-axis"]] == ["    num_train = X.shape[1]"]
