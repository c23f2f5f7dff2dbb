"""Tests of grader/large.py: the structured central differences equal the loop's, kinks, the fast check."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.numerics import check, large
from grader.reference import l_layer


def network(sizes, m, seed, *, scale=1.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((sizes[0], m))
    Y = rng.integers(0, 2, size=(1, m))
    parameters = {name: scale * rng.standard_normal(shape) for name, shape in l_layer.parameter_shapes(sizes).items()}
    return parameters, X, Y


def loop(parameters, X, Y, epsilon):
    return check.loop_numerical_gradient(lambda p: l_layer.cost(X, Y, p), parameters, epsilon=epsilon)


def reference_gradients(parameters, X, Y):
    AL, caches = l_layer.L_layer_forward(X, parameters)
    # The course's dAL is 0/0 where an unscreened network saturates; both checks then fail that block alike.
    with np.errstate(divide="ignore", invalid="ignore"):
        grads = l_layer.L_layer_backward(AL, Y, caches)
    return {"d" + name: grads["d" + name] for name in parameters}


def assert_same_as_loop(parameters, X, Y, epsilon):
    numerical = large.central_differences(parameters, X, Y, epsilon=epsilon)
    expected = loop(parameters, X, Y, epsilon)
    assert set(numerical.gradapprox) == set(expected)
    for name, value in expected.items():
        # The loop's own rounding is about 1e-16 / epsilon per entry.
        np.testing.assert_allclose(numerical.gradapprox[name], value, rtol=1e-7, atol=1e-13 / epsilon, err_msg=name)
    return numerical


@pytest.mark.parametrize(("sizes", "m", "epsilon"), [
    pytest.param((5, 6, 3, 1), 4, 1e-6, id="course-sizes"),
    pytest.param((4, 1), 3, 1e-6, id="logistic-regression"),
    pytest.param((3, 4, 1), 1, 1e-6, id="one-example"),
    pytest.param((6, 5, 4, 3, 1), 7, 1e-6, id="four-layers"),
    pytest.param((3, 4, 5, 2, 1), 6, 0.05, id="steps-that-cross-kinks"),
    pytest.param((3, 4, 5, 2, 1), 6, 0.5, id="steps-that-cross-many-kinks"),
])
def test_central_differences_equal_the_loop(sizes, m, epsilon):
    numerical = assert_same_as_loop(*network(sizes, m, seed=sum(sizes) + m), epsilon)
    if epsilon >= 0.05:
        assert numerical.kinks, "large steps must cross kinks, so the direct path is exercised"


@settings(max_examples=25, deadline=None)
@given(hidden=st.lists(st.integers(1, 5), min_size=0, max_size=3), n_x=st.integers(1, 5), m=st.integers(1, 6),
       seed=st.integers(0, 2 ** 16), epsilon=st.sampled_from([1e-6, 1e-3, 0.1]),
       labels=st.sampled_from(["binary", "soft"]))
def test_property_central_differences_equal_the_loop(hidden, n_x, m, seed, epsilon, labels):
    parameters, X, Y = network((n_x, *hidden, 1), m, seed)
    if labels == "soft":
        Y = np.random.default_rng(seed).uniform(size=Y.shape)
    assert_same_as_loop(parameters, X, Y, epsilon)


def flips(parameters, X, name, index, step):
    """Whether moving one entry by +-step changes the sign pattern of any ReLU pre-activation."""
    before = [Z > 0 for Z in l_layer.pre_activations(X, parameters)[:-1]]
    for sign in (1, -1):
        moved = dict(parameters, **{name: parameters[name].copy()})
        moved[name][index] += sign * step
        after = [Z > 0 for Z in l_layer.pre_activations(X, moved)[:-1]]
        if any(np.any(b != a) for b, a in zip(before, after)):
            return True
    return False


def test_kink_steps_are_the_smallest_steps_that_flip_a_relu():
    parameters, X, Y = network((3, 4, 3, 1), 5, seed=3)
    epsilon = 0.2
    numerical = large.central_differences(parameters, X, Y, epsilon=epsilon)
    reported = {(kink.parameter, kink.index): kink for kink in numerical.kinks}
    assert reported
    for name, value in parameters.items():
        for index in np.ndindex(value.shape):
            kink = reported.get((name, index))
            assert flips(parameters, X, name, index, epsilon) == (kink is not None), (name, index)
            if kink is not None:
                assert not flips(parameters, X, name, index, kink.step * (1 - 1e-9))
                assert flips(parameters, X, name, index, kink.step * (1 + 1e-6))
                assert kink.epsilon < kink.step


def near_kink_case():
    """A screened case moved so that one hidden pre-activation sits 1e-9 from its kink."""
    case = l_layer.cases()[3]
    parameters = {name: value.copy() for name, value in case.parameters.items()}
    Z1 = l_layer.pre_activations(case.X, parameters)[0]
    a, k = 1, int(np.argmax(Z1[1] > 0))
    parameters["b1"][a] -= Z1[a, k] - 1e-9
    return parameters, case.X, case.Y, a


def test_a_step_across_a_kink_is_rechecked_instead_of_blaming_correct_code():
    parameters, X, Y, unit = near_kink_case()
    gradients = reference_gradients(parameters, X, Y)
    numerical = large.central_differences(parameters, X, Y)
    crossed = {kink.parameter for kink in numerical.kinks}
    assert "b1" in crossed and all(kink.step <= 2e-9 for kink in numerical.kinks if kink.parameter == "b1")
    # The loop's value across the kink would fail correct code; the recheck does not.
    loop_verdict = check.check_gradients(gradients, {"d" + n: v for n, v in numerical.gradapprox.items()})
    assert not loop_verdict.passed
    verdict = large.exact_check(parameters, gradients, X, Y)
    assert verdict.passed, verdict.check
    assert verdict.kinks and "flips a ReLU" in verdict.kinks[0].message()


def test_cost_differences_match_the_cost():
    rng = np.random.default_rng(5)
    z = rng.uniform(-30, 30, size=7)
    delta = rng.uniform(-1, 1, size=(3, 7))
    for Y in (rng.integers(0, 2, size=(1, 7)), rng.uniform(size=(1, 7))):
        plus = Y * np.logaddexp(0, -(z + delta)) + (1 - Y) * np.logaddexp(0, z + delta)
        minus = Y * np.logaddexp(0, -(z - delta)) + (1 - Y) * np.logaddexp(0, z - delta)
        np.testing.assert_allclose(large.cost_differences(z, Y, delta), plus - minus, rtol=1e-9, atol=1e-12)


# The fast check: the same detection as the exact check.

MEDIUM = ((300, 12, 7, 5, 1), 40)


@pytest.fixture(scope="module")
def medium():
    sizes, m = MEDIUM
    rng = np.random.default_rng(11)
    X = rng.uniform(size=(sizes[0], m))
    Y = rng.integers(0, 2, size=(1, m))
    parameters = {name: rng.standard_normal(shape) / np.sqrt(shape[1]) if name[0] == "W" else 0.1 * rng.standard_normal(shape)
                  for name, shape in l_layer.parameter_shapes(sizes).items()}
    return parameters, X, Y, reference_gradients(parameters, X, Y)


def _scaled(name, factor):
    return lambda g: dict(g, **{name: factor * g[name]})


def _one_entry(name):
    def change(g):
        wrong = g[name].copy()
        wrong.flat[0] += 1e-3 * (np.abs(wrong).max() + 1)
        return dict(g, **{name: wrong})
    return change


def _near_threshold(name):
    """Every entry shifted so the block's relative difference is about 10 x THRESHOLD."""
    def change(g):
        shift = 20 * check.THRESHOLD * np.linalg.norm(g[name]) / np.sqrt(g[name].size)
        return dict(g, **{name: g[name] + shift})
    return change


