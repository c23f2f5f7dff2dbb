"""Grading the functions a spec declares, each kind through the sandbox (grader/grading/declared.py)."""
import textwrap

import pytest

from grader import assignments
from grader.grading import pipeline
from grader.results import Status
from grader.settings import Settings

SPEC = '''
import numpy as np
from grader.spec import Case, LayerBackward, Loss, Method, Spec, Value


def scale_loss(W, X, reg):
    loss = float(np.sum((X @ W) ** 2)) / X.shape[0] + 0.5 * reg * np.sum(W * W)
    return loss, 2 * X.T @ (X @ W) / X.shape[0] + reg * W


def scale_loss_full_reg(W, X, reg):
    loss = float(np.sum((X @ W) ** 2)) / X.shape[0] + reg * np.sum(W * W)
    return loss, 2 * X.T @ (X @ W) / X.shape[0] + 2 * reg * W


def affine_forward(x, w, b):
    return x.reshape(x.shape[0], -1) @ w + b, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    return (dout @ w.T).reshape(x.shape), x.reshape(x.shape[0], -1).T @ dout, dout.sum(axis=0)


def norm_forward(x, param):
    param["running_mean"] = 0.9 * param.get("running_mean", 0) + 0.1 * x.mean(axis=0)
    return x - x.mean(axis=0), None


def norm_backward(dout, cache):
    return dout - dout.mean(axis=0)


def dropout_forward(x, param):
    np.random.seed(param["seed"])
    mask = (np.random.rand(*x.shape) < param["p"]) / param["p"]
    return x * mask, mask


def dropout_backward(dout, cache):
    return dout * cache


class Net:
    def __init__(self, size):
        self.params = {}

    def loss(self, X, y):
        W = self.params["W"]
        scores = np.tanh(X @ W)
        loss = float(np.sum((scores - y) ** 2))
        return loss, {"W": X.T @ (2 * (scores - y) * (1 - scores ** 2))}


def cases(rng):
    return [
        Case("loss", {"W": rng.standard_normal((3, 2)), "X": rng.standard_normal((4, 3)), "reg": 0.7},
             functions=("scale_loss",)),
        Case("affine", {"x": rng.standard_normal((2, 3, 2)), "w": rng.standard_normal((6, 4)),
                        "b": rng.standard_normal(4)}, functions=("affine_forward", "affine_backward")),
        Case("norm", {"x": rng.standard_normal((5, 3)), "param": {"momentum": 0.9}}, functions=("norm_backward",)),
        Case("dropout", {"x": rng.standard_normal((3, 4)), "param": {"p": 0.5, "seed": 4}},
             functions=("dropout_backward",)),
        Case("net", {"X": rng.standard_normal((4, 3)), "y": rng.standard_normal((4, 2)),
                     "params": {"W": 0.5 * rng.standard_normal((3, 2))}}, functions=("Net.loss",)),
    ]


SPEC = Spec(name="kinds", title="Every kind", seed=3, public_cases=cases, functions=[
    Loss("scale_loss", wrt="W", conventions=("scale_loss_full_reg",)),
    Value("affine_forward", output=0, points=2),
    LayerBackward("affine_backward", forward="affine_forward", wrt=("x", "w", "b"), points=6),
    LayerBackward("norm_backward", forward="norm_forward", wrt=("x",)),
    LayerBackward("dropout_backward", forward="dropout_forward", wrt=("x",), own_forward=True),
    Method("Net", "loss", wrt="params", init=lambda inputs: {"size": 3}, args=("X", "y")),
])
'''

CORRECT = '''
import numpy as np

def scale_loss(W, X, reg):
    N = X.shape[0]
    return np.sum((X.dot(W)) ** 2) / N + 0.5 * reg * np.sum(W ** 2), 2 * X.T.dot(X.dot(W)) / N + reg * W

def affine_forward(x, w, b):
    cache = {"x": x, "w": w}   # a cache of its own format
    return x.reshape(len(x), -1).dot(w) + b, cache

def affine_backward(dout, cache):
    x, w = cache["x"], cache["w"]
    return dout.dot(w.T).reshape(x.shape), x.reshape(len(x), -1).T.dot(dout), dout.sum(axis=0, keepdims=True)

def norm_forward(x, param):
    param["running_mean"] = x.mean(axis=0)
    return x - x.mean(axis=0), x.shape

def norm_backward(dout, cache):
    return dout - dout.sum(axis=0) / cache[0]

def dropout_forward(x, param):
    np.random.seed(param["seed"])
    keep = np.random.binomial(1, param["p"], size=x.shape) / param["p"]
    return x * keep, keep

def dropout_backward(dout, cache):
    return dout * cache

class Net:
    def __init__(self, size, std=1e-4):
        self.params = {"W": std * np.random.randn(size, 2)}
    def loss(self, X, y):
        s = np.tanh(X @ self.params["W"])
        return np.sum((s - y) ** 2), {"W": X.T @ (2 * (s - y) * (1 - s * s))}
'''


