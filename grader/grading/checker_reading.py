"""Read the numbers a student's checker returned: each probe's verdict, and the flaws they reveal."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from grader.grading import score
from grader.grading.checker_probes import COURSE_EPSILON, Probe
from grader.grading.checker_variants import FLAWS
from grader.sandbox import wire
from grader.sandbox.run import CallOutcome, CallStatus
from grader.sandbox.wire import Opaque

# A checker whose values on correct and wrong gradients all lie this close (relatively) computes nothing that
# depends on them: the correct gradients give about 1e-7 and the known bugs 1e-3 or more, six decades apart,
# while a checker that forgets to divide by 2 * epsilon returns 1 - 4e-7 or so for every one of them.
SAME_RTOL = 1e-4


# The wide-epsilon probe of a checker whose signature takes no epsilon: called without one, it cannot follow it.
NO_EPSILON = "not applicable: its signature takes no epsilon, so it was called without one"


def number(value: Any) -> tuple[float | None, str]:
    """The difference a checker returned as a float (a 1x1 array counts), or None and what it was instead."""
    if isinstance(value, Opaque):
        return None, f"returned a {value.type_name}, expected a number"
    if isinstance(value, bool) or value is None:
        return None, f"returned {value!r}, expected a number"
    found = wire.one_number(value)  # the child decides on only_if_below with the same reading
    if found is not None:
        return found, "returned a sequence; its first item is taken as the difference" if isinstance(
            value, (tuple, list)) else ""
    if isinstance(value, np.ndarray):
        return None, f"returned an array of shape {value.shape}, expected a number"
    return None, f"returned a {type(value).__name__}, expected a number"


def agrees(value: float, expected: float, *, rtol: float) -> bool:
    return math.isfinite(value) and abs(value - expected) <= rtol * abs(expected)


@dataclass(frozen=True)
class Reading:
    """One probe's outcome: the value (or why there is none) and the verdicts on it."""

    probe: Probe
    value: float | None
    problem: str
    expected: dict[str, float]
    ok: bool | None  # accepted (reference), caught (mutant); None for the epsilon probe or no value
    agrees: bool | None
    status: CallStatus  # how the call ended: OK also when what it returned is not a number


def read(probe: Probe, expected: dict[str, float], outcome: CallOutcome, *, threshold: float,
         rtol: float) -> Reading:
    """The reading of one call of the checker on probe, whose variants() are expected."""
    if outcome.status is not CallStatus.OK:
        text = {CallStatus.ERROR: f"raised {outcome.message}", CallStatus.TIMEOUT: "did not finish in time"}.get(
            outcome.status, "was not run")
        return Reading(probe, None, text, expected, None, None, outcome.status)
    value, problem = number(outcome.value)
    if value is None:
        return Reading(probe, None, problem, expected, None, None, outcome.status)
    if probe.kind == "epsilon" and "epsilon" in outcome.omitted:
        return Reading(probe, value, NO_EPSILON, expected, None, None, outcome.status)
    if probe.kind == "reference":
        return Reading(probe, value, problem, expected, bool(0 <= value < threshold), None, outcome.status)
    agreement = agrees(value, expected["course"], rtol=rtol)
    if probe.kind == "epsilon":
        return Reading(probe, value, problem, expected, None, agreement, outcome.status)
    return Reading(probe, value, problem, expected, bool(math.isfinite(value) and value > threshold), agreement,
                   outcome.status)


def _example(reading: Reading) -> str:
    return f"{reading.value:.3g} on {reading.probe.name}, where the course method gives {reading.expected['course']:.3g}"


def constant_value(readings: Sequence[Reading]) -> tuple[float, float] | None:
    """(lowest, highest) of what the checker returns for the correct gradients and the known bugs at the course
    epsilon, when those are all about the same number (within SAME_RTOL): its result does not depend on the
    gradients it is given. None when it does, or when fewer than two such calls returned a number."""
    values = [r.value for r in readings if r.value is not None and r.probe.kind in ("reference", "mutant")
              and r.probe.epsilon == COURSE_EPSILON]
    if len(values) < 2 or not all(math.isfinite(value) for value in values):
        return None
    low, high = min(values), max(values)
    return (low, high) if high - low <= SAME_RTOL * max(abs(low), abs(high)) else None


