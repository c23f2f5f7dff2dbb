"""The one_d warm-up (J = theta * x): reference protocol, backward diagnosis, forward, and the student's checker."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader import assignments
from grader.grading import description, pipeline
from grader.numerics import check
from grader.results import Status
from grader.settings import Settings
from grader.reference import one_d

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "submissions" / "one_d"
CHECKERS = ROOT / "tests" / "checkers"
SETTINGS = Settings(assignment="one_d")


def test_the_reference_follows_the_protocol_and_its_gradient_is_x():
    assignment = assignments.get("one_d")
    assert (assignment.backward, assignment.forward, assignment.checker) == (
        "backward_propagation", "forward_propagation", "gradient_check")
    for index, case in enumerate(assignment.cases()):
        expected = assignment.expected_gradients(index)["dtheta"]
        assert check.relative_difference(one_d.reference_gradients(case)["dtheta"], expected) < 1e-9
    assert one_d.gradient_check(2.0, 4.0) < 2e-7


def test_the_public_case_is_the_courses_and_hidden_cases_take_both_signs():
    cases = one_d.cases()
    assert one_d.backward_args(cases[0]) == (2.0, 4.0)
    xs = [x for x, _ in map(one_d.backward_args, cases)]
    assert min(xs) < 0 < max(xs)


def test_every_mutant_is_distinct_on_the_graded_cases():
    cases = one_d.cases()
    signatures = {tuple(float(one_d.mutant_gradients(entry[0], case)["dtheta"]) for case in cases)
                  for entry in one_d.MUTANTS}
    reference = tuple(float(one_d.reference_gradients(case)["dtheta"]) for case in cases)
    assert len(signatures) == len(one_d.MUTANTS) and reference not in signatures


def graded(path: Path):
    return pipeline.grade_file(path, SETTINGS, assignment=assignments.get(SETTINGS.assignment))


def test_a_correct_warm_up_passes_everything():
    result = graded(SAMPLES / "correct.py")
    assert result.status is Status.PASS
    assert [check.name for check in result.checks] == ["backward_propagation", "gradient_check", "forward_propagation"]
    assert (result.score, result.max_score) == (10.0, 10.0)


@pytest.mark.parametrize("name, mutant, words", [
    pytest.param("doubled", "one_d-double-1", "dtheta is twice the true gradient", id="doubled"),
    pytest.param("sign_flip", "one_d-sign-1", "dtheta has the wrong sign", id="sign"),
    pytest.param("theta_not_x", "one_d-wrong-variable-1", "not theta", id="wrong-variable"),
])
def test_buggy_warm_ups_are_named(name, mutant, words):
    backward = graded(SAMPLES / f"{name}.py").check("backward_propagation")
    assert backward.status is Status.FAIL
    assert [diagnosis.mutant for diagnosis in backward.diagnosis] == [mutant]
    assert words in backward.diagnosis[0].hint and backward.diagnosis[0].line == 7


def test_a_wrong_forward_is_reported_as_the_forwards():
    result = graded(SAMPLES / "sign_flip.py")
    assert result.check("forward_propagation").status is Status.FAIL


def test_the_checker_is_graded_on_the_reference_and_mutants_not_on_the_students_backward():
    result = graded(CHECKERS / "one_d_no_denominator.py")
    checker = result.check("gradient_check")
    assert result.check("backward_propagation").status is Status.FAIL
    assert checker.status is Status.FAIL
    assert any("forgets to divide" in flaw for flaw in checker.details["flaws"])
    assert checker.details["reference_accepted"] is True
    assert checker.details["probes"] == 2 * len(one_d.MUTANTS)


def test_a_checker_using_the_notebooks_forward_that_compares_gradapprox_with_itself_fails():
    checker = graded(CHECKERS / "one_d_self_compare.py").check("gradient_check")
    assert checker.status is Status.FAIL and checker.details["caught"] == 0
    assert "it returns 0 for every input" in checker.message


def test_the_description_of_a_varying_multiple():
    trues = [np.asarray(x) for x in (2.0, -1.0, 3.0)]
    found = description.describe([np.asarray(4.0), np.asarray(2.5), np.asarray(-3.0)], trues, (1, 1, 1))
    assert found.kind == "varies"
