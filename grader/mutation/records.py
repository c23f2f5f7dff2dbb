"""Mutation results: a mutant, its verdict per shape profile, and the whole run's."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable

import numpy as np


PROFILES = ("course", "square")


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
    # A spec assignment's mutant: the declared function it mutates, the changed line of its reference
    # before and after, and for a survivor the case that would expose it (Suggestion). A built-in's has none.
    target: str = ""
    before: str = ""
    after: str = ""
    suggestion: "Suggestion | None" = None

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
                "profiles": {outcome.profile: outcome.to_json() for outcome in self.profiles},
                **self._spec_json()}

    def _spec_json(self) -> dict[str, Any]:
        """The fields a spec assignment's mutant adds to mutation/v1 (none for a built-in's, whose JSON stays)."""
        if not self.target:
            return {}
        found: dict[str, Any] = {"function": self.target, "changed": {"line": self.line, "before": self.before,
                                                                     "after": self.after}}
        if self.suggestion is not None:
            found["suggestion"] = self.suggestion.to_json()
        return found


@dataclass(frozen=True)
class Suggestion:
    """What case would expose a surviving mutant: the advice, and whether a drawn variant case confirmed it."""

    text: str
    checked: bool = False
    # The variant case that caught the mutant when checked: what it changed, e.g. "X.shape[1] = W.shape[0] = 3".
    variant: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "checked": self.checked, "variant": self.variant}


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
