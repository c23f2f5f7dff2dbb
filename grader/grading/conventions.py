"""Which of a declared function's accepted conventions a submission follows, and the one a rubric fixes.

A spec accepts conventions that changed between years (0.5 * reg * sum(W**2) or reg * sum(W**2)) as other
reference functions. A submission is judged by the one it agrees with on most cases (the spec's own
reference wins ties), unless the rubric's [conventions] table fixes one. When each part of what it
returns (the loss, each gradient) agrees with some convention but no one convention fits them all, the
verdict says so: that is the bug, not the convention.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable, Mapping, Sequence

from grader import spec as api
from grader.assignments import specs
from grader.grading.score import RubricError
from grader.results import Status

# The rubric's table: [conventions] function = "the reference or convention accepted, alone".
TABLE = "conventions"

Verdicts = Sequence[tuple[Any, Mapping[str, Any]]]  # per case: (CaseResult, blocks by returned part)


@dataclass(frozen=True)
class Choice:
    """The verdicts a function is judged by, the convention they come from (None: the spec's reference),
    and a note for its message ('' when there is nothing to say)."""

    verdicts: Verdicts
    followed: str | None = None
    note: str = ""


def label(module: ModuleType, name: str | None) -> str:
    """How a message names a convention: its reference's name and the first line of its docstring."""
    if name is None:
        return "the reference's convention"
    found = specs.reference(module, name)
    doc = (inspect.getdoc(found) or "").strip().splitlines() if found is not None else []
    return f"the convention of {name}" + (f" ({doc[0].rstrip('.')})" if doc else "")


def _passes(verdicts: Verdicts) -> int:
    return sum(case.status is Status.PASS for case, _ in verdicts)


def _all_pass(verdicts: Verdicts) -> bool:
    return _passes(verdicts) == len(verdicts)


def choose(declared: api.Function, judge: Callable[[str | None], Verdicts], *, module: ModuleType,
           fixed: str | None = None) -> Choice:
    """The verdicts to grade by. judge(None) judges against the spec's reference, judge(name) against a
    convention; fixed: the name the rubric accepts alone (the function's own name for its reference)."""
    names = tuple(getattr(declared, "conventions", ()))
    reference = judge(None)
    if not names or (fixed is None and _all_pass(reference)):
        return Choice(reference)
    judged: dict[str | None, Verdicts] = {None: reference, **{name: judge(name) for name in names}}
    allowed = [None if fixed == declared.function else fixed] if fixed else list(judged)
    best = max(allowed, key=lambda name: _passes(judged[name]))  # the first of equals: the reference
    verdicts, by = judged[best], "the rubric requires" if fixed else "the assignment accepts"
    if _all_pass(verdicts):
        note = f"it follows {label(module, best)}, which {by}" if best or fixed else ""
        return Choice(verdicts, best, note)
    passing = [name for name in judged if _all_pass(judged[name])]
    if fixed and passing:
        return Choice(verdicts, best, f"it follows {label(module, passing[0])}, but the rubric accepts only "
                                      f"{label(module, best)}")
    note = _mixed(judged, module)
    if not note and best is not None:
        note = f"judged by {label(module, best)}, the one it agrees with on most cases"
    return Choice(verdicts, best, note)


def _mixed(judged: Mapping[str | None, Verdicts], module: ModuleType) -> str:
    """'' unless every returned part agrees with some convention on every case but none fits them all;
    then which part follows which."""
    parts = list(dict.fromkeys(part for verdicts in judged.values() for _, blocks in verdicts for part in blocks))
    fits = {part: tuple(name for name, verdicts in judged.items()
                        if all(part in blocks and blocks[part].passed for _, blocks in verdicts)) for part in parts}
    if not parts or not all(fits.values()) or set.intersection(*(set(names) for names in fits.values())):
        return ""
    groups: dict[tuple, list[str]] = {}
    for part, names in fits.items():
        if len(names) < len(judged):  # a part every convention accepts (a bias gradient) says nothing
            groups.setdefault(names, []).append(part)
    said = "; ".join(f"{', '.join(group)} {'follows' if len(group) == 1 else 'follow'} "
                     f"{' or '.join(label(module, name) for name in names)}" for names, group in groups.items())
    return f"{said}: what it returns must follow one convention"


def fixed_by(rubric: Mapping[str, Any] | None, declared: api.Function) -> str | None:
    """The convention the rubric's [conventions] table fixes for the function, or None (any accepted one)."""
    table = (rubric or {}).get(TABLE) or {}
    name = table.get(declared.function) if isinstance(table, Mapping) else None
    return name if name in (declared.function, *getattr(declared, "conventions", ())) else None


def check_rubric(functions: Sequence[api.Function], rubric: Mapping[str, Any] | None) -> None:
    """RubricError (one line naming the key) when the [conventions] table names a function the assignment
    does not declare with conventions, or a convention it does not accept."""
    table = (rubric or {}).get(TABLE)
    if table is None:
        return
    declared = {function.function: function for function in functions if getattr(function, "conventions", ())}
    for key, value in table.items():
        if key not in declared:
            known = ", ".join(declared) or "none in this assignment"
            raise RubricError(f"rubric: {TABLE}.{key}: not a function with conventions (known: {known})")
        accepted = (key, *declared[key].conventions)
        if value not in accepted:
            raise RubricError(f"rubric: {TABLE}.{key} must be one of {', '.join(map(repr, accepted))}, got {value!r}")
