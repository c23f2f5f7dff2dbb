"""The student's forward pass: its cost against the reference's on every case, reported as itself."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader import assignments
from grader.grading import forward, pipeline
from grader.results import Status
from grader.sandbox.run import CallOutcome, CallStatus
from grader.settings import Settings
from grader.sandbox.wire import Opaque

ROOT = Path(__file__).resolve().parents[2]


def test_a_wrong_forward_is_reported_and_not_blamed_on_the_backward_pass():
    result = pipeline.grade_file(ROOT / "tests" / "checkers" / "wrong_forward.py", Settings(), assignment=assignments.get("three_layer"))
    assert result.check("backward_propagation_n").status is Status.PASS
    check = result.check("forward_propagation_n")
    assert check.status is Status.FAIL
    assert "wrong cost on 4 of 5 cases" in check.message  # the m = 1 case cannot tell a sum from a mean
    assert "does not count against" in check.message
    assert result.status is Status.FAIL


def test_a_right_forward_passes_on_every_case():
    check = pipeline.grade_file(ROOT / "submissions" / "correct_course_style.py", Settings(), assignment=assignments.get("three_layer")).check("forward_propagation_n")
    assert check.status is Status.PASS and len(check.cases) == 5


def test_no_forward_no_check():
    result = pipeline.grade_file(ROOT / "submissions" / "planted_bugs.py", Settings(), assignment=assignments.get("three_layer"))
    assert "forward_propagation_n" not in [check.name for check in result.checks]


@pytest.mark.parametrize("value, cost", [
    pytest.param((0.5, ()), 0.5, id="tuple"),
    pytest.param([np.array([[0.5]]), None], 0.5, id="1x1-array"),
    pytest.param((np.float64(0.5), None), 0.5, id="numpy-scalar"),
    pytest.param(0.5, None, id="no-cache"),
    pytest.param((np.ones((1, 3)), None), None, id="unreduced-cost"),
    pytest.param((Opaque("Foo", "Foo()"), None), None, id="opaque"),
])
def test_cost_of_reads_what_a_forward_returns(value, cost):
    assert forward.cost_of(value, returns_tuple=True)[0] == cost


@pytest.mark.parametrize("outcome, status", [
    pytest.param(CallOutcome(CallStatus.OK, (0.7, None)), Status.PASS, id="right"),
    pytest.param(CallOutcome(CallStatus.OK, (0.7 * 3, None)), Status.FAIL, id="wrong"),
    pytest.param(CallOutcome(CallStatus.OK, (float("nan"), None)), Status.FAIL, id="nan"),
    pytest.param(CallOutcome(CallStatus.ERROR, message="ValueError: x"), Status.ERROR, id="raised"),
    pytest.param(CallOutcome(CallStatus.TIMEOUT), Status.TIMEOUT, id="timeout"),
])
def test_judge_case(outcome, status):
    found = forward.judge_case("course", outcome, 0.7, returns_tuple=True)
    assert found.status is status
    if status is Status.FAIL and outcome.value[0] == 2.1:
        assert "3 times it" in found.message


@pytest.mark.parametrize("value, cost", [
    pytest.param(("cache", 0.7), 0.7, id="the declared item"),
    pytest.param((0.7,), None, id="too short"),
    pytest.param(0.7, None, id="not a tuple"),
])
def test_the_cost_is_the_item_the_value_declaration_names(value, cost):
    found, problem = forward.cost_of(value, returns_tuple=True, output=1)
    assert found == cost
    assert (problem == "") == (cost is not None)
    if cost is None:
        assert "item 1 is the cost" in problem