@pytest.fixture(scope="module")
def kinds(tmp_path_factory):
    path = tmp_path_factory.mktemp("spec") / "kinds.py"
    path.write_text(SPEC)
    return assignments.get(str(path))


def _grade(assignment, source):
    return pipeline.grade_source(textwrap.dedent(source).encode(), "student.py", Settings(assignment="kinds"),
                                 submission="student", assignment=assignment)


def _checks(result):
    return {check.name: check for check in result.checks}


def test_a_correct_submission_in_its_own_formats_passes_every_function(kinds):
    result = _grade(kinds, CORRECT)
    checks = _checks(result)
    assert {name: check.status for name, check in checks.items()} == {name: Status.PASS for name in (
        "scale_loss", "affine_forward", "affine_backward", "norm_backward", "dropout_backward", "Net.loss")}
    assert (result.score, result.max_score) == (48.0, 48.0)
    assert result.assignment == "kinds"
    # db of shape (1, 4) for (4,): the values are graded, the shape is noted.
    assert "db has shape (1, 4) for (4,) (accepted: the same values)" in checks["affine_backward"].cases[0].message
    # norm_forward updates its param dict (running means): that is no in-place change to report.
    assert "in place" not in checks["norm_backward"].cases[0].message


def test_another_accepted_convention_passes_and_is_named(kinds):
    source = CORRECT.replace("0.5 * reg * np.sum(W ** 2), 2 * X.T.dot(X.dot(W)) / N + reg * W",
                             "reg * np.sum(W ** 2), 2 * X.T.dot(X.dot(W)) / N + 2 * reg * W")
    check = _checks(_grade(kinds, source))["scale_loss"]
    assert check.status is Status.PASS and check.details["convention"] == "scale_loss_full_reg"
    assert "follows the convention of scale_loss_full_reg" in check.message


def test_a_loss_whose_gradient_follows_another_convention_than_its_loss_fails_on_the_gradient(kinds):
    source = CORRECT.replace("+ reg * W", "+ 2 * reg * W")
    check = _checks(_grade(kinds, source))["scale_loss"]
    assert check.status is Status.FAIL
    assert {p.name: p.status for p in check.parameters} == {"loss": Status.PASS, "dW": Status.FAIL}
    assert check.points == 5.0


def test_a_wrong_forward_is_named_on_the_backward_it_feeds(kinds):
    source = CORRECT.replace("return x.reshape(len(x), -1).dot(w) + b, cache", "return x.reshape(len(x), -1).dot(w), cache") \
        .replace('cache = {"x": x, "w": w}', 'cache = {"x": 2 * x, "w": w}')
    checks = _checks(_grade(kinds, source))
    assert checks["affine_forward"].status is Status.FAIL
    assert "affine_forward's output is wrong on this case" in checks["affine_backward"].cases[0].message


def test_a_dropout_backward_is_judged_against_its_own_mask(kinds):
    wrong = CORRECT.replace("return dout * cache\n\nclass", "return dout * (cache > 0)\n\nclass")
    check = _checks(_grade(kinds, wrong))["dropout_backward"]
    assert check.status is Status.FAIL and check.parameter("dx").status is Status.FAIL


@pytest.mark.parametrize("stub, reason", [
    pytest.param("def scale_loss(W, X, reg):\n    loss = 0.0\n    dW = np.zeros_like(W)\n    return loss, dW\n",
                 "it returns None or zeros on every case", id="zeros"),
    pytest.param("def scale_loss(W, X, reg):\n    pass\n", "it returns None or zeros on every case", id="pass"),
    pytest.param("def scale_loss(W, X, reg):\n    raise NotImplementedError\n", "it raises NotImplementedError",
                 id="NotImplementedError"),
])
def test_a_starter_stub_is_not_implemented_not_wrong(kinds, stub, reason):
    source = "import numpy as np\n" + stub
    checks = _checks(_grade(kinds, source))
    assert checks["scale_loss"].status is Status.MISSING
    assert checks["scale_loss"].message == f"not implemented: {reason}"
    assert checks["scale_loss"].points == 0
    assert checks["Net.loss"].status is Status.MISSING and "Net is not defined" in checks["Net.loss"].message


def test_a_model_that_cannot_be_built_is_an_error_with_the_reason(kinds):
    source = CORRECT.replace("def __init__(self, size, std=1e-4):", "def __init__(self, input_size, hidden_size):")
    check = _checks(_grade(kinds, source))["Net.loss"]
    assert check.status is Status.ERROR and "TypeError" in check.message


def test_a_loss_returning_one_value_says_what_it_should_return(kinds):
    source = "def scale_loss(W, X, reg):\n    return 1.0\n"
    check = _checks(_grade(kinds, source))["scale_loss"]
    assert check.status is Status.FAIL and "returned a float, expected a pair (loss, dW)" in check.message
