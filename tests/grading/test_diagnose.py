"""Diagnosis end to end: the course's planted bugs named exactly, every buggy sample diagnosed, a wrong m said once."""
from __future__ import annotations

from pathlib import Path

import pytest

from grader import assignments
from grader.grading import pipeline
from grader.results import Status
from grader.settings import Settings

SUBMISSIONS = Path(__file__).resolve().parents[2] / "submissions"


@pytest.fixture(scope="module")
def graded():
    cache = {}

    def grade(name: str):
        if name not in cache:
            cache[name] = pipeline.grade_file(SUBMISSIONS / f"{name}.py", Settings(), assignment=assignments.get("three_layer")).check("backward_propagation_n")
        return cache[name]
    return grade


def test_the_course_planted_bugs_come_out_exactly(graded):
    check = graded("planted_bugs")
    hints = {diagnosis.hint for diagnosis in check.diagnosis}
    assert hints == {"dW2 is twice the true gradient", "db1 is 4 times the true gradient: look at the 1/m factor"}
    lines = {diagnosis.parameters: diagnosis.line for diagnosis in check.diagnosis}
    assert lines == {("dW2",): 15, ("db1",): 21}
    assert all(diagnosis.mutant and diagnosis.operator for diagnosis in check.diagnosis)


FOLDERS = {"three_layer": SUBMISSIONS, "l_layer": SUBMISSIONS / "l_layer", "one_d": SUBMISSIONS / "one_d"}
BUGGY = [pytest.param(assignment, path.name, id=f"{assignment}-{path.stem}")
         for assignment, folder in FOLDERS.items() for path in sorted(folder.glob("*.py"))
         if not path.stem.startswith("correct")]


def test_the_sample_class_has_buggy_submissions_of_every_assignment():
    assert {param.values[0] for param in BUGGY} == set(FOLDERS)


@pytest.mark.parametrize("assignment, filename", BUGGY)
def test_every_buggy_sample_gets_a_diagnosis_with_a_hint_for_each_wrong_parameter(assignment, filename):
    result = pipeline.grade_file(FOLDERS[assignment] / filename, Settings(assignment=assignment), assignment=assignments.get(assignment))
    check = result.checks[0]
    assert check.status is Status.FAIL
    wrong = {parameter.name for parameter in check.parameters if parameter.status is Status.FAIL}
    assert check.diagnosis, filename
    assert all(diagnosis.hint for diagnosis in check.diagnosis)
    assert {name_ for diagnosis in check.diagnosis for name_ in diagnosis.parameters} == wrong


@pytest.mark.parametrize("name, operator, words", [
    pytest.param("sign_flip", "sign-swap-difference", "have the wrong sign", id="sign-flip"),
    pytest.param("wrong_mask", "mask-greater-equal", "ReLU mask", id="wrong-mask"),
    pytest.param("missing_m", "scale-drop-m", "the 1/m factor is missing", id="missing-m"),
    pytest.param("missing_transpose", None, "is transposed", id="missing-transpose"),
    pytest.param("keepdims_dropped", "reduce-drop-keepdims", "keepdims", id="keepdims"),
])
def test_samples_are_named_for_their_bug(graded, name, operator, words):
    check = graded(name)
    assert any(operator in (None, diagnosis.operator) and words in diagnosis.hint for diagnosis in check.diagnosis), \
        [diagnosis.to_json() for diagnosis in check.diagnosis]


def test_a_correct_backward_pass_gets_no_diagnosis(graded):
    assert graded("correct_course_style").diagnosis == ()


def test_the_diagnosis_shows_in_text_and_json():
    from grader.report import render
    result = pipeline.grade_file(SUBMISSIONS / "planted_bugs.py", Settings(), assignment=assignments.get("three_layer"))
    assert "hint [scale-double-gradient-6] (line 15): dW2 is twice the true gradient" in render.text(result)
    diagnosis = result.to_json()["checks"][0]["diagnosis"]
    assert {"mutant", "operator", "hint"} <= set(diagnosis[0])


@pytest.mark.parametrize("name, line", [
    pytest.param("sign_flip", 8, id="sign-flip-points-at-dZ3"),
    pytest.param("wrong_mask", 16, id="wrong-mask-points-at-dZ1"),
])
def test_a_match_points_at_the_students_line_the_bug_is_on(graded, name, line):
    assert [diagnosis.line for diagnosis in graded(name).diagnosis] == [line]


# A wrong m: a different factor on every case, fitted against each case's batch size.

BACKWARD_PASSES = Path(__file__).resolve().parents[1] / "backward_passes"


