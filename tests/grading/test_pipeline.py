"""One submission end to end: the sample class grades as its authors intended."""
from pathlib import Path

import pytest

from grader import assignments
from grader.grading import pipeline
from grader.results import Status
from grader.settings import Settings

ALL = ("dW1", "db1", "dW2", "db2", "dW3", "db3")

SAMPLE_CLASS = [
    pytest.param("correct_course_style.py", (), id="correct-course-style"),
    pytest.param("correct_matmul.py", (), id="correct-matmul"),
    pytest.param("correct_helpers.py", (), id="correct-helpers"),
    pytest.param("planted_bugs.py", ("dW2", "db1"), id="planted-bugs"),
    pytest.param("wrong_mask.py", ("dW1", "db1"), id="wrong-mask"),
    pytest.param("sign_flip.py", ALL, id="sign-flip"),
    pytest.param("missing_m.py", ("dW3", "db3"), id="missing-m"),
    pytest.param("missing_transpose.py", ("dW1",), id="missing-transpose"),
    pytest.param("keepdims_dropped.py", ("db1", "db2", "db3"), id="keepdims-dropped"),
]


def grade(submissions_dir, name, **settings):
    settings_ = Settings(**settings)
    return pipeline.grade_file(submissions_dir / name, settings_, assignment=assignments.get(settings_.assignment))


@pytest.mark.parametrize("name, failing", SAMPLE_CLASS)
def test_failing_parameters_are_exactly_the_ones_the_bug_touches(submissions_dir, name, failing):
    result = grade(submissions_dir, name)
    backward = result.check("backward_propagation_n")
    assert {p.name for p in backward.parameters if p.status is Status.FAIL} == set(failing)
    assert backward.status is (Status.FAIL if failing else Status.PASS)
    if not failing:
        assert backward.difference <= 1e-8
        assert all(p.difference <= 1e-8 for p in backward.parameters)
        assert len(backward.cases) == 5 and all(c.status is Status.PASS for c in backward.cases)


@pytest.mark.parametrize("name, failing", SAMPLE_CLASS)
def test_the_fast_check_fails_the_same_parameters(submissions_dir, name, failing):
    backward = grade(submissions_dir, name, fast=True).check("backward_propagation_n")
    assert {p.name for p in backward.parameters if p.status is Status.FAIL} == set(failing)
    assert "fast" in backward.details


def test_a_correct_submission_passes_overall(submissions_dir):
    result = grade(submissions_dir, "correct_course_style.py")
    assert result.status is Status.PASS
    assert result.score == result.max_score > 0


def test_partial_credit_is_one_share_per_parameter(submissions_dir):
    backward = grade(submissions_dir, "planted_bugs.py").check("backward_propagation_n")
    assert backward.points == pytest.approx(backward.max_points * 4 / 6)


def test_a_stricter_threshold_fails_a_correct_pass_and_a_looser_one_does_not_rescue_a_bug(submissions_dir):
    strict = grade(submissions_dir, "correct_matmul.py", threshold=1e-13).check("backward_propagation_n")
    assert strict.status is Status.FAIL
    loose = grade(submissions_dir, "planted_bugs.py", threshold=1e-3).check("backward_propagation_n")
    assert loose.status is Status.FAIL


def test_missing_function_is_reported_by_name(tmp_path):
    path = tmp_path / "nothing.py"
    path.write_text("import numpy as np\n\ndef backward_propagation(X, Y, cache):\n    return {}\n")
    result = pipeline.grade_file(path, Settings(), assignment=assignments.get("three_layer"))
    backward = result.check("backward_propagation_n")
    assert backward.status is Status.MISSING
    assert "backward_propagation_n is not defined" in backward.message
    assert result.status is Status.FAIL


def test_a_function_that_raises_names_the_error_and_the_line(tmp_path):
    path = tmp_path / "raises.py"
    path.write_text("def backward_propagation_n(X, Y, cache):\n    m = X.shape[1]\n    return dZ3\n")
    backward = pipeline.grade_file(path, Settings(), assignment=assignments.get("three_layer")).check("backward_propagation_n")
    assert backward.status is Status.ERROR
    assert "NameError" in backward.message and "line 3" in backward.message


@pytest.mark.parametrize("body, fragment", [
    pytest.param("return None", "returned None, expected a dict", id="none"),
    pytest.param("return [1, 2]", "returned list", id="list"),
    pytest.param("return {'dW1': 1}", "db1 is missing", id="missing-keys"),
    pytest.param("return object()", "returned a object", id="object"),
])
def test_wrong_return_values_get_a_message(tmp_path, body, fragment):
    path = tmp_path / "wrong_return.py"
    path.write_text(f"def backward_propagation_n(X, Y, cache):\n    {body}\n")
    backward = pipeline.grade_file(path, Settings(), assignment=assignments.get("three_layer")).check("backward_propagation_n")
    assert backward.status is Status.FAIL
    assert fragment in backward.message or any(fragment in p.message for p in backward.parameters)


