"""Which case would expose a surviving mutant of a spec: variants of the spec's cases tried until one catches it.

A mutant survives because every case hides it: every case is square, has a batch of one, or reg = 0. The
variants change just that: some of the sizes that are equal in every case made different (or 1), or one
scalar input given another value. Each variant is prepared like a real case (the reference's values and
numerical gradients, screened); the first on which the mutant fails is the suggestion, marked as checked.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np

from grader import assignments
from grader import spec as api
from grader.assignments import compare, expect
from grader.assignments.specs import SpecError
from grader.mutation import spec_catalogue
from grader.mutation.judge import TIMEOUT, MutantTimeout, time_guard
from grader.mutation.records import MutantRecord, MutantStatus, MutationRun, Suggestion
from grader.numerics import check
from grader.results import Status

# Variants tried per surviving mutant before the advice is given unchecked, and the most sizes changed at once.
MOST_VARIANTS = 300
MOST_CHANGED = 4
# Which kind of variant to try first for an operator family: the sizes, a batch of one, or a scalar's value.
# ("whole": a size that is the same in every case, N = 1 say, made another.)
ORDER = {"transpose": ("sizes", "one", "whole", "scalar"), "matmul": ("sizes", "one", "whole", "scalar"),
         "swap": ("sizes", "one", "whole", "scalar"), "routing": ("sizes", "one", "whole", "scalar"),
         "reduction": ("one", "sizes", "whole", "scalar"), "scale": ("whole", "scalar", "sizes", "one")}
DEFAULT_ORDER = ("scalar", "whole", "sizes", "one")


def run(assignment: assignments.Assignment) -> MutationRun:
    """The spec's mutation run, each surviving mutant with the case that would expose it.

    A mutant that gives the reference's values on every case of the spec is equivalent only if no variant
    tells it apart either: one that a variant catches is a bug the cases hide (a missing transpose on
    square cases), so it survives, with that variant as its suggestion.
    """
    made = spec_catalogue.catalogue(assignment)
    records = []
    for record in made.run.mutants:
        if record.status is MutantStatus.SURVIVED:
            record = suggest(assignment, made, record)
        elif record.status is MutantStatus.EQUIVALENT and record.message == spec_catalogue.SAME_AS_REFERENCE:
            found = search(assignment, made, record)
            if found is not None:
                record = replace(record, status=MutantStatus.SURVIVED, suggestion=_checked(found),
                                 message=f"{record.message}, but not on a case with {found.changed}")
        records.append(record)
    return replace(made.run, mutants=tuple(records))


@dataclass(frozen=True)
class Slot:
    """One axis of one array input: X's axis 1, or params['W1']'s axis 0."""

    name: str
    key: str | None
    axis: int

    @property
    def label(self) -> str:
        holder = self.name if self.key is None else f"{self.name}[{self.key!r}]"
        return f"{holder}.shape[{self.axis}]"


@dataclass(frozen=True)
class Variant:
    """A case's inputs changed one way, and how to say it."""

    inputs: Mapping[str, Any]
    advice: str
    changed: str


def _arrays(inputs: Mapping[str, Any]) -> Iterator[tuple[str, str | None, np.ndarray]]:
    for name, value in inputs.items():
        if isinstance(value, np.ndarray) and value.ndim:
            yield name, None, value
        elif isinstance(value, Mapping):
            for key, item in value.items():
                if isinstance(item, np.ndarray) and item.ndim:
                    yield name, key, item


def _slots(inputs: Mapping[str, Any]) -> list[Slot]:
    return [Slot(name, key, axis) for name, key, value in _arrays(inputs) for axis in range(value.ndim)]


def _size(inputs: Mapping[str, Any], slot: Slot) -> int | None:
    value = inputs.get(slot.name)
    value = value.get(slot.key) if slot.key is not None and isinstance(value, Mapping) else value
    return value.shape[slot.axis] if isinstance(value, np.ndarray) and value.ndim > slot.axis else None


