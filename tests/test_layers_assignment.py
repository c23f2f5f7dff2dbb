"""The layers assignment (grader.reference.layers): a spec only, its cases, its references, and its sample class."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from grader import assignments
from grader import spec as api
from grader.grading import pipeline
from grader.reference import layers
from grader.results import Status
from grader.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "submissions" / "layers"
SETTINGS = Settings(assignment="layers")
FUNCTIONS = ("affine_forward", "affine_backward", "relu_forward", "relu_backward", "softmax_loss", "svm_loss",
             "batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt", "layernorm_forward",
             "layernorm_backward", "dropout_forward", "dropout_backward", "conv_forward_naive", "conv_backward_naive",
             "max_pool_forward_naive", "max_pool_backward_naive", "spatial_batchnorm_forward",
             "spatial_batchnorm_backward", "spatial_groupnorm_forward", "spatial_groupnorm_backward")


def _loops():
    """The sample class's naive-loop solution, imported here: an independent check of the vectorised references."""
    found = importlib.util.spec_from_file_location("layers_loops_sample", SAMPLES / "correct_loops.py")
    module = importlib.util.module_from_spec(found)
    found.loader.exec_module(module)
    return module


LOOPS = _loops()


def graded(name: str):
    return pipeline.grade_file(SAMPLES / name, SETTINGS, assignment=assignments.get("layers"))


def statuses(result) -> dict[str, Status]:
    return {check.name: check.status for check in result.checks}


def test_layers_is_a_built_in_spec_declaring_every_function_with_its_kind():
    assignment = assignments.get("layers")
    assert "layers" in assignments.available() and assignment.spec is layers.SPEC
    kinds = {declared.function: declared for declared in assignment.functions}
    assert tuple(kinds) == FUNCTIONS
    assert all(isinstance(kinds[name], api.Value) and kinds[name].output == 0
               for name in FUNCTIONS if "forward" in name)
    assert isinstance(kinds["softmax_loss"], api.Loss) and kinds["svm_loss"].wrt == "x"
    assert kinds["conv_backward_naive"].forward == "conv_forward_naive"
    assert kinds["conv_backward_naive"].wrt == ("x", "w", "b")
    assert kinds["dropout_backward"].own_forward and kinds["dropout_forward"].conventions


def test_every_case_screens_healthy_and_the_hidden_ones_try_what_the_notebook_does_not():
    assignment = assignments.get("layers")
    course = assignment.spec_cases("course")
    assert len(assignment.spec_cases("square")) == 7
    inputs = {case.name: case.inputs for case in course}
    conv = [inputs[case.name]["conv_param"] for case in assignment.graded_on(_declared("conv_backward_naive"))]
    assert {param["pad"] for param in conv} == {0, 1, 2} and {param["stride"] for param in conv} == {1, 2}
    shapes = [inputs[case.name]["x"].shape for case in assignment.graded_on(_declared("conv_backward_naive"))]
    assert any(shape[2] != shape[3] for shape in shapes)
    assert any(inputs[case.name]["w"].shape[2] != inputs[case.name]["w"].shape[3]
               for case in assignment.graded_on(_declared("conv_backward_naive")))
    pools = [inputs[case.name]["pool_param"] for case in assignment.graded_on(_declared("max_pool_backward_naive"))]
    assert any(param["stride"] < param["pool_height"] for param in pools)
    assert any(param["pool_height"] != param["pool_width"] for param in pools)
    groups = {(inputs[case.name]["G"], inputs[case.name]["x"].shape[1])
              for case in assignment.graded_on(_declared("spatial_groupnorm_backward"))}
    assert any(G == 1 for G, _ in groups) and any(G == C for G, C in groups)
    for name in ("affine_backward", "relu_backward", "softmax_loss", "svm_loss", "layernorm_backward",
                 "dropout_backward", "conv_backward_naive", "spatial_batchnorm_backward", "spatial_groupnorm_backward"):
        assert any(inputs[case.name]["x"].shape[0] == 1 for case in assignment.graded_on(_declared(name))), name
    tiny = inputs["batchnorm-tiny-variance"]["x"].var(axis=0)
    assert tiny.min() < 1e-3 < tiny.max()
    # A test-mode case grades the forward only: the backward is written for training mode.
    assert "batchnorm-test-mode" not in [case.name for case in assignment.graded_on(_declared("batchnorm_backward"))]


def _declared(name: str) -> api.Function:
    return next(declared for declared in layers.SPEC.functions if declared.function == name)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(0, 2 ** 32 - 1))
