"""The numerical core: central differences, relative differences and per-block verdicts."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from grader import check
from reference import three_layer


def quadratic_cost(matrix):
    """A cost whose gradient is known exactly: J = sum(A * theta**2) + sum(theta), batched."""
    def cost(parameters):
        theta = parameters["w"]
        return np.sum(matrix * theta ** 2, axis=(-2, -1)) + np.sum(theta, axis=(-2, -1))
    return cost


@settings(max_examples=25, deadline=None)
@given(rows=st.integers(1, 4), cols=st.integers(1, 4), m=st.integers(1, 6), seed=st.integers(0, 2 ** 32 - 1))
def test_batched_gradient_equals_loop_gradient(rows, cols, m, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((cols, m))
    parameters = {"W": rng.standard_normal((rows, cols)), "b": rng.standard_normal((rows, 1))}

    def batched(p):
        Z = p["W"] @ X + p["b"]
        return np.sum(np.logaddexp(0, Z), axis=(-2, -1)) / m

    batched_gradient = check.numerical_gradient(batched, parameters)
    loop_gradient = check.loop_numerical_gradient(batched, parameters)
    for name in parameters:
        np.testing.assert_allclose(batched_gradient[name], loop_gradient[name], rtol=1e-7, atol=1e-9)


def test_numerical_gradient_recovers_a_known_gradient():
    rng = np.random.default_rng(3)
    matrix = rng.standard_normal((3, 2))
    theta = rng.standard_normal((3, 2))
    gradient = check.numerical_gradient(quadratic_cost(matrix), {"w": theta})["w"]
    np.testing.assert_allclose(gradient, 2 * matrix * theta + 1, rtol=1e-6, atol=1e-8)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1), size=st.integers(1, 20))
def test_relative_difference_is_symmetric_and_in_unit_interval(seed, size):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(size), rng.standard_normal(size)
    forward, backward = check.relative_difference(a, b), check.relative_difference(b, a)
    assert forward == pytest.approx(backward)
    assert 0.0 <= forward <= 1.0


@pytest.mark.parametrize("grad, approx, expected", [
    pytest.param([0.0, 0.0], [0.0, 0.0], 0.0, id="both-zero"),
    pytest.param([1.0, 2.0], [1.0, 2.0], 0.0, id="equal"),
    pytest.param([1.0], [-1.0], 1.0, id="opposite"),
    pytest.param([2.0], [1.0], 1 / 3, id="twice"),
])
def test_relative_difference_values(grad, approx, expected):
    assert check.relative_difference(np.array(grad), np.array(approx)) == pytest.approx(expected)


def test_nan_never_passes():
    difference = check.relative_difference(np.array([np.nan]), np.array([1.0]))
    assert np.isnan(difference)
    assert not check.passes(difference, check.THRESHOLD)
    assert not check.passes(None, check.THRESHOLD)


EXPECTED = np.arange(5.0).reshape(5, 1) + 1


@pytest.mark.parametrize("got, fragment", [
    pytest.param(None, "missing", id="missing"),
    pytest.param(np.arange(5.0) + 1, "shape (5,), expected (5, 1)", id="flat-bias-with-right-values"),
    pytest.param(EXPECTED.T.copy(), "shape (1, 5)", id="transposed"),
    pytest.param(np.full((5, 1), np.nan), "NaN or infinite", id="nan"),
    pytest.param(np.array([["a"]] * 5), "float array", id="strings"),
    pytest.param(EXPECTED * 2, "mismatched entries 5 / 5", id="doubled"),
    pytest.param(EXPECTED + np.array([[0], [0], [3.0], [0], [0]]), "worst at [2, 0]", id="one-entry"),
])
def test_check_block_failures_say_why(got, fragment):
    block = check.check_block("db1", got, EXPECTED)
    assert not block.passed
    assert fragment in block.message


def test_check_block_accepts_integer_arrays_of_right_values():
    assert check.check_block("db1", EXPECTED.astype(int), EXPECTED).passed


def test_check_gradients_localises_the_wrong_block():
    expected = {"dW": np.ones((2, 2)), "db": np.ones((2, 1))}
    verdict = check.check_gradients({"dW": np.ones((2, 2)), "db": np.full((2, 1), 4.0)}, expected)
    assert not verdict.passed
    assert verdict.block("dW").passed and not verdict.block("db").passed
    assert verdict.difference is not None and verdict.difference > 0.1


def test_check_gradients_has_no_overall_difference_when_a_block_is_unusable():
    expected = {"dW": np.ones((2, 2)), "db": np.ones((2, 1))}
    verdict = check.check_gradients({"dW": np.ones((2, 2))}, expected)
    assert verdict.difference is None and not verdict.passed


@pytest.mark.parametrize("case", three_layer.cases() + three_layer.cases(profile="square"), ids=lambda c: c.name)
def test_reference_backward_passes_every_case_well_below_threshold(case):
    gradapprox = check.numerical_gradient(three_layer.batched_cost(case), case.parameters)
    expected = {"d" + name: value for name, value in gradapprox.items()}
    verdict = check.check_gradients(three_layer.reference_gradients(case), expected)
    assert verdict.passed
    assert max(block.difference for block in verdict.blocks) <= 1e-8
