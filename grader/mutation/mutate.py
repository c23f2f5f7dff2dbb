"""Mutation testing: plant each operator's bug in a reference backward pass and judge every mutant with check.py.

Contract for the other stages (diagnosis, grading students' gradient checkers):

``catalogue(assignment_name) -> tuple[MutantRecord, ...]``
    Every committed mutant of the assignment, read from ``mutants/<assignment>/index.json`` in catalogue
    order, each with its function compiled in this process (``record.function``; None for an invalid
    mutant). Built once per process. An assignment without a committed catalogue gives ``()``.
    A record carries id, operator, family, description, misconception, line (of
    ``mutants/<assignment>/reference.py``), status (MutantStatus), parameters (the gradients it gets
    wrong, e.g. ``("db1",)``), difference (the largest over every case), duplicate_of, original and
    replacement (the source of the changed node) and one ProfileOutcome per shape profile.

``mutant_gradients(assignment_name, mutant_id, profile, case_index) -> dict[str, np.ndarray] | None``
    What the mutant's backward pass returns on case ``case_index`` of ``assignments.get(name).cases(
    profile=profile)`` (profile "course" or "square"): every array it returns, keyed like the reference
    (dW1, ..., and extras such as dZ1), read-only. None when the mutant raises, times out or does not
    return a dict. Cached; KeyError for an unknown mutant id.

Mutants are our own code, so they run in this process with the reference module's globals, each
under a time guard so a mutated loop cannot hang the run.
"""
from __future__ import annotations

import ast
import contextlib
import functools
import importlib.util
import inspect
import json
import signal
import textwrap
import threading
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np

from grader import assignments
from grader.mutation.operators.apply import Site, bound_names, mutated_source, preorder, sites
from grader.mutation.operators.registry import REGISTRY, Operator
from grader.mutation.operators.zero import CANARY
from grader.numerics import check

PROFILES = ("course", "square")
MUTANTS_DIR = Path(importlib.util.find_spec("grader.mutants").origin).parent
INDEX_SCHEMA = "gradgrade/mutants/v1"
# Two gradients closer than this everywhere are the same gradients (equivalent or duplicate mutants).
SAME_GRADIENTS = 1e-12
# Seconds a mutant may take over every case of every profile (a few milliseconds is usual); generous
# so a loaded machine never turns a slow mutant into a timeout.
TIMEOUT = 5.0


class MutantStatus(str, Enum):
    """The verdict on one mutant (or on one shape profile of it)."""

    KILLED = "killed"
    CRASHED = "crashed"
    SURVIVED = "survived"
    EQUIVALENT = "equivalent"
    DUPLICATE = "duplicate"
    TIMEOUT = "timeout"
    INVALID = "invalid"


DETECTED = (MutantStatus.KILLED, MutantStatus.CRASHED, MutantStatus.TIMEOUT)


@dataclass(frozen=True)
class ProfileOutcome:
    """A mutant's verdict on one shape profile: killed, crashed, timeout or survived (passed every case)."""

    profile: str
    status: MutantStatus
    difference: float | None
    parameters: tuple[str, ...]
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status.value, "difference": _rounded(self.difference),
                "parameters": list(self.parameters), "message": self.message}


@dataclass(frozen=True)
class Mutant:
    """One generated mutant: where the operator changed the reference and the mutated function's source."""

    id: str
    operator: str
    family: str
    description: str
    misconception: str
    line: int
    column: int
    end_line: int
    end_column: int
    original: str
    replacement: str
    source: str
    valid: bool = True
    message: str = ""


