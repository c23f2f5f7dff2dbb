"""Judging mutants: run each on every case of both shape profiles, the numerical check's verdict, equivalents and duplicates."""
from __future__ import annotations

import contextlib
import signal
import threading
from dataclasses import dataclass, replace
from types import ModuleType
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np

from grader import assignments
from grader.mutation.operators.zero import CANARY
from grader.mutation.plant import compile_function, generate, reference_source
from grader.mutation.records import (PROFILES, Mutant, MutantRecord, MutantStatus, MutationRun, ProfileOutcome,
                                     ReferenceOutcome)
from grader.numerics import check


# Two gradients closer than this everywhere are the same gradients (equivalent or duplicate mutants).
SAME_GRADIENTS = 1e-12
# Seconds a mutant may take over every case of every profile (a few milliseconds is usual); generous
# so a loaded machine never turns a slow mutant into a timeout.
TIMEOUT = 5.0


class MutantTimeout(Exception):
    pass


@contextlib.contextmanager
def time_guard(seconds: float | None) -> Iterator[None]:
    """Raise MutantTimeout in the block after seconds of wall time (main thread only; elsewhere unguarded)."""
    if not seconds or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise MutantTimeout()

    previous = signal.signal(signal.SIGALRM, expire)
    previous_timer = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if previous_timer[0]:
            signal.setitimer(signal.ITIMER_REAL, *previous_timer)


@dataclass(frozen=True)
class Entry:
    """One case: the backward's arguments, the numerical gradients, and the gradient names graded on it."""

    args: tuple
    expected: Mapping[str, np.ndarray]
    names: tuple[str, ...]


@dataclass(frozen=True)
class Bench:
    """Every case a mutant runs on, per shape profile."""

    cases: Mapping[str, tuple[Entry, ...]]

    def names(self) -> list[tuple[str, ...]]:
        """The graded names of every case, profile after profile (the order trials return gradients in)."""
        return [entry.names for entries in self.cases.values() for entry in entries]


def bench(module: ModuleType, *, installed: assignments.Assignment | None = None) -> Bench:
    """The cases of both profiles with their expected (numerical) gradients.

    installed: the assignment whose reference module is module, when it is a built-in one; its cases and
    expected gradients are then the ones its Assignment holds. For another reference module (e.g. one
    given with --reference), or a case of another depth than the assignment's default, they are computed
    the same way here.
    """
    installed = installed if installed is not None and installed.module is module else None
    cases: dict[str, tuple] = {}
    for profile in PROFILES:
        try:
            profile_cases = installed.cases(profile=profile) if installed else module.cases(profile=profile)
        except (ValueError, TypeError, KeyError):
            continue
        entries = []
        for index, case in enumerate(profile_cases):
            names = tuple(module.gradient_names(case)) if hasattr(module, "gradient_names") else tuple(module.GRADIENT_NAMES)
            expected = None
            if installed:
                with contextlib.suppress(KeyError):
                    expected = installed.expected_gradients(index, profile=profile)
            if expected is None or set(expected) != set(names):
                gradapprox = check.numerical_gradient(module.batched_cost(case), case.parameters)
                expected = {"d" + name: value for name, value in gradapprox.items()}
            entries.append(Entry(module.backward_args(case), expected, names))
        cases[profile] = tuple(entries)
    return Bench(cases=cases)