def test_changing_an_input_in_place_is_reported(tmp_path, submissions_dir):
    source = (submissions_dir / "correct_course_style.py").read_text()
    source = source.replace("    dZ3 = A3 - Y\n", "    dZ3 = A3 - Y\n    X *= 1.0\n    cache[0][0, 0] = 99.0\n", 1)
    path = tmp_path / "mutating.py"
    path.write_text(source)
    backward = pipeline.grade_file(path, Settings(), assignment=assignments.get("three_layer")).check("backward_propagation_n")
    assert "changed its input cache in place" in " ".join(c.message for c in backward.cases)


def test_top_level_test_calls_do_not_run(tmp_path, submissions_dir):
    source = (submissions_dir / "correct_matmul.py").read_text() + "\nraise SystemExit('top-level code ran')\n"
    path = tmp_path / "with_calls.py"
    path.write_text(source)
    result = pipeline.grade_file(path, Settings(), assignment=assignments.get("three_layer"))
    assert result.check("backward_propagation_n").status is Status.PASS
    assert any("not run" in warning for warning in result.warnings)


@pytest.mark.parametrize("content, fragment", [
    pytest.param(b"", "is empty", id="empty"),
    pytest.param(b"\x00\x01\x02binary", "binary", id="binary"),
    pytest.param(b"x = '\xff\xfe'\n", "not UTF-8", id="latin-1"),
    pytest.param(b"def backward_propagation_n(:\n", "does not parse at line 1", id="syntax-error"),
])
def test_unreadable_submissions_are_errors_with_one_line(tmp_path, content, fragment):
    path = tmp_path / "broken.py"
    path.write_bytes(content)
    result = pipeline.grade_file(path, Settings(), assignment=assignments.get("three_layer"))
    assert result.status is Status.ERROR
    assert fragment in result.message and "\n" not in result.message


def test_a_global_set_by_unrun_code_is_explained_in_the_check(submissions_dir, tmp_path):
    source = (submissions_dir / "correct_course_style.py").read_text()
    source = source.replace("def backward_propagation_n(", "scale = float(np.ones(1)[0])\n\n\ndef backward_propagation_n(", 1)
    path = tmp_path / "global_scale.py"
    path.write_text(source.replace("dW3 = 1. / m", "dW3 = scale / m", 1))
    backward = pipeline.grade_file(path, Settings(), assignment=assignments.get("three_layer")).check("backward_propagation_n")
    assert backward.status is Status.ERROR
    assert "NameError: name 'scale' is not defined" in backward.message
    assert "scale is set only by top-level code at line" in backward.message and "--run-all" in backward.message
    ran_all = pipeline.grade_file(path, Settings(run_all=True), assignment=assignments.get("three_layer")).check("backward_propagation_n")
    assert ran_all.status is Status.PASS


@pytest.mark.parametrize("field", ["timeout", "total_timeout"])
def test_settings_refuse_a_time_that_is_not_positive(field):
    with pytest.raises(ValueError, match=f"{field} must be positive"):
        Settings(**{field: 0})


def test_output_cut_on_its_way_back_is_a_warning_and_a_capped_record(tmp_path):
    path = tmp_path / "chatty.py"
    path.write_text("import numpy as np\n"
                    "def backward_propagation_n(X, Y, cache):\n"
                    "    print('spam ' * 40_000)\n"
                    "    raise ValueError('w' * 1000)\n")
    result = pipeline.grade_file(path, Settings(), assignment=assignments.get("three_layer"))
    stdout = next(capped for capped in result.capped if capped.what == "the submission's captured stdout")
    assert stdout.kept == 64 * 1024 and stdout.size >= 5 * 200_000 and stdout.unit == "bytes"
    assert stdout.sentence() in result.warnings
    assert any(c.what == "the error message of backward_propagation_n" and (c.kept, c.size) == (300, 1000)
               for c in result.capped)
    assert result.to_json()["capped"] == [capped.to_json() for capped in result.capped]
    assert "of its" in result.output.splitlines()[-1] or "bytes are shown]" in result.output


# --- why a graded function is not there ------------------------------------------------------------------

def grade_text(tmp_path, text, name="student.py", **settings):
    path = tmp_path / name
    path.write_text(text)
    settings_ = Settings(**settings)
    return pipeline.grade_file(path, settings_, assignment=assignments.get(settings_.assignment))