def _resized(value: np.ndarray, axis: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """value with size entries along axis: cut, or grown with copies of its first ones (jittered when real)."""
    have = value.shape[axis]
    if size <= have:
        return np.take(value, range(size), axis=axis)
    extra = np.take(value, [index % have for index in range(size - have)], axis=axis)
    if value.dtype.kind == "f":
        extra = extra * (1 + 0.1 * rng.standard_normal(extra.shape))
    return np.concatenate([value, extra], axis=axis)


def _with_sizes(inputs: Mapping[str, Any], slots: Sequence[Slot], size: int, rng: np.random.Generator) -> dict:
    changed = {name: (dict(value) if isinstance(value, Mapping) else value) for name, value in inputs.items()}
    for slot in slots:
        if slot.key is None:
            changed[slot.name] = _resized(changed[slot.name], slot.axis, size, rng)
        else:
            changed[slot.name][slot.key] = _resized(changed[slot.name][slot.key], slot.axis, size, rng)
    return changed


def _classes(cases: Sequence[api.Case], slots: Sequence[Slot]) -> list[list[Slot]]:
    """The slots grouped by their sizes over every case: a group is equal in every case (maybe one dimension)."""
    groups: dict[tuple, list[Slot]] = {}
    for slot in slots:
        groups.setdefault(tuple(_size(case.inputs, slot) for case in cases), []).append(slot)
    return list(groups.values())


def _listed(slots: Sequence[Slot], most: int = 3) -> str:
    shown = " = ".join(slot.label for slot in slots[:most])
    return shown + (f" (and {len(slots) - most} more)" if len(slots) > most else "")


def _equal_text(group: Sequence[Slot], cases: Sequence[api.Case]) -> str:
    sizes = {_size(case.inputs, group[0]) for case in cases}
    if len(group) > 3:
        return f"all {len(group)} of these sizes " + (f"= {sizes.pop()}" if len(sizes) == 1 else "equal")
    joined = " = ".join(slot.label for slot in group)
    return f"{joined} = {sizes.pop()}" if len(sizes) == 1 else f"{joined} (equal in every case)"


def _size_variants(base: api.Case, cases: Sequence[api.Case], *, one: bool) -> Iterator[Variant]:
    slots = _slots(base.inputs)
    rng = np.random.default_rng(0)
    for group in _classes(cases, slots):
        size = _size(base.inputs, group[0])
        if size is None:
            continue
        if one:
            if size == 1 or any(_size(case.inputs, group[0]) == 1 for case in cases):
                continue
            for count in range(len(group), 0, -1):
                for chosen in itertools.combinations(group, count):
                    labels = " = ".join(slot.label for slot in chosen)
                    yield Variant(_with_sizes(base.inputs, chosen, 1, rng),
                                  f"add a case with {labels} = 1 (no case has {labels} = 1)", f"{labels} = 1")
            continue
        if len(group) < 2:
            continue
        for count in range(1, min(len(group) - 1, MOST_CHANGED) + 1):
            for chosen in itertools.combinations(group, count):
                others = [slot for slot in group if slot not in chosen]
                labels = " = ".join(slot.label for slot in chosen)
                for new in ((size + 1, size - 1) if size > 1 else (size + 1,)):
                    yield Variant(_with_sizes(base.inputs, chosen, new, rng),
                                  f"add a case where {labels} differs from {_listed(others)} "
                                  f"(every case has {_equal_text(group, cases)})", f"{labels} = {new}")


def _whole_variants(base: api.Case, cases: Sequence[api.Case]) -> Iterator[Variant]:
    """Each group of sizes that is one number in every case (every batch of 1), made another number."""
    rng = np.random.default_rng(0)
    for group in _classes(cases, _slots(base.inputs)):
        sizes = {_size(case.inputs, group[0]) for case in cases}
        if len(sizes) != 1 or None in sizes:
            continue
        size, labels = sizes.pop(), " = ".join(slot.label for slot in group)
        for new in ((size + 1, size - 1) if size > 1 else (size + 1,)):
            yield Variant(_with_sizes(base.inputs, group, new, rng),
                          f"add a case with {labels} other than {size} (every case has {labels} = {size})",
                          f"{labels} = {new}")


def _scalar_variants(base: api.Case, cases: Sequence[api.Case]) -> Iterator[Variant]:
    for name, value in base.inputs.items():
        if not isinstance(value, (int, float, np.floating)) or isinstance(value, bool):
            continue
        seen = sorted({float(case.inputs[name]) for case in cases if name in case.inputs})
        for new in (0.5, 1.0, 2.0, 0.0):
            if new in seen or (isinstance(value, (int, np.integer)) and not float(new).is_integer()):
                continue
            every = f"every case has {name} = {seen[0]:g}" if len(seen) == 1 else \
                f"the cases have {name} in {', '.join(f'{v:g}' for v in seen)}"
            compare_word = "> 0" if seen == [0.0] and new > 0 else f"= {new:g}"
            yield Variant({**base.inputs, name: type(value)(new)}, f"add a case with {name} {compare_word} ({every})",
                          f"{name} = {new:g}")


def variants(family: str, cases: Sequence[api.Case]) -> Iterator[Variant]:
    """Every variant of the cases, the family's likeliest kind first, each base case (one per profile) in turn."""
    bases = list({case.profile: case for case in reversed(cases)}.values())[::-1]
    makers: dict[str, Callable[[api.Case], Iterator[Variant]]] = {
        "sizes": lambda base: _size_variants(base, cases, one=False),
        "one": lambda base: _size_variants(base, cases, one=True),
        "whole": lambda base: _whole_variants(base, cases),
        "scalar": lambda base: _scalar_variants(base, cases)}
    for kind in ORDER.get(family, DEFAULT_ORDER):
        for base in bases:
            yield from makers[kind](base)


def suggest(assignment: assignments.Assignment, made: spec_catalogue.Catalogue, record: MutantRecord) -> MutantRecord:
    """The record with its Suggestion: the first variant of the spec's cases that catches the mutant (checked),
    or advice from its operator's family when none of the variants tried does."""
    found = search(assignment, made, record)
    return replace(record, suggestion=_checked(found) if found else Suggestion(_unchecked(record)))


def _checked(variant: Variant) -> Suggestion:
    return Suggestion(f"{variant.advice}: checked, a case with {variant.changed} catches it", True, variant.changed)


def search(assignment: assignments.Assignment, made: spec_catalogue.Catalogue, record: MutantRecord) -> Variant | None:
    """The first variant of the spec's cases (at most MOST_VARIANTS tried) on which the mutant fails, or None."""
    target = next(target for target in made.targets if target.name == record.target)
    cases = [item.case for items in made.benches[target.name].items.values() for item in items]
    built = made.built.get(record.id)
    if built is None:
        return None
    for variant in itertools.islice(variants(record.family, cases), MOST_VARIANTS):
        if _catches(assignment, target.declared, built, variant):
            return variant
    return None


def _catches(assignment: assignments.Assignment, declared: api.Function, built: Any, variant: Variant) -> bool:
    """Whether the mutant fails a case made of the variant's inputs on which the reference is healthy."""
    case = api.Case("variant", variant.inputs, functions=(declared.function,), profile="variant")
    try:
        with np.errstate(all="ignore"):
            item, health = expect.prepare(declared, case, assignment.module, assignment.spec)
    except (SpecError, KeyError, IndexError, ValueError, TypeError):
        return False  # the variant does not fit the reference (labels beyond the classes, a size it needs)
    if not health.healthy:
        return False
    try:
        with time_guard(TIMEOUT):
            outcomes = spec_catalogue.calls(declared, built, item, spec_catalogue.fixed_calls(declared, assignment.module, item))
    except MutantTimeout:
        return True
    verdicts, _ = compare.best_convention(declared, [item], [outcomes], assignment.spec.threshold, check.EPSILON)
    return verdicts[0][0].status is not Status.PASS


def _unchecked(record: MutantRecord) -> str:
    if record.family in ("transpose", "matmul", "swap", "routing"):
        return "add cases whose sizes all differ (non-square); no variant gradgrade drew caught it, so check by hand " \
               "whether it is equivalent"
    if record.family == "reduction":
        return "add a case with a batch of one and one with sizes that all differ; no variant gradgrade drew caught it"
    return (f"no variant gradgrade drew (other sizes, other values of the scalar inputs) caught it: it may be "
            f"equivalent; if not, add a case on which line {record.line} ({record.after}) changes the result")
