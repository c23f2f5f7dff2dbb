"""Every operator's worked examples, made by applying it: the mutants, the input left unchanged, re-parsing."""
from __future__ import annotations

import ast

import pytest

from grader.mutation.operators.apply import mutants_of, mutated_source, sites
from grader.mutation.operators.registry import REGISTRY

EXAMPLES = [pytest.param(operator, example, id=f"{operator.id}-{number}")
            for operator in REGISTRY.values() for number, example in enumerate(operator.examples, 1)]


@pytest.mark.parametrize(("operator", "example"), EXAMPLES)
def test_operator_example(operator, example):
    expected = [ast.unparse(ast.parse(source)) for source in example.expected]
    assert mutants_of(example.source, operator) == expected


@pytest.mark.parametrize(("operator", "example"), EXAMPLES)
def test_operator_leaves_its_input_unchanged_and_every_mutant_reparses(operator, example):
    tree = ast.parse(example.source)
    before = ast.dump(tree)
    for site in sites(operator, tree):
        mutated = mutated_source(tree, site)
        compile(ast.parse(mutated), "<mutant>", "exec")
    assert ast.dump(tree) == before

