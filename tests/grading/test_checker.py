"""The student's gradient checker: a correct one passes in both signatures, each wrong one fails for its reason."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader import assignments
from grader.grading import checker, checker_probes, pipeline
from grader.results import Status
from grader.settings import Settings

CHECKERS = Path(__file__).resolve().parents[1] / "checkers"


@pytest.fixture(scope="module")
def graded():
    cache = {}

    def grade(name: str):
        if name not in cache:
            result = pipeline.grade_file(CHECKERS / f"{name}.py", Settings(), assignment=assignments.get("three_layer"))
            cache[name] = result.check("gradient_check_n")
        return cache[name]
    return grade


@pytest.mark.parametrize("name", [
    pytest.param("correct_course", id="course-signature-course-helpers"),
    pytest.param("correct_print_msg", id="print_msg-signature-own-helpers-1x1-array"),
])
def test_a_correct_checker_passes_with_full_points(graded, name):
    check = graded(name)
    assert check.status is Status.PASS, check.message
    assert check.points == check.max_points == 4
    assert check.details["caught"] == check.details["probes"] >= 6
    assert check.details["agreeing"] == check.details["compared"]
    assert check.details["false_alarms"] == []
    assert check.details["flaws"] == []


def test_size_agnostic_helpers_are_also_checked_on_square_sizes(graded):
    assert graded("correct_print_msg").details["square_sizes"] == "checked"
    assert graded("correct_course").details["square_sizes"].startswith("skipped")
    profiles = {entry["profile"] for entry in graded("correct_print_msg").details["mutants"]}
    assert profiles == {"course", "square"}


def test_the_course_helper_refuses_another_networks_theta_instead_of_slicing_it():
    from grader.course import gc_utils  # runs in the sandbox; imported here only to test it

    theta = np.arange(47.0).reshape(47, 1)
    assert gc_utils.vector_to_dictionary(theta)["b3"].tolist() == [[46.0]]
    with pytest.raises(ValueError, match="only the course's 4-5-3-1 network .47 parameters.; this theta has 60"):
        gc_utils.vector_to_dictionary(np.zeros((60, 1)))


@pytest.fixture
def checker_outcomes(monkeypatch):
    """Grades a checker file; returns the outcomes of its checker's calls, in probes() order."""
    runs = []
    real_run = pipeline.sandbox.run

    def recording_run(*args, **kwargs):
        runs.append(real_run(*args, **kwargs))
        return runs[-1]
    monkeypatch.setattr(pipeline.sandbox, "run", recording_run)

    def grade(name: str):
        result = pipeline.grade_file(CHECKERS / f"{name}.py", Settings(), assignment=assignments.get("three_layer"))
        graders, calls_by_grader, _ = pipeline.plan(assignments.get("three_layer"), Settings())
        offset = sum(len(calls) for calls in calls_by_grader[:graders.index(checker)])
        return result.check("gradient_check_n"), runs[-1].outcomes[offset:offset + len(checker_probes.probes(assignments.get("three_layer")))]
    return grade


def checker_calls() -> list:
    graders, calls_by_grader, _ = pipeline.plan(assignments.get("three_layer"), Settings())
    return calls_by_grader[graders.index(checker)]


def test_a_course_helper_checker_stops_at_once_on_the_square_reference(checker_outcomes):
    check, outcomes = checker_outcomes("correct_course")
    square = next(index for index, probe in enumerate(checker_probes.probes(assignments.get("three_layer"))) if probe.name == "reference-square")
    assert outcomes[square].status is pipeline.sandbox.CallStatus.ERROR
    assert "4-5-3-1" in outcomes[square].message
    assert check.status is Status.PASS and check.details["square_sizes"].startswith("skipped")


@pytest.mark.parametrize("name, square_mutants_run", [
    pytest.param("correct_print_msg", True, id="accepts-the-square-reference"),
    pytest.param("correct_course", False, id="course-helpers-reject-it"),
])
def test_three_layer_square_mutants_run_only_when_the_square_reference_is_accepted(checker_outcomes, name,
                                                                                   square_mutants_run):
    _, outcomes = checker_outcomes(name)
    calls, probes = checker_calls(), checker_probes.probes(assignments.get("three_layer"))
    waiting = [index for index, call in enumerate(calls) if call.only_if_below]
    assert [probes[index].name for index in waiting] == [p.name for p in probes if p.profile == "square" and p.kind == "mutant"]
    for index in waiting:
        assert probes[index - calls[index].only_if_below[0]].name == "reference-square"
        ran = outcomes[index].status is not pipeline.sandbox.CallStatus.NOT_RUN
        assert ran is square_mutants_run, outcomes[index]


