"""The example specs: written against the public API only, short, screened healthy, with square cases where a
missing transpose or swapped operands run and are caught by value."""
import ast
import io
import json
import shutil
import subprocess
import sys
import tokenize
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example as hypothesis_example, given, settings
from hypothesis import strategies as st

from grader import assignments
from grader.numerics import check, gradient

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "assignments"
# The reference functions of each example (what students write, and what it needs): the rest is the spec.
REFERENCE = {"softmax_l2": {"softmax_loss_vectorized"},
             "tanh_two_layer": {"softmax", "forward_propagation", "backward_propagation"}}
SPEC_LINES = 40


def example(name: str) -> assignments.Assignment:
    return assignments.ready(str(EXAMPLES / f"{name}.py"))


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_only_the_public_api_is_imported(name):
    tree = ast.parse((EXAMPLES / f"{name}.py").read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert imported <= {"numpy", "grader.spec"}


def _code_lines(source: str) -> set[int]:
    """The lines holding code: not blank, not only a comment."""
    return {token.start[0] for token in tokenize.generate_tokens(io.StringIO(source).readline)
            if token.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                                  tokenize.DEDENT, tokenize.ENDMARKER)}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_the_spec_beyond_its_reference_functions_is_short(name):
    source = (EXAMPLES / f"{name}.py").read_text()
    tree = ast.parse(source)
    skipped = set(range(1, tree.body[0].end_lineno + 1))  # the module's docstring
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in REFERENCE[name]:
            skipped |= set(range(node.lineno, node.end_lineno + 1))
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            skipped.add(node.lineno)
    assert len(_code_lines(source) - skipped) <= SPEC_LINES


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_every_profile_screens_healthy_and_draws_the_same_cases_each_time(name):
    found = example(name)
    assert len(found.spec_cases("course")) >= 4 and len(found.spec_cases("square")) >= 2
    assert sum(case.public for case in found.spec_cases("course")) == 1
    again = assignments._drawn.__wrapped__(found, "course")[0]  # drawn afresh, not from the memo
    for first, second in zip(found.spec_cases("course"), again):
        assert first.name == second.name
        assert all(np.array_equal(first.inputs[key], second.inputs[key]) for key in ("X",))