CORRECT = (Path(__file__).resolve().parents[2] / "submissions" / "correct_course_style.py").read_text()


def test_a_def_that_raises_says_so_on_its_row(tmp_path):
    text = CORRECT.replace("epsilon=1e-7", "epsilon=EPS").replace(
        "import numpy as np\n", "import numpy as np\nEPS = np.random.default_rng(0).random() * 1e-7\n", 1)
    line = text.splitlines().index(next(l for l in text.splitlines() if l.startswith("def gradient_check_n"))) + 1
    checker = grade_text(tmp_path, text).check("gradient_check_n")
    assert checker.status is Status.ERROR
    assert checker.message.startswith(f"defining gradient_check_n raised NameError: name 'EPS' is not defined (line {line}); "
                                      "EPS is set only by top-level code at line 3")


def test_a_computed_constant_a_default_names_is_kept(tmp_path):
    text = CORRECT.replace("epsilon=1e-7", "epsilon=EPS").replace("import numpy as np\n",
                                                                  "import numpy as np\nEPS = 10**-7\n", 1)
    result = grade_text(tmp_path, text)
    assert result.check("gradient_check_n").status is Status.PASS and result.score == 10


def test_a_function_in_a_part_that_does_not_parse_is_an_error_naming_the_line(tmp_path):
    text = CORRECT.replace("        thetaplus = np.copy(parameters_values)", "\tthetaplus = np.copy(parameters_values)")
    result = grade_text(tmp_path, text)
    assert result.check("backward_propagation_n").status is Status.PASS
    checker = result.check("gradient_check_n")
    assert checker.status is Status.ERROR and checker.points == 0 and result.score == 6
    assert checker.message == ("gradient_check_n was not graded: the statement at line 47, where it is defined, does not "
                               "parse (TabError at line 55: inconsistent use of tabs and spaces in indentation)")


def test_a_notebook_cell_that_does_not_parse_is_named_on_the_functions_row(tmp_path):
    from shapes import notebook

    path = tmp_path / "nb.ipynb"
    path.write_bytes(notebook("import numpy as np", "def backward_propagation_n(X, Y, cache):\n    dZ3 = # YOUR CODE\n"))
    backward = pipeline.grade_file(path, Settings(), assignment=assignments.get("three_layer")).check("backward_propagation_n")
    assert backward.status is Status.ERROR
    assert backward.message.startswith("backward_propagation_n was not graded: code cell 2, where it is defined, "
                                       "does not parse (SyntaxError at line 2")


def test_a_missing_function_is_missing_and_a_failed_import_a_separate_warning(tmp_path):
    result = grade_text(tmp_path, "import numpy as np\nimport sklearn_is_not_here\n\ndef helper():\n    return 1\n")
    backward = result.check("backward_propagation_n")
    assert backward.status is Status.MISSING and backward.message == "backward_propagation_n is not defined in the submission"
    assert any("No module named 'sklearn_is_not_here'" in warning for warning in result.warnings)


def test_a_function_after_exit_is_an_error_saying_loading_stopped(tmp_path):
    backward = grade_text(tmp_path, "import sys\nsys.exit(0)\n\ndef backward_propagation_n(X, Y, cache):\n    return {}\n",
                          run_all=True).check("backward_propagation_n")
    assert backward.status is Status.ERROR
    assert backward.message.startswith("backward_propagation_n was not defined: loading the submission stopped "
                                       "before its definition at line 4 (the submission called exit(0)")


@pytest.mark.parametrize("written, suggested", [
    pytest.param("back_propagation_n", "back_propagation_n", id="misspelt"),
    pytest.param("Backward_Propagation_N", "Backward_Propagation_N", id="case"),
    pytest.param("backward_propagation", "backward_propagation", id="without-n"),
    pytest.param("compute_gradients", None, id="unrelated"),
])
def test_a_near_miss_name_gets_did_you_mean(tmp_path, written, suggested):
    text = CORRECT.replace("def backward_propagation_n(", f"def {written}(")
    backward = grade_text(tmp_path, text).check("backward_propagation_n")
    assert backward.status is Status.MISSING and backward.points == 0
    assert (f"did you mean {suggested}?" in backward.message) if suggested else ("did you mean" not in backward.message)


def test_near_miss_known_names_of_another_notebook():
    from grader.grading import absent

    candidates = ["linear_backward", "relu_backward", "backward_propagation", "initialize_parameters"]
    assert absent.near_miss("L_layer_backward", candidates, kind="backward") == "backward_propagation"
    assert absent.near_miss("L_layer_backward", candidates + ["L_model_backward"], kind="backward") is None  # two
    assert absent.near_miss("gradient_check_n", ["gradient_check_n"], kind="checker") is None


