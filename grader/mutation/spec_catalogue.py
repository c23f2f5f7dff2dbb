"""The mutant catalogue of a spec assignment: each declared function's reference mutated and judged on the spec's cases.

The mutants of a Loss, Value or Gradients function are the function's; a LayerBackward's, its backward's
(the reference forward's cache goes in); a Method's, the method's, compiled alone and put on a subclass of
the reference class. Each runs in this process (reference code is trusted) on every case of the course and
square profiles, and is judged by grader.assignments.compare, the very comparison grading applies to a
student's values. The catalogue is made once per Assignment object (its memo); nothing is written to mutants/.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from grader import assignments
from grader import spec as api
from grader.assignments import compare, specs
from grader.assignments.specs import Prepared
from grader.mutation.judge import TIMEOUT, MutantTimeout, _earlier_match, _overall, _same, time_guard
from grader.mutation.plant import _line, compile_named, function_source, generate_source
from grader.numerics import check, gradient
from grader.mutation.records import (PROFILES, Mutant, MutantRecord, MutantStatus, MutationRun, ProfileOutcome,
                                     ReferenceOutcome)
from grader.results import Status
from grader.sandbox.run import CallOutcome, CallStatus

# The message of a mutant whose values are the reference's on every case of the spec.
SAME_AS_REFERENCE = "the same values as the reference on every case of every profile"


@dataclass(frozen=True)
class Target:
    """One declared function's reference as mutation sees it: the source mutated and the name it is shown by."""

    declared: api.Function
    name: str      # softmax_loss_vectorized, affine_backward, TwoLayerNet.loss
    source: str    # through ast.unparse; line 1 is the def, and mutants' lines count from it
    prefix: str    # put before mutant ids when the spec declares several functions


def targets(assignment: assignments.Assignment) -> tuple[Target, ...]:
    """The function mutated for each declared function, in the spec's order."""
    several = len(assignment.functions) > 1
    found = []
    for declared in assignment.functions:
        name = declared.function
        source = function_source(specs.reference(assignment.module, name))
        found.append(Target(declared, name, source, f"{name}:" if several else ""))
    return tuple(found)


def build(target: Target, module: Any, source: str, *, filename: str) -> Callable:
    """What a trial calls for source: the function, or for a Method a subclass of the reference class whose
    method is the one source defines."""
    defined = ast.parse(source).body[0].name
    function = compile_named(source, module, defined, filename=filename)
    if isinstance(target.declared, api.Method):
        cls = specs.reference(module, target.declared.cls)
        return type(cls.__name__, (cls,), {target.declared.method: function, "__module__": cls.__module__})
    return function


@dataclass(frozen=True)
class Bench:
    """A target's cases per profile, and per case the calls that do not depend on the mutant (a layer's
    reference forward on the case and, with own_forward, on every perturbed input)."""

    items: Mapping[str, tuple[Prepared, ...]]
    fixed: Mapping[str, tuple[tuple[CallOutcome, ...], ...]]


def _outcome(call: Callable[[], Any]) -> CallOutcome:
    try:
        with np.errstate(all="ignore"):
            return CallOutcome(CallStatus.OK, call())
    except MutantTimeout:
        raise
    except Exception as error:  # a mutant may raise anything; that is its verdict
        text = str(error).splitlines()[0] if str(error) else ""
        return CallOutcome(CallStatus.ERROR, message=f"{type(error).__name__}: {text}".rstrip(": "))


def bench(assignment: assignments.Assignment, target: Target) -> Bench:
    """Every case of both profiles that grades the target's function, with its fixed calls made once."""
    declared, module = target.declared, assignment.module
    items, fixed = {}, {}
    for profile in PROFILES:
        prepared = tuple(assignment.prepared(declared.function, case) for case in assignment.graded_on(declared, profile))
        if not prepared:
            continue
        items[profile] = prepared
        fixed[profile] = tuple(fixed_calls(declared, module, item) for item in prepared)
    return Bench(items, fixed)


def fixed_calls(declared: api.Function, module: Any, item: Prepared) -> tuple[CallOutcome, ...]:
    """The case's calls that no mutant changes: a layer's reference forward, on the case and, with own_forward,
    on every perturbed input (as first_only leaves them: the output alone)."""
    if not isinstance(declared, api.LayerBackward):
        return ()
    forward = specs.reference(module, declared.forward)
    made = [_outcome(lambda: forward(*gradient.fresh(item.args)))]
    if declared.own_forward:
        made += [_outcome(lambda args=args: forward(*gradient.fresh(args))[:1])
                 for args in compare.perturbed(item, declared.wrt, check.EPSILON)]
    return tuple(made)


