"""Grade a student's own gradient checker: run it on the reference and on known-bad gradients, judge its numbers.

The checker gets the course's public case with the reference gradients (it must accept them), the same
gradients with a large epsilon (its value must follow the epsilon it is given) and a few catalogued mutants'
gradients (it must reject each, with the value the course method gives). A few representatives stand for
the whole catalogue: one per operator family and distinct gradients, every parameter block covered, so a
checker costs at most MAX_COURSE_MUTANTS + MAX_SQUARE_MUTANTS + 3 calls. three_layer's gradient_check_n
and l_layer's gradient_checking are graded this way; one_d's gradient_check on its own small mutant set.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from grader import assignments
from grader.grading import score
from grader.mutation import mutate
from grader.numerics import check
from grader.sandbox import wire
from grader.assignments import Assignment
from grader.results import CaseResult, CheckResult, Status
from grader.sandbox.run import Call, CallOutcome, CallStatus, SandboxRun
from grader.sandbox.wire import Opaque

KIND = "checker"
COURSE_EPSILON = 1e-7
# Large enough that the course method's value is truncation error (1.7e-6 on the public case, 14 times its
# value at 1e-7), so a checker that ignores the epsilon it is given shows; small enough to stay a check.
WIDE_EPSILON = 1e-2
# A checker whose values on correct and wrong gradients all lie this close (relatively) computes nothing that
# depends on them: the correct gradients give about 1e-7 and the known bugs 1e-3 or more, six decades apart,
# while a checker that forgets to divide by 2 * epsilon returns 1 - 4e-7 or so for every one of them.
SAME_RTOL = 1e-4
MAX_COURSE_MUTANTS = 6
MAX_SQUARE_MUTANTS = 1
# The course's planted bugs are always among the representatives.
PLANTED = (("scale-double-gradient", "dW2"), ("scale-quadruple-m", "db1"))
# The helpers a notebook has in scope: the course's, unless the submission defines its own.
COURSE_HELPERS = {
    "forward_propagation_n": "course_forward:forward_propagation_n",
    "dictionary_to_vector": "gc_utils:dictionary_to_vector",
    "vector_to_dictionary": "gc_utils:vector_to_dictionary",
    "gradients_to_vector": "gc_utils:gradients_to_vector",
    "relu": "gc_utils:relu",
    "sigmoid": "gc_utils:sigmoid",
}
# one_d's checker, gradient_check(x, theta, epsilon), calls the student's own backward_propagation: each
# probe binds the reference's or a mutant's over it for that call (sandbox.Call.bind).
ONE_D_HELPERS = {"forward_propagation": "course_forward:forward_propagation"}
# one_d's J is linear in theta, so its gradapprox does not depend on epsilon: no wide-epsilon probe there.
# Two points, so that no two of its mutants give the same numbers.
ONE_D_CASES = (0, 2)
# l_layer's gradient_checking(params, grads, X, Y, epsilon) calls the notebook's forward pass, cost and
# vector helpers; the course's are size-agnostic, so the square probe is the deeper 3-3-3-3-1 network.
L_LAYER_HELPERS = {name: f"course_l_layer:{name}" for name in
                   ("L_layer_forward", "cost_func", "params_to_vector", "grads_to_vector", "vector_to_params")}
SQUARE_CASE = {"l_layer": 1}
# Why square-size probes did not count, when the checker rejects the square reference.
SQUARE_SKIPPED = {"three_layer": "skipped: its helpers work only for the course's 4-5-3-1 sizes"}
SUPPORTED = ("three_layer", "one_d", "l_layer")


@dataclass(frozen=True)
class Probe:
    """One call of the student's checker: which gradients, which epsilon, and what the course method says."""

    name: str
    kind: str  # "reference", "epsilon" or "mutant"
    operator: str
    family: str
    profile: str
    gradients: Mapping[str, np.ndarray]
    epsilon: float
    parameters: tuple[str, ...] = ()
    case_index: int = 0
    bind: Mapping[str, str] = field(default_factory=dict)


def function_name(assignment: Assignment) -> str | None:
    """The checker this grader grades, for the assignments whose checker signature it knows."""
    return assignment.checker if assignment.name in SUPPORTED else None