@pytest.mark.parametrize("penalty, points", [(0.0, 6.0), (0.5, 3.0), (1.0, 0.0)])
def test_the_rubric_can_grade_a_near_miss_under_the_expected_name(tmp_path, penalty, points):
    text = CORRECT.replace("def backward_propagation_n(", "def back_propagation_n(")
    rubric = {"names": {"accept_near_miss": True, "near_miss_penalty": penalty}}
    result = grade_text(tmp_path, text, rubric=rubric)
    backward = result.check("backward_propagation_n")
    assert backward.status is Status.PASS and backward.points == points and result.score == points + 4
    assert backward.message.startswith("graded as backward_propagation_n, though it is named back_propagation_n")
    assert (f"{penalty:.0%} of its points taken off" in backward.message) == bool(penalty)
    assert backward.details["graded_as"] == "back_propagation_n"


def test_the_one_dimensional_exercise_beside_the_three_layer_one_is_not_a_near_miss(tmp_path):
    one_d = ("def forward_propagation(x, theta):\n    return theta * x\n\n"
             "def backward_propagation(x, theta):\n    return x\n\n"
             "def gradient_check(x, theta, epsilon=1e-7):\n    return 0.0\n\n")
    text = one_d + CORRECT.replace("def backward_propagation_n(", "def my_backward(")
    backward = grade_text(tmp_path, text).check("backward_propagation_n")
    assert backward.status is Status.MISSING and "did you mean" not in backward.message
    alone = grade_text(tmp_path, CORRECT.replace("def backward_propagation_n(", "def backward_propagation("))
    assert "did you mean backward_propagation?" in alone.check("backward_propagation_n").message


def test_a_function_set_by_top_level_code_gradgrade_does_not_run_says_so(tmp_path):
    text = CORRECT.replace("def backward_propagation_n(", "def _backward(") + (
        "\n\ndef pick(function):\n    return function\n\n\nbackward_propagation_n = pick(_backward)\n")
    line = text.splitlines().index("backward_propagation_n = pick(_backward)") + 1
    backward = grade_text(tmp_path, text).check("backward_propagation_n")
    assert backward.status is Status.ERROR
    assert backward.message.startswith(f"backward_propagation_n is set only by top-level code at line {line}, which "
                                       "gradgrade does not run")
    assert grade_text(tmp_path, text, run_all=True).check("backward_propagation_n").status is Status.PASS


def test_a_summary_of_many_checks_names_those_that_did_not_pass_grouped_by_message():
    from grader.results import CheckResult

    def check(name: str, status: Status, message: str) -> CheckResult:
        return CheckResult(name, status, None, 1e-7, message)

    few = (check("a", Status.PASS, "ok"), check("b", Status.FAIL, "wrong"))
    assert pipeline.checks_message(few) == "a: ok; b: wrong"
    many = tuple(check(f"f{index}", Status.PASS, "correct") for index in range(6))
    assert pipeline.checks_message(many) == "all 6 functions correct"
    stubs = many[:3] + (check("g", Status.MISSING, "not implemented"), check("h", Status.MISSING, "not implemented"),
                        check("k", Status.FAIL, "wrong on 1 of 4 cases"))
    assert pipeline.checks_message(stubs) == "g, h: not implemented; k: wrong on 1 of 4 cases; 3 other functions correct"


def test_a_submission_imports_the_helper_modules_its_spec_declares(tmp_path):
    (tmp_path / "scaling.py").write_text("def doubled(x):\n    return 2 * x\n")
    (tmp_path / "spec_with_helper.py").write_text(
        "import numpy as np\nfrom grader.spec import Case, Loss, Spec\n\n"
        "def square_loss(x):\n    return float(np.sum(x ** 2)), 2 * x\n\n"
        "SPEC = Spec(name='helped', title='A loss written with a helper', functions=[Loss('square_loss', wrt='x')],\n"
        "            public_cases=lambda rng: [Case('one', {'x': rng.standard_normal(4)})],\n"
        "            helpers={'scaling': 'scaling.py'})\n")
    student = tmp_path / "student.py"
    student.write_text("import numpy as np\nfrom scaling import doubled\n\n"
                       "def square_loss(x):\n    return np.sum(x * x), doubled(x)\n")
    assignment = assignments.get(str(tmp_path / "spec_with_helper.py"))
    result = pipeline.grade_file(student, Settings(), assignment=assignment)
    assert result.status is Status.PASS, result.message
