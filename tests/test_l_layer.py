"""Tests of the l_layer assignment: the reference, its cases, and grading L_layer_backward in the sandbox."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from grader import assignments
from grader.grading import backward
from grader.numerics import check
from grader.load import program as load
from grader.sandbox import run as sandbox
from grader.course import dnn_utils
from grader.results import Status
from grader.settings import Settings
from grader.reference import l_layer
from grader.reference.cases import hidden_layers_healthy, output_healthy

SUBMISSIONS = Path(__file__).resolve().parent.parent / "submissions" / "l_layer"
SETTINGS = Settings(assignment="l_layer")


def numerical(case):
    gradapprox = check.numerical_gradient(l_layer.batched_cost(case), case.parameters)
    return {"d" + name: value for name, value in gradapprox.items()}


# The reference and its cases.

def test_public_case_is_the_courses_gradient_checking_test():
    case = l_layer.public_case()
    rng = np.random.RandomState(10)
    np.testing.assert_array_equal(case.X, rng.randn(5, 4))
    np.testing.assert_array_equal(case.Y, [[1, 1, 0, 0]])
    for name, shape in [("W1", (6, 5)), ("b1", (6, 1)), ("W2", (3, 6)), ("b2", (3, 1)), ("W3", (1, 3)), ("b3", (1, 1))]:
        np.testing.assert_array_equal(case.parameters[name], rng.randn(*shape))
    assert case.public and l_layer.gradient_names(case) == l_layer.GRADIENT_NAMES
    # The course notebook prints "Good, the difference is 1.96e-09" for this case (rounding noise).
    assert l_layer.gradient_checking(*l_layer.checker_args(case)) < 2e-7


def test_hidden_cases_vary_depth_width_and_batch_size():
    hidden = [case for case in l_layer.cases() if not case.public]
    assert {l_layer.depth_of(case.parameters) for case in hidden} == {2, 3, 4}
    assert len({case.m for case in hidden}) >= 4 and 1 in {case.m for case in hidden}
    assert len({case.X.shape[0] for case in hidden}) >= 3


@pytest.mark.parametrize("profile", ["course", "square"])
def test_reference_backward_passes_every_case_and_cases_are_screened(profile):
    for case in l_layer.cases(profile=profile):
        gradients = l_layer.reference_gradients(case)
        assert set(gradients) == set(l_layer.gradient_names(case))
        verdict = check.check_gradients(gradients, numerical(case), threshold=1e-8)
        assert verdict.passed, (case.name, verdict)
        if not case.public:
            *hidden, output = l_layer.pre_activations(case.X, case.parameters)
            assert hidden_layers_healthy(hidden) and output_healthy(output), case.name


def test_square_cases_have_every_width_equal_to_the_batch_size():
    for case in l_layer.cases(profile="square"):
        widths = {case.X.shape[0]} | {case.parameters[f"W{k}"].shape[0] for k in range(1, l_layer.depth_of(case.parameters))}
        assert widths == {case.m}, case.name


def test_caches_follow_the_course_layout():
    case = l_layer.public_case()
    AL, caches = l_layer.L_layer_forward(case.X, case.parameters)
    assert len(caches) == 3 and AL.shape == (1, 4)
    (A_prev, W, b), Z = caches[0]
    assert A_prev is case.X and W is case.parameters["W1"] and b is case.parameters["b1"]
    np.testing.assert_allclose(Z, W @ case.X + b)
    grads = l_layer.L_layer_backward(AL, case.Y, caches)
    assert {"dA0", "dA1", "dA2"} <= set(grads)


def test_vector_helpers_round_trip_and_ignore_other_keys():
    case = l_layer.cases()[4]
    theta, keys = l_layer.params_to_vector(case.parameters)
    assert theta.shape == (sum(v.size for v in case.parameters.values()), 1)
    assert keys[0] == "W1" and keys[-1] == f"b{l_layer.depth_of(case.parameters)}"
    back = l_layer.vector_to_params(theta, case.parameters)
    for name, value in case.parameters.items():
        np.testing.assert_array_equal(back[name], value)
    grads = l_layer.L_layer_backward(*l_layer.backward_args(case))
    vector, grad_keys = l_layer.grads_to_vector(grads)
    assert vector.shape == theta.shape and grad_keys == ["d" + key for key in keys]


@pytest.mark.parametrize(("name", "factor"), [pytest.param("db1", 2.0, id="db1-doubled"),
                                               pytest.param("dW3", -1.0, id="dW3-negated")])
def test_course_checker_rejects_wrong_gradients(name, factor):
    case = l_layer.public_case()
    params, grads, X, Y = l_layer.checker_args(case)
    grads[name] = factor * grads[name]
    assert l_layer.gradient_checking(params, grads, X, Y) > 2e-7


def test_assignment_names_its_gradients_per_case():
    assignment = assignments.get("l_layer")
    assert assignment.gradient_names == ("dW1", "db1", "dW2", "db2", "dW3", "db3", "dW4", "db4")
    for index, case in enumerate(assignment.cases()):
        names = assignment.case_gradient_names(index)
        assert names == l_layer.gradient_names(case)
        assert set(assignment.expected_gradients(index)) == set(names)


def test_dnn_utils_shim_has_the_courses_signatures():
    Z = np.array([[-1.0, 0.5], [2.0, -0.25]])
    A, cache = dnn_utils.sigmoid(Z)
    np.testing.assert_allclose(A, l_layer.sigmoid(Z)[0]) and np.testing.assert_array_equal(cache, Z)
    A, cache = dnn_utils.relu(Z)
    np.testing.assert_array_equal(A, np.maximum(0, Z))
    dA = np.ones_like(Z)
    np.testing.assert_array_equal(dnn_utils.relu_backward(dA, Z), l_layer.relu_backward(dA, Z))
    np.testing.assert_allclose(dnn_utils.sigmoid_backward(dA, Z), l_layer.sigmoid_backward(dA, Z))


def test_forward_agrees_rejects_what_is_not_the_reference_output():
    case = l_layer.public_case()
    AL, caches = l_layer.L_layer_forward(case.X, case.parameters)
    assert l_layer.forward_agrees(case, (AL, caches))
    for value in [None, AL, (AL.T, caches), (2 * AL, caches), (AL * np.nan, caches), ("AL", caches)]:
        assert not l_layer.forward_agrees(case, value)


# Grading L_layer_backward in the sandbox.

def run(name):
    assignment = assignments.get("l_layer")
    program = load.load(SUBMISSIONS / name)
    plan = backward.calls(assignment, SETTINGS)
    result = sandbox.run(program.source, plan, filename=program.filename)
    return assignment, result, backward.judge(assignment, result.outcomes, result, SETTINGS)


def failing_blocks_per_case(assignment, result):
    """For every graded case, the gradients that fail on it."""
    failing = []
    for index, (case, outcome) in enumerate(zip(assignment.cases(), result.outcomes)):
        _, blocks = backward.judge_case(case.name, outcome, assignment.expected_gradients(index),
                                        names=assignment.case_gradient_names(index), threshold=SETTINGS.threshold)
        failing.append({name for name, block in blocks.items() if not block.passed})
    return failing


@pytest.mark.parametrize("name", ["correct_course.py", "correct_dnn_utils.py", "correct_own_caches.py"])
def test_a_correct_submission_passes_on_every_hidden_shape(name):
    assignment, _, verdict = run(name)
    assert verdict.status is Status.PASS, verdict.message
    assert [case.status for case in verdict.cases] == [Status.PASS] * len(assignment.cases())
    assert {p.name for p in verdict.parameters} == set(assignment.gradient_names)
    assert all(p.status is Status.PASS for p in verdict.parameters)


def test_own_cache_layout_is_graded_on_its_own_forward():
    _, _, verdict = run("correct_own_caches.py")
    assert all("its own forward pass" in case.message for case in verdict.cases)
    own = verdict.details["own_forward"]
    assert own["defined"] and {entry["forward"] for entry in own["cases"]} == {"ok"}


def test_without_a_forward_pass_the_reference_caches_are_graded_alone():
    _, _, verdict = run("correct_dnn_utils.py")
    assert verdict.status is Status.PASS
    assert verdict.details["own_forward"]["defined"] is False


def hidden_layers(depth, m):
    return {f"d{kind}{layer}" for layer in range(1, depth) for kind in "Wb"}


BUGS = [
    pytest.param("bug_hidden_sigmoid.py", hidden_layers, id="hidden-layers-use-sigmoid"),
    pytest.param("bug_db_no_mean.py", 
                 # With one example, summing is the mean: the bug cannot show on that case.
                 lambda depth, m: {f"db{layer}" for layer in range(1, depth + 1)} if m > 1 else set(), id="db-without-1/m"),
    pytest.param("bug_range_off_by_one.py", lambda depth, m: {"dW1", "db1"}, id="range-one-layer-short"),
    pytest.param("bug_dW_key_off_by_one.py", lambda depth, m: {f"dW{layer}" for layer in range(1, depth)}, id="dW-key-off-by-one"),
]


@pytest.mark.parametrize(("name", "expected"), BUGS)
def test_each_bug_fails_on_exactly_the_parameters_it_touches(name, expected):
    assignment, result, verdict = run(name)
    assert verdict.status is Status.FAIL, verdict.message
    shapes = [(l_layer.depth_of(case.parameters), case.m) for case in assignment.cases()]
    assert failing_blocks_per_case(assignment, result) == [expected(*shape) for shape in shapes]
    wrong = set().union(*(expected(*shape) for shape in shapes))
    assert {p.name for p in verdict.parameters if p.status is Status.FAIL} == wrong


def test_check_command_grades_l_layer_end_to_end():
    completed = subprocess.run([sys.executable, "-m", "grader", "check", str(SUBMISSIONS / "correct_course.py"),
                                "--assignment", "l_layer", "--format", "json"],
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    result = json.loads(completed.stdout)
    assert result["assignment"] == "l_layer" and result["status"] == "pass"
    backward_check = next(c for c in result["checks"] if c["name"] == "L_layer_backward")
    assert list(backward_check["parameters"]) == ["dW1", "db1", "dW2", "db2", "dW3", "db3", "dW4", "db4"]


@pytest.mark.parametrize("name", ["correct_course.py", "bug_hidden_sigmoid.py", "bug_db_no_mean.py",
                                  "bug_range_off_by_one.py", "bug_dW_key_off_by_one.py"])
def test_fast_mode_gives_the_same_verdicts(name):
    assignment, result, verdict = run(name)
    fast = backward.judge(assignment, result.outcomes, result, Settings(assignment="l_layer", fast=True))
    assert [(p.name, p.status) for p in fast.parameters] == [(p.name, p.status) for p in verdict.parameters]
    assert [case.status for case in fast.cases] == [case.status for case in verdict.cases]
    assert len(fast.details["fast"]) == sum(1 for outcome in result.outcomes[:len(assignment.cases())]
                                            if outcome.status is sandbox.CallStatus.OK)


def test_course_gradapprox_is_the_loop_and_the_slip_halves_it():
    case = l_layer.public_case()
    gradapprox = l_layer.course_gradapprox(case.parameters, case.X, case.Y, 1e-7)
    expected = check.flatten(numerical(case), l_layer.gradient_names(case))
    np.testing.assert_allclose(gradapprox.ravel(), expected, atol=1e-7)
    reused = l_layer.course_gradapprox(case.parameters, case.X, case.Y, 1e-7, reuse_thetaplus=True)
    np.testing.assert_allclose(reused.ravel(), expected / 2, atol=1e-7)


def test_check_command_accepts_fast():
    completed = subprocess.run([sys.executable, "-m", "grader", "check", str(SUBMISSIONS / "correct_dnn_utils.py"),
                                "--assignment", "l_layer", "--fast", "--format", "json"],
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    backward_check = json.loads(completed.stdout)["checks"][0]
    assert backward_check["status"] == "pass"
    assert [entry["rechecked"] for entry in backward_check["details"]["fast"]] == [[]] * len(l_layer.cases())