def calls(declared: api.Function, built: Callable, item: Prepared, fixed: tuple[CallOutcome, ...]
           ) -> list[CallOutcome]:
    """The case's call outcomes as grading would have them from the sandbox (compare.calls_per_case of them)."""
    fresh = gradient.fresh
    if isinstance(declared, api.LayerBackward):
        forward, moved = fixed[0], list(fixed[1:])
        if forward.status is not CallStatus.OK:
            return [forward, CallOutcome(CallStatus.NOT_RUN), *moved]
        cache = forward.value[1]
        return [CallOutcome(CallStatus.OK, forward.value[:1]),
                _outcome(lambda: built(fresh(item.dout), fresh(cache))), *moved]
    if isinstance(declared, api.Method):
        def method() -> Any:
            model = built(**fresh(dict(item.init)))
            for name, value in item.attributes.items():
                setattr(model, name, fresh(value))
            return getattr(model, declared.method)(*fresh(item.args))
        return [_outcome(method)]
    return [_outcome(lambda: built(*fresh(item.args)))]


def returned(declared: api.Function, item: Prepared, calls: Sequence[CallOutcome]) -> Any:
    """What the mutated function returned on a case, as far as it is graded (a layer: its backward's value; a
    gradient dict or a model's grads: the graded entries; a Value: its output), None if it raised."""
    outcome = calls[1] if isinstance(declared, api.LayerBackward) else calls[0]
    if outcome.status is not CallStatus.OK:
        return None
    value = outcome.value
    graded = tuple(item.gradients)
    if isinstance(declared, api.Gradients) and isinstance(value, Mapping):
        return {name: value.get(name) for name in graded}
    if isinstance(declared, api.Method) and isinstance(value, (tuple, list)) and len(value) == 2 \
            and isinstance(value[1], Mapping):
        return value[0], {name: value[1].get(name) for name in graded}
    if isinstance(declared, api.Value) and declared.output is not None and isinstance(value, (tuple, list)) \
            and len(value) > declared.output:
        return value[declared.output]
    return value


@dataclass(frozen=True)
class Trial:
    """A function's verdict per profile, and what it returned on each case (profile, case name) for sameness."""

    profiles: tuple[ProfileOutcome, ...]
    values: Mapping[tuple[str, str], Any]
    convention: str | None = None
    # Each case's call outcomes, for diagnosis to compare a student's with (what was returned, what was raised).
    outcomes: Mapping[tuple[str, str], tuple[CallOutcome, ...]] = field(default_factory=dict)


def trial(declared: api.Function, built: Callable, cases: Bench, *, threshold: float, epsilon: float,
          timeout: float | None = TIMEOUT) -> Trial:
    """Run built on every case of every profile and judge it as grading judges a student's function."""
    profiles, values, outcomes, conventions = [], {}, {}, set()
    try:
        with time_guard(timeout):
            for profile, items in cases.items.items():
                per_case = [calls(declared, built, item, fixed) for item, fixed in zip(items, cases.fixed[profile])]
                values.update({(profile, item.case.name): returned(declared, item, calls)
                               for item, calls in zip(items, per_case)})
                outcomes.update({(profile, item.case.name): tuple(calls) for item, calls in zip(items, per_case)})
                verdicts, followed = compare.best_convention(declared, items, per_case, threshold, epsilon)
                conventions.add(followed)
                profiles.append(_profile(profile, verdicts))
    except MutantTimeout:
        done = {outcome.profile for outcome in profiles}
        profiles += [ProfileOutcome(profile, MutantStatus.TIMEOUT, None, (), f"no result within {timeout:g} s")
                     for profile in cases.items if profile not in done]
    followed = next(iter(conventions - {None}), None) if conventions - {None} else None
    return Trial(tuple(profiles), values, followed, outcomes)


