"""The registry's promises: families, one-line descriptions, examples required, purity."""
from __future__ import annotations

import ast
import pathlib

import pytest

from grader.mutation import operators
from grader.mutation.operators.registry import REGISTRY, Operator

FAMILIES = {"scale", "sign", "arithmetic", "mask", "swap", "routing", "transpose", "matmul", "reduction", "zero",
            "nan", "loop", "window", "normalisation", "loss", "regularisation"}


def test_every_family_of_the_issue_is_covered():
    assert {operator.family for operator in REGISTRY.values()} == FAMILIES


def test_operators_have_one_line_descriptions_and_misconceptions():
    for operator in REGISTRY.values():
        assert "\n" not in operator.description and operator.description.endswith(".")
        assert operator.misconception and "\n" not in operator.misconception


def test_an_operator_without_examples_is_refused():
    with pytest.raises(ValueError):
        Operator(id="x", family="scale", description="d.", misconception="m", node_types=(ast.BinOp,),
                 function=lambda node, names: None, examples=())


def test_operators_import_nothing_of_ours_but_each_other():
    imported = set()
    for path in pathlib.Path(operators.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    ours = {name for name in imported if name.split(".")[0] in {"grader", "reference"}}
    assert ours and all(name.startswith("grader.mutation.operators") for name in ours)


DOMAIN_FAMILIES = {"window", "normalisation", "loss", "regularisation"}


@pytest.mark.parametrize("assignment", ["three_layer", "l_layer", "one_d"])
def test_the_layer_and_classifier_families_add_no_site_to_the_built_ins(assignment):
    """So the built-ins' committed catalogues keep their mutants and numbering."""
    from grader import assignments
    from grader.mutation import plant

    domain = {key: operator for key, operator in REGISTRY.items() if operator.family in DOMAIN_FAMILIES}
    assert len(domain) == 13
    assert plant.generate(assignments.get(assignment).module, registry=domain) == ()


def test_the_layer_and_classifier_families_apply_to_any_code_and_find_no_site_in_gradgrades_own():
    """A spec's reference can be any numpy code: the domain operators never raise on code they do not expect,
    and gradgrade's own modules (no layer or classifier among them) give them nothing to mutate. The course
    shims students import (grader/course/: cs231n's im2col, its fast layers) are layer code by design."""
    from grader.mutation.operators.apply import bound_names, mutated_source, preorder, sites

    root = pathlib.Path(operators.__file__).parents[3]
    found = {}
    for path in sorted((root / "grader").glob("**/*.py")) + sorted((root / "examples").glob("**/*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names, nodes = bound_names(tree), preorder(tree)
        for operator in REGISTRY.values():
            if operator.family in DOMAIN_FAMILIES:
                for site in sites(operator, tree, names=names, nodes=nodes):
                    ast.parse(mutated_source(tree, site, nodes=nodes))
                    parts = path.relative_to(root).parts
                    found.setdefault("course" if parts[:2] == ("grader", "course") else parts[0], set()).add(operator.id)
    assert "grader" not in found
    assert found["examples"] >= {"softmax-drop-correct-class", "reg-gradient-factor"}