@pytest.mark.parametrize("name, revealed", [
    pytest.param("always_zero", "it returns 0 for every input", id="always-zero"),
    pytest.param("self_compare", "compares the gradient with itself", id="gradient-with-itself"),
    pytest.param("no_denominator", "forgets to divide by ||grad|| + ||gradapprox||", id="no-denominator"),
    pytest.param("squared_norms", "with squared norms", id="squared-norms"),
    pytest.param("thetaplus_reused", "thetaminus starts from thetaplus", id="thetaplus-reused"),
    pytest.param("ignores_epsilon", "it ignores the epsilon it is given", id="ignores-epsilon"),
    pytest.param("first_entries", "it checks only the first entries of theta", id="first-entries"),
])
def test_a_wrong_checker_fails_saying_what_its_numbers_reveal(graded, name, revealed):
    check = graded(name)
    assert check.status is Status.FAIL
    assert check.points < check.max_points
    assert any(revealed in flaw for flaw in check.details["flaws"]), check.details["flaws"]
    assert revealed in check.message


def test_a_checker_that_misses_bugs_reports_the_families_it_missed(graded):
    details = graded("first_entries").details
    assert 0 < details["caught"] < details["probes"]
    assert "sign" in details["missed_families"]
    assert sum(family["total"] for family in details["families"].values()) == details["probes"]


def test_false_alarms_on_the_reference_are_reported(graded):
    check = graded("thetaplus_reused")
    assert check.details["reference_accepted"] is False
    assert "reference" in check.details["false_alarms"]
    assert "rejected the correct gradients" in check.message


def test_a_crashing_checker_is_an_error_with_the_students_line(graded):
    check = graded("crashes")
    assert check.status is Status.ERROR
    assert "NameError" in check.message and "line" in check.message
    assert check.points == 0


def test_a_missing_checker_scores_nothing():
    result = pipeline.grade_file(Path(__file__).resolve().parents[2] / "submissions" / "planted_bugs.py", Settings(), assignment=assignments.get("three_layer"))
    check = result.check("gradient_check_n")
    assert check.status is Status.MISSING and check.points == 0 and check.max_points == 4


def test_a_checker_that_hangs_is_a_timeout_and_the_backward_pass_keeps_its_grade():
    result = pipeline.grade_file(CHECKERS / "hangs.py", Settings(timeout=1.0), assignment=assignments.get("three_layer"))
    assert result.check("backward_propagation_n").status is Status.PASS
    check = result.check("gradient_check_n")
    assert check.status is Status.TIMEOUT and check.points == 0
    assert "did not finish" in check.message


# l_layer's gradient_checking(params, grads, X, Y, epsilon=1e-7), graded the same way.

L_LAYER = Settings(assignment="l_layer")
L_LAYER_SUBMISSIONS = Path(__file__).resolve().parents[2] / "submissions" / "l_layer"


@pytest.fixture(scope="module")
def graded_l_layer():
    cache = {}

    def grade(name: str):
        if name not in cache:
            cache[name] = pipeline.grade_file(CHECKERS / "l_layer" / f"{name}.py", L_LAYER, assignment=assignments.get(L_LAYER.assignment))
        return cache[name]
    return grade


def test_a_correct_l_layer_checker_passes_with_full_points(graded_l_layer):
    result = graded_l_layer("correct_course")
    check = result.check("gradient_checking")
    assert check.status is Status.PASS, check.message
    assert check.points == check.max_points == 4 and result.max_score == 10
    assert check.details["caught"] == check.details["probes"] >= 5
    assert check.details["agreeing"] == check.details["compared"]
    assert check.details["false_alarms"] == [] and check.details["flaws"] == []
    # The course helpers take any sizes: the deeper square network is checked too.
    assert check.details["square_sizes"] == "checked"


@pytest.mark.parametrize("name, revealed", [
    pytest.param("always_zero", "it returns 0 for every input", id="always-zero"),
    pytest.param("no_denominator", "forgets to divide by ||grad|| + ||gradapprox||", id="no-denominator"),
    pytest.param("thetaplus_reused", "thetaminus starts from thetaplus", id="thetaplus-reused"),
    pytest.param("ignores_epsilon", "it ignores the epsilon it is given", id="ignores-epsilon"),
    pytest.param("three_layers_only", "the correct gradients of the square-3-3-3-3-1-m3 network", id="three-layers-only"),
    pytest.param("squared_norms", "with squared norms", id="squared-norms"),
    pytest.param("first_entries", "it checks only the first entries of theta", id="first-entries"),
])
def test_a_wrong_l_layer_checker_fails_saying_what_its_numbers_reveal(graded_l_layer, name, revealed):
    check = graded_l_layer(name).check("gradient_checking")
    assert check.status is Status.FAIL
    assert check.points < check.max_points == 4
    assert revealed in check.message


