"""Match a backward pass's wrong gradients to the catalogued mutants that give the same numbers."""
from __future__ import annotations

import ast
import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from grader import assignments
from grader.assignments import Assignment
from grader.grading.source_lines import _targets
from grader.mutation import catalogue, plant
from grader.mutation.records import MutantStatus
from grader.numerics import check

# Two gradients are the same bug when they agree to this relative difference on every case.
MATCH_RTOL = 1e-9


@assignments.cached
def _true_gradients(assignment: Assignment) -> tuple[tuple[dict[str, np.ndarray], ...], tuple[int, ...]]:
    cases = assignment.cases()
    batch_sizes = tuple(int(case.inputs["X"].shape[1]) if np.ndim(case.inputs["X"]) >= 2 else 1 for case in cases)
    return tuple(assignment.reference_gradients(case) for case in cases), batch_sizes


@dataclass(frozen=True)
class Flat:
    """A gradient as the matching compares it: its shape, its entries as one float64 vector, and their norm."""

    shape: tuple[int, ...]
    vector: np.ndarray
    norm: float


# The gradients of every case, each ready for matching (None where a gradient can match nothing).
FlatGradients = tuple[Mapping[str, "Flat | None"] | None, ...]


def flat(value: Any) -> Flat | None:
    """value ready for matching, or None when it equals nothing: not a number array, or not finite.

    Call inside np.errstate(all="ignore"): the norm of huge entries overflows (and then equals nothing).
    """
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf":
        return None
    vector = np.asarray(value, dtype=np.float64).ravel()
    norm = check.vector_norm(vector)
    return Flat(value.shape, vector, norm) if math.isfinite(norm) else None


def flat_gradients(gradients: Sequence[Mapping[str, Any] | None]) -> FlatGradients:
    """Every case's gradients made flat once, for comparing with every candidate."""
    with np.errstate(all="ignore"):
        return tuple(None if found is None else {name: flat(value) for name, value in found.items()}
                     for found in gradients)


def _matches(got: Flat | None, want: Flat | None) -> bool:
    """check.relative_difference(got, want) <= MATCH_RTOL, from the norms flat() computed once.

    Call inside np.errstate(all="ignore").
    """
    if got is None or want is None or got.shape != want.shape:
        return False
    denominator = got.norm + want.norm
    if denominator == 0.0:
        return True
    # ||got - want|| >= | ||got|| - ||want|| |: norms this far apart cannot match (twice MATCH_RTOL leaves
    # room for the norms' rounding, some 1e-13 of them), and most candidates are told apart without a subtraction.
    if abs(got.norm - want.norm) > 2 * MATCH_RTOL * denominator:
        return False
    return check.vector_norm(got.vector - want.vector) / denominator <= MATCH_RTOL


@dataclass(frozen=True)
class Candidate:
    """A catalogued mutant and its gradients on every case (None where it crashed)."""

    mutant: str
    operator: str
    misconception: str
    gradients: tuple[Mapping[str, np.ndarray] | None, ...]
    changed: frozenset[str]
    # The name the mutated line assigns in the reference (dZ3 for Y - A3), to find the student's own line.
    target: str | None = None
    # The gradients made flat once, when the candidate is made: every submission is compared with them.
    flat: FlatGradients = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "flat", flat_gradients(self.gradients))


def _equal(got: Any, want: Any) -> bool:
    """Both are finite number arrays of one shape whose relative difference is at most MATCH_RTOL."""
    with np.errstate(all="ignore"):
        return _matches(flat(got), flat(want))


def explains(candidate: Candidate, student: FlatGradients, wrong: set[str]) -> bool:
    """The mutant changes only wrong parameters, and on each of them equals the student on every case.

    student holds the student's gradients as flat_gradients gives them; call inside np.errstate(all="ignore").
    """
    if not candidate.changed or not candidate.changed <= wrong:
        return False
    for got, want in zip(student, candidate.flat):
        if got is None or want is None:
            return False
        if not all(_matches(got.get(name), want.get(name)) for name in candidate.changed):
            return False
    return True


def cover(candidates: Iterable[Candidate], student: Sequence[Mapping[str, Any] | None],
          wrong: Sequence[str]) -> list[Candidate]:
    """The mutants that explain the wrong parameters: the widest first, then the most specific of equals.

    Most specific: fewest parameters changed, then the catalogue's order (planted operators first).
    """
    remaining = set(wrong)
    # explains looks at the student's gradients only when the candidate changes wrong parameters alone, and
    # then only at those: most candidates are told apart here, and only wrong gradients need making flat.
    possible = [candidate for candidate in candidates if candidate.changed and candidate.changed <= remaining]
    if not possible:
        return []
    flat_student = flat_gradients([None if found is None else {name: found[name] for name in found if name in remaining}
                                   for found in student])
    with np.errstate(all="ignore"):
        matching = [candidate for candidate in possible if explains(candidate, flat_student, set(remaining))]
    chosen = []
    while remaining:
        useful = [c for c in matching if c.changed & remaining]
        if not useful:
            break
        best = min(useful, key=lambda c: (-len(c.changed & remaining), len(c.changed)))
        chosen.append(best)
        remaining -= best.changed
    return chosen


@assignments.cached
def catalogue_candidates(assignment: Assignment) -> tuple[Candidate, ...]:
    """Every catalogued mutant of the assignment with its gradients on the graded (course-profile) cases.

    Built once per Assignment object (kept in its memo). A catalogue that cannot be loaded gives no candidates (and is not retried
    for every submission): the descriptions still explain each wrong gradient.
    """
    try:
        return tuple(_candidates(assignment))
    except Exception:
        return ()


def _candidates(assignment: Assignment) -> list[Candidate]:
    module = assignment.module
    cases = assignment.cases()
    references, _ = _true_gradients(assignment)
    if hasattr(module, "MUTANTS"):
        return _listed(module, cases, references)
    targets = _targets_by_line(plant.reference_source(module))
    found = []
    for record in catalogue.catalogue(assignment):
        if record.status in (MutantStatus.EQUIVALENT, MutantStatus.INVALID):
            continue
        gradients = tuple(catalogue.mutant_gradients(assignment, record.id, "course", index)
                          for index in range(len(cases)))
        found.append(Candidate(record.id, record.operator, record.misconception, gradients,
                               _changed(gradients, references), targets.get(record.line)))
    return found


def _targets_by_line(source: str) -> dict[int, str]:
    """The single name each line of a function assigns (dZ3 = ... on line 4 gives {4: 'dZ3'})."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            names = _targets(node.targets[0])
            if len(names) == 1:
                for line in range(node.lineno, (node.end_lineno or node.lineno) + 1):
                    found[line] = names[0]
    return found


def _changed(gradients: Sequence[Mapping[str, Any] | None], references: Sequence[Mapping[str, np.ndarray]]) -> frozenset[str]:
    changed = set()
    for got, want in zip(gradients, references):
        if got is not None:
            changed |= {name for name in want if not _equal(got.get(name), want[name])}
    return frozenset(changed)


def _listed(module: Any, cases: Sequence[Any], references: Sequence[Mapping[str, np.ndarray]]) -> list[Candidate]:
    """An assignment's own small mutant set (module.MUTANTS, for a backward pass too small for the operators), as candidates."""
    found = []
    for mutant_id, operator, _, misconception, _ in module.MUTANTS:
        gradients = tuple(module.mutant_gradients(mutant_id, case) for case in cases)
        found.append(Candidate(mutant_id, operator, misconception, gradients, _changed(gradients, references)))
    return found
