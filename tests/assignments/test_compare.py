"""The per-case judging grading and mutation testing share: a Loss's value and gradient against a Prepared."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader import assignments
from grader.assignments import compare
from grader.results import Status
from grader.sandbox.run import CallOutcome, CallStatus

SOFTMAX = Path(__file__).resolve().parents[2] / "examples" / "assignments" / "softmax_l2.py"


@pytest.fixture(scope="module")
def prepared():
    assignment = assignments.get(str(SOFTMAX))
    declared = assignment.functions[0]
    case = assignment.spec_cases("course")[0]
    return declared, assignment.prepared(declared.function, case)


def judged(prepared, value, status=CallStatus.OK):
    declared, item = prepared
    return compare.judge(declared, item, [CallOutcome(status, value)], 1e-7, 1e-6)


def test_the_reference_values_pass(prepared):
    _, item = prepared
    case, blocks = judged(prepared, (item.value, item.gradients["dW"]))
    assert case.status is Status.PASS and set(blocks) == {"loss", "dW"}


def test_a_gradient_off_by_a_factor_fails_that_block_only(prepared):
    _, item = prepared
    case, blocks = judged(prepared, (item.value, 2 * item.gradients["dW"]))
    assert case.status is Status.FAIL and blocks["loss"].passed and not blocks["dW"].passed


def test_a_gradient_with_an_extra_axis_of_one_is_accepted_with_a_note(prepared):
    _, item = prepared
    case, _ = judged(prepared, (item.value, item.gradients["dW"][np.newaxis]))
    assert case.status is Status.PASS and "accepted" in case.message


@pytest.mark.parametrize("value, words", [(None, "expected a pair"), ((1.0,), "expected a pair"),
                                          (("x", np.zeros((4, 3))), "should be a number")])
def test_a_value_of_the_wrong_form_fails_with_a_message(prepared, value, words):
    case, _ = judged(prepared, value)
    assert case.status is Status.FAIL and words in case.message


def test_a_raise_is_an_error(prepared):
    case, _ = compare.judge(*prepared, [CallOutcome(CallStatus.ERROR, message="ValueError: no")], 1e-7, 1e-6)
    assert case.status is Status.ERROR and "raised ValueError" in case.message
