"""Name the bug in a failing function of a spec assignment: match what it returned (or raised) to the spec's mutants.

The spec's catalogue (grader.mutation.spec_catalogue) holds every mutant's call outcomes on the course cases,
made once per Assignment; here they become matching candidates once per declared function, and each failing
submission is compared with them: a mutant whose values equal the student's wherever it is wrong names the
bug in its misconception's words; where none does, diagnose's descriptions say how the values are wrong. A
function that raised is matched by the very error a mutant raises on the same cases (a transpose left out).
"""
from __future__ import annotations

import dataclasses
import re
from typing import Any, Mapping, Sequence

import numpy as np

from grader import assignments
from grader import spec as api
from grader.assignments import Assignment, compare
from grader.assignments.specs import Prepared
from grader.grading import diagnose
from grader.grading.matching import Candidate, _changed, _targets_by_line
from grader.grading.source_lines import gradient_lines
from grader.mutation import spec_catalogue
from grader.mutation.records import MutantStatus
from grader.numerics import check
from grader.results import CheckResult, Diagnosis, Status
from grader.sandbox.run import CallOutcome, CallStatus

# The names of what is compared by value (a Loss's or Method's loss, a Value's output), not a gradient.
VALUES = {"loss", "value"}
# Where a sandbox message says the error was: " (line 12)", " (code cell 7, line 3)".
LOCATION = re.compile(r" \((?:code cell \d+, )?line \d+\)$")


def _error(outcome: CallOutcome) -> str | None:
    """The error an outcome raised, without where (mutants and students raise at different lines), or None."""
    return LOCATION.sub("", outcome.message) if outcome.status is CallStatus.ERROR else None


@dataclasses.dataclass(frozen=True)
class Suspects:
    """A declared function's candidates on the course cases, the expected values, and each mutant's errors."""

    items: tuple[Prepared, ...]
    trues: tuple[dict[str, np.ndarray], ...]
    candidates: tuple[Candidate, ...]
    errors: Mapping[str, tuple[str | None, ...]]


@assignments.cached
def suspects(assignment: Assignment, function: str) -> Suspects:
    """The declared function's mutants as candidates, made once per assignment object."""
    made = spec_catalogue.catalogue(assignment)
    target = next(target for target in made.targets if target.name == function)
    declared = target.declared
    items = made.benches[function].items.get("course", ())
    # The reference's own values (exact where the numerical gradients are within 1e-9 or so), as matching needs.
    trues = tuple(compare.named_values(declared, item, made.references[function][("course", item.case.name)])
                  for item in items)
    lines = _targets_by_line(target.source)
    candidates, errors = [], {}
    for record in made.run.mutants:
        if record.target != function or record.status in (MutantStatus.EQUIVALENT, MutantStatus.INVALID,
                                                          MutantStatus.DUPLICATE, MutantStatus.TIMEOUT):
            continue
        outcomes = [made.outcomes[record.id].get(("course", item.case.name)) for item in items]
        if any(outcome is None for outcome in outcomes):
            continue
        gradients = tuple(compare.named_values(declared, item, calls) for item, calls in zip(items, outcomes))
        candidates.append(Candidate(record.id, record.operator, record.misconception, gradients,
                                    _changed(gradients, trues), lines.get(record.line)))
        errors[record.id] = tuple(_error(_outcome(declared, calls)) for calls in outcomes)
    return Suspects(tuple(items), trues, tuple(candidates), errors)


def prepare(assignment: Assignment) -> None:
    """Make every declared function's suspects now (at plan time); a catalogue that cannot be made only
    leaves diagnoses out, as refine does."""
    for declared in assignment.functions:
        try:
            suspects(assignment, declared.function)
        except Exception:
            continue


def _outcome(declared: api.Function, calls: Sequence[CallOutcome]) -> CallOutcome:
    """The outcome of the function itself among a case's calls (a layer's: its backward's)."""
    return calls[1] if isinstance(declared, api.LayerBackward) and len(calls) > 1 else calls[0]


def refine(result: CheckResult, outcomes: Sequence[CallOutcome], assignment: Assignment, settings: Any, *,
           source: str = "") -> CheckResult:
    """The CheckResult with diagnoses naming the bug (unchanged when it passed, was missing, or no catalogue).

    A diagnosis is advice: if making it fails, the grade stands without it.
    """
    if result.status not in (Status.FAIL, Status.ERROR) or result.details.get("not_implemented"):
        return result
    try:
        found = _diagnoses(result, outcomes, assignment, settings, source)
    except Exception:
        return result
    return dataclasses.replace(result, diagnosis=found) if found else result


