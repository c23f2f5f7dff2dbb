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


class SourceStatus(str, Enum):
    """What gradgrade found of a graded function in the student's file."""

    FOUND = "found"        # the definition that was graded
    UNPARSED = "unparsed"  # a definition in a cell (or part of the file) that does not parse, so was not run
    MISSING = "missing"    # no definition: text holds what was found instead, if anything


@dataclass(frozen=True)
class FunctionSource:
    """A graded function's own lines as the student wrote them, and where they start in the student's file.

    line is the student's number of the first line: the file's line, or the line in code cell `cell` of a
    notebook. program_line is the same line's number in the program gradgrade ran, the number
    Diagnosis.line and the sandbox count in. problem_line (a student's number, like line) is where the
    parser stopped in an unparsed definition.
    """

    status: SourceStatus
    text: str = ""
    line: int = 1
    cell: int | None = None
    program_line: int = 0
    note: str = ""
    problem_line: int | None = None
    # What the student calls the cell: "code cell 4" in a notebook file, "In [4]" in Jupyter; "" in a .py.
    cell_name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", SourceStatus(self.status))
        if self.cell is not None and not self.cell_name:
            object.__setattr__(self, "cell_name", f"code cell {self.cell}")

    def where(self, line: int) -> str:
        """A line of the student's numbering as they say it: "line 15", "code cell 4, line 11", "In [4], line 11"."""
        return f"{self.cell_name}, line {line}" if self.cell_name else f"line {line}"

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status.value, "text": self.text, "line": self.line, "cell": self.cell,
                "cell_name": self.cell_name, "program_line": self.program_line, "note": self.note,
                "problem_line": self.problem_line}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FunctionSource:
        return cls(SourceStatus(data["status"]), data.get("text", ""), data.get("line", 1), data.get("cell"),
                   data.get("program_line", 0), data.get("note", ""), data.get("problem_line"),
                   data.get("cell_name", ""))


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
    """The verdict on one student function (a backward pass, a gradient checker, ...)."""

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
    # The graded function's source for the student's page (None where the result was made without it).
    source: FunctionSource | None = None

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
            "source": self.source.to_json() if self.source is not None else None,
        }


class LateStatus(str, Enum):
    """How a submission's time stands against the due time."""

    ON_TIME = "on_time"
    GRACE = "within_grace"
    LATE = "late"
    UNKNOWN = "unknown"  # no due time, or no submission time


@dataclass(frozen=True)
class Lateness:
    """When a submission came in (ISO 8601), where that time was read, how late it is and the points it costs."""

    status: LateStatus
    submitted: str | None
    source: str
    due: str | None
    seconds_late: float | None
    penalty: float = 0.0
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status.value, "submitted": self.submitted, "source": self.source, "due": self.due,
                "seconds_late": self.seconds_late, "penalty": self.penalty, "note": self.note}


@dataclass(frozen=True)
class Override:
    """An instructor's points for a whole submission (check None) or one check, who set them and when."""

    check: str | None
    points: float
    comment: str
    by: str
    at: str
    applied: bool = True  # False when the result has no such check (an error row has none)

    def to_json(self) -> dict[str, Any]:
        return {"check": self.check, "points": self.points, "comment": self.comment, "by": self.by, "at": self.at,
                "applied": self.applied}


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
    # What grader.final adds: the lateness, the instructor's overrides and the score they make (None: the score).
    late: Lateness | None = None
    overrides: tuple[Override, ...] = ()
    final_score: float | None = None
    # Where in the class the submission was found (gradgrade grade): its section or group folder ("" when
    # none), the file graded as it is in the class, and the student's other files, not graded.
    group: str = ""
    file: str = ""
    other_files: tuple[str, ...] = ()

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
            "final_score": self.final, "late": self.late.to_json() if self.late else None,
            "overrides": [override.to_json() for override in self.overrides],
            "group": self.group, "file": self.file, "other_files": list(self.other_files),
        }

    @property
    def final(self) -> float:
        """The score the student gets: the automatic score with the late penalty and overrides applied."""
        return self.score if self.final_score is None else self.final_score


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
                                  check.get("details", {}),
                                  FunctionSource.from_json(check["source"]) if check.get("source") else None))
    late = data.get("late")
    lateness = None if not late else Lateness(LateStatus(late["status"]), late.get("submitted"), late.get("source", ""),
                                              late.get("due"), late.get("seconds_late"), late.get("penalty", 0.0),
                                              late.get("note", ""))
    overrides = tuple(Override(o.get("check"), o["points"], o.get("comment", ""), o.get("by", ""), o.get("at", ""),
                               o.get("applied", True)) for o in data.get("overrides") or ())
    adjusted = lateness is not None or bool(overrides)
    return SubmissionResult(data["submission"], data["assignment"], Status(data["status"]), data["score"],
                            data["max_score"], tuple(checks), data.get("message", ""),
                            tuple(data.get("warnings", ())), data.get("output", ""),
                            tuple(Capped(c["what"], c["kept"], c["size"], c.get("unit", "characters"))
                                  for c in data.get("capped", ())), lateness, overrides,
                            data.get("final_score") if adjusted else None,
                            data.get("group", ""), data.get("file", ""), tuple(data.get("other_files", ())))


__all__ = ["SCHEMA", "Status", "Capped", "ParameterResult", "Diagnosis", "SourceStatus", "FunctionSource", "CaseResult",
           "CheckResult", "LateStatus", "Lateness", "Override", "SubmissionResult", "submission_from_json"]