def inject(assignment: Assignment, settings: Any) -> dict[str, str]:
    """The course helpers a notebook's checker relies on, for a submission that does not define them."""
    if assignment.name == "one_d":
        return dict(ONE_D_HELPERS)
    if assignment.name == "l_layer":
        return dict(L_LAYER_HELPERS)
    return dict(COURSE_HELPERS) if assignment.name in SUPPORTED else {}


def _public(assignment: Assignment, profile: str, index: int = 0):
    return assignment.cases(profile=profile)[index]


def _square_index(assignment: Assignment) -> int:
    return SQUARE_CASE.get(assignment.name, 0)


def _names(assignment: Assignment, profile: str = "course", index: int = 0) -> tuple[str, ...]:
    """The gradients a probe's case has (l_layer's depend on its depth)."""
    return assignment.case_gradient_names(index, profile=profile)


def _changed(gradients: Mapping[str, np.ndarray], reference: Mapping[str, np.ndarray], names: Sequence[str]) -> tuple[str, ...]:
    return tuple(name for name in names if gradients[name].shape != reference[name].shape
                 or not np.allclose(gradients[name], reference[name], rtol=1e-9, atol=0))


@functools.lru_cache(maxsize=4)
def probes(assignment_name: str) -> tuple[Probe, ...]:
    """The checker's probes: reference twice (course and wide epsilon), then mutant representatives."""
    assignment = assignments.get(assignment_name)
    module = assignment.module
    if hasattr(module, "MUTANTS"):
        return tuple(listed_probes(assignment))
    reference = module.reference_gradients(_public(assignment, "course"))
    found = [Probe("reference", "reference", "reference", "reference", "course", reference, COURSE_EPSILON),
             Probe("reference-wide-epsilon", "epsilon", "reference", "reference", "course", reference, WIDE_EPSILON)]
    found += representatives(assignment, "course", MAX_COURSE_MUTANTS)
    index = _square_index(assignment)
    square = module.reference_gradients(_public(assignment, "square", index))
    found.append(Probe("reference-square", "reference", "reference", "reference", "square", square, COURSE_EPSILON,
                       case_index=index))
    found += representatives(assignment, "square", MAX_SQUARE_MUTANTS, case_index=index)
    return tuple(found)


def listed_probes(assignment: Assignment) -> list[Probe]:
    """Probes of an assignment with its own small mutant set (one_d): the reference and every mutant, each
    bound over the student's backward pass, on a few cases."""
    module, names = assignment.module, assignment.gradient_names
    found = []
    for index in ONE_D_CASES:
        case = _public(assignment, "course", index)
        reference = module.reference_gradients(case)
        found.append(Probe(f"reference@{case.name}", "reference", "reference", "reference", "course", reference,
                           COURSE_EPSILON, case_index=index,
                           bind={assignment.backward: module.REFERENCE_BACKWARD_SOURCE}))
        for mutant_id, operator, family, _, _ in module.MUTANTS:
            gradients = module.mutant_gradients(mutant_id, case)
            found.append(Probe(f"{mutant_id}@{case.name}", "mutant", operator, family, "course", gradients,
                               COURSE_EPSILON, _changed(gradients, reference, names), case_index=index,
                               bind={assignment.backward: module.mutant_source(mutant_id)}))
    return found


def _mutant_gradients(assignment: Assignment, record: Any, profile: str, case_index: int = 0
                      ) -> dict[str, np.ndarray] | None:
    """A mutant's gradients on a case, only those the case has (l_layer's also returns dA); None when it
    crashes or leaves one out."""
    names = _names(assignment, profile, case_index)
    gradients = mutate.mutant_gradients(assignment.name, record.id, profile, case_index)
    if gradients is None or any(name not in gradients for name in names):
        return None
    return {name: np.asarray(gradients[name], dtype=np.float64) for name in names}