def _profile(profile: str, verdicts: Sequence[tuple[Any, Mapping[str, Any]]]) -> ProfileOutcome:
    differences = [case.difference for case, _ in verdicts if case.difference is not None]
    difference = max(differences) if differences else None
    failed = [(case, blocks) for case, blocks in verdicts if case.status is Status.FAIL]
    if failed:
        hit = dict.fromkeys(name for _, blocks in failed for name, block in blocks.items() if not block.passed)
        first = failed[0][0]
        return ProfileOutcome(profile, MutantStatus.KILLED, difference, tuple(hit),
                              f"failed {len(failed)} / {len(verdicts)} cases; {first.case}: {first.message}")
    broken = [case for case, _ in verdicts if case.status in (Status.ERROR, Status.TIMEOUT)]
    if broken:
        status = MutantStatus.TIMEOUT if broken[0].status is Status.TIMEOUT else MutantStatus.CRASHED
        return ProfileOutcome(profile, status, difference, (), f"case {broken[0].case}: {broken[0].message}")
    return ProfileOutcome(profile, MutantStatus.SURVIVED, difference, (), f"passed {len(verdicts)} cases")


def fingerprint(values: Mapping[tuple[str, str], Any]) -> tuple[tuple, np.ndarray] | None:
    """A structure key and one flat vector of every number a function returned on every case (None: nothing)."""
    if all(value is None for value in values.values()):
        return None
    shapes: list = []
    parts: list[np.ndarray] = []

    def walk(value: Any) -> None:
        if isinstance(value, (tuple, list)):
            shapes.append(len(value))
            for item in value:
                walk(item)
        elif isinstance(value, Mapping):
            shapes.append(tuple(sorted(map(str, value))))
            for key in sorted(value, key=str):
                walk(value[key])
        elif isinstance(value, (np.ndarray, np.number, int, float)) and not isinstance(value, bool) \
                and np.asarray(value).dtype.kind in "biuf":
            shapes.append(np.shape(value))
            parts.append(np.asarray(value, dtype=np.float64).ravel())
        else:
            shapes.append(type(value).__name__)

    for key in sorted(values):
        walk(values[key])
    vector = np.concatenate(parts) if parts else np.zeros(0)
    if not np.isfinite(vector).all():
        vector = np.nan_to_num(vector, nan=1e300, posinf=1e301, neginf=-1e301)
    return tuple(shapes), vector


def zeroed(value: Any) -> Any:
    """value with every number made zero (the canary: a function that computes nothing)."""
    if isinstance(value, (tuple, list)):
        return type(value)(zeroed(item) for item in value)
    if isinstance(value, dict):
        return {key: zeroed(item) for key, item in value.items()}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return np.zeros_like(value)
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return type(value)(0)
    return value


@dataclass(frozen=True)
class Catalogue:
    """A spec's whole mutation run (no suggestions yet), each mutant's call outcomes on every case (profile,
    case name), and the benches and compiled mutants that suggestions try variants with."""

    run: MutationRun
    outcomes: Mapping[str, Mapping[tuple[str, str], tuple[CallOutcome, ...]]]
    targets: tuple[Target, ...]
    benches: Mapping[str, Bench]
    built: Mapping[str, Callable]
    # The reference's own call outcomes per target, as the mutants' (its exact values, not the numerical ones).
    references: Mapping[str, Mapping[tuple[str, str], tuple[CallOutcome, ...]]] = field(default_factory=dict)


@assignments.cached
def catalogue(assignment: assignments.Assignment, *, timeout: float | None = TIMEOUT) -> Catalogue:
    """Every mutant of every declared function judged on the spec's cases (SpecError for a bad spec)."""
    spec, module = assignment.spec, assignment.module
    threshold, epsilon = spec.threshold, check.EPSILON
    records, outcomes, benches, built_by_id, references = [], {}, {}, {}, {}
    reference_profiles, sound, several = [], True, len(assignment.functions) > 1
    for target in targets(assignment):
        cases = benches[target.name] = bench(assignment, target)
        reference = build(target, module, target.source, filename=f"<reference {target.name}>")
        judged = trial(target.declared, reference, cases, threshold=threshold, epsilon=epsilon, timeout=None)
        references[target.name] = judged.outcomes
        reference_profiles += [replace(outcome, profile=f"{target.name}:{outcome.profile}") if several else outcome
                               for outcome in judged.profiles]
        reference_print = fingerprint(judged.values)
        canary = trial(target.declared, _zeroing(target, reference), cases, threshold=threshold, epsilon=epsilon)
        sound = sound and any(outcome.status is MutantStatus.KILLED for outcome in canary.profiles)
        seen: dict[tuple, list[tuple[str, np.ndarray]]] = {}
        for mutant in generate_source(target.source, prefix=target.prefix):
            record, function, made = _judged(mutant, target, module, cases, threshold, epsilon, timeout)
            if made is not None:
                outcomes[record.id] = made.outcomes
                built_by_id[record.id] = function
                record = _sameness(record, made, reference_print, seen)
            records.append(record)
    run = MutationRun(assignment=spec.name, backward=", ".join(target.name for target in targets(assignment)),
                      reference_source="\n\n".join(target.source for target in targets(assignment)),
                      reference=_reference(reference_profiles), mutants=tuple(records), sound=sound)
    return Catalogue(run, outcomes, targets(assignment), benches, built_by_id, references)