def _softmax_dW(W, X, y, reg, *, transpose=True, swap=False):
    N = X.shape[0]
    scores = X @ W
    probs = np.exp(scores - scores.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    probs[np.arange(N), y] -= 1
    if swap:
        return probs.T @ X / N + reg * W
    return (X.T if transpose else X) @ probs / N + reg * W


def _tanh_dW1(X, Y, parameters, *, transpose=True, wrong_layer=False):
    A1 = np.tanh(parameters["W1"] @ X + parameters["b1"])
    Z2 = parameters["W2"] @ A1 + parameters["b2"]
    A2 = np.exp(Z2 - Z2.max(axis=0))
    A2 /= A2.sum(axis=0)
    dZ1 = (parameters["W2"].T @ (A2 - Y)) * (1 - A1 ** 2)
    m = X.shape[1]
    if wrong_layer:
        return dZ1 @ A1.T / m
    return dZ1 @ (X.T if transpose else X) / m


WRONG = {
    "softmax_l2": ("dW", [lambda i: _softmax_dW(i["W"], i["X"], i["y"], i["reg"], transpose=False),
                          lambda i: _softmax_dW(i["W"], i["X"], i["y"], i["reg"], swap=True)],
                   lambda i: _softmax_dW(i["W"], i["X"], i["y"], i["reg"])),
    "tanh_two_layer": ("dW1", [lambda i: _tanh_dW1(i["X"], i["Y"], i["parameters"], transpose=False),
                               lambda i: _tanh_dW1(i["X"], i["Y"], i["parameters"], wrong_layer=True)],
                       lambda i: _tanh_dW1(i["X"], i["Y"], i["parameters"])),
}


@pytest.mark.parametrize("name", sorted(WRONG))
def test_square_cases_make_transposed_and_swapped_operands_run_and_fail_by_value(name):
    found = example(name)
    gradient, wrong, right = WRONG[name]
    declared = found.functions[0]
    for case in found.spec_cases("square"):
        expected = found.prepared(declared.function, case).gradients[gradient]
        assert check.relative_difference(right(case.inputs), expected) < 1e-7
        for variant in wrong:
            got = variant(case.inputs)  # runs: every dimension is equal
            assert got.shape == expected.shape
            assert check.relative_difference(got, expected) > 1e-3
    for case in found.spec_cases("course"):
        for variant in wrong:  # on the course's distinct sizes the same slips raise or give a wrong shape
            try:
                got = variant(case.inputs)
            except ValueError:
                continue
            assert got.shape != found.prepared(declared.function, case).gradients[gradient].shape or \
                check.relative_difference(got, found.prepared(declared.function, case).gradients[gradient]) > 1e-3


def test_softmax_l2_has_a_case_whose_scores_overflow_without_the_max_shift():
    found = example("softmax_l2")
    large = [case for case in found.spec_cases("course") if case.name.endswith("large-scores")]
    assert len(large) == 1
    scores = large[0].inputs["X"] @ large[0].inputs["W"]
    assert scores.max() > np.log(np.finfo(np.float64).max)  # exp overflows
    assert np.ptp(scores, axis=1).max() < 700  # yet no probability underflows to 0 once shifted


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_the_mutation_test_passes_with_enough_distinct_mutants_on_a_copy_outside_the_checkout(name, tmp_path):
    shutil.copy(EXAMPLES / f"{name}.py", tmp_path / f"{name}.py")
    completed = subprocess.run([sys.executable, "-m", "grader", "mutation-test", "--assignment", f"{name}.py",
                                "--format", "json"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-2000:]
    run = json.loads(completed.stdout)
    assert run["reference"]["status"] == "pass"
    distinct = [mutant for mutant in run["mutants"] if mutant["status"] not in ("duplicate", "equivalent", "invalid")]
    assert not [mutant["id"] for mutant in run["mutants"] if mutant["status"] == "survived"]
    assert len(distinct) >= 25 and len({mutant["operator"] for mutant in distinct}) >= 10


def _module(name: str):
    return assignments.get(str(EXAMPLES / f"{name}.py")).module


@settings(max_examples=25, deadline=None)
@given(N=st.integers(1, 9), D=st.integers(1, 6), C=st.integers(2, 5), seed=st.integers(0, 2 ** 32 - 1),
       reg=st.sampled_from([0.0, 0.1, 2.0]))
def test_softmax_l2s_reference_is_its_losss_gradient_at_any_size(N, D, C, seed, reg):
    module = _module("softmax_l2")
    (case,) = module.cases(np.random.default_rng(seed), [(N, D, C)], reg=reg)
    inputs = case.inputs
    loss, dW = module.softmax_loss_vectorized(**inputs)
    numerical = gradient.numerical_gradient(lambda moved: module.softmax_loss_vectorized(**moved)[0], inputs, "W")
    assert np.isfinite(loss) and check.relative_difference(dW, numerical) < 1e-6


@settings(max_examples=25, deadline=None)
@given(n_x=st.integers(1, 5), n_h=st.integers(1, 5), C=st.integers(2, 4), m=st.integers(1, 8),
       seed=st.integers(0, 2 ** 32 - 1))
@hypothesis_example(n_x=3, n_h=1, C=2, m=1, seed=3)  # a db1 of about 1e-6, whose own relative difference is 5e-2
def test_tanh_two_layers_reference_is_its_costs_gradient_at_any_size(n_x, n_h, C, m, seed):
    module = _module("tanh_two_layer")
    (case,) = module.cases(np.random.default_rng(seed), [(n_x, n_h, C, m)])
    X, Y, parameters = case.inputs["X"], case.inputs["Y"], case.inputs["parameters"]
    analytic = module.backward_propagation(X, Y, module.forward_propagation(X, Y, parameters)[1])
    numerical = gradient.batched_gradient(lambda p: module.cost(X, Y, p), parameters)
    assert numerical is not None  # the cost broadcasts over a stack of parameter sets
    # One block can be tiny (a db1 of 1e-6 with one hidden unit and one example), where a central
    # difference keeps few of its digits: the gradient is compared whole, and each block within its scale.
    names = list(numerical)
    whole = np.concatenate([analytic[f"d{name}"].ravel() for name in names])
    approx = np.concatenate([numerical[name].ravel() for name in names])
    assert check.relative_difference(whole, approx) < 1e-6
    for name in names:
        error = np.max(np.abs(analytic[f"d{name}"] - numerical[name]))
        assert error <= 1e-6 * (np.linalg.norm(whole) + np.linalg.norm(approx)), name