def test_l_layer_flaws_are_named_from_the_numbers(graded_l_layer):
    for name in ("always_zero", "no_denominator", "thetaplus_reused", "ignores_epsilon", "squared_norms", "first_entries"):
        assert graded_l_layer(name).check("gradient_checking").details["flaws"], name
    # Unrolling three layers of a four-layer network raises: no points for the reference nor for never crashing.
    check = graded_l_layer("three_layers_only").check("gradient_checking")
    assert check.details["reference_accepted"] is False and check.details["crashed"] is True
    assert check.details["points"]["reference"] == check.details["points"]["no_crash"] == 0



@pytest.mark.parametrize("name", [
    pytest.param("correct_course.py", id="own-helpers"),
    pytest.param("correct_dnn_utils.py", id="course-helpers"),
    pytest.param("correct_own_caches.py", id="own-unrolling-1x1-array"),
])
def test_correct_l_layer_samples_get_full_marks_with_their_checker(name):
    result = pipeline.grade_file(L_LAYER_SUBMISSIONS / name, L_LAYER, assignment=assignments.get(L_LAYER.assignment))
    assert result.status is Status.PASS, result.message
    assert result.score == result.max_score == 10


def test_the_course_forward_put_in_for_the_checker_is_not_the_students_own():
    result = pipeline.grade_file(L_LAYER_SUBMISSIONS / "correct_dnn_utils.py", L_LAYER, assignment=assignments.get(L_LAYER.assignment))
    assert result.check("L_layer_backward").details["own_forward"]["defined"] is False
    result = pipeline.grade_file(L_LAYER_SUBMISSIONS / "correct_own_caches.py", L_LAYER, assignment=assignments.get(L_LAYER.assignment))
    assert result.check("L_layer_backward").details["own_forward"]["defined"] is True


def test_a_missing_l_layer_checker_scores_nothing_out_of_four():
    program = (L_LAYER_SUBMISSIONS / "correct_dnn_utils.py").read_text().split("\n\ndef gradient_checking")[0]
    result = pipeline.grade_source(program.encode(), "no_checker.py", L_LAYER, submission="no_checker", assignment=assignments.get(L_LAYER.assignment))
    check = result.check("gradient_checking")
    assert check.status is Status.MISSING and check.points == 0 and check.max_points == 4
    assert result.score == 6 and result.max_score == 10


# A checker that computes nothing earns nothing: each part counts only for a checker that tells correct
# gradients from wrong ones (accepting both, or rejecting both, is what a constant does).

CONSTANT_BODIES = [
    pytest.param("return 1.0", id="return-1.0"),
    pytest.param("return 0", id="return-0"),
    pytest.param("pass", id="pass"),
    pytest.param("return 1e9", id="return-1e9"),
]
# Each assignment's checker as a student leaves it: the signature, the course's docstring, then the body.
CONSTANT_CHECKERS = {
    "three_layer": ("gradient_check_n", "parameters, gradients, X, Y, epsilon=1e-7"),
    "l_layer": ("gradient_checking", "params, grads, X, Y, epsilon=1e-7"),
    "one_d": ("gradient_check", "x, theta, epsilon=1e-7"),
}


def constant_checker(tmp_path: Path, assignment: str, body: str) -> Path:
    name, arguments = CONSTANT_CHECKERS[assignment]
    path = tmp_path / f"{assignment}_constant.py"
    path.write_text("import numpy as np\n\n\n"
                    f"def {name}({arguments}):\n"
                    '    """Checks if backward propagation computes correctly the gradient of the cost."""\n'
                    "    ### START CODE HERE ###\n"
                    f"    {body}\n"
                    "    ### END CODE HERE ###\n")
    return path


@pytest.mark.parametrize("assignment", list(CONSTANT_CHECKERS))
@pytest.mark.parametrize("body", CONSTANT_BODIES)
def test_a_constant_checker_scores_nothing(tmp_path, assignment, body):
    name = CONSTANT_CHECKERS[assignment][0]
    check = pipeline.grade_file(constant_checker(tmp_path, assignment, body),
                                Settings(assignment=assignment), assignment=assignments.get(assignment)).check(name)
    assert check.points == 0 and check.max_points == 4, (check.details["points"], check.message)
    assert check.details["caught"] == 0
    assert check.status is not Status.PASS


@pytest.mark.parametrize("body", [pytest.param("return 1.0", id="return-1.0"), pytest.param("return 1e9", id="return-1e9")])
def test_a_constant_that_rejects_everything_is_told_why_its_rejections_do_not_count(tmp_path, body):
    check = pipeline.grade_file(constant_checker(tmp_path, "three_layer", body), Settings(), assignment=assignments.get("three_layer")).check("gradient_check_n")
    assert check.details["rejected"] == check.details["probes"] and check.details["caught"] == 0
    assert "it rejects correct gradients too: its result does not depend on them" in check.message
    assert "caught 0 of" in check.message
    mutants = {entry["mutant"] for entry in check.details["mutants"]}
    assert all("not counted" in case.message for case in check.cases if case.case in mutants)