WRONG = [
    pytest.param(_scaled("dW1", 2.0), {"dW1"}, id="scaled-dW1"),
    pytest.param(_scaled("db4", 0.25), {"db4"}, id="scaled-db4"),
    pytest.param(_scaled("dW3", -1.0), {"dW3"}, id="sign-flip-dW3"),
    pytest.param(lambda g: dict(g, db2=np.zeros_like(g["db2"])), {"db2"}, id="zeroed-db2"),
    pytest.param(lambda g: dict(g, db1=g["db1"].T), {"db1"}, id="transposed-db1-shape"),
    pytest.param(lambda g: dict(g, dW2=g["dW2"] * np.nan), {"dW2"}, id="nan-dW2"),
    pytest.param(_near_threshold("dW1"), {"dW1"}, id="dW1-ten-times-the-threshold-off"),
    pytest.param(_one_entry("dW1"), {"dW1"}, id="one-entry-of-dW1"),
    pytest.param(lambda g: {k: v for k, v in g.items() if k != "db3"}, {"db3"}, id="missing-db3"),
    pytest.param(lambda g: g, set(), id="correct"),
]


@pytest.mark.parametrize(("make_wrong", "wrong_blocks"), WRONG)
def test_fast_check_detects_what_the_exact_check_detects(medium, make_wrong, wrong_blocks):
    parameters, X, Y, gradients = medium
    given_gradients = make_wrong(gradients)
    exact = large.exact_check(parameters, given_gradients, X, Y)
    fast = large.fast_check(parameters, given_gradients, X, Y)
    failing = {block.name for block in exact.check.blocks if not block.passed}
    assert failing == wrong_blocks
    assert {block.name for block in fast.check.blocks if not block.passed} == failing
    assert set(fast.rechecked) == failing
    assert fast.passed == exact.passed == (not wrong_blocks)


