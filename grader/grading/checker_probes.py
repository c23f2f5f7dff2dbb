"""The probes a student's gradient checker is called on: the reference gradients and a few catalogued mutants'."""
from __future__ import annotations

import inspect
import textwrap
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from grader import assignments
from grader import spec as api
from grader.mutation import catalogue
from grader.mutation.records import MutantStatus
from grader.numerics import check
from grader.assignments import Assignment, specs

COURSE_EPSILON = 1e-7
# Large enough that the course method's value is truncation error (1.7e-6 on the public case, 14 times its
# value at 1e-7), so a checker that ignores the epsilon it is given shows; small enough to stay a check.
WIDE_EPSILON = 1e-2
MAX_COURSE_MUTANTS = 6
MAX_SQUARE_MUTANTS = 1
# The course's planted bugs are always among the representatives.
PLANTED = (("scale-double-gradient", "dW2"), ("scale-quadruple-m", "db1"))
# An assignment with its own small mutant set (a one-line backward pass, J = theta * x) is linear in its
# parameter, so its gradapprox does not depend on epsilon: no wide-epsilon probe there. Two points, so that
# no two of its mutants give the same numbers.
LISTED_CASES = (0, 2)


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


def _public(assignment: Assignment, profile: str, index: int = 0):
    return assignment.cases(profile=profile)[index]


def _square_index(assignment: Assignment) -> int:
    return assignment.declared(api.Checker).square_case


def _names(assignment: Assignment, profile: str = "course", index: int = 0) -> tuple[str, ...]:
    """The gradients a probe's case has (they may depend on its network's depth)."""
    return assignment.case_gradient_names(index, profile=profile)


def _changed(gradients: Mapping[str, np.ndarray], reference: Mapping[str, np.ndarray], names: Sequence[str]) -> tuple[str, ...]:
    return tuple(name for name in names if gradients[name].shape != reference[name].shape
                 or not np.allclose(gradients[name], reference[name], rtol=1e-9, atol=0))


@assignments.cached
def probes(assignment: Assignment) -> tuple[Probe, ...]:
    """The checker's probes: reference twice (course and wide epsilon), then mutant representatives."""
    module = assignment.module
    if hasattr(module, "MUTANTS"):
        return tuple(listed_probes(assignment))
    reference = assignment.reference_gradients(_public(assignment, "course"))
    found = [Probe("reference", "reference", "reference", "reference", "course", reference, COURSE_EPSILON),
             Probe("reference-wide-epsilon", "epsilon", "reference", "reference", "course", reference, WIDE_EPSILON)]
    found += representatives(assignment, "course", MAX_COURSE_MUTANTS)
    index = _square_index(assignment)
    square = assignment.reference_gradients(_public(assignment, "square", index))
    found.append(Probe("reference-square", "reference", "reference", "reference", "square", square, COURSE_EPSILON,
                       case_index=index))
    found += representatives(assignment, "square", MAX_SQUARE_MUTANTS, case_index=index)
    return tuple(found)


def listed_probes(assignment: Assignment) -> list[Probe]:
    """Probes of an assignment with its own small mutant set (module.MUTANTS): the reference and every
    mutant, each bound over the student's backward pass (which their checker calls), on a few cases."""
    module, names = assignment.module, assignment.gradient_names
    found = []
    for index in LISTED_CASES:
        case = _public(assignment, "course", index)
        reference = assignment.reference_gradients(case)
        found.append(Probe(f"reference@{case.name}", "reference", "reference", "reference", "course", reference,
                           COURSE_EPSILON, case_index=index,
                           bind={assignment.backward: _source(assignment)}))
        for mutant_id, operator, family, _, _ in module.MUTANTS:
            gradients = module.mutant_gradients(mutant_id, case)
            found.append(Probe(f"{mutant_id}@{case.name}", "mutant", operator, family, "course", gradients,
                               COURSE_EPSILON, _changed(gradients, reference, names), case_index=index,
                               bind={assignment.backward: module.mutant_source(mutant_id)}))
    return found


def _source(assignment: Assignment) -> str:
    """The reference backward pass's definition, to bind over the student's for a probe."""
    return textwrap.dedent(inspect.getsource(specs.reference(assignment.module, assignment.backward)))


def _mutant_gradients(assignment: Assignment, record: Any, profile: str, case_index: int = 0
                      ) -> dict[str, np.ndarray] | None:
    """A mutant's gradients on a case, only those the case has (a backward pass may also return dA); None when it
    crashes or leaves one out."""
    names = _names(assignment, profile, case_index)
    gradients = catalogue.mutant_gradients(assignment, record.id, profile, case_index)
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
    records = catalogue.catalogue(assignment)
    names = _names(assignment, profile, case_index)
    reference = assignment.reference_gradients(_public(assignment, profile, case_index))
    candidates = []
    for record in records:
        if record.status is not MutantStatus.KILLED:
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
    # block, so one mutant leaves it alone when the catalogue has one (a fixed-size network's planted bugs
    # do; in an any-depth network's catalogue every mutant that changes the last blocks changes the first too).
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
        # A fixed-size network's catalogue has a mutant of each block alone; an any-depth one's change two or more.
        only = [entry for entry in candidates if parameter in entry[2]]
        only.sort(key=lambda entry: (len(entry[2]), entry[0].family in families))
        for entry in only:
            if take(entry):
                families.add(entry[0].family)
                break
    for entry in candidates:
        if entry[0].family not in families and take(entry):
            families.add(entry[0].family)
    # Slots left (where the families are few): the mutants that change the fewest blocks.
    for entry in sorted(candidates, key=lambda entry: len(entry[2])):
        take(entry)
    return [Probe(record.id, "mutant", record.operator, record.family, profile, gradients, COURSE_EPSILON, changed,
                  case_index=case_index) for record, gradients, changed in chosen]
