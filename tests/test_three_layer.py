"""The reference network: the course's exact case, screened hidden cases, a stable cost."""
import numpy as np
import pytest

from grader.reference import cases as screening
from grader.reference import three_layer


def test_public_case_has_the_course_numbers():
    case = three_layer.public_case()
    np.random.seed(1)
    X = np.random.randn(4, 3)
    W1 = np.random.randn(5, 4)
    np.testing.assert_array_equal(case.X, X)
    np.testing.assert_array_equal(case.parameters["W1"], W1)
    np.testing.assert_array_equal(case.Y, [[1, 1, 0]])
    assert [case.parameters[n].shape for n in three_layer.PARAMETER_NAMES] == [(5, 4), (5, 1), (3, 5), (3, 1), (1, 3), (1, 1)]


def test_hidden_cases_have_other_batch_sizes_and_are_deterministic():
    first, second = three_layer.hidden_cases(), three_layer.hidden_cases()
    assert [case.m for case in first] == list(three_layer.HIDDEN_BATCH_SIZES)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.X, b.X)


@pytest.mark.parametrize("case", three_layer.hidden_cases() + three_layer.square_cases(), ids=lambda c: c.name)
def test_hidden_cases_are_screened(case):
    Z1, Z2, Z3 = three_layer.pre_activations(case.X, case.parameters)
    assert np.abs(Z1).min() >= screening.KINK_MARGIN and np.abs(Z2).min() >= screening.KINK_MARGIN
    assert np.abs(Z3).max() < screening.SATURATION_LIMIT
    assert (Z1 > 0).any(axis=0).all() and (Z2 > 0).any(axis=0).all()


def test_square_cases_make_every_hidden_size_equal_the_batch_size():
    for case in three_layer.square_cases():
        assert case.X.shape[0] == case.parameters["W1"].shape[0] == case.parameters["W2"].shape[0] == case.m


def test_screening_rejects_a_kink_and_a_dead_layer():
    assert not screening.hidden_layers_healthy([np.array([[1.0, 1e-6], [-1.0, 2.0]])])
    assert not screening.hidden_layers_healthy([np.array([[-1.0, 2.0], [-1.0, 3.0]])])
    assert screening.hidden_layers_healthy([np.array([[-1.0, 2.0], [1.0, -3.0]])])


def test_stable_cost_keeps_digits_where_the_naive_one_overflows():
    X = np.ones((1, 1))
    parameters = {"W1": np.ones((1, 1)), "b1": np.zeros((1, 1)), "W2": np.ones((1, 1)), "b2": np.zeros((1, 1)),
                  "W3": np.full((1, 1), 800.0), "b3": np.zeros((1, 1))}
    with np.errstate(all="ignore"):
        naive = three_layer.naive_cost(X, np.array([[0]]), parameters)
    stable = float(three_layer.cost(X, np.array([[0]]), parameters))
    assert not np.isfinite(naive)
    assert stable == pytest.approx(800.0)


def test_cost_broadcasts_over_a_batch_of_parameters():
    case = three_layer.public_case()
    stacked = {name: np.stack([value, value * 0.5]) for name, value in case.parameters.items()}
    costs = three_layer.cost(case.X, case.Y, stacked)
    halved = {name: value * 0.5 for name, value in case.parameters.items()}
    assert costs.shape == (2,)
    assert costs[0] == pytest.approx(three_layer.forward_propagation_n(case.X, case.Y, case.parameters)[0])
    assert costs[1] == pytest.approx(float(three_layer.cost(case.X, case.Y, halved)))


def test_course_checker_reproduces_the_notebooks_value_on_the_course_case():
    case = three_layer.public_case()
    gradients = three_layer.backward_propagation_n(*three_layer.backward_args(case))
    difference = three_layer.gradient_check_n(case.parameters, gradients, case.X, case.Y)
    # The notebook's method flags a correct backward pass on its own case: the reason check.py differs.
    assert 1e-7 < difference < 1.3e-7