def _zeroing(target: Target, reference: Callable) -> Callable:
    if isinstance(target.declared, api.Method):
        method = getattr(reference, target.declared.method)
        return type(reference.__name__, (reference,), {
            target.declared.method: lambda self, *args: zeroed(method(self, *args))})
    return lambda *args: zeroed(reference(*args))


def _judged(mutant: Mutant, target: Target, module: Any, cases: Bench, threshold: float, epsilon: float,
            timeout: float | None) -> tuple[MutantRecord, Callable | None, Trial | None]:
    base = dict(id=mutant.id, operator=mutant.operator, family=mutant.family, description=mutant.description,
                misconception=mutant.misconception, line=mutant.line, column=mutant.column,
                end_line=mutant.end_line, end_column=mutant.end_column, original=mutant.original,
                replacement=mutant.replacement, target=target.name, before=_line(target.source, mutant.line),
                after=_line(mutant.source, mutant.line) if mutant.valid else "")
    if not mutant.valid:
        return MutantRecord(**base, status=MutantStatus.INVALID, parameters=(), difference=None,
                            message=mutant.message), None, None
    try:
        function = build(target, module, mutant.source, filename=f"<mutant {mutant.id}>")
    except (SyntaxError, ValueError, TypeError) as error:
        return MutantRecord(**base, status=MutantStatus.INVALID, parameters=(), difference=None,
                            message=f"does not compile: {type(error).__name__}: {error}"), None, None
    made = trial(target.declared, function, cases, threshold=threshold, epsilon=epsilon, timeout=timeout)
    status = _overall(made.profiles)
    parameters = tuple(dict.fromkeys(name for outcome in made.profiles for name in outcome.parameters))
    differences = [outcome.difference for outcome in made.profiles if outcome.difference is not None]
    message = next((outcome.message for outcome in made.profiles if outcome.status is status), "")
    record = MutantRecord(**base, status=status, parameters=parameters,
                          difference=max(differences) if differences else None, profiles=made.profiles,
                          message=message, function=function)
    return record, function, made


def _sameness(record: MutantRecord, made: Trial, reference_print: tuple | None,
              seen: dict[tuple, list[tuple[str, np.ndarray]]]) -> MutantRecord:
    """The record marked equivalent (the reference's values, or an accepted convention's) or duplicate."""
    printed = fingerprint(made.values)
    if record.status is MutantStatus.SURVIVED and made.convention:
        return replace(record, status=MutantStatus.EQUIVALENT,
                       message=f"follows {made.convention}, a convention the assignment accepts")
    if printed is None:
        return record
    if record.status is MutantStatus.SURVIVED and _same(printed, reference_print):
        return replace(record, status=MutantStatus.EQUIVALENT, message=SAME_AS_REFERENCE)
    earlier = _earlier_match(printed, seen)
    if earlier:
        return replace(record, status=MutantStatus.DUPLICATE, duplicate_of=earlier,
                       message=f"the same values as {earlier} on every case ({record.status.value} like it)")
    seen.setdefault(printed[0], []).append((record.id, printed[1]))
    return record


def _reference(profiles: Sequence[ProfileOutcome]) -> ReferenceOutcome:
    differences = [outcome.difference for outcome in profiles if outcome.difference is not None]
    difference = max(differences) if differences else None
    if profiles and all(outcome.status is MutantStatus.SURVIVED for outcome in profiles):
        return ReferenceOutcome("pass", difference, "passes every case of every profile", tuple(profiles))
    worst = next(outcome for outcome in profiles if outcome.status is not MutantStatus.SURVIVED)
    status = "fail" if worst.status is MutantStatus.KILLED else "error"
    return ReferenceOutcome(status, difference, f"{worst.profile} profile: {worst.message}", tuple(profiles))