def test_the_vectorised_convolution_and_pooling_agree_with_naive_loops(pad, stride, height, width, seed):
    rng = np.random.default_rng(seed)
    H, W = height + stride * int(rng.integers(0, 3)), width + stride * int(rng.integers(0, 3))
    x, w, b = rng.standard_normal((2, 2, H, W)), rng.standard_normal((3, 2, height, width)), rng.standard_normal(3)
    conv_param = {"stride": stride, "pad": pad}
    out, cache = layers.conv_forward_naive(x, w, b, conv_param)
    expected, loops_cache = LOOPS.conv_forward_naive(x, w, b, conv_param)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    for mine, theirs in zip(layers.conv_backward_naive(dout, cache), LOOPS.conv_backward_naive(dout, loops_cache)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)
    pool_param = {"pool_height": height, "pool_width": width, "stride": stride}
    out, cache = layers.max_pool_forward_naive(x, pool_param)
    expected, loops_cache = LOOPS.max_pool_forward_naive(x, pool_param)
    np.testing.assert_array_equal(out, expected)
    dout = rng.standard_normal(out.shape)
    np.testing.assert_allclose(layers.max_pool_backward_naive(dout, cache),
                               LOOPS.max_pool_backward_naive(dout, loops_cache), rtol=1e-12, atol=1e-12)


def test_the_reference_forwards_agree_with_the_loops_and_batchnorm_updates_its_running_means():
    rng = np.random.default_rng(5)
    x, gamma, beta = rng.standard_normal((6, 4)), rng.standard_normal(4), rng.standard_normal(4)
    mine, theirs = {"mode": "train", "momentum": 0.8}, {"mode": "train", "momentum": 0.8}
    np.testing.assert_allclose(layers.batchnorm_forward(x, gamma, beta, mine)[0],
                               LOOPS.batchnorm_forward(x, gamma, beta, theirs)[0], rtol=1e-12)
    np.testing.assert_allclose(mine["running_mean"], 0.2 * x.mean(axis=0))
    np.testing.assert_allclose(mine["running_var"], theirs["running_var"])
    x4 = rng.standard_normal((2, 6, 3, 2))
    g4, b4 = rng.standard_normal((1, 6, 1, 1)), rng.standard_normal((1, 6, 1, 1))
    for G in (1, 2, 3, 6):
        np.testing.assert_allclose(layers.spatial_groupnorm_forward(x4, g4, b4, G, {})[0],
                                   LOOPS.spatial_groupnorm_forward(x4, g4, b4, G, {})[0], rtol=1e-12)
    dropout_param = {"p": 0.7, "mode": "train", "seed": 11}
    np.testing.assert_array_equal(layers.dropout_forward(x, dropout_param)[0],
                                  LOOPS.dropout_forward(x, dict(dropout_param))[0])
    kept = layers.dropout_forward_drop(x, {"p": 0.25, "mode": "train", "seed": 3})[0] != 0
    assert 0.5 < kept.mean() < 1.0


@pytest.mark.parametrize("name", ["correct_loops.py", "correct_vectorized.py"])
def test_a_correct_layers_py_passes_every_function(name):
    result = graded(name)
    assert statuses(result) == dict.fromkeys(FUNCTIONS, Status.PASS), result.message
    assert result.score == result.max_score == 10.0 * len(FUNCTIONS)


def test_shapes_that_differ_by_axes_of_size_one_are_accepted_with_a_note():
    result = graded("correct_vectorized.py")
    layernorm = next(check for check in result.checks if check.name == "layernorm_backward")
    assert any("(1, 5) for (5,)" in case.message for case in layernorm.cases)
    groupnorm = next(check for check in result.checks if check.name == "spatial_groupnorm_backward")
    assert any("for (1, 4, 1, 1)" in case.message for case in groupnorm.cases)


def test_the_starter_file_is_not_implemented_everywhere_never_wrong():
    result = graded("starter.py")
    assert statuses(result) == dict.fromkeys(FUNCTIONS, Status.MISSING)
    messages = {check.name: check.message for check in result.checks}
    assert all(message.startswith("not implemented") for name, message in messages.items() if name != "dropout_backward")
    assert messages["dropout_forward"].startswith("not implemented: it leaves its result None")
    assert messages["affine_backward"] == "not implemented: it returns None or zeros on every case"
    assert messages["dropout_backward"] == "not judged: dropout_forward, whose cache it takes, is not implemented"
    assert result.score == 0


def test_a_python_2_file_is_graded_function_by_function_and_says_python_2():
    result = graded("python2_era.py")
    found = statuses(result)
    broken = {"conv_forward_naive", "conv_backward_naive", "svm_loss"}
    assert {name for name, status in found.items() if status is not Status.PASS} == broken
    for check in result.checks:
        if check.name in broken:
            assert "Python 2 syntax" in check.message and "print" in check.message
    assert any("Python 2 syntax" in warning for warning in result.warnings)