def test_a_real_checker_that_returns_about_1_for_everything_gets_nothing_for_catching(graded):
    check = graded("no_two_epsilon")
    assert check.details["rejected"] == check.details["probes"] >= 6
    assert check.details["caught"] == 0 and check.details["points"]["mutants"] == 0
    assert check.points == 0
    assert "it rejects correct gradients too: its result does not depend on them" in check.message
    assert "about 1" in check.details["flaws"][0]


def test_a_checker_that_rejects_the_correct_gradients_gets_nothing_for_the_bugs_it_rejects(graded):
    check = graded("thetaplus_reused")
    assert check.details["rejected"] == check.details["probes"] and check.details["caught"] == 0
    assert check.details["points"]["mutants"] == 0
    assert "do not count as caught" in check.message


def test_a_checker_that_accepts_everything_gets_nothing_for_accepting(graded):
    check = graded("always_zero")
    assert check.details["reference_accepted"] is True and check.details["discriminates"] is False
    assert check.details["points"] == {"reference": 0.0, "mutants": 0.0, "value": 0.0, "no_crash": 0.0}


@pytest.mark.parametrize("path, settings, name", [
    pytest.param(CHECKERS / "correct_course.py", Settings(), "gradient_check_n", id="three_layer-course-helpers"),
    pytest.param(CHECKERS / "correct_print_msg.py", Settings(), "gradient_check_n", id="three_layer-own-helpers"),
    pytest.param(CHECKERS / "l_layer" / "correct_course.py", Settings(assignment="l_layer"), "gradient_checking",
                 id="l_layer"),
    pytest.param(CHECKERS.parent.parent / "submissions" / "one_d" / "correct.py", Settings(assignment="one_d"),
                 "gradient_check", id="one_d"),
])
def test_correct_checkers_keep_every_point(path, settings, name):
    check = pipeline.grade_file(path, settings, assignment=assignments.get(settings.assignment)).check(name)
    assert check.details["points"] == {"reference": 1.0, "mutants": 1.0, "value": 1.0, "no_crash": 1.0}
    assert check.details["discriminates"] is True and check.details["depends_on_inputs"] is True


# A checker is called with the signature its student wrote: epsilon by keyword where it has one, left out
# where it takes none (and then the wide-epsilon probe does not apply).

@pytest.mark.parametrize("path, settings, name", [
    pytest.param(CHECKERS / "no_epsilon.py", Settings(), "gradient_check_n", id="three_layer"),
    pytest.param(CHECKERS / "l_layer" / "no_epsilon.py", Settings(assignment="l_layer"), "gradient_checking",
                 id="l_layer"),
    pytest.param(CHECKERS / "one_d_no_epsilon.py", Settings(assignment="one_d"), "gradient_check", id="one_d"),
])
def test_a_correct_checker_without_an_epsilon_parameter_keeps_every_point(path, settings, name):
    check = pipeline.grade_file(path, settings, assignment=assignments.get(settings.assignment)).check(name)
    assert check.status is Status.PASS, check.message
    assert check.points == check.max_points == 4
    assert "positional argument" not in check.message


@pytest.mark.parametrize("path, settings, name", [
    pytest.param(CHECKERS / "no_epsilon.py", Settings(), "gradient_check_n", id="three_layer"),
    pytest.param(CHECKERS / "l_layer" / "no_epsilon.py", Settings(assignment="l_layer"), "gradient_checking",
                 id="l_layer"),
])
def test_the_wide_epsilon_probe_does_not_apply_to_a_checker_without_epsilon_and_the_report_says_so(path, settings,
                                                                                                    name):
    check = pipeline.grade_file(path, settings, assignment=assignments.get(settings.assignment)).check(name)
    assert f"{name} takes no epsilon: it was called without one" in check.message
    assert "probe does not apply" in check.details["epsilon"]
    assert not any("ignores the epsilon" in flaw for flaw in check.details["flaws"])
    assert "reference-wide-epsilon" not in {case.case for case in check.cases}
    wide = next(r for r in check.details["readings"] if r["kind"] == "epsilon")
    assert wide["problem"].startswith("not applicable")


@pytest.mark.parametrize("name", [
    pytest.param("print_msg_before_epsilon", id="epsilon-by-keyword-not-into-print_msg"),
    pytest.param("eps_short_name", id="eps-by-position"),
])
def test_a_checker_whose_epsilon_is_named_or_placed_otherwise_follows_the_epsilon_it_is_given(graded, name):
    check = graded(name)
    assert check.status is Status.PASS, check.message
    assert check.points == 4 and "epsilon" not in check.details
