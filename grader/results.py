"""Frozen result records and status enums shared by every stage, and their JSON form (result/v1)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

SCHEMA = "gradgrade/result/v1"


class Status(str, Enum):
    """The outcome of one check, or of a whole submission (pass, fail or error only)."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    TIMEOUT = "timeout"
    MISSING = "missing"


SUBMISSION_STATUSES = (Status.PASS, Status.FAIL, Status.ERROR)


def _finite_or_none(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)


@dataclass(frozen=True)
class ParameterResult:
    """One parameter's gradient (dW1, ...): the worst status and difference over every case."""

    name: str
    status: Status
    difference: float | None
    message: str

    def __post_init__(self) -> None:
        if self.status not in (Status.PASS, Status.FAIL):
            raise ValueError(f"a parameter passes or fails, not {self.status}")
        object.__setattr__(self, "difference", _finite_or_none(self.difference))

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status.value, "difference": self.difference, "message": self.message}


@dataclass(frozen=True)
class Diagnosis:
    """A catalogued mutant whose gradients match the student's: what the student probably did."""

    mutant: str
    operator: str
    hint: str
    parameters: tuple[str, ...] = ()
    line: int | None = None
    # Where `line` is in the student's own file: "line 21", or "code cell 7, line 3" in a notebook.
    where: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"mutant": self.mutant, "operator": self.operator, "hint": self.hint,
                "parameters": list(self.parameters), "line": self.line, "where": self.where}


@dataclass(frozen=True)
class CaseResult:
    """The check of one function on one case."""

    case: str
    status: Status
    difference: float | None
    message: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "difference", _finite_or_none(self.difference))

    def to_json(self) -> dict[str, Any]:
        return {"case": self.case, "status": self.status.value, "difference": self.difference,
                "message": self.message}


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one student function (backward_propagation_n, gradient_check_n, ...)."""

    name: str
    status: Status
    difference: float | None
    threshold: float
    message: str
    parameters: tuple[ParameterResult, ...] = ()
    diagnosis: tuple[Diagnosis, ...] = ()
    cases: tuple[CaseResult, ...] = ()
    points: float = 0.0
    max_points: float = 0.0
    details: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "difference", _finite_or_none(self.difference))
        if not 0.0 <= self.points <= self.max_points + 1e-12:
            raise ValueError(f"points {self.points} outside [0, {self.max_points}]")

    def parameter(self, name: str) -> ParameterResult:
        return next(parameter for parameter in self.parameters if parameter.name == name)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "status": self.status.value, "difference": self.difference,
            "threshold": self.threshold, "message": self.message,
            "parameters": {parameter.name: parameter.to_json() for parameter in self.parameters},
            "diagnosis": [diagnosis.to_json() for diagnosis in self.diagnosis],
            "cases": [case.to_json() for case in self.cases],
            "points": self.points, "max_points": self.max_points,
            "details": self.details,
        }


@dataclass(frozen=True)
class Capped:
    """Something the submission's run sent back that gradgrade cut (captured output, a long repr, error
    text): what it was, how much of it was kept, how large it was whole, and in what unit."""

    what: str
    kept: int
    size: int
    unit: str = "characters"

    def to_json(self) -> dict[str, Any]:
        return {"what": self.what, "kept": self.kept, "size": self.size, "unit": self.unit}

    def sentence(self) -> str:
        """The warning a student reads: what was cut, and how much of how much was kept."""
        return f"{self.what} was cut: {self.kept:,} of its {self.size:,} {self.unit} are shown"


@dataclass(frozen=True)
class SubmissionResult:
    """Everything gradgrade says about one submission: the result/v1 object."""

    submission: str
    assignment: str
    status: Status
    score: float
    max_score: float
    checks: tuple[CheckResult, ...] = ()
    message: str = ""
    warnings: tuple[str, ...] = ()
    output: str = ""
    # What the run sent back that was cut on its way (each also a sentence in warnings).
    capped: tuple[Capped, ...] = ()

    def __post_init__(self) -> None:
        if self.status not in SUBMISSION_STATUSES:
            raise ValueError(f"a submission passes, fails or errors, not {self.status}")

    def check(self, name: str) -> CheckResult:
        return next(check for check in self.checks if check.name == name)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA, "submission": self.submission, "assignment": self.assignment,
            "status": self.status.value, "score": self.score, "max_score": self.max_score,
            "checks": [check.to_json() for check in self.checks],
            "message": self.message, "warnings": list(self.warnings), "output": self.output,
            "capped": [capped.to_json() for capped in self.capped],
        }


def submission_from_json(data: dict[str, Any]) -> SubmissionResult:
    """Rebuild a SubmissionResult from its to_json() form (gradebook rows, results from workers)."""
    checks = []
    for check in data.get("checks", []):
        parameters = tuple(ParameterResult(name, Status(p["status"]), p["difference"], p["message"])
                           for name, p in check.get("parameters", {}).items())
        diagnosis = tuple(Diagnosis(d["mutant"], d["operator"], d["hint"], tuple(d.get("parameters", ())),
                                    d.get("line"), d.get("where", "")) for d in check.get("diagnosis", []))
        cases = tuple(CaseResult(c["case"], Status(c["status"]), c["difference"], c.get("message", ""))
                      for c in check.get("cases", []))
        checks.append(CheckResult(check["name"], Status(check["status"]), check["difference"],
                                  check["threshold"], check["message"], parameters, diagnosis, cases,
                                  check.get("points", 0.0), check.get("max_points", 0.0),
                                  check.get("details", {})))
    return SubmissionResult(data["submission"], data["assignment"], Status(data["status"]), data["score"],
                            data["max_score"], tuple(checks), data.get("message", ""),
                            tuple(data.get("warnings", ())), data.get("output", ""),
                            tuple(Capped(c["what"], c["kept"], c["size"], c.get("unit", "characters"))
                                  for c in data.get("capped", ())))


__all__ = ["SCHEMA", "Status", "Capped", "ParameterResult", "Diagnosis", "CaseResult", "CheckResult",
           "SubmissionResult", "submission_from_json"]
