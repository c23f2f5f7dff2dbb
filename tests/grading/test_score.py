"""Scoring: the default rubric, partial credit, and an instructor's TOML rubric overriding points and thresholds."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader import assignments, cli
from grader.grading import pipeline, score
from grader.results import CheckResult, ParameterResult, Status
from grader.settings import Settings

SUBMISSIONS = Path(__file__).resolve().parents[2] / "submissions"
CHECKERS = Path(__file__).resolve().parents[1] / "checkers"


def backward_result(failing: int) -> CheckResult:
    names = ("dW1", "db1", "dW2", "db2", "dW3", "db3")
    parameters = tuple(ParameterResult(name, Status.FAIL if index < failing else Status.PASS, 0.1, "")
                       for index, name in enumerate(names))
    return CheckResult("backward_propagation_n", Status.FAIL if failing else Status.PASS, 0.1, 1e-7, "", parameters)


@pytest.mark.parametrize("failing, points", [
    pytest.param(0, 6.0, id="all-right"), pytest.param(2, 4.0, id="two-wrong"), pytest.param(6, 0.0, id="all-wrong")])
def test_the_backward_pass_earns_one_point_per_parameter(failing, points):
    scored = score.score_check("backward", backward_result(failing))
    assert (scored.points, scored.max_points) == (points, 6.0)


def checker_result(**details) -> CheckResult:
    base = {"probes": 8, "caught": 8, "compared": 9, "agreeing": 9, "reference_accepted": True, "crashed": False}
    return CheckResult("gradient_check_n", Status.PASS, 1e-7, 2e-7, "", details={**base, **details})


@pytest.mark.parametrize("details, points", [
    pytest.param({}, 4.0, id="perfect"),
    pytest.param({"reference_accepted": False}, 3.0, id="false-alarm"),
    pytest.param({"caught": 6}, 3.75, id="missed-two-of-eight"),
    pytest.param({"agreeing": 0}, 3.0, id="values-disagree"),
    pytest.param({"crashed": True}, 3.0, id="crashed-on-some"),
    pytest.param({"caught": 0, "discriminates": False}, 2.0, id="accepts-everything-earns-nothing-for-accepting"),
    pytest.param({"depends_on_inputs": False}, 2.0, id="constant-earns-nothing-for-values-or-not-crashing"),
    pytest.param({"caught": 0, "discriminates": False, "depends_on_inputs": False, "agreeing": 0}, 0.0,
                 id="constant-zero"),
])
def test_the_checker_earns_four_parts(details, points):
    scored = score.score_check("checker", checker_result(**details))
    assert (scored.points, scored.max_points) == (points, 4.0)
    assert sum(scored.details["points"].values()) == pytest.approx(points)


def test_a_missing_checker_earns_nothing():
    missing = CheckResult("gradient_check_n", Status.MISSING, None, 2e-7, "not defined")
    assert score.score_check("checker", missing).points == 0.0


RUBRIC = """
[backward]
points = 12
threshold = 1e-6

[checker]
reference = 2
mutants = 4
value = 1
no_crash = 1
threshold = 5e-7
rtol = 1e-2

