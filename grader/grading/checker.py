"""Grade a student's own gradient checker: run it on the reference and on known-bad gradients, judge its numbers.

The checker gets the course's public case with the reference gradients (it must accept them), the same
gradients with a large epsilon (its value must follow the epsilon it is given) and a few catalogued mutants'
gradients (it must reject each, with the value the course method gives). A few representatives stand for
the whole catalogue: one per operator family and distinct gradients, every parameter block covered, so a
checker costs at most MAX_COURSE_MUTANTS + MAX_SQUARE_MUTANTS + 3 calls. An assignment with its own small
mutant set (a one-line backward pass) probes the checker on that set instead. What the checker takes, the
course helpers it calls and whether square-size readings count come from the spec's Checker declaration.
"""
from __future__ import annotations

import inspect
import math
from typing import Any, Sequence

from grader import spec as api
from grader.grading import score
from grader.grading.checker_probes import MAX_COURSE_MUTANTS, MAX_SQUARE_MUTANTS, WIDE_EPSILON, _names, _public, probes
from grader.grading.checker_reading import (NO_EPSILON, Reading, accepted_cases, constant_value, credited,
                                            depends_on_inputs, flaws, read)
from grader.grading.checker_variants import expectations
from grader.assignments import Assignment, specs
from grader.results import CaseResult, CheckResult, Status
from grader.sandbox.run import Call, CallOutcome, CallStatus, SandboxRun

KIND = "checker"


def function_name(assignment: Assignment) -> str | None:
    """The checker this grader grades (the spec's Checker declaration), or None."""
    return assignment.checker


def _skipped(assignment: Assignment) -> str | None:
    """Why square-size readings did not count when the checker rejects the square reference (None: they count)."""
    return assignment.declared(api.Checker).square_skipped


def inject(assignment: Assignment, settings: Any) -> dict[str, str]:
    """The course helpers a notebook's checker relies on, for a submission that does not define them."""
    return dict(assignment.declared(api.Checker).helpers)


def calls(assignment: Assignment, settings: Any, *, start: int = 0) -> list[Call]:
    """One call of the student's checker per probe: the declaration's args (the case's inputs and the
    probe's gradients), then epsilon fitted to the signature the student wrote (by keyword where it has an
    epsilon parameter, left out where it takes no further argument).

    Where square-size readings count only when the checker accepts the square reference (square_skipped),
    the square mutants run only then: the sandbox skips them otherwise.
    """
    declared = assignment.declared(api.Checker)
    parameters = tuple(inspect.signature(specs.reference(assignment.module, declared.function)).parameters)
    threshold = score.rubric_of(settings).checker_threshold
    # Every probe on a case perturbs the same parameters: the checker's forward passes repeat from one
    # probe to the next, and the child computes each once (grader.reuse).
    reuse = (assignment.forward,) if assignment.forward else ()
    found: list[Call] = []
    square_reference = None
    for probe in probes(assignment):
        if probe.profile == "square" and probe.kind == "reference":
            square_reference = len(found)
        waits = (len(found) - square_reference, threshold) if (
            probe.profile == "square" and probe.kind == "mutant" and square_reference is not None
            and declared.square_skipped is not None) else None
        case = _public(assignment, probe.profile, probe.case_index)
        args = tuple(declared.args(case.inputs, probe.gradients))
        found.append(Call(declared.function, args + (probe.epsilon,), arg_names=parameters[:len(args)] + ("epsilon",),
                          bind=dict(probe.bind), only_if_below=waits, reuse=reuse, optional=("epsilon",)))
    return found