def representatives(assignment: Assignment, profile: str, limit: int, *, case_index: int = 0) -> list[Probe]:
    """A few value mutants standing for the catalogue on one profile.

    On the course profile: the planted bugs, then for each parameter block not yet covered the mutant that
    changes the fewest blocks besides it (last blocks first, so a checker that looks only at the first
    entries shows), then one per family, then the mutants that change the fewest blocks.
    On the square profile: only mutants that crash on the course sizes (swapped or untransposed operands).
    """
    records = mutate.catalogue(assignment.name)
    names = _names(assignment, profile, case_index)
    reference = assignment.module.reference_gradients(_public(assignment, profile, case_index))
    candidates = []
    for record in records:
        if record.status is not mutate.MutantStatus.KILLED:
            continue
        if profile == "square" and _mutant_gradients(assignment, record, "course") is not None:
            continue
        gradients = _mutant_gradients(assignment, record, profile, case_index)
        if gradients is None:
            continue
        if not all(np.all(np.isfinite(gradients[name])) for name in names):
            continue
        changed = _changed(gradients, reference, names)
        if not changed or any(gradients[name].shape != reference[name].shape for name in names):
            continue
        candidates.append((record, gradients, changed))
    chosen: list[tuple[Any, dict, tuple]] = []
    signatures: set[bytes] = set()

    def take(entry) -> bool:
        signature = np.round(check.flatten(entry[1], names)[:, None], 12).tobytes()
        if signature in signatures or len(chosen) >= limit:
            return False
        signatures.add(signature)
        chosen.append(entry)
        return True

    for operator, parameter in PLANTED:
        for entry in candidates:
            if entry[0].operator == operator and entry[2] == (parameter,) and take(entry):
                break
    # A checker that looks only at the first entries of theta catches every mutant that changes the first
    # block, so one mutant leaves it alone when the catalogue has one (three_layer's planted bugs do;
    # every l_layer mutant that changes the last blocks changes the first too).
    if all(names[0] in entry[2] for entry in chosen):
        spare_first = [entry for entry in candidates if names[0] not in entry[2]]
        spare_first.sort(key=lambda entry: (len(entry[2]), -max(names.index(name) for name in entry[2])))
        for entry in spare_first:
            if take(entry):
                break
    families = {entry[0].family for entry in chosen}
    for parameter in reversed(names):
        if any(parameter in entry[2] for entry in chosen):
            continue
        # three_layer has a mutant of each block alone; l_layer's change two blocks or more.
        only = [entry for entry in candidates if parameter in entry[2]]
        only.sort(key=lambda entry: (len(entry[2]), entry[0].family in families))
        for entry in only:
            if take(entry):
                families.add(entry[0].family)
                break
    for entry in candidates:
        if entry[0].family not in families and take(entry):
            families.add(entry[0].family)
    # Slots left (l_layer's families are few): the mutants that change the fewest blocks.
    for entry in sorted(candidates, key=lambda entry: len(entry[2])):
        take(entry)
    return [Probe(record.id, "mutant", record.operator, record.family, profile, gradients, COURSE_EPSILON, changed,
                  case_index=case_index) for record, gradients, changed in chosen]


def calls(assignment: Assignment, settings: Any) -> list[Call]:
    """One call of the student's checker per probe: (parameters, gradients, X, Y, epsilon), positionally
    (l_layer's names them params and grads), epsilon fitted to the signature the student wrote (by keyword
    where it has an epsilon parameter, left out where it takes no fifth argument).

    Where square-size readings count only when the checker accepts the square reference (SQUARE_SKIPPED),
    the square mutants run only then: the sandbox skips them otherwise.
    """
    threshold = score.rubric_of(settings).checker_threshold
    # Every probe on a case perturbs the same parameters: the checker's forward passes repeat from one
    # probe to the next, and the child computes each once (grader.reuse).
    reuse = (assignment.forward,) if assignment.forward else ()
    found: list[Call] = []
    square_reference = None
    for probe in probes(assignment.name):
        if probe.profile == "square" and probe.kind == "reference":
            square_reference = len(found)
        waits = (len(found) - square_reference, threshold) if (
            probe.profile == "square" and probe.kind == "mutant" and square_reference is not None
            and assignment.name in SQUARE_SKIPPED) else None
        case = _public(assignment, probe.profile, probe.case_index)
        if assignment.name == "one_d":
            found.append(Call(assignment.checker, (float(case.X), float(case.parameters["theta"]), probe.epsilon),
                              arg_names=("x", "theta", "epsilon"), bind=dict(probe.bind), reuse=reuse,
                              optional=("epsilon",)))
            continue
        arg_names = ("params", "grads") if assignment.name == "l_layer" else ("parameters", "gradients")
        found.append(Call(assignment.checker, (dict(case.parameters), dict(probe.gradients), case.X, case.Y,
                                               probe.epsilon),
                          arg_names=arg_names + ("X", "Y", "epsilon"), only_if_below=waits, reuse=reuse,
                          optional=("epsilon",)))
    return found


