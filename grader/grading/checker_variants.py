"""What the course method gives for each probe, and what known-wrong checkers would give."""
from __future__ import annotations


import numpy as np

from grader import assignments
from grader import spec as api
from grader.assignments import Assignment
from grader.grading.checker_probes import COURSE_EPSILON, Probe, _names, _public, probes
from grader.numerics import check

@assignments.cached
def _gradapprox(assignment: Assignment, profile: str, epsilon: float, *, half: bool = False,
                case_index: int = 0) -> np.ndarray:
    """The course's gradapprox on a case (the Checker declaration's); half=True: thetaminus left at theta
    (thetaplus reused)."""
    case = _public(assignment, profile, case_index)
    gradapprox = assignment.declared(api.Checker).gradapprox(case.inputs, epsilon, reuse_thetaplus=half)
    gradapprox.setflags(write=False)
    return gradapprox


def _norms(grad: np.ndarray, gradapprox: np.ndarray) -> tuple[float, float, float]:
    return (float(np.linalg.norm(grad - gradapprox)), float(np.linalg.norm(grad)), float(np.linalg.norm(gradapprox)))


def variants(assignment: Assignment, probe: Probe) -> dict[str, float]:
    """The value the course method gives for a probe, and the values of known-wrong checkers."""
    names = _names(assignment, probe.profile, probe.case_index)
    grad = check.flatten(probe.gradients, names)[:, None]
    at = {"case_index": probe.case_index}
    numerator, norm_grad, norm_approx = _norms(grad, _gradapprox(assignment, probe.profile, probe.epsilon, **at))
    half = _norms(grad, _gradapprox(assignment, probe.profile, probe.epsilon, half=True, **at))
    fixed = _norms(grad, _gradapprox(assignment, probe.profile, COURSE_EPSILON, **at))
    return {
        "course": numerator / (norm_grad + norm_approx),
        "no-denominator": numerator,
        "squared-norms": numerator ** 2 / (norm_grad ** 2 + norm_approx ** 2),
        "squared-difference": (numerator / (norm_grad + norm_approx)) ** 2,
        "thetaplus-reused": half[0] / (half[1] + half[2]),
        "fixed-epsilon": fixed[0] / (fixed[1] + fixed[2]),
    }


@assignments.cached
def expectations(assignment: Assignment) -> tuple[dict[str, float], ...]:
    """variants() of every probe, in probes() order: they depend on the assignment alone, so they are
    computed once per Assignment object, not for every submission."""
    return tuple(variants(assignment, probe) for probe in probes(assignment))


FLAWS = {
    "no-denominator": "its values equal ||grad - gradapprox|| alone ({example}): it forgets to divide by "
                      "||grad|| + ||gradapprox||",
    "squared-norms": "its values equal the difference with squared norms ({example}): np.linalg.norm already "
                     "takes the square root",
    "squared-difference": "its values are the square of the course's difference ({example}): the ratio "
                          "should not be squared",
    "thetaplus-reused": "its values are those of a gradapprox half the true one ({example}): thetaminus "
                        "starts from thetaplus instead of a fresh copy of theta",
}