def test_fast_check_catches_swapped_blocks_of_the_same_shape():
    parameters, X, Y = network((4, 4, 4, 1), 6, seed=2, scale=0.8)
    gradients = reference_gradients(parameters, X, Y)
    assert large.exact_check(parameters, gradients, X, Y).passed
    swapped = dict(gradients, dW1=gradients["dW2"], dW2=gradients["dW1"])
    exact = large.exact_check(parameters, swapped, X, Y)
    fast = large.fast_check(parameters, swapped, X, Y)
    assert {b.name for b in fast.check.blocks if not b.passed} == {b.name for b in exact.check.blocks if not b.passed} == {"dW1", "dW2"}


def test_a_direction_across_a_kink_sends_its_block_to_the_exact_check():
    parameters, X, Y, _ = near_kink_case()
    fast = large.fast_check(parameters, reference_gradients(parameters, X, Y), X, Y)
    assert fast.passed
    crossing = {d.name for d in fast.directional if d.crossed_kink}
    assert crossing and {"d" + name for name in crossing} <= set(fast.rechecked)


def test_not_a_network_is_a_value_error():
    with pytest.raises(ValueError):
        large.forward({"W1": np.ones((2, 3)), "b1": np.ones((2, 1))}, np.ones((3, 4)), np.ones((1, 4)))


@settings(max_examples=20, deadline=None)
@given(hidden=st.lists(st.integers(2, 6), min_size=1, max_size=3), n_x=st.integers(1, 8), m=st.integers(2, 8),
       seed=st.integers(0, 2 ** 16), block=st.integers(0, 7), factor=st.sampled_from([-1.0, 0.0, 0.5, 1.01, 3.0]))
def test_property_fast_and_exact_fail_the_same_blocks(hidden, n_x, m, seed, block, factor):
    parameters, X, Y = network((n_x, *hidden, 1), m, seed, scale=0.9)
    gradients = reference_gradients(parameters, X, Y)
    names = sorted(gradients, key=lambda name: (int(name[2:]), name[1]))
    name = names[block % len(names)]
    wrong = dict(gradients, **{name: factor * gradients[name]})
    exact = large.exact_check(parameters, wrong, X, Y)
    fast = large.fast_check(parameters, wrong, X, Y, seed=seed)
    assert {b.name for b in fast.check.blocks if not b.passed} == {b.name for b in exact.check.blocks if not b.passed}
