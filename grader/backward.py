"""Grade a student's backward pass: the sandbox calls to make, and the verdict from what they returned."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from grader import check
from grader.assignments import Assignment
from grader.results import CaseResult, CheckResult, ParameterResult, Status
from grader.sandbox import Call, CallOutcome, CallStatus, SandboxRun
from grader.settings import Settings
from grader.wire import Opaque

KIND = "backward"


def function_name(assignment: Assignment) -> str | None:
    """The student function this grader grades."""
    return assignment.backward


def calls(assignment: Assignment, settings: Settings) -> list[Call]:
    """One call of the student's backward pass per case, on the reference forward's outputs."""
    module = assignment.module
    return [Call(assignment.backward, module.backward_args(case), arg_names=module.BACKWARD_ARG_NAMES)
            for case in assignment.cases()]


def gradients_of(value: Any, names: Sequence[str]) -> tuple[dict[str, Any] | None, str]:
    """The gradients a backward pass returned, keyed by name, or None and what was wrong with the value."""
    if isinstance(value, Opaque):
        return None, f"returned a {value.type_name}, expected a dict of gradients ({', '.join(names)})"
    if not isinstance(value, dict):
        kind = "None" if value is None else type(value).__name__
        return None, f"returned {kind}, expected a dict of gradients ({', '.join(names)})"
    gradients = {}
    for name in names:
        entry = value.get(name)
        if isinstance(entry, (int, float)) and not isinstance(entry, bool):
            entry = np.asarray(entry, dtype=np.float64)
        gradients[name] = entry
    return gradients, ""


def _failed_case(case: str, status: Status, message: str, names: Sequence[str]) -> tuple[CaseResult, dict]:
    blocks = {name: check.BlockCheck(name, False, None, message) for name in names}
    return CaseResult(case, status, None, message), blocks


def judge_case(case_name: str, outcome: CallOutcome, expected: Mapping[str, np.ndarray], *,
               names: Sequence[str], threshold: float) -> tuple[CaseResult, dict[str, check.BlockCheck]]:
    """One case's verdict, and the per-parameter blocks it contributes."""
    if outcome.status is CallStatus.ERROR:
        return _failed_case(case_name, Status.ERROR, f"raised {outcome.message}", names)
    if outcome.status is CallStatus.TIMEOUT:
        return _failed_case(case_name, Status.TIMEOUT, "did not finish in time", names)
    if outcome.status in (CallStatus.MISSING, CallStatus.NOT_RUN):
        return _failed_case(case_name, Status.ERROR, "was not run", names)
    gradients, problem = gradients_of(outcome.value, names)
    if gradients is None:
        return _failed_case(case_name, Status.FAIL, problem, names)
    verdict = check.check_gradients(gradients, expected, threshold=threshold, names=names)
    failing = [block.message for block in verdict.blocks if not block.passed]
    message = "; ".join(failing[:2]) if failing else "ok"
    if outcome.mutated:
        message += f" (it changed its input {', '.join(outcome.mutated)} in place)"
    status = Status.PASS if verdict.passed else Status.FAIL
    return CaseResult(case_name, status, verdict.difference, message), {b.name: b for b in verdict.blocks}


def _worst(values: list[float | None]) -> float | None:
    return None if any(value is None for value in values) else max(values, default=None)


def aggregate_parameters(names: Sequence[str], case_names: Sequence[str],
                         blocks_by_case: Sequence[Mapping[str, check.BlockCheck]]) -> tuple[ParameterResult, ...]:
    """Each parameter's worst status and difference over every case, with the first failure's message."""
    parameters = []
    for name in names:
        blocks = [blocks[name] for blocks in blocks_by_case]
        failures = [(case, block) for case, block in zip(case_names, blocks) if not block.passed]
        if failures:
            case, block = failures[0]
            more = f" (fails on {len(failures)} of {len(blocks)} cases)" if len(blocks) > 1 else ""
            message = f"case {case}: {block.message}{more}"
        else:
            message = f"ok on all {len(blocks)} cases"
        parameters.append(ParameterResult(name, Status.FAIL if failures else Status.PASS,
                                          _worst([block.difference for block in blocks]), message))
    return tuple(parameters)


def judge(assignment: Assignment, outcomes: Sequence[CallOutcome], run: SandboxRun,
          settings: Settings) -> CheckResult:
    """The CheckResult of the backward pass from its outcomes, one per case in calls() order."""
    epsilon, threshold = settings.epsilon, settings.threshold
    name, names = assignment.backward, assignment.gradient_names
    case_names = [case.name for case in assignment.cases()]
    if all(outcome.status is CallStatus.MISSING for outcome in outcomes):
        why = f" (loading the submission failed: {run.load_error})" if run.load_error else ""
        # Loading that stopped (an exception, exit() at import) is an error of the submission, not a gap.
        status = Status.ERROR if run.load_error else Status.MISSING
        return CheckResult(name, status, None, threshold, f"{name} is not defined in the submission{why}",
                           parameters=tuple(ParameterResult(n, Status.FAIL, None, f"{name} is missing") for n in names))
    cases, blocks_by_case = [], []
    for index, (case_name, outcome) in enumerate(zip(case_names, outcomes)):
        expected = assignment.expected_gradients(index, epsilon=epsilon)
        case, blocks = judge_case(case_name, outcome, expected, names=names, threshold=threshold)
        cases.append(case)
        blocks_by_case.append(blocks)
    parameters = aggregate_parameters(names, case_names, blocks_by_case)
    status, message = _overall(cases, run)
    return CheckResult(name, status, _worst([case.difference for case in cases]), threshold, message,
                       parameters=parameters, cases=tuple(cases))


def _overall(cases: Sequence[CaseResult], run: SandboxRun) -> tuple[Status, str]:
    for status in (Status.TIMEOUT, Status.ERROR):
        broken = [case for case in cases if case.status is status]
        if broken:
            detail = run.message if status is Status.TIMEOUT or broken[0].message == "was not run" else broken[0].message
            return status, f"on case {broken[0].case}: {detail}"
    failing = [case for case in cases if case.status is Status.FAIL]
    if failing:
        return Status.FAIL, f"wrong gradients on {len(failing)} of {len(cases)} cases; first, {failing[0].case}: {failing[0].message}"
    return Status.PASS, f"correct on all {len(cases)} cases"