@dataclass(frozen=True)
class MutantRecord:
    """A mutant with its verdict; function is the compiled mutant (None when invalid or not compiled)."""

    id: str
    operator: str
    family: str
    description: str
    misconception: str
    line: int
    status: MutantStatus
    parameters: tuple[str, ...]
    difference: float | None
    column: int = 0
    end_line: int = 0
    end_column: int = 0
    original: str = ""
    replacement: str = ""
    duplicate_of: str | None = None
    profiles: tuple[ProfileOutcome, ...] = ()
    message: str = ""
    function: Callable | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.status, MutantStatus):
            object.__setattr__(self, "status", MutantStatus(self.status))

    def profile(self, name: str) -> ProfileOutcome | None:
        return next((outcome for outcome in self.profiles if outcome.profile == name), None)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "operator": self.operator, "family": self.family, "description": self.description,
                "misconception": self.misconception, "line": self.line, "column": self.column,
                "end_line": self.end_line, "end_column": self.end_column, "original": self.original,
                "replacement": self.replacement, "status": self.status.value,
                "difference": _rounded(self.difference), "parameters": list(self.parameters),
                "duplicate_of": self.duplicate_of, "message": self.message,
                "profiles": {outcome.profile: outcome.to_json() for outcome in self.profiles}}


@dataclass(frozen=True)
class ReferenceOutcome:
    """The reference backward pass judged like a mutant: pass, fail or error, and its largest difference."""

    status: str
    difference: float | None
    message: str
    profiles: tuple[ProfileOutcome, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "difference": _rounded(self.difference), "message": self.message}


@dataclass(frozen=True)
class MutationRun:
    """A whole mutation run: the reference's verdict, every mutant's, and whether the canary was caught."""

    assignment: str
    backward: str
    reference_source: str
    reference: ReferenceOutcome
    mutants: tuple[MutantRecord, ...]
    sound: bool

    @property
    def score(self) -> float:
        """Detected mutants over those that can be detected (not equivalent, duplicate or invalid)."""
        counted = [m for m in self.mutants if m.status in DETECTED or m.status is MutantStatus.SURVIVED]
        return sum(m.status in DETECTED for m in counted) / len(counted) if counted else 1.0

    @property
    def passed(self) -> bool:
        """The reference passes, the canary is caught and no non-equivalent mutant survives."""
        return (self.reference.status == "pass" and self.sound
                and not any(m.status is MutantStatus.SURVIVED for m in self.mutants))

    def counts(self) -> dict[str, int]:
        return {status.value: sum(m.status is status for m in self.mutants) for status in MutantStatus}


def _rounded(value: float | None) -> float | None:
    """Six significant digits: enough to read, and stable across BLAS builds for the golden files."""
    if value is None or not np.isfinite(value):
        return None
    return float(f"{value:.6g}")


# --- Generating mutants -----------------------------------------------------------------------


def reference_source(module: ModuleType) -> str:
    """The reference backward function's source passed through ast.unparse (line 1 is its def)."""
    source = textwrap.dedent(inspect.getsource(getattr(module, module.BACKWARD)))
    function = ast.parse(source).body[0]
    return ast.unparse(ast.Module(body=[function], type_ignores=[]))


def _line(source: str, number: int) -> str:
    lines = source.splitlines()
    return lines[number - 1].strip() if 0 < number <= len(lines) else ""


def generate(module: ModuleType, *, registry: Mapping[str, Operator] | None = None) -> tuple[Mutant, ...]:
    """Every mutant of the module's backward function, operator by operator, in source order."""
    registry = REGISTRY if registry is None else registry
    source = reference_source(module)
    tree = ast.parse(source)
    names = bound_names(tree)
    nodes = preorder(tree)
    found = []
    for operator in registry.values():
        for site in sites(operator, tree, names=names, nodes=nodes):
            found.append(_mutant(operator, site, tree, nodes))
    return tuple(found)


def _mutant(operator: Operator, site: Site, tree: ast.AST, nodes: list) -> Mutant:
    node = site.original
    common = dict(id=f"{operator.id}-{site.occurrence}", operator=operator.id, family=operator.family,
                  description=operator.description, misconception=operator.misconception, line=node.lineno,
                  column=node.col_offset, end_line=node.end_lineno, end_column=node.end_col_offset,
                  original=ast.unparse(node))
    try:
        replacement = ast.unparse(site.replacement)
        source = mutated_source(tree, site, nodes=nodes)
        ast.parse(source)
    except (SyntaxError, ValueError, TypeError, AttributeError, RecursionError) as error:
        return Mutant(**common, replacement="", source="", valid=False,
                      message=f"does not re-parse: {type(error).__name__}: {error}")
    return Mutant(**common, replacement=replacement, source=source)