# --- What the course method says, and what known-wrong checkers would say --------------------------


@functools.lru_cache(maxsize=16)
def _gradapprox(assignment_name: str, profile: str, epsilon: float, *, half: bool = False,
                case_index: int = 0) -> np.ndarray:
    """The course's gradapprox on a case; half=True: thetaminus left at theta (thetaplus reused)."""
    assignment = assignments.get(assignment_name)
    module = assignment.module
    case = _public(assignment, profile, case_index)
    if assignment_name == "one_d":
        x, theta = float(case.X), float(case.parameters["theta"])
        J_minus = module.forward_propagation(x, theta if half else theta - epsilon)
        gradapprox = np.array([[(module.forward_propagation(x, theta + epsilon) - J_minus) / (2 * epsilon)]])
        gradapprox.setflags(write=False)
        return gradapprox
    # reuse_thetaplus: thetaminus left at theta, half the course's gradapprox.
    gradapprox = module.course_gradapprox(case.parameters, case.X, case.Y, epsilon, reuse_thetaplus=half)
    gradapprox.setflags(write=False)
    return gradapprox


def _norms(grad: np.ndarray, gradapprox: np.ndarray) -> tuple[float, float, float]:
    return (float(np.linalg.norm(grad - gradapprox)), float(np.linalg.norm(grad)), float(np.linalg.norm(gradapprox)))


def variants(assignment_name: str, probe: Probe) -> dict[str, float]:
    """The value the course method gives for a probe, and the values of known-wrong checkers."""
    names = _names(assignments.get(assignment_name), probe.profile, probe.case_index)
    grad = check.flatten(probe.gradients, names)[:, None]
    at = {"case_index": probe.case_index}
    numerator, norm_grad, norm_approx = _norms(grad, _gradapprox(assignment_name, probe.profile, probe.epsilon, **at))
    half = _norms(grad, _gradapprox(assignment_name, probe.profile, probe.epsilon, half=True, **at))
    fixed = _norms(grad, _gradapprox(assignment_name, probe.profile, COURSE_EPSILON, **at))
    return {
        "course": numerator / (norm_grad + norm_approx),
        "no-denominator": numerator,
        "squared-norms": numerator ** 2 / (norm_grad ** 2 + norm_approx ** 2),
        "squared-difference": (numerator / (norm_grad + norm_approx)) ** 2,
        "thetaplus-reused": half[0] / (half[1] + half[2]),
        "fixed-epsilon": fixed[0] / (fixed[1] + fixed[2]),
    }


@functools.lru_cache(maxsize=4)
def expectations(assignment_name: str) -> tuple[dict[str, float], ...]:
    """variants() of every probe, in probes() order: they depend on the assignment alone, so they are
    computed once, not for every submission."""
    return tuple(variants(assignment_name, probe) for probe in probes(assignment_name))


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


# The wide-epsilon probe of a checker whose signature takes no epsilon: called without one, it cannot follow it.
NO_EPSILON = "not applicable: its signature takes no epsilon, so it was called without one"


# --- Judging the student's numbers --------------------------------------------------------------------


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
    if assignment.name in SQUARE_SKIPPED:
        return SQUARE_SKIPPED[assignment.name]
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
    expected = expectations(assignment.name)
    readings = [read(probe, variant, outcome, threshold=threshold, rtol=rtol)
                for probe, variant, outcome in zip(probes(assignment.name), expected, outcomes)]
    # three_layer's square-size calls only count when the checker accepts the square reference: the
    # course's vector_to_dictionary knows only the 4-5-3-1 sizes, so failing there (or returning nonsense)
    # is what the course's own helpers do, not a flaw of the checker. l_layer's course helpers take any
    # sizes, so there its square-size calls always count.
    square_reference = next((r for r in readings if r.probe.profile == "square" and r.probe.kind == "reference"), None)
    square_ok = square_reference is not None and bool(square_reference.ok)
    counted = [r for r in readings if r.probe.profile == "course" or square_ok or assignment.name not in SQUARE_SKIPPED]
    # The calls whose crashes count (three_layer's square ones do not, as above).
    strict = [r for r in counted if r.probe.profile == "course" or assignment.name not in SQUARE_SKIPPED]
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
    elif assignment.name not in SQUARE_SKIPPED and square_reference is not None and square_reference.ok is False \
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