def _details(readings: Sequence[Reading], *, threshold: float, crashed: bool, found: Sequence[str]) -> dict[str, Any]:
    mutants = [r for r in readings if r.probe.kind == "mutant"]
    references = [r for r in readings if r.probe.kind == "reference"]
    compared = [r for r in readings if r.agrees is not None]
    accepted_on = accepted_cases(readings)
    families: dict[str, dict[str, int]] = {}
    for r in mutants:
        entry = families.setdefault(r.probe.family, {"caught": 0, "total": 0})
        entry["caught"] += credited(r, accepted_on)
        entry["total"] += 1
    accepted = all(r.ok for r in references) and bool(references)
    caught = sum(1 for r in mutants if credited(r, accepted_on))
    return {
        "threshold": threshold,
        "reference_accepted": accepted,
        "false_alarms": [r.probe.name for r in references if r.ok is False],
        "probes": len(mutants),
        # caught: rejected while the same case's correct gradients were accepted; rejected: all it rejected.
        "caught": caught,
        "rejected": sum(1 for r in mutants if r.ok),
        "discriminates": caught > 0,
        "depends_on_inputs": depends_on_inputs(readings),
        "compared": len(compared),
        "agreeing": sum(1 for r in compared if r.agrees),
        "crashed": crashed,
        "families": families,
        "missed_families": sorted({r.probe.family for r in mutants if not credited(r, accepted_on)}),
        "flaws": list(found),
        "mutants": [{"mutant": r.probe.name, "operator": r.probe.operator, "family": r.probe.family,
                     "profile": r.probe.profile, "parameters": list(r.probe.parameters),
                     "caught": credited(r, accepted_on), "rejected": bool(r.ok),
                     "ran": r.status is CallStatus.OK, "status": r.status.value,
                     "value": _finite(r.value), "expected": _finite(r.expected["course"]),
                     "agrees": r.agrees, "problem": r.problem} for r in mutants],
        "readings": [{"probe": r.probe.name, "kind": r.probe.kind, "profile": r.probe.profile,
                      "epsilon": r.probe.epsilon, "value": _finite(r.value),
                      "expected": _finite(r.expected["course"]), "problem": r.problem} for r in readings],
        "limit": f"{MAX_COURSE_MUTANTS} course-size and {MAX_SQUARE_MUTANTS} square-size mutant representatives "
                 "(one per operator family and distinct gradients)",
    }


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _case(reading: Reading, threshold: float, accepted: set[tuple[str, int]]) -> CaseResult:
    probe = reading.probe
    if reading.value is None:
        return CaseResult(probe.name, Status.ERROR if reading.status is CallStatus.ERROR else Status.FAIL, None, reading.problem)
    expected = reading.expected["course"]
    if probe.kind == "reference":
        verdict = "accepted" if reading.ok else f"rejected (not below {threshold:g}): a false alarm"
        return CaseResult(probe.name, Status.PASS if reading.ok else Status.FAIL, reading.value,
                          f"correct gradients {verdict}")
    agreement = "agrees with" if reading.agrees else "disagrees with"
    if probe.kind == "epsilon":
        return CaseResult(probe.name, Status.PASS if reading.agrees else Status.FAIL, reading.value,
                          f"epsilon={probe.epsilon:g}: {agreement} the course method's {expected:.3g}")
    counts = credited(reading, accepted)
    verdict = "caught" if counts else (
        "rejected, not counted: the correct gradients were rejected too" if reading.ok else "missed")
    status = Status.PASS if counts and reading.agrees else Status.FAIL
    return CaseResult(f"{probe.name} ({probe.profile})" if probe.profile != "course" else probe.name, status,
                      reading.value, f"{verdict} ({', '.join(probe.parameters)} wrong); {agreement} the course "
                                     f"method's {expected:.3g}")


def _square_sizes(assignment: Assignment, reading: Reading | None) -> str:
    """What became of the square-size probes, for the report."""
    if reading is None:
        return "not probed"
    if reading.ok:
        return "checked"
    if _skipped(assignment) is not None:
        return _skipped(assignment)
    return f"checked: on the correct gradients of the {_square_network(assignment, reading)} it {_got(reading)}"


def _square_network(assignment: Assignment, reading: Reading) -> str:
    return f"{_public(assignment, 'square', reading.probe.case_index).name} network"


def _got(reading: Reading) -> str:
    return reading.problem if reading.value is None else f"returns {reading.value:.3g}"