def flaws(readings: Sequence[Reading], names: Sequence[str], *, rtol: float,
          threshold: float = score.CHECKER_THRESHOLD) -> list[str]:
    """What the checker's numbers reveal about how it is wrong, in words (empty for a sound checker)."""
    valued = [r for r in readings if r.value is not None]
    mutants = [r for r in valued if r.probe.kind == "mutant"]
    found = []
    if len(valued) >= 2 and all(abs(r.value) < 1e-15 for r in valued):
        found.append("it returns 0 for every input, even for gradients the course method finds "
                     f"{max(r.expected['course'] for r in valued):.2g} wrong: it compares the gradient with "
                     "itself, or never computes the difference")
        return found
    same = constant_value(readings)
    if same is not None:
        low, high = same
        told = f"{low:.3g}" if low == high else f"about {high:.3g} ({low:.7g} to {high:.7g})"
        if high >= threshold:
            found.append(f"it returns {told} for correct and wrong gradients alike: it rejects correct gradients "
                         "too: its result does not depend on them")
        else:
            found.append(f"it returns {told} for correct and wrong gradients alike: it accepts wrong gradients "
                         "too: its result does not depend on them")
        return found
    broken = [r for r in valued if not math.isfinite(r.value) or r.value < 0]
    if broken:
        found.append(f"it returns {broken[0].value:.3g} on {broken[0].probe.name}: a difference of norms is a finite "
                     "number >= 0 (look for a division by zero or a subtraction the wrong way round)")
    reference = next((r for r in valued if r.probe.kind == "reference" and r.probe.profile == "course"), None)
    wide = next((r for r in valued if r.probe.kind == "epsilon" and r.problem != NO_EPSILON), None)
    if reference is not None and wide is not None and not wide.agrees and reference.value != 0 \
            and abs(wide.value - reference.value) <= 1e-9 * abs(reference.value) \
            and not agrees(reference.expected["course"], wide.expected["course"], rtol=0.5):
        found.append(f"it returns {wide.value:.3g} with epsilon={wide.probe.epsilon:g} as with "
                     f"epsilon={reference.probe.epsilon:g}, where the course method gives {wide.expected['course']:.3g}: "
                     "it ignores the epsilon it is given")
    course_mutants = [r for r in mutants if r.probe.profile == "course"]
    if not all(r.agrees for r in course_mutants):
        for variant, text in FLAWS.items():
            # The reference's own value at epsilon 1e-7 is rounding noise: it tells a variant only when large.
            scored = course_mutants + [r for r in valued if r.probe.kind == "reference"
                                     and r.probe.profile == "course" and r.expected[variant] > 1e-4]
            if len(scored) >= 2 and all(agrees(r.value, r.expected[variant], rtol=rtol) for r in scored):
                witness = max(scored, key=lambda r: abs(r.value - r.expected["course"]) / r.expected["course"])
                found.append(text.format(example=_example(witness)))
                break
    missed = [r for r in mutants if r.ok is False]
    caught = [r for r in mutants if r.ok]
    if missed and caught:
        order = {name: index for index, name in enumerate(names)}
        first_missed = min(order[p] for r in missed for p in r.probe.parameters)
        last_caught = max(min(order[p] for p in r.probe.parameters) for r in caught)
        if last_caught < first_missed:
            late = sorted({p for r in missed for p in r.probe.parameters}, key=order.get)
            early = sorted({min(r.probe.parameters, key=order.get) for r in caught}, key=order.get)
            found.append(f"it catches wrong gradients in {', '.join(early)} but misses every one that changes "
                         f"only {', '.join(late)}: it checks only the first entries of theta")
    return found


def credited(reading: Reading, accepted: set[tuple[str, int]]) -> bool:
    """Whether a known bug the checker rejected counts as caught: only when it accepted the correct gradients
    of the same case, so that rejecting tells something about the gradients (a checker that returns 1 for
    everything rejects every bug and the correct gradients alike)."""
    return bool(reading.ok) and (reading.probe.profile, reading.probe.case_index) in accepted


def accepted_cases(readings: Sequence[Reading]) -> set[tuple[str, int]]:
    """The (profile, case index) of every case whose correct gradients the checker accepted."""
    return {(r.probe.profile, r.probe.case_index) for r in readings if r.probe.kind == "reference" and r.ok}


def depends_on_inputs(readings: Sequence[Reading]) -> bool:
    """Whether the checker returns numbers that follow the gradients it is given: at least two numbers at the
    course epsilon, not all about the same."""
    numbers = [r for r in readings if r.value is not None and r.probe.kind in ("reference", "mutant")
               and r.probe.epsilon == COURSE_EPSILON]
    return len(numbers) >= 2 and constant_value(readings) is None
