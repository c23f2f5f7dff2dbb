"""The generic numerical gradient and the screening of a spec's cases (grader/numerics/gradient.py)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from grader.numerics import check, gradient


def _quadratic(inputs):
    W, X = inputs["W"], inputs["X"]
    return float(np.sum((X @ W) ** 2) + np.sum(np.sin(W)))


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.integers(0, 2 ** 31))
def test_the_looped_gradient_matches_the_analytic_one_at_any_shape(n, d, c, seed):
    rng = np.random.default_rng(seed)
    inputs = {"W": rng.standard_normal((d, c)), "X": rng.standard_normal((n, d))}
    analytic = 2 * inputs["X"].T @ (inputs["X"] @ inputs["W"]) + np.cos(inputs["W"])
    found = gradient.numerical_gradient(_quadratic, inputs, "W")
    assert check.relative_difference(found, analytic) < 1e-8


def test_a_dict_of_parameters_gives_a_dict_of_gradients_and_the_inputs_stay_unchanged():
    rng = np.random.default_rng(1)
    parameters = {"a": rng.standard_normal(3), "b": rng.standard_normal((2, 2))}
    before = {key: value.copy() for key, value in parameters.items()}

    def cost(inputs):
        inputs["parameters"]["a"] *= 2  # a function that writes into its inputs spoils no later call
        return float(np.sum(inputs["parameters"]["a"] ** 2) + np.sum(inputs["parameters"]["b"]))

    found = gradient.numerical_gradient(cost, {"parameters": parameters}, "parameters")
    assert set(found) == {"a", "b"}
    np.testing.assert_allclose(found["a"], 8 * before["a"], rtol=1e-6)
    np.testing.assert_allclose(found["b"], np.ones((2, 2)), rtol=1e-6)
    assert all(np.array_equal(parameters[key], before[key]) for key in before)


def test_the_batched_path_is_taken_only_when_the_cost_really_broadcasts():
    rng = np.random.default_rng(2)
    parameters = {"w": rng.standard_normal((3, 1))}
    X = rng.standard_normal((4, 3))
    broadcasting = lambda p: np.sum(np.tanh(X @ p["w"]), axis=(-2, -1))  # noqa: E731
    assert gradient.batched_gradient(broadcasting, parameters) is not None
    # np.sum over everything returns one number for a whole batch: not a per-entry cost.
    summing = lambda p: np.sum(np.tanh(X @ p["w"]))  # noqa: E731
    assert gradient.batched_gradient(summing, parameters) is None


def test_richardson_removes_the_step_error_of_a_central_difference():
    f = lambda x: np.exp(3 * x)  # noqa: E731
    x, h = 0.3, 1e-2
    central = lambda step: (f(x + step) - f(x - step)) / (2 * step)  # noqa: E731
    exact = 3 * np.exp(0.9)
    assert abs(gradient.richardson(central(h), central(h / 2)) - exact) < abs(central(h / 2) - exact) / 100


@pytest.mark.parametrize("analytic, numerical, finer, healthy, wrong", [
    pytest.param(np.ones(3), np.ones(3), np.ones(3), True, False, id="agreeing"),
    pytest.param(np.ones(3), np.array([1.0, 1.0, 0.5]), np.ones(3), False, False, id="a kink between the steps"),
    pytest.param(np.ones(3), np.array([1.0, np.nan, 1.0]), np.ones(3), False, False, id="not finite"),
    pytest.param(2 * np.ones(3), np.ones(3), np.ones(3), False, True, id="the reference is wrong"),
    pytest.param(np.ones(2), np.ones(3), np.ones(3), False, True, id="the reference has another shape"),
])
def test_screen_tells_an_unlucky_case_from_a_wrong_reference(analytic, numerical, finer, healthy, wrong):
    health = gradient.screen("dW", analytic, numerical, finer)
    assert (health.healthy, health.reference_wrong) == (healthy, wrong)
    assert healthy or "dW" in health.problem


def test_a_reference_close_to_but_not_within_1e_9_of_the_accurate_estimate_is_redrawn_not_blamed():
    numerical = np.ones(4)
    health = gradient.screen("dW", numerical * (1 + 1e-8), numerical, numerical, numerical)
    assert not health.healthy and not health.reference_wrong


def test_one_sided_differences_show_a_kink_the_central_one_averages_away():
    def hinge(inputs):
        return float(np.sum(np.maximum(0.0, inputs["x"])))

    inputs = {"x": np.array([0.0, 1.5, -2.0])}
    central = gradient.numerical_gradient(hinge, inputs, "x")
    forward, backward = gradient.one_sided_gradients(hinge, inputs, "x")
    assert np.allclose(central, [0.5, 1.0, 0.0]) and np.allclose(forward, [1, 1, 0]) and np.allclose(backward, [0, 1, 0])
    assert gradient.on_kink(np.array([0.0, 1.0, 0.0]), forward, backward)      # the left side's derivative
    assert gradient.on_kink(np.array([1.0, 1.0, 0.0]), forward, backward)      # the right side's
    assert not gradient.on_kink(np.array([0.0, 2.0, 0.0]), forward, backward)  # wrong where there is no kink
    smooth = {"x": np.array([0.3, 1.5, -2.0])}
    assert not gradient.on_kink(np.array([1.0, 1.0, 0.0]), *gradient.one_sided_gradients(hinge, smooth, "x"))


def test_one_sided_differences_of_a_dict_of_parameters_are_judged_as_one_vector():
    def cost(inputs):
        return float(np.sum(np.maximum(0.0, inputs["p"]["a"])) + np.sum(inputs["p"]["b"] ** 2))

    inputs = {"p": {"a": np.array([0.0, 1.0]), "b": np.array([2.0])}}
    forward, backward = gradient.one_sided_gradients(cost, inputs, "p")
    assert set(forward) == {"a", "b"}
    assert gradient.on_kink({"a": np.array([0.0, 1.0]), "b": np.array([4.0])}, forward, backward)
    assert not gradient.on_kink({"a": np.array([0.0, 1.0]), "b": np.array([3.0])}, forward, backward)
    assert not gradient.on_kink({"a": np.array([0.0, 1.0])}, forward, backward)
