"""Diagnosis of a spec function: a student's values (or errors) matched to the spec's mutants, in plain words."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader import assignments
from grader.grading import declared, pipeline, spec_diagnosis
from grader.results import CheckResult, Status
from grader.sandbox.run import CallOutcome, CallStatus
from grader.settings import Settings

SOFTMAX = Path(__file__).resolve().parents[2] / "examples" / "assignments" / "softmax_l2.py"


def student_loss(W, X, y, reg, *, minus_one=True, reg_factor=1.0, mean=True):
    """A student's softmax loss, with the bugs the arguments switch on."""
    N = X.shape[0]
    scores = X @ W
    scores = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(N), y]).mean() + 0.5 * reg * np.sum(W ** 2)
    if minus_one:
        probs[np.arange(N), y] -= 1
    dW = X.T @ probs / (N if mean else 1) + reg_factor * reg * W
    return loss, dW


@pytest.fixture(scope="module")
def assignment():
    return assignments.get(str(SOFTMAX))


def refined(assignment, **bug):
    items = spec_diagnosis.suspects(assignment, "softmax_loss_vectorized").items
    outcomes = [CallOutcome(CallStatus.OK, student_loss(*item.args, **bug)) for item in items]
    failing = CheckResult("softmax_loss_vectorized", Status.FAIL, 0.5, 1e-7, "wrong")
    return spec_diagnosis.refine(failing, outcomes, assignment, Settings())


def test_the_refiner_is_the_spec_graders_step(assignment):
    assert spec_diagnosis.refine in pipeline.REFINERS[declared.KIND]


# The operator a hint comes from is the first in the registry's order that makes the student's values (a
# domain operator before the generic terms): the words name the bug either way.
@pytest.mark.parametrize("bug, operators, words", [
    ({"minus_one": False}, {"softmax-drop-correct-class", "term-drop-update"}, "-1 at the"),
    ({"reg_factor": 2.0}, {"reg-gradient-factor", "term-double-update"}, "2 * reg * W"),
    ({"mean": False}, {"scale-drop-count"}, "divided by N"),
])
def test_a_bug_is_named_by_the_mutant_that_gives_the_same_values(assignment, bug, operators, words):
    (diagnosis,) = refined(assignment, **bug).diagnosis
    assert diagnosis.operator in operators and words in diagnosis.hint and diagnosis.parameters == ("dW",)


def test_a_correct_function_is_left_alone(assignment):
    result = CheckResult("softmax_loss_vectorized", Status.PASS, 1e-10, 1e-7, "correct")
    assert spec_diagnosis.refine(result, [], assignment, Settings()) is result


def test_an_error_is_matched_by_the_mutant_raising_the_same_error_on_the_same_cases(assignment):
    found = spec_diagnosis.suspects(assignment, "softmax_loss_vectorized")
    crashing = next(c for c in found.candidates if all(found.errors[c.mutant]))
    outcomes = [CallOutcome(CallStatus.ERROR, message=f"{error} (line 7)") for error in found.errors[crashing.mutant]]
    failing = CheckResult("softmax_loss_vectorized", Status.ERROR, None, 1e-7, "raised")
    (diagnosis,) = spec_diagnosis.refine(failing, outcomes, assignment, Settings()).diagnosis
    assert diagnosis.mutant == crashing.mutant and "raises" in diagnosis.hint


def test_an_unknown_error_gets_no_guess(assignment):
    items = spec_diagnosis.suspects(assignment, "softmax_loss_vectorized").items
    outcomes = [CallOutcome(CallStatus.ERROR, message="KeyError: 'nothing like it'") for _ in items]
    failing = CheckResult("softmax_loss_vectorized", Status.ERROR, None, 1e-7, "raised")
    assert spec_diagnosis.refine(failing, outcomes, assignment, Settings()).diagnosis == ()


def test_the_suspects_are_made_once_per_assignment_when_a_worker_warms_not_for_each_plan(assignment):
    from grader.batch import executors

    fresh = assignments.Assignment(assignment.name, assignment.module, assignment.spec)  # an empty memo
    pipeline.plan(fresh, Settings(assignment=str(SOFTMAX)))
    assert not spec_diagnosis.suspects.cached_on(fresh, "softmax_loss_vectorized")  # a correct file needs none
    assignments._get.cache_clear()  # a worker's own Assignment, as a new process resolves it
    try:
        executors._warm(Settings(assignment=str(SOFTMAX)).to_json())
    finally:
        import gc
        gc.unfreeze()  # a worker freezes what it holds; this test process goes on collecting
    assert spec_diagnosis.suspects.cached_on(assignments.get(str(SOFTMAX)), "softmax_loss_vectorized")


def test_values_that_overflow_on_one_case_only_are_named_an_overflow(assignment):
    items = spec_diagnosis.suspects(assignment, "softmax_loss_vectorized").items
    outcomes = []
    for index, item in enumerate(items):
        loss, dW = student_loss(*item.args)
        if index == 1:
            loss, dW = np.nan, np.full_like(dW, np.nan)
        outcomes.append(CallOutcome(CallStatus.OK, (loss, dW)))
    failing = CheckResult("softmax_loss_vectorized", Status.FAIL, None, 1e-7, "wrong")
    (diagnosis,) = spec_diagnosis.refine(failing, outcomes, assignment, Settings()).diagnosis
    assert diagnosis.operator == "overflow" and diagnosis.parameters == ("loss", "dW")
    assert f"on case {items[1].case.name} only" in diagnosis.hint and "overflows" in diagnosis.hint
