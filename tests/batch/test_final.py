"""The final score: the automatic score, a check's override, a whole override, the late penalty."""
from __future__ import annotations

import pytest

from grader.batch import final
from grader.results import CheckResult, Lateness, LateStatus, Override, Status, SubmissionResult

RESULT = SubmissionResult("alice", "three_layer", Status.FAIL, 7.0, 10.0, (
    CheckResult("backward_propagation_n", Status.FAIL, 0.5, 1e-7, "", points=3.0, max_points=6.0),
    CheckResult("gradient_check_n", Status.PASS, 0.0, 2e-7, "", points=4.0, max_points=4.0)))
LATE = Lateness(LateStatus.LATE, "2026-03-03T00:00:00+00:00", "nbgrader timestamp.txt", "2026-03-01T23:59:00+00:00",
                86460.0, 3.0)


def _override(points, check=None):
    return Override(check, points, "why", "prof", "2026-03-04T00:00:00+00:00")


@pytest.mark.parametrize("lateness, overrides, expected", [
    pytest.param(None, (), 7.0, id="nothing"),
    pytest.param(LATE, (), 4.0, id="late"),
    pytest.param(None, (_override(6.0, "backward_propagation_n"),), 10.0, id="check-override"),
    pytest.param(LATE, (_override(6.0, "backward_propagation_n"),), 7.0, id="check-override-then-late"),
    pytest.param(LATE, (_override(9.5),), 9.5, id="whole-override-is-final"),
    pytest.param(Lateness(LateStatus.LATE, None, "", None, 1.0, 20.0), (), 0.0, id="never-below-zero"),
])
def test_the_final_score(lateness, overrides, expected):
    adjusted = final.adjust(RESULT, lateness=lateness, overrides=overrides)
    assert adjusted.final == expected and adjusted.score == RESULT.score and adjusted.checks == RESULT.checks


def test_an_override_of_a_check_the_result_lacks_is_kept_and_marked_not_applied():
    adjusted = final.adjust(RESULT, overrides=(_override(1.0, "forward_propagation_n"),))
    assert adjusted.final == 7.0 and adjusted.overrides[0].applied is False


def test_adjusting_again_is_the_same():
    once = final.adjust(RESULT, lateness=LATE, overrides=(_override(5.0, "backward_propagation_n"),))
    assert final.adjust(once, lateness=once.late, overrides=once.overrides) == once
