"""Name the bug in a failing backward pass: match it to a catalogued mutant, or describe how it is wrong."""
from __future__ import annotations

import dataclasses
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from grader.grading.description import M_KINDS, Description, _phrase, describe, sentence, subject
from grader.grading.matching import Candidate, _matches, _true_gradients, catalogue_candidates, cover, flat
from grader.grading.source_lines import GradientLine, factor_advice, gradient_lines
from grader.mutation.operators.registry import REGISTRY
from grader.numerics import check
from grader.assignments import Assignment
from grader.results import CheckResult, Diagnosis, Status
from grader.sandbox.run import CallStatus


def routed(name: str, gots: Sequence[Any], trues: Sequence[Mapping[str, np.ndarray]]) -> Description | None:
    """When a gradient holds another parameter's true gradient wherever it is there: stored under the wrong key."""
    present = [(got, true) for got, true in zip(gots, trues) if got is not None]
    if not present:
        return None
    with np.errstate(all="ignore"):
        # _equal(got, want) is _matches(flat(got), flat(want)): each got made flat once, not once per other key.
        present = [(flat(got), true) for got, true in present]
        for other in dict.fromkeys(key for _, true in present for key in true):
            if other != name and all(_matches(got, flat(true.get(other)))
                                     and not _matches(got, flat(true.get(name))) for got, true in present):
                return _phrase("routing", f"holds the true {other}",
                               "look at the key or layer index it is stored under")
    return None


# --- The diagnosis of one backward pass ------------------------------------------------------------


def diagnose(student: Sequence[Mapping[str, Any] | None], trues: Sequence[Mapping[str, np.ndarray]],
             batch_sizes: Sequence[int], names: Sequence[str], *, candidates: Iterable[Candidate] = (),
             lines: Mapping[str, GradientLine] | None = None,
             threshold: float = check.THRESHOLD) -> tuple[Diagnosis, ...]:
    """Diagnoses of a backward pass from its gradients on every case (None where it returned nothing usable).

    A wrong parameter explained by a catalogued mutant gets that mutant's misconception; the others get a
    description of how they are wrong. Constant factors are always said as factors ("dW2 is twice the
    true gradient"), the plainest words for them.
    """
    lines = lines or {}
    descriptions = {}
    for name in names:
        # Only the cases that have this gradient (an any-depth network's cases differ in depth).
        graded = [index for index, true in enumerate(trues) if name in true]
        # A case whose call raised (or returned no dict) says nothing about this gradient: the others are
        # described, and its batch size tells describe where a division by zero may have raised.
        crashed = [batch_sizes[index] for index in graded if student[index] is None]
        graded = [index for index in graded if student[index] is not None]
        if not graded:
            continue
        gots = [student[index].get(name) for index in graded]
        found = describe(gots, [trues[index][name] for index in graded], [batch_sizes[index] for index in graded],
                         threshold=threshold, crashed=crashed)
        if found is not None and found.kind not in ("factor", "factor-m", "factor-m-shift", "hard-coded-m", "sign",
                                                     "nan", "zeros"):
            found = routed(name, gots, [trues[index] for index in graded]) or found
        if found is not None:
            descriptions[name] = found
    wrong = [name for name in names if name in descriptions]
    diagnoses = []
    explained: set[str] = set()
    for candidate in cover(candidates, student, wrong):
        covered = [name for name in wrong if name in candidate.changed]
        explained.update(covered)
        diagnoses.append(_matched(candidate, covered, descriptions, lines))
    groups: dict[tuple[str, str, str], list[str]] = {}
    for name in wrong:
        if name in explained:
            continue
        description = descriptions[name]
        advice = factor_advice(description, lines.get(name))
        # One wrong m for every gradient: grouped by the ratio alone (an any-depth network's deeper gradients are on fewer
        # cases, so their lists of factors are shorter), said with the longest list.
        said = description.singular.split(" (")[0] if description.kind in M_KINDS else description.singular
        groups.setdefault((description.kind, said, advice), []).append(name)
    for (kind, _, advice), group in groups.items():
        description = max((descriptions[name] for name in group), key=lambda found: len(found.singular))
        # A wrong m is on the line that computes m, when the student's function has one.
        line = lines["m"].line if kind in M_KINDS and "m" in lines else _line(group, lines)
        diagnoses.append(Diagnosis("", kind, sentence(group, description, advice), tuple(group), line))
    return tuple(diagnoses)


def _line(names: Sequence[str], lines: Mapping[str, GradientLine]) -> int | None:
    found = [lines[name].line for name in names if name in lines]
    return min(found) if found else None


def _matched(candidate: Candidate, covered: Sequence[str], descriptions: Mapping[str, Description],
             lines: Mapping[str, GradientLine]) -> Diagnosis:
    kinds = {descriptions[name].kind for name in covered}
    if len(covered) == 1 and kinds <= {"factor", "factor-m"}:
        name = covered[0]
        description = descriptions[name]
        advice = factor_advice(description, lines.get(name))
        if not advice and "1/m" in candidate.misconception:
            advice = "look at the 1/m factor"
        hint = sentence([name], description, advice)
        # A factor says a scale bug plainly; from any other bug (an SVM loss counting the correct class is a
        # factor on one case) it is only the symptom, so the bug's own misconception follows.
        operator = REGISTRY.get(candidate.operator.rsplit(":", 1)[-1])
        if operator is not None and operator.family != "scale":
            hint = f"{hint.rstrip('.')}. {candidate.misconception}"
    elif len({descriptions[name].singular for name in covered}) == 1 and kinds != {"other"}:
        description = descriptions[covered[0]]
        verb = description.singular if len(covered) == 1 else description.plural
        hint = f"{subject(covered)} {verb}. {candidate.misconception}"
    else:
        verb = "is wrong" if len(covered) == 1 else "are wrong"
        hint = f"{subject(covered)} {verb}. {candidate.misconception}"
    line = lines[candidate.target].line if candidate.target in lines else _line(covered, lines)
    return Diagnosis(candidate.mutant, candidate.operator, hint.strip(), tuple(covered), line)


# --- The pipeline's hook ---------------------------------------------------------------------------


def refine(result: CheckResult, outcomes: Sequence[Any], assignment: Assignment, settings: Any, *,
           source: str = "") -> CheckResult:
    """The backward pass's CheckResult with its diagnoses attached (unchanged when it passed or did not run).

    A diagnosis is advice: if making it fails, the grade stands without it.
    """
    # An error on some cases (m - 1 = 0 where m = 1) leaves the others' gradients to diagnose from.
    if result.status not in (Status.FAIL, Status.ERROR):
        return result
    try:
        return _refine(result, outcomes, assignment, settings, source=source)
    except Exception:
        return result


def _refine(result: CheckResult, outcomes: Sequence[Any], assignment: Assignment, settings: Any, *,
            source: str) -> CheckResult:
    from grader.grading import backward
    trues, batch_sizes = _true_gradients(assignment)
    # Every gradient some case has, in order (an any-depth network's deeper cases have more).
    names = list(dict.fromkeys([*assignment.gradient_names, *(name for true in trues for name in true)]))
    student = []
    for outcome, true in zip(outcomes, trues):
        gradients, _ = (backward.gradients_of(outcome.value, list(true)) if outcome.status is CallStatus.OK
                        else (None, ""))
        student.append(gradients)
    lines = gradient_lines(source, assignment.backward) if source else {}
    candidates = catalogue_candidates(assignment)
    diagnoses = diagnose(student, trues, batch_sizes, names, candidates=candidates,
                         lines=lines, threshold=settings.threshold)
    return dataclasses.replace(result, diagnosis=diagnoses)