@pytest.mark.parametrize("name, status, words, advice", [
    pytest.param("m_minus_one", Status.ERROR, "m/(m-1) times the true one", "check how m is computed",
                 id="m-minus-one-raises-on-m1"),
    pytest.param("m_minus_one_numpy", Status.FAIL, "m/(m-1) times the true one", "check how m is computed",
                 id="m-minus-one-inf-on-m1"),
    pytest.param("m_hard_coded", Status.FAIL, "m_true/3 times the true one", "m is hard-coded to 3",
                 id="m-hard-coded-to-3"),
])
def test_a_wrong_m_is_described_from_the_factor_on_each_case(name, status, words, advice):
    check = pipeline.grade_file(BACKWARD_PASSES / f"{name}.py", Settings(), assignment=assignments.get("three_layer")).check("backward_propagation_n")
    assert check.status is status
    [diagnosis] = check.diagnosis
    assert words in diagnosis.hint and diagnosis.hint.endswith(advice), diagnosis.hint
    assert set(diagnosis.parameters) == {"dW1", "db1", "dW2", "db2", "dW3", "db3"}
    assert diagnosis.line == 7  # the line that computes m


def test_a_division_by_zero_on_the_one_example_case_is_named_with_the_others_factors():
    check = pipeline.grade_file(BACKWARD_PASSES / "m_minus_one_numpy.py", Settings(), assignment=assignments.get("three_layer")).check("backward_propagation_n")
    assert "1.5 at m = 3, 2 at m = 2, 1.25 at m = 5 and 1.07 at m = 16" in check.diagnosis[0].hint
    assert "where m = 1, m-1 = 0: a division by zero" in check.diagnosis[0].hint


def test_a_crash_on_the_one_example_case_does_not_hide_what_the_other_cases_gave():
    from grader.report import render
    result = pipeline.grade_file(BACKWARD_PASSES / "m_minus_one.py", Settings(), assignment=assignments.get("three_layer"))
    check = result.check("backward_propagation_n")
    assert check.status is Status.ERROR and "ZeroDivisionError" in check.message
    by_case = {case.case: case for case in check.cases}
    assert by_case["hidden-m1"].status is Status.ERROR and by_case["hidden-m1"].difference is None
    assert all(case.difference is not None for name, case in by_case.items() if name != "hidden-m1")
    report = " ".join(render.text(result).split())
    assert "per case:" in report
    assert f"hidden-m2: FAIL, difference {render.format_difference(by_case['hidden-m2'].difference)}" in report
    assert "hidden-m1: ERROR, difference -: raised ZeroDivisionError" in report
    assert "m/(m-1) times the true one" in report


@pytest.mark.parametrize("m_line, words", [
    pytest.param("    m = A_prev.shape[1] - 1", "m/(m-1) times the true one", id="m-minus-one"),
    pytest.param("    m = 4", "m is hard-coded to 4", id="hard-coded"),
])
def test_a_wrong_m_in_an_l_layer_helper_is_one_hint_for_every_layer(tmp_path, m_line, words):
    source = (SUBMISSIONS / "l_layer" / "correct_course.py").read_text()
    assert source.count("    m = A_prev.shape[1]\n") == 1
    path = tmp_path / "wrong_m.py"
    path.write_text(source.replace("    m = A_prev.shape[1]\n", m_line + "\n"))
    check = pipeline.grade_file(path, Settings(assignment="l_layer"), assignment=assignments.get("l_layer")).check("L_layer_backward")
    [diagnosis] = check.diagnosis
    assert words in diagnosis.hint
    assert set(diagnosis.parameters) == {f"d{kind}{layer}" for layer in range(1, 5) for kind in "Wb"}


@pytest.mark.parametrize(("operator", "misconception_said"), [
    pytest.param("svm-drop-hinge", True, id="a-bug-whose-symptom-is-a-factor"),
    pytest.param("scale-double-gradient", False, id="a-scale-bug"),
])
def test_a_factor_names_the_bug_behind_it_unless_the_bug_is_the_factor(operator, misconception_said):
    """An SVM loss without max(0, .) is a factor of the loss on a case: the hint says the factor and the bug."""
    import numpy as np

    from grader.grading import diagnose
    from grader.grading.matching import Candidate
    from grader.mutation.operators.registry import REGISTRY

    true = [{"loss": np.array(2.0)}]
    student = [{"loss": np.array(1.5)}]
    candidate = Candidate(f"svm_loss:{operator}-1", operator, REGISTRY[operator].misconception, tuple(student),
                          frozenset({"loss"}))
    [found] = diagnose.diagnose(student, true, [4], ["loss"], candidates=[candidate])
    assert found.hint.startswith("loss is 0.75 times the true")
    assert (REGISTRY[operator].misconception in found.hint) is misconception_said