def test_a_term_that_uses_a_subset_has_the_rest_missing_and_a_half_done_starter_is_not_implemented(tmp_path):
    correct = (SAMPLES / "correct_loops.py").read_text()
    starter = (SAMPLES / "starter.py").read_text()
    dropout = correct[correct.index("def dropout_forward"):correct.index("def dropout_backward")]
    half_done = starter[starter.index("def dropout_backward"):starter.index("def conv_forward_naive")]
    path = tmp_path / "layers.py"
    path.write_text("import numpy as np\n\n\n" + dropout + half_done)
    result = pipeline.grade_file(path, SETTINGS, assignment=assignments.get("layers"))
    found = statuses(result)
    assert found["dropout_forward"] is Status.PASS
    backward = next(check for check in result.checks if check.name == "dropout_backward")
    # Its test-mode line (dx = dout) is the starter's: the rest of it is what a stub gives.
    assert backward.status is Status.MISSING
    assert backward.message == "not implemented: it returns None or zeros on every case it does not pass"
    assert all(found[name] is Status.MISSING for name in FUNCTIONS if not name.startswith("dropout"))
    affine = next(check for check in result.checks if check.name == "affine_forward")
    assert affine.message == "affine_forward is not defined in the submission"


# Each sample bug: the functions it breaks, the gradients that fail in each, and the cases they fail on
# (None: every case of the function). Every other function passes.
BUGS = [
    pytest.param("unpad_slice.py", {"conv_backward_naive": ({"dx"}, {"conv-pad0-N1"})}, id="unpad-slice"),
    pytest.param("stride_ignored.py", {"conv_backward_naive": ({"dx"}, {"conv-pad2-stride2", "conv-stride2-non-square"})},
                 id="stride-ignored"),
    pytest.param("conv_assign.py", {"conv_backward_naive": ({"dx"}, None)}, id="conv-assign"),
    pytest.param("pool_assign.py", {"max_pool_backward_naive": (
        {"dx"}, {"pool-overlapping", "pool-overlapping-stride2", "pool-non-square"})}, id="pool-assign"),
    pytest.param("pool_every_position.py", {"max_pool_backward_naive": ({"dx"}, None)}, id="pool-every-position"),
    pytest.param("batchnorm_no_mean_path.py", {"batchnorm_backward": ({"dx"}, None)}, id="batchnorm-no-mean-path"),
    pytest.param("batchnorm_no_variance_path.py", {"batchnorm_backward": ({"dx"}, None)},
                 id="batchnorm-no-variance-path"),
    pytest.param("variance_n_minus_1.py", {
        "batchnorm_forward": ({"value"}, {"batchnorm", "batchnorm-tiny-variance", "batchnorm-eps"}),
        "batchnorm_backward": ({"dx", "dgamma"}, None), "batchnorm_backward_alt": ({"dx", "dgamma"}, None),
        "spatial_batchnorm_forward": ({"value"}, None), "spatial_batchnorm_backward": ({"dx", "dgamma"}, None)},
        id="variance-n-minus-1"),
    pytest.param("groupnorm_wrong_axes.py", {"spatial_groupnorm_backward": (
        {"dgamma", "dbeta"}, {"groupnorm", "groupnorm-G1"})}, id="groupnorm-wrong-axes"),
    pytest.param("softmax_no_minus_one.py", {"softmax_loss": ({"dx"}, None)}, id="softmax-no-minus-one"),
    pytest.param("svm_counts_correct_class.py", {"svm_loss": ({"loss"}, None)}, id="svm-counts-correct-class"),
    pytest.param("svm_no_max.py", {"svm_loss": ({"loss"}, None)}, id="svm-no-max"),
]


@pytest.mark.parametrize("name, broken", BUGS)
def test_each_sample_bug_fails_where_it_should_and_nowhere_else(name, broken):
    result = graded(name)
    for check in result.checks:
        if check.name not in broken:
            assert check.status is Status.PASS, (check.name, check.message)
            continue
        gradients, cases = broken[check.name]
        assert check.status is Status.FAIL, (check.name, check.message)
        assert {verdict.name for verdict in check.parameters if verdict.status is not Status.PASS} \
            == gradients, check.name
        failing = {case.case for case in check.cases if case.status is not Status.PASS}
        assert failing == (cases if cases is not None else {case.case for case in check.cases}), check.name
        assert all("in place" not in case.message for case in check.cases)