def _fresh(value: Any) -> Any:
    """A copy of the arguments, so a mutant that writes into its inputs cannot spoil the next case."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (tuple, list)):
        return type(value)(_fresh(item) for item in value)
    if isinstance(value, dict):
        return {key: _fresh(item) for key, item in value.items()}
    return value


def call(function: Callable, args: tuple, names: Sequence[str]) -> tuple[Mapping[str, Any] | None, str]:
    """The function's gradients on args, or None and a one-line reason (raised, timed out, not a dict).

    A backward pass with a single gradient (dtheta of J = theta * x) may return the gradient itself, and plain
    numbers count as 0-d arrays, as for students' code.
    """
    try:
        with np.errstate(all="ignore"):
            gradients = function(*_fresh(args))
    except MutantTimeout:
        raise
    except Exception as error:  # a mutant may raise anything; that is the verdict, not a grader failure
        return None, f"raised {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}".strip()
    if len(names) == 1 and gradients is not None and not isinstance(gradients, Mapping):
        gradients = {names[0]: gradients}
    if not isinstance(gradients, Mapping):
        return None, f"returned {type(gradients).__name__}, not a dict of gradients"
    return {name: np.asarray(value, dtype=np.float64) if _number(value) else value
            for name, value in gradients.items()}, ""


def _number(value: Any) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(value, bool)


@dataclass(frozen=True)
class Trial:
    """What one function did on every case: verdicts per profile and its gradients (for sameness)."""

    profiles: tuple[ProfileOutcome, ...]
    gradients: tuple[Mapping[str, Any] | None, ...]


def trial(function: Callable, cases: Bench, *, timeout: float | None = TIMEOUT) -> Trial:
    """Run function on every case of every profile and judge it with check.check_gradients."""
    outcomes, everything = [], []
    try:
        with time_guard(timeout):
            for profile, entries in cases.cases.items():
                outcomes.append(_judge_profile(function, profile, entries, everything))
    except MutantTimeout:
        done = {outcome.profile for outcome in outcomes}
        outcomes += [ProfileOutcome(profile, MutantStatus.TIMEOUT, None, (), f"no result within {timeout:g} s")
                     for profile in cases.cases if profile not in done]
        everything += [None] * (sum(len(entries) for entries in cases.cases.values()) - len(everything))
    return Trial(tuple(outcomes), tuple(everything))


def _judge_profile(function: Callable, profile: str, entries: Sequence[Entry], everything: list) -> ProfileOutcome:
    failed, crashed, differences, hit = [], [], [], set()
    names = tuple(dict.fromkeys(name for entry in entries for name in entry.names))
    for index, entry in enumerate(entries):
        gradients, reason = call(function, entry.args, entry.names)
        everything.append(gradients)
        if gradients is None:
            crashed.append(f"case {index}: {reason}")
            continue
        verdict = check.check_gradients(gradients, entry.expected, names=entry.names)
        if verdict.difference is not None:
            differences.append(verdict.difference)
        if not verdict.passed:
            failed.append(verdict)
            hit.update(block.name for block in verdict.blocks if not block.passed)
    parameters = tuple(name for name in names if name in hit)
    difference = max(differences) if differences else None
    if failed:
        worst = next((b.message for v in failed for b in v.blocks if not b.passed), "overall difference too large")
        # The worst entry's digits depend on numerical noise; the committed index keeps what is stable.
        worst = worst.split("; worst at")[0]
        return ProfileOutcome(profile, MutantStatus.KILLED, difference, parameters,
                              f"failed {len(failed)} / {len(entries)} cases; {worst}")
    if crashed:
        return ProfileOutcome(profile, MutantStatus.CRASHED, difference, (), crashed[0])
    return ProfileOutcome(profile, MutantStatus.SURVIVED, difference, (), f"passed {len(entries)} cases")


def _fingerprint(gradients: Sequence[Mapping[str, Any] | None],
                 case_names: Sequence[tuple[str, ...]]) -> tuple[tuple, np.ndarray] | None:
    """A shape key and one flat vector of every graded gradient on every case; None if nothing came back."""
    if all(g is None for g in gradients):
        return None
    shapes, parts = [], []
    for case, names in zip(gradients, case_names):
        for name in names:
            value = None if case is None else case.get(name)
            if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf":
                shapes.append(None if value is None else type(value).__name__)
                continue
            shapes.append(value.shape)
            parts.append(value.astype(np.float64).ravel())
    vector = np.concatenate(parts) if parts else np.zeros(0)
    if not np.isfinite(vector).all():
        # NaN never equals NaN; a sentinel makes two NaN-injected gradients comparable.
        vector = np.nan_to_num(vector, nan=1e300, posinf=1e301, neginf=-1e301)
    return tuple(shapes), vector


def _overall(profiles: Sequence[ProfileOutcome]) -> MutantStatus:
    for status in (MutantStatus.KILLED, MutantStatus.TIMEOUT, MutantStatus.CRASHED):
        if any(outcome.status is status for outcome in profiles):
            return status
    return MutantStatus.SURVIVED


def judge(module: ModuleType, mutants: Sequence[Mutant], *, timeout: float | None = TIMEOUT,
          installed: assignments.Assignment | None = None) -> tuple[ReferenceOutcome, tuple[MutantRecord, ...]]:
    """The reference's verdict and one record per mutant, with equivalent and duplicate mutants marked."""
    cases = bench(module, installed=installed)
    source = reference_source(module)
    reference_trial = trial(compile_function(source, module, filename="<reference>"), cases, timeout=None)
    reference = _reference_outcome(reference_trial)
    reference_print = _fingerprint(reference_trial.gradients, cases.names())
    every_name = dict.fromkeys(name for names in cases.names() for name in names)
    seen: dict[tuple, list[tuple[str, np.ndarray]]] = {}
    records = []
    for mutant in mutants:
        base = dict(id=mutant.id, operator=mutant.operator, family=mutant.family, description=mutant.description,
                    misconception=mutant.misconception, line=mutant.line, column=mutant.column,
                    end_line=mutant.end_line, end_column=mutant.end_column, original=mutant.original,
                    replacement=mutant.replacement)
        if not mutant.valid:
            records.append(MutantRecord(**base, status=MutantStatus.INVALID, parameters=(), difference=None,
                                        message=mutant.message))
            continue
        try:
            function = compile_function(mutant.source, module, filename=f"<mutant {mutant.id}>")
        except (SyntaxError, ValueError, TypeError) as error:
            records.append(MutantRecord(**base, status=MutantStatus.INVALID, parameters=(), difference=None,
                                        message=f"does not compile: {type(error).__name__}: {error}"))
            continue
        result = trial(function, cases, timeout=timeout)
        status = _overall(result.profiles)
        parameters = tuple(name for name in every_name if any(name in o.parameters for o in result.profiles))
        differences = [o.difference for o in result.profiles if o.difference is not None]
        record = MutantRecord(**base, status=status, parameters=parameters,
                              difference=max(differences) if differences else None, profiles=result.profiles,
                              message=next((o.message for o in result.profiles if o.status is status), ""),
                              function=function)
        printed = _fingerprint(result.gradients, cases.names())
        if printed is not None and status is MutantStatus.SURVIVED and _same(printed, reference_print):
            record = replace(record, status=MutantStatus.EQUIVALENT,
                             message="the same gradients as the reference on every case of every profile")
        elif printed is not None:
            earlier = _earlier_match(printed, seen)
            if earlier:
                record = replace(record, status=MutantStatus.DUPLICATE, duplicate_of=earlier,
                                 message=f"the same gradients as {earlier} on every case ({status.value} like it)")
            else:
                seen.setdefault(printed[0], []).append((mutant.id, printed[1]))
        records.append(record)
    return reference, tuple(records)


