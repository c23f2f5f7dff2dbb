"""The final score: a submission's automatic score with its late penalty and the instructor's overrides applied."""
from __future__ import annotations

import dataclasses
from typing import Sequence

from grader.results import Lateness, Override, SubmissionResult


def adjust(result: SubmissionResult, *, lateness: Lateness | None = None,
           overrides: Sequence[Override] = ()) -> SubmissionResult:
    """result with its lateness, overrides and final score; its own score and points stay the automatic ones.

    An override of one check puts its points in place of the check's automatic points, and the late penalty
    is taken from that total (never below 0). An override of the whole submission is its final score, late
    penalty included: what the instructor wrote is what the student gets. An override of a check the result
    does not have (an error row has none) is kept, shown, and marked as not applied.
    """
    if lateness is None and not overrides:
        return dataclasses.replace(result, late=None, overrides=(), final_score=None)
    total = result.score
    whole = None
    applied = []
    for override in overrides:
        if override.check is None:
            whole = override
            applied.append(dataclasses.replace(override, applied=True))
            continue
        check = next((check for check in result.checks if check.name == override.check), None)
        if check is not None:
            total += override.points - check.points
        applied.append(dataclasses.replace(override, applied=check is not None))
    if whole is not None:
        final = whole.points
    else:
        final = max(0.0, total - (lateness.penalty if lateness is not None else 0.0))
    return dataclasses.replace(result, late=lateness, overrides=tuple(applied), final_score=round(final, 6))
