"""Points for each check from a rubric, with partial credit per parameter."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Sequence

from grader.results import CheckResult, Status


@dataclass(frozen=True)
class Rubric:
    """Points per graded function; the backward pass's points are shared out over its parameters."""

    backward_points: float = 6.0
    checker_points: float = 4.0

    def __post_init__(self) -> None:
        if self.backward_points < 0 or self.checker_points < 0:
            raise ValueError("points cannot be negative")


DEFAULT_RUBRIC = Rubric()


def score_backward(result: CheckResult, rubric: Rubric = DEFAULT_RUBRIC) -> CheckResult:
    """The backward pass's check with its points: an equal share for each parameter that passes everywhere."""
    total = rubric.backward_points
    if not result.parameters:
        points = total if result.status is Status.PASS else 0.0
    else:
        passed = sum(1 for parameter in result.parameters if parameter.status is Status.PASS)
        points = total * passed / len(result.parameters)
    return dataclasses.replace(result, points=round(points, 6), max_points=total)


SCORERS = {"backward": score_backward}


def score_check(kind: str, result: CheckResult, rubric: Rubric = DEFAULT_RUBRIC) -> CheckResult:
    """The check with its points, by the kind of grader that made it."""
    return SCORERS[kind](result, rubric)


def totals(checks: Sequence[CheckResult]) -> tuple[float, float]:
    """The submission's score and maximum score."""
    return round(sum(check.points for check in checks), 6), round(sum(check.max_points for check in checks), 6)