def _same(first: tuple[tuple, np.ndarray] | None, second: tuple[tuple, np.ndarray] | None) -> bool:
    if first is None or second is None or first[0] != second[0]:
        return False
    return bool(first[1].size == 0 or np.max(np.abs(first[1] - second[1])) <= SAME_GRADIENTS)


def _earlier_match(printed: tuple[tuple, np.ndarray], seen: Mapping[tuple, list[tuple[str, np.ndarray]]]) -> str | None:
    candidates = seen.get(printed[0], [])
    if not candidates:
        return None
    vectors = np.stack([vector for _, vector in candidates])
    distance = np.max(np.abs(vectors - printed[1]), axis=1) if printed[1].size else np.zeros(len(candidates))
    close = np.flatnonzero(distance <= SAME_GRADIENTS)
    return candidates[int(close[0])][0] if close.size else None


def _reference_outcome(result: Trial) -> ReferenceOutcome:
    differences = [o.difference for o in result.profiles if o.difference is not None]
    difference = max(differences) if differences else None
    if all(o.status is MutantStatus.SURVIVED for o in result.profiles) and result.profiles:
        return ReferenceOutcome("pass", difference, "passes every case of every profile", result.profiles)
    worst = next(o for o in result.profiles if o.status is not MutantStatus.SURVIVED)
    status = "fail" if worst.status is MutantStatus.KILLED else "error"
    return ReferenceOutcome(status, difference, f"{worst.profile} profile: {worst.message}", result.profiles)


def run(module: ModuleType, *, timeout: float | None = TIMEOUT, mutants: Sequence[Mutant] | None = None,
        installed: assignments.Assignment | None = None) -> MutationRun:
    """Generate every mutant of module's backward pass and judge them all: the whole mutation test.

    installed: the built-in assignment module belongs to, whose cached cases and gradients bench uses.
    """
    mutants = generate(module) if mutants is None else mutants
    reference, records = judge(module, mutants, timeout=timeout, installed=installed)
    canaries = [r for r in records if r.operator == CANARY]
    sound = bool(canaries) and all(any(o.status is MutantStatus.KILLED for o in r.profiles) for r in canaries)
    return MutationRun(assignment=getattr(module, "NAME", "?"), backward=module.BACKWARD,
                       reference_source=reference_source(module), reference=reference, mutants=records, sound=sound)