def compile_function(source: str, module: ModuleType, *, filename: str = "<mutant>") -> Callable:
    """The backward function defined by source, run with (a copy of) the reference module's globals."""
    namespace = dict(vars(module))
    exec(compile(source, filename, "exec"), namespace)  # our own generated code, never a student's
    return namespace[module.BACKWARD]


# --- Running mutants --------------------------------------------------------------------------


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


def bench(module: ModuleType) -> Bench:
    """The cases of both profiles with their expected (numerical) gradients.

    For an installed assignment the expected gradients come from assignments' cache; for another
    reference module (e.g. one given with --reference), or a case of another depth than the
    assignment's default, they are computed the same way here.
    """
    installed = _installed(module)
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


def _installed(module: ModuleType) -> assignments.Assignment | None:
    try:
        assignment = assignments.get(getattr(module, "NAME", ""))
    except assignments.UnknownAssignment:
        return None
    return assignment if assignment.module is module else None


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

    A backward pass with a single gradient (one_d's dtheta) may return the gradient itself, and plain
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


def judge(module: ModuleType, mutants: Sequence[Mutant], *, timeout: float | None = TIMEOUT) -> tuple[ReferenceOutcome, tuple[MutantRecord, ...]]:
    """The reference's verdict and one record per mutant, with equivalent and duplicate mutants marked."""
    cases = bench(module)
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


def run(module: ModuleType, *, timeout: float | None = TIMEOUT,
        mutants: Sequence[Mutant] | None = None) -> MutationRun:
    """Generate every mutant of module's backward pass and judge them all: the whole mutation test."""
    mutants = generate(module) if mutants is None else mutants
    reference, records = judge(module, mutants, timeout=timeout)
    canaries = [r for r in records if r.operator == CANARY]
    sound = bool(canaries) and all(any(o.status is MutantStatus.KILLED for o in r.profiles) for r in canaries)
    return MutationRun(assignment=getattr(module, "NAME", "?"), backward=module.BACKWARD,
                       reference_source=reference_source(module), reference=reference, mutants=records, sound=sound)


# --- The committed catalogue ------------------------------------------------------------------


def _first_line(code: str) -> str:
    """A changed node's source on one line: a mutated loop spans many, and a header line must stay a comment."""
    lines = code.strip().splitlines() or [""]
    return lines[0] + (" ..." if len(lines) > 1 else "")


def header(mutant: Mutant, run_: MutationRun) -> str:
    """The comment that opens a mutant's file: what changed and where."""
    before = _line(run_.reference_source, mutant.line)
    after = _line(mutant.source, mutant.line)
    change = f"{_first_line(mutant.original)}  ->  {_first_line(mutant.replacement)}"
    return "\n".join([
        f"# Mutant {mutant.id} of {run_.assignment}.{run_.backward} (generated by `gradgrade mutate`).",
        f"# {mutant.operator} ({mutant.family}): {mutant.description}",
        f"# Line {mutant.line}, column {mutant.column + 1} of reference.py: {change}",
        f"# reference: {before}",
        f"# mutant:    {after}",
    ])


def reference_file(run_: MutationRun) -> str:
    """reference.py: the reference through ast.unparse; the note goes last so line numbers stay the function's."""
    return (f"{run_.reference_source}\n# The reference {run_.assignment}.{run_.backward} through ast.unparse; "
            f"mutants' line numbers refer to this file.\n")


def catalogue_files(run_: MutationRun, mutants: Sequence[Mutant]) -> dict[str, str]:
    """The files of mutants/<assignment>/: reference.py, one <id>.py per mutant, index.json."""
    files = {"reference.py": reference_file(run_)}
    for mutant in mutants:
        body = mutant.source if mutant.valid else f"# invalid: {mutant.message}"
        files[f"{mutant.id}.py"] = f"{header(mutant, run_)}\n{body}\n"
    index = {"schema": INDEX_SCHEMA, "assignment": run_.assignment, "backward": run_.backward,
             "reference": run_.reference.to_json(), "sound": run_.sound, "counts": run_.counts(),
             "mutants": [record.to_json() for record in run_.mutants]}
    files["index.json"] = json.dumps(index, indent=1) + "\n"
    return files


def write_catalogue(module: ModuleType, *, directory: Path = MUTANTS_DIR,
                    timeout: float | None = TIMEOUT) -> tuple[MutationRun, Path]:
    """Regenerate mutants/<assignment>/ from the reference (stale mutant files are removed)."""
    mutants = generate(module)
    run_ = run(module, timeout=timeout, mutants=mutants)
    files = catalogue_files(run_, mutants)
    folder = Path(directory) / run_.assignment
    folder.mkdir(parents=True, exist_ok=True)
    for stale in set(p.name for p in folder.glob("*.py")) | {"index.json"}:
        if stale not in files:
            (folder / stale).unlink(missing_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return run_, folder


@functools.cache
def catalogue(assignment_name: str) -> tuple[MutantRecord, ...]:
    """Every committed mutant of the assignment with its compiled function (see the module docstring)."""
    module = assignments.get(assignment_name).module
    folder = MUTANTS_DIR / assignment_name
    index_path = folder / "index.json"
    if not index_path.is_file():
        return ()
    index = json.loads(index_path.read_text(encoding="utf-8"))
    records = []
    for entry in index["mutants"]:
        status = MutantStatus(entry["status"])
        function = None
        if status is not MutantStatus.INVALID:
            source = (folder / f"{entry['id']}.py").read_text(encoding="utf-8")
            function = compile_function(source, module, filename=str(folder / f"{entry['id']}.py"))
        profiles = tuple(ProfileOutcome(name, MutantStatus(p["status"]), p["difference"], tuple(p["parameters"]),
                                        p["message"]) for name, p in entry["profiles"].items())
        records.append(MutantRecord(
            id=entry["id"], operator=entry["operator"], family=entry["family"], description=entry["description"],
            misconception=entry["misconception"], line=entry["line"], status=status,
            parameters=tuple(entry["parameters"]), difference=entry["difference"], column=entry["column"],
            end_line=entry["end_line"], end_column=entry["end_column"], original=entry["original"],
            replacement=entry["replacement"], duplicate_of=entry["duplicate_of"], profiles=profiles,
            message=entry["message"], function=function))
    return tuple(records)


@functools.cache
def _by_id(assignment_name: str) -> dict[str, MutantRecord]:
    return {record.id: record for record in catalogue(assignment_name)}


@functools.cache
def mutant_gradients(assignment_name: str, mutant_id: str, profile: str, case_index: int) -> dict[str, np.ndarray] | None:
    """The mutant's gradients on one case (see the module docstring); None when it crashes."""
    record = _by_id(assignment_name)[mutant_id]
    if record.function is None:
        return None
    names = assignments.get(assignment_name).case_gradient_names(case_index, profile=profile)
    try:
        with time_guard(TIMEOUT):
            gradients, _ = call(record.function, _backward_args(assignment_name, profile, case_index), names)
    except MutantTimeout:
        return None
    if gradients is None:
        return None
    arrays = {}
    for name, value in gradients.items():
        if isinstance(value, np.ndarray):
            value = value.copy()
            value.setflags(write=False)
            arrays[name] = value
    return arrays


@functools.cache
def _backward_args(assignment_name: str, profile: str, case_index: int) -> tuple:
    """The backward pass's arguments on one case, made once for every mutant (call gives each a copy)."""
    assignment = assignments.get(assignment_name)
    return assignment.module.backward_args(assignment.cases(profile=profile)[case_index])


def load_reference(path: Path) -> ModuleType:
    """A reference module from a file (for --reference); ValueError with a one-line reason if it cannot load."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    spec = importlib.util.spec_from_file_location(f"gradgrade_reference_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ValueError(f"{path}: not a Python module (.py)")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # a broken reference file is reported, not a traceback
        raise ValueError(f"{path}: cannot load the reference: {type(error).__name__}: {error}") from None
    missing = [name for name in ("BACKWARD", "GRADIENT_NAMES", "PARAMETER_NAMES", "cases", "backward_args",
                                 "batched_cost") if not hasattr(module, name)]
    if missing:
        raise ValueError(f"{path}: not a reference module, missing {', '.join(missing)}")
    return module