def _diagnoses(result: CheckResult, outcomes: Sequence[CallOutcome], assignment: Assignment, settings: Any,
               source: str) -> tuple[Diagnosis, ...]:
    declared = next(declared for declared in assignment.functions if declared.function == result.name)
    found = suspects(assignment, declared.function)
    per_case, start = [], 0
    for item in found.items:
        count = compare.calls_per_case(declared, item)
        per_case.append(list(outcomes[start:start + count]))
        start += count
    student = [compare.named_values(declared, item, calls) for item, calls in zip(found.items, per_case)]
    errors = tuple(_error(_outcome(declared, calls)) for calls in per_case)
    if any(errors):
        crash = _crash(declared, found, student, errors)
        return (crash,) if crash else ()
    lines = gradient_lines(source, declared.function) if source else {}
    overflow = _overflow(found, student, lines)
    if overflow:
        return (overflow,)
    names = list(dict.fromkeys(name for true in found.trues for name in true))
    found = diagnose.diagnose(student, list(found.trues), [0] * len(found.items), names,
                              candidates=found.candidates, lines=lines, threshold=settings.threshold)
    return tuple(_valued(diagnosis) for diagnosis in found)


def _overflow(found: Suspects, student: Sequence[Mapping[str, Any] | None], lines: Mapping[str, Any]
              ) -> Diagnosis | None:
    """When the function is right on every case but some, where its values are NaN or infinite and the
    reference's are finite: those cases' inputs make something overflow (a softmax without its max-shift)."""
    broken, names = [], set()
    for item, got, true in zip(found.items, student, found.trues):
        if got is None:
            return None
        bad = {name for name in true if not _finite(got.get(name))}
        if bad:
            broken.append(item.case.name)
            names |= bad
        elif not all(_equal(got.get(name), want) for name, want in true.items()):
            return None
    if not broken or len(broken) == len(found.items):
        return None
    shown = [name for name in found.trues[0] if name in names]
    verb = "is" if len(shown) == 1 else "are"
    where = f"case{'s' if len(broken) > 1 else ''} {', '.join(broken)}"
    return Diagnosis("", "overflow", f"{diagnose.subject(shown)} {verb} NaN or infinite on {where} only, and right on "
                     f"every other case: a value overflows on those inputs (np.exp of a large number is inf, and inf / "
                     f"inf is NaN); shift it first (a softmax is unchanged by subtracting each row's maximum)",
                     tuple(shown), min((lines[name].line for name in shown if name in lines), default=None))


def _finite(value: Any) -> bool:
    try:
        return bool(np.all(np.isfinite(np.asarray(value, dtype=np.float64))))
    except (TypeError, ValueError):
        return True


def _valued(diagnosis: Diagnosis) -> Diagnosis:
    """A diagnosis of a loss or value alone speaks of the true value, not of a true gradient."""
    if diagnosis.parameters and set(diagnosis.parameters) <= VALUES:
        return dataclasses.replace(diagnosis, hint=diagnosis.hint.replace("the true gradient", "the true value"))
    return diagnosis


def _crash(declared: api.Function, found: Suspects, student: Sequence[Mapping[str, Any] | None],
           errors: Sequence[str | None]) -> Diagnosis | None:
    """The mutant that raises the student's very errors on the same cases (and equals them elsewhere), if any."""
    for candidate in found.candidates:
        if found.errors.get(candidate.mutant) != tuple(errors):
            continue
        others = [(got, want) for got, want, error in zip(student, candidate.gradients, errors) if error is None]
        if all(got is not None and want is not None and all(_equal(got.get(name), want.get(name))
                                                            for name in candidate.changed) for got, want in others):
            raised = sum(error is not None for error in errors)
            first = next(error for error in errors if error)
            return Diagnosis(candidate.mutant, candidate.operator,
                             f"{declared.function} raises {first.split(':')[0]} on {raised} of {len(errors)} cases, "
                             f"as this bug does: {candidate.misconception}", tuple(sorted(candidate.changed)))
    return None


def _equal(got: Any, want: Any) -> bool:
    try:
        with np.errstate(all="ignore"):
            return check.relative_difference(np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)) <= 1e-9
    except (TypeError, ValueError):
        return False