def test_only_the_hidden_cases_catch_the_bugs_the_notebook_misses():
    """The notebook's own check (its public case) passes these: the hidden cases are what catch them."""
    for name in ("unpad_slice.py", "stride_ignored.py", "pool_assign.py"):
        result = graded(name)
        public = {case.name for case in assignments.get("layers").spec_cases() if case.public}
        for check in result.checks:
            assert all(case.status is Status.PASS for case in check.cases if case.case in public), (name, check.name)


def test_a_notebook_that_defines_the_layers_in_cells_passes_with_its_setup_imports():
    result = graded("notebook_layers.ipynb")
    assert statuses(result) == dict.fromkeys(FUNCTIONS, Status.PASS), result.message
    assert not any("ModuleNotFoundError" in warning or "ImportError" in warning for warning in result.warnings)


def test_the_sample_class_grades_into_a_class_page_with_a_row_per_function(tmp_path):
    import csv

    from grader.batch import batch

    summary = batch.grade(SAMPLES, tmp_path, SETTINGS, assignment=assignments.get("layers"), jobs=2)
    assert len(summary.results) == len(list(SAMPLES.glob("*.py")) + list(SAMPLES.glob("*.ipynb")))
    page = (tmp_path / "index.html").read_text()
    table = page[page.index('id="parameters"'):page.index('id="misconceptions"')]
    assert all(f"<code>{name}</code>" in table for name in FUNCTIONS)
    assert 'id="misconceptions"' in page
    with open(tmp_path / "grades.csv", newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert all(name in rows["starter"] for name in FUNCTIONS)
    assert rows["correct_loops"]["score"] == "210" and rows["unpad_slice"]["conv_backward_naive"] != "10"


# Each sample bug's misconception by the operator that plants it: grading names it from the catalogue.
DIAGNOSED = [
    ("unpad_slice.py", "conv_backward_naive", "window-unpad-negative"),
    ("stride_ignored.py", "conv_backward_naive", "window-ignore-stride"),
    ("conv_assign.py", "conv_backward_naive", "window-assign-not-accumulate"),
    ("pool_assign.py", "max_pool_backward_naive", "window-assign-not-accumulate"),
    ("pool_every_position.py", "max_pool_backward_naive", "pool-route-every-position"),
    ("batchnorm_no_mean_path.py", "batchnorm_backward", "norm-drop-mean-path"),
    ("batchnorm_no_variance_path.py", "batchnorm_backward", "norm-drop-variance-path"),
    ("variance_n_minus_1.py", "batchnorm_forward", "norm-variance-unbiased"),
    ("groupnorm_wrong_axes.py", "spatial_groupnorm_backward", "norm-parameter-axes"),
    ("softmax_no_minus_one.py", "softmax_loss", "softmax-drop-correct-class"),
    ("svm_counts_correct_class.py", "svm_loss", "svm-margin-correct-class"),
    ("svm_no_max.py", "svm_loss", "svm-drop-hinge"),
]


@pytest.mark.parametrize("name, function, operator", DIAGNOSED, ids=[name for name, _, _ in DIAGNOSED])
def test_each_sample_bug_is_diagnosed_by_name(name, function, operator):
    check = next(check for check in graded(name).checks if check.name == function)
    assert any(operator in f"{diagnosis.operator} {diagnosis.mutant}" for diagnosis in check.diagnosis)


@pytest.mark.parametrize("mask, convention", [
    pytest.param("(np.random.rand(*x.shape) >= p) / (1 - p)", "dropout_forward_drop", id="p-drops-rand-above"),
    pytest.param("(np.random.rand(*x.shape) < 1 - p) / (1 - p)", "dropout_forward_drop_below", id="p-drops-rand-below"),
    pytest.param("np.random.binomial(1, p, size=x.shape) / p", "dropout_forward_binomial", id="p-keeps-binomial"),
    pytest.param("np.random.binomial(1, 1 - p, size=x.shape) / (1 - p)", "dropout_forward_drop_binomial",
                 id="p-drops-binomial"),
])
def test_dropout_written_with_another_probability_or_draw_passes_and_names_the_convention(tmp_path, mask, convention):
    source = (SAMPLES / "correct_loops.py").read_text()
    path = tmp_path / "layers.py"
    path.write_text(source.replace("(np.random.rand(*x.shape) < p) / p", mask))
    result = pipeline.grade_file(path, SETTINGS, assignment=assignments.get("layers"))
    forward = next(check for check in result.checks if check.name == "dropout_forward")
    assert forward.status is Status.PASS and forward.details["convention"] == convention
    assert statuses(result)["dropout_backward"] is Status.PASS
