"""The numerical core: central differences, relative differences and per-block verdicts."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from grader.numerics import check
from grader.reference import three_layer


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


def plain_check_gradients(gradients, expected, names):
    """check_gradients by its definition: check_block on each block, then the difference of the concatenations."""
    blocks = tuple(check.check_block(name, gradients.get(name), expected[name]) for name in names)
    difference = None
    if all(block.difference is not None for block in blocks):
        difference = check.relative_difference(
            np.concatenate([np.asarray(gradients[name], dtype=np.float64).ravel() for name in names]),
            np.concatenate([expected[name].ravel() for name in names]))
    passed = all(block.passed for block in blocks) and check.passes(difference, check.THRESHOLD)
    return check.GradientCheck(passed, difference, blocks)


# What a student's block may be, made from the expected one: right, slightly off, wrong, unusable.
BLOCK_KINDS = ["same", "close", "doubled", "one-entry", "nan", "inf", "huge", "zeros", "integers", "missing",
               "transposed", "list"]


def student_block(kind, want, rng):
    off = want.copy()
    off.flat[rng.integers(want.size)] += 1.0
    return {"same": want.copy(), "close": want * (1 + 1e-9), "doubled": 2 * want, "one-entry": off,
            "nan": np.where(rng.random(want.shape) < 0.5, np.nan, want), "inf": np.full(want.shape, np.inf),
            "huge": want * 1e200, "zeros": np.zeros_like(want), "integers": np.rint(want).astype(int),
            "missing": None, "transposed": want.T.copy(), "list": want.tolist()}[kind]


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1), kinds=st.lists(st.sampled_from(BLOCK_KINDS), min_size=1, max_size=5))
def test_check_gradients_equals_check_block_on_every_block(seed, kinds):
    rng = np.random.default_rng(seed)
    names = [f"d{index}" for index in range(len(kinds))]
    expected = {name: rng.standard_normal(tuple(rng.integers(1, 5, size=rng.integers(0, 3)))) for name in names}
    gradients = {name: student_block(kind, expected[name], rng) for name, kind in zip(names, kinds)}
    plain = plain_check_gradients(gradients, expected, names)
    assert check.check_gradients(gradients, expected) == plain
    # Prepared once, as a grader does for every submission, and prepared for other names than asked for.
    assert check.check_gradients(gradients, check.prepare(expected), threshold=check.THRESHOLD) == plain
    assert check.check_gradients(gradients, check.prepare(expected, names[::-1]), names=names) == plain


def plain_describe_mismatch(name, got, expected, *, threshold):
    """describe_mismatch with numpy's own norm, unravel_index and max."""
    abs_error = np.abs(got - expected)
    tolerance = threshold * (np.linalg.norm(got) + np.linalg.norm(expected))
    wrong = int(np.count_nonzero(abs_error > max(tolerance, 1e-12)))
    worst = np.unravel_index(int(abs_error.argmax()), abs_error.shape)
    where = "[" + ", ".join(str(int(i)) for i in worst) + "]"
    nonzero = expected != 0
    relative = f", max rel error {np.max(abs_error[nonzero] / np.abs(expected[nonzero])):.3g}" if nonzero.any() else ""
    at_zero = int(np.count_nonzero((abs_error > max(tolerance, 1e-12)) & (expected == 0)))
    zeros = f", {at_zero} wrong where 0 is expected" if at_zero else ""
    return (f"{name}: mismatched entries {wrong} / {got.size}; worst at {where}: got {got[worst]:.6g}, "
            f"expected {expected[worst]:.6g} (max abs error {abs_error.max():.3g}{relative}{zeros})")


def test_an_error_where_0_is_expected_is_counted_not_divided_by_0():
    expected = np.array([[0.0, 2.0], [0.0, -4.0]])
    got = np.array([[0.5, 2.0], [0.0, -5.0]])
    message = check.describe_mismatch("db1", got, expected, threshold=1e-7)
    assert message.endswith("(max abs error 1, max rel error 0.25, 1 wrong where 0 is expected)")
    only_zero = check.describe_mismatch("db1", np.array([0.0, 0.3]), np.zeros(2), threshold=1e-7)
    assert only_zero.endswith("(max abs error 0.3, 1 wrong where 0 is expected)")


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1), ndim=st.integers(0, 3), kind=st.sampled_from(BLOCK_KINDS[:9]),
       layout=st.sampled_from(["C", "F", "strided", "float32"]))
def test_describe_mismatch_equals_numpy_formulation(seed, ndim, kind, layout):
    rng = np.random.default_rng(seed)
    want = rng.standard_normal(tuple(rng.integers(1, 6, size=ndim))) * 10.0 ** rng.integers(-8, 8)
    got = student_block(kind, want, rng)
    if layout == "F":
        got, want = np.asfortranarray(got), np.asfortranarray(want)
    elif layout == "strided" and ndim:
        got, want = np.repeat(got, 2, axis=-1)[..., ::2], np.repeat(want, 2, axis=-1)[..., ::2]
    with np.errstate(all="ignore"):
        if layout == "float32":
            got = got.astype(np.float32)
        assert (check.describe_mismatch("dW", got, want, threshold=1e-7)
                == plain_describe_mismatch("dW", got, want, threshold=1e-7))
