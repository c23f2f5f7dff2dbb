"""Drawing and screening a spec's cases, and what each function must give on them (grader/assignments/expect.py)."""
import numpy as np
import pytest

from grader import spec as api
from grader.assignments import expect
from grader.assignments.specs import SpecError


class Module:
    """A spec's reference functions, as a spec file's module holds them."""

    @staticmethod
    def relu_sum(x):
        return float(np.sum(np.maximum(x, 0) ** 2)), 2 * np.maximum(x, 0)

    @staticmethod
    def wrong_sum(x):
        return float(np.sum(x ** 2)), 3 * x

    @staticmethod
    def scale_forward(x, w):
        return x * w, (x, w)

    @staticmethod
    def scale_backward(dout, cache):
        x, w = cache
        return dout * w, np.sum(dout * x, axis=0, keepdims=True)


def _spec(functions, *, public=(), hidden=lambda rng: [], square=None):
    return api.Spec(name="t", title="t", functions=functions, public_cases=lambda rng: list(public),
                    hidden_cases=hidden, square_cases=square, seed=7)


def test_a_case_near_a_kink_is_redrawn_and_the_redraw_is_healthy():
    draws = []

    def hidden(rng):
        x = rng.standard_normal(4)
        if not draws:
            x[0] = 1e-9  # the first draw sits on the ReLU's kink: steps of 1e-6 and 2.5e-7 disagree there
        draws.append(x)
        return [api.Case("hidden", {"x": x})]

    cases, prepared = expect.draw(_spec([api.Loss("relu_sum", wrt="x")], hidden=hidden), Module, "course")
    assert len(draws) == 2 and [case.name for case in cases] == ["hidden"]
    assert cases[0].inputs["x"] is draws[1]
    item = prepared[("relu_sum", "hidden")]
    np.testing.assert_allclose(item.gradients["dx"], 2 * np.maximum(draws[1], 0), atol=1e-8)
    assert item.value == pytest.approx(Module.relu_sum(draws[1])[0])


def test_a_reference_that_fails_its_own_check_is_named_with_its_gradient_and_difference():
    spec = _spec([api.Loss("wrong_sum", wrt="x")], public=[api.Case("public", {"x": np.arange(1.0, 4.0)})])
    with pytest.raises(SpecError, match=r"wrong_sum's dx differs from its numerical gradient by 2\.0e-01 on case "
                                        r"public: the reference fails its own numerical check"):
        expect.draw(spec, Module, "course")


def test_a_case_that_never_screens_healthy_is_given_up_after_the_redraws():
    hidden = lambda rng: [api.Case("stuck", {"x": np.array([0.0, 1.0])})]  # noqa: E731
    with pytest.raises(SpecError, match="no healthy course case stuck in 25 draws"):
        expect.draw(_spec([api.Loss("relu_sum", wrt="x")], hidden=hidden), Module, "course")


def test_a_layer_is_prepared_with_a_seeded_upstream_gradient_and_the_vjp_of_its_forward():
    rng = np.random.default_rng(3)
    case = api.Case("layer", {"x": rng.standard_normal((2, 3)), "w": rng.standard_normal((1, 3))})
    spec = _spec([api.LayerBackward("scale_backward", forward="scale_forward", wrt=("x", "w"))], public=[case])
    first = expect.draw(spec, Module, "course")[1][("scale_backward", "layer")]
    again = expect.draw(spec, Module, "course")[1][("scale_backward", "layer")]
    np.testing.assert_array_equal(first.dout, again.dout)
    x, w = case.inputs["x"], case.inputs["w"]
    np.testing.assert_allclose(first.gradients["dx"], first.dout * w, atol=1e-8)
    np.testing.assert_allclose(first.gradients["dw"], np.sum(first.dout * x, axis=0, keepdims=True), atol=1e-8)
    np.testing.assert_allclose(first.value, x * w)
    assert first.arg_names == ("x", "w")


def test_case_names_repeat_nowhere_in_a_profile():
    case = api.Case("same", {"x": np.ones(2)})
    with pytest.raises(SpecError, match="case names must be distinct within a profile: same"):
        expect.draw(_spec([api.Loss("relu_sum", wrt="x")], public=[case], hidden=lambda rng: [case]), Module, "course")


def test_a_case_that_grades_nothing_is_an_error():
    with pytest.raises(SpecError, match="case odd grades no declared function"):
        expect.draw(_spec([api.Loss("relu_sum", wrt="x")], public=[api.Case("odd", {"y": 1.0})]), Module, "course")


def test_a_spec_without_square_cases_has_an_empty_square_profile():
    assert expect.draw(_spec([api.Loss("relu_sum", wrt="x")]), Module, "square") == ((), {})