[forward]
points = 1
"""


def test_a_toml_rubric_overrides_points_and_thresholds(tmp_path):
    path = tmp_path / "rubric.toml"
    path.write_text(RUBRIC)
    rubric = score.rubric_from_dict(score.load_rubric(path))
    assert (rubric.backward_points, rubric.checker_points, rubric.forward_points) == (12.0, 8.0, 1.0)
    assert (rubric.threshold, rubric.checker_threshold, rubric.value_rtol) == (1e-6, 5e-7, 1e-2)
    assert score.score_check("backward", backward_result(3), rubric).points == 6.0
    assert score.score_check("checker", checker_result(caught=4), rubric).points == 6.0


def test_the_rubric_travels_in_settings_and_sets_the_backward_threshold(tmp_path):
    path = tmp_path / "rubric.toml"
    path.write_text(RUBRIC)
    settings = Settings(rubric=score.load_rubric(path))
    assert Settings.from_json(json.loads(json.dumps(settings.to_json()))) == settings
    assert score.with_rubric_thresholds(settings).threshold == 1e-6
    result = pipeline.grade_file(SUBMISSIONS / "planted_bugs.py", settings, assignment=assignments.get(settings.assignment))
    assert (result.score, result.max_score) == (8.0, 20.0)
    assert result.check("backward_propagation_n").threshold == 1e-6


@pytest.mark.parametrize("text, words", [
    pytest.param("[backward]\npoint = 3\n", "unknown key backward.point", id="unknown-key"),
    pytest.param("[backward]\npoints = -1\n", "cannot be negative", id="negative"),
    pytest.param("[checker]\nthreshold = 2\n", "must be in (0, 1)", id="threshold"),
    pytest.param("[backward\n", "not valid TOML", id="not-toml"),
    pytest.param("[backward]\npoints = 'six'\n", "must be a number", id="not-a-number"),
    pytest.param("[names]\naccept_near_miss = 1\n", "must be true or false", id="near-miss-not-a-boolean"),
    pytest.param("[names]\nnear_miss_penalty = 2\n", "a fraction of the points", id="penalty-over-one"),
    pytest.param("[names]\nnear_miss_penalty = true\n", "must be a number", id="penalty-a-boolean"),
])
def test_a_bad_rubric_is_one_line_and_exit_2(tmp_path, capsys, text, words):
    path = tmp_path / "rubric.toml"
    path.write_text(text)
    with pytest.raises(score.RubricError, match="rubric"):
        score.load_rubric(path)
    assert cli.main(["check", str(SUBMISSIONS / "planted_bugs.py"), "--rubric", str(path)]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1


def test_check_with_a_rubric_shows_partial_credit(tmp_path, capsys):
    path = tmp_path / "rubric.toml"
    path.write_text(RUBRIC)
    assert cli.main(["check", str(SUBMISSIONS / "planted_bugs.py"), "--rubric", str(path), "--format", "json"]) == 1
    result = json.loads(capsys.readouterr().out)
    backward = result["checks"][0]
    assert (backward["points"], backward["max_points"]) == (8.0, 12.0)
    assert (result["score"], result["max_score"]) == (8.0, 20.0)


@pytest.mark.parametrize("text, words", [
    pytest.param("[backward]\npoints = 'six'\n", "backward.points must be a number", id="backward.points"),
    pytest.param("[checker]\nno_crash = -1\n", "checker.no_crash cannot be negative", id="checker.no_crash"),
    pytest.param("[checker]\nrtol = 3\n", "checker.rtol must be in (0, 1)", id="checker.rtol"),
    pytest.param("[backward]\nthreshold = 0\n", "backward.threshold must be in (0, 1)", id="backward.threshold"),
    pytest.param("[forward]\npoints = true\n", "forward.points must be a number", id="forward.points"),
])
def test_a_rubric_error_names_the_key_the_instructor_wrote(tmp_path, capsys, text, words):
    path = tmp_path / "rubric.toml"
    path.write_text(text)
    assert cli.main(["check", str(SUBMISSIONS / "planted_bugs.py"), "--rubric", str(path)]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1
    assert "_points" not in err and "value_rtol" not in err and "checker_" not in err


def test_a_toml_rubric_sets_the_near_miss_options(tmp_path):
    path = tmp_path / "rubric.toml"
    path.write_text("[names]\naccept_near_miss = true\nnear_miss_penalty = 0.25\n")
    rubric = score.rubric_from_dict(score.load_rubric(path))
    assert rubric.accept_near_miss is True and rubric.near_miss_penalty == 0.25
    assert score.DEFAULT_RUBRIC.accept_near_miss is False


def test_check_and_grade_accept_a_rubric_with_a_gradescope_table(tmp_path):
    path = tmp_path / "rubric.toml"
    path.write_text('[backward]\npoints = 3\n[gradescope]\nvisibility = "after_due_date"\nchecker = "hidden"\n')
    data = score.load_rubric(path)
    assert score.rubric_from_dict(data).backward_points == 3.0
    visibility = score.gradescope_rubric(data)
    assert (visibility.of("backward"), visibility.of("checker")) == (score.Visibility.AFTER_DUE_DATE, score.Visibility.HIDDEN)
    assert score.gradescope_rubric(None) == score.GradescopeRubric()
    assert cli.main(["check", str(SUBMISSIONS / "planted_bugs.py"), "--rubric", str(path)]) == 1