def judge(assignment: Assignment, outcomes: Sequence[CallOutcome], run: SandboxRun, settings: Any) -> CheckResult:
    """The CheckResult of the student's checker from its outcomes, one per probe in calls() order."""
    rubric = score.rubric_of(settings)
    threshold, rtol = rubric.checker_threshold, rubric.value_rtol
    name = assignment.checker
    if all(outcome.status is CallStatus.MISSING for outcome in outcomes):
        return CheckResult(name, Status.MISSING, None, threshold, f"{name} is not defined in the submission")
    expected = expectations(assignment)
    readings = [read(probe, variant, outcome, threshold=threshold, rtol=rtol)
                for probe, variant, outcome in zip(probes(assignment), expected, outcomes)]
    # Where the course helpers know only the course's sizes (square_skipped), square-size calls only count
    # when the checker accepts the square reference: failing there (or returning nonsense) is what the
    # course's own helpers do, not a flaw of the checker. Elsewhere square-size calls always count.
    skipped = _skipped(assignment) is not None
    square_reference = next((r for r in readings if r.probe.profile == "square" and r.probe.kind == "reference"), None)
    square_ok = square_reference is not None and bool(square_reference.ok)
    counted = [r for r in readings if r.probe.profile == "course" or square_ok or not skipped]
    # The calls whose crashes count (not the square ones where the helpers know only the course's sizes).
    strict = [r for r in counted if r.probe.profile == "course" or not skipped]
    broken = [r for r in strict if r.value is None]
    crashed = any(r.status is not CallStatus.OK for r in broken)
    found = flaws(counted, _names(assignment), rtol=rtol, threshold=threshold)
    details = _details(counted, threshold=threshold, crashed=crashed, found=found)
    details["square_sizes"] = _square_sizes(assignment, square_reference)
    # A probe that does not apply to the signature the student wrote is no case of theirs (the message says so).
    cases = tuple(_case(r, threshold, accepted_cases(counted)) for r in counted if r.problem != NO_EPSILON)
    no_epsilon = any(r.problem == NO_EPSILON for r in counted)
    if no_epsilon:
        details["epsilon"] = f"{name} takes no epsilon: it was called without one; the epsilon={WIDE_EPSILON:g} " \
                             "probe does not apply"
    reference = next(r for r in readings if r.probe.kind == "reference" and r.probe.profile == "course")
    if len(broken) == len(strict):
        status = Status.TIMEOUT if any(r.status is CallStatus.TIMEOUT for r in broken) else Status.ERROR
        if not crashed:
            status = Status.FAIL
        message = f"on the reference gradients it {reference.problem}" + (f" ({run.message})" if run.message else "")
        return CheckResult(name, status, None, threshold, message, cases=cases, details=details)
    summary = (f"caught {details['caught']} of {details['probes']} known bugs; "
               f"{'accepted' if details['reference_accepted'] else 'rejected'} the correct gradients"
               f"{'' if reference.value is None else f' (difference {reference.value:.3g})'}; "
               f"values agree with the course method on {details['agreeing']} of {details['compared']}")
    problems = list(found)
    uncounted = details["rejected"] - details["caught"]
    if uncounted and constant_value(counted) is None:
        problems.append(f"{uncounted} of the known bugs it rejected do not count as caught: it rejected the correct "
                        "gradients of the same case too")
    if details["missed_families"] and constant_value(counted) is None:
        problems.append(f"missed bugs of the families {', '.join(details['missed_families'])}")
    if broken:
        where = broken[0].probe.name
        if broken[0].probe.profile != "course" and broken[0].probe.kind == "reference":
            where += f" (the correct gradients of the {_square_network(assignment, broken[0])})"
        problems.append(f"{where}: {broken[0].problem}")
    elif not skipped and square_reference is not None and square_reference.ok is False \
            and reference.ok:
        problems.append(f"a false alarm on the correct gradients of the {_square_network(assignment, square_reference)}: "
                        f"it {_got(square_reference)}")
    if not found:
        disagreeing = [r for r in counted if r.agrees is False]
        if disagreeing:
            problems.append(f"on {disagreeing[0].probe.name} it returns {disagreeing[0].value:.3g}, the course "
                            f"method {disagreeing[0].expected['course']:.3g}")
    passed = (details["reference_accepted"] and details["caught"] == details["probes"]
              and details["agreeing"] == details["compared"] and not broken)
    message = summary + ("" if passed else ". " + "; ".join(problems))
    if no_epsilon:
        message += f". {details['epsilon']}"
    return CheckResult(name, Status.PASS if passed else Status.FAIL, reference.value, threshold, message,
                       cases=cases, details=details)
