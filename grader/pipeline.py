"""Grade one submission: load -> sandbox -> check -> score, into one SubmissionResult."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from grader import assignments, backward, check, load, sandbox, score
from grader.results import CheckResult, Status, SubmissionResult


@dataclass(frozen=True)
class Settings:
    """How to grade: plain data, so it can travel to another process or machine."""

    assignment: str = "three_layer"
    epsilon: float = check.EPSILON
    threshold: float = check.THRESHOLD
    timeout: float = 10.0
    run_all: bool = False

    def __post_init__(self) -> None:
        if not 0 < self.epsilon < 1:
            raise ValueError(f"epsilon must be in (0, 1), got {self.epsilon}")
        if not 0 < self.threshold < 1:
            raise ValueError(f"threshold must be in (0, 1), got {self.threshold}")
        if self.timeout <= 0:
            raise ValueError(f"timeout must be positive, got {self.timeout}")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def error_result(submission: str, settings: Settings, message: str, *, warnings: tuple[str, ...] = ()) -> SubmissionResult:
    """The result of a submission that could not be graded at all: status error, score 0."""
    return SubmissionResult(submission, settings.assignment, Status.ERROR, 0.0, score.DEFAULT_RUBRIC.backward_points,
                            message=message, warnings=warnings)


def overall_status(checks: tuple[CheckResult, ...]) -> Status:
    """pass when every check passed; error when a check could not run (raised, crashed, timed out); else fail."""
    statuses = {c.status for c in checks}
    if statuses == {Status.PASS}:
        return Status.PASS
    if statuses & {Status.ERROR, Status.TIMEOUT}:
        return Status.ERROR
    return Status.FAIL


def grade_program(program: load.Program, submission: str, settings: Settings) -> SubmissionResult:
    """Run a loaded program's functions in the sandbox and turn what they return into a result."""
    assignment = assignments.get(settings.assignment)
    calls = backward.calls(assignment)
    run = sandbox.run(program.source, calls, filename=program.filename,
                      limits=sandbox.Limits(timeout=settings.timeout))
    backward_check = backward.judge(assignment, run.outcomes, run, epsilon=settings.epsilon,
                                    threshold=settings.threshold)
    checks: tuple[CheckResult, ...] = (score.score_backward(backward_check),)
    total, maximum = score.totals(checks)
    status = overall_status(checks)
    warnings = program.warnings + ((f"while loading: {run.load_error}",) if run.load_error else ())
    output = run.stdout + (("\n[stderr]\n" + run.stderr) if run.stderr.strip() else "")
    message = run.message or checks[0].message
    return SubmissionResult(submission, assignment.name, status, total, maximum, checks, message, warnings, output)


def grade_file(path: Path, settings: Settings, *, submission: str | None = None) -> SubmissionResult:
    """Grade one submission file; every problem with the file becomes an error result, never an exception."""
    name = submission or Path(path).stem
    try:
        program = load.load(Path(path), run_all=settings.run_all)
    except load.LoadError as error:
        return error_result(name, settings, str(error))
    return grade_program(program, name, settings)
