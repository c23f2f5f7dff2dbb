"""Grade a student's forward pass (a Value declaration), when they define one: its cost against the reference's.

The backward pass is always graded on the reference forward's cache, so a wrong forward pass is reported
here, as itself, and never blamed on the backward pass.
"""
from __future__ import annotations

import inspect
import math
from typing import Any, Sequence

import numpy as np

from grader import assignments
from grader import spec as api
from grader.assignments import Assignment, specs
from grader.results import CaseResult, CheckResult, Status
from grader.sandbox.run import Call, CallOutcome, CallStatus, SandboxRun
from grader.sandbox.wire import Opaque

KIND = "forward"
# judge_case's tolerance when none is given (a Value declaration gives its own).
COST_RTOL = 1e-7


def function_name(assignment: Assignment) -> str | None:
    """The forward pass this grader grades (None when the spec declares no Value: a forward pass that only
    feeds the backward's cache is not graded by value)."""
    declared = assignment.declared(api.Value)
    return declared.function if declared else None


def calls(assignment: Assignment, settings: Any, *, start: int = 0) -> list[Call]:
    """One call of the student's forward pass per case (none where the name is the injected course helper);
    of a (cost, cache) it returns, only the cost comes back."""
    output = assignment.declared(api.Value).output
    return [Call(function_name(assignment), forward_args(assignment, case), arg_names=forward_arg_names(assignment),
                 own_only=True, first_only=output in (None, 0)) for case in assignment.cases()]


def forward_args(assignment: Assignment, case: Any) -> tuple:
    """The Value declaration's arguments on a case (its args, or the inputs its reference names)."""
    declared = assignment.declared(api.Value)
    if declared.args is not None:
        return tuple(declared.args(case.inputs))
    return specs.positional(specs.reference(assignment.module, declared.function), case.inputs)[0]


def forward_arg_names(assignment: Assignment) -> tuple[str, ...]:
    parameters = inspect.signature(specs.reference(assignment.module, function_name(assignment))).parameters
    return tuple(parameters)[:len(forward_args(assignment, assignment.cases()[0]))]


def reference_cost(assignment: Assignment, case: Any) -> float:
    """The reference forward's cost on a case (item output of the tuple it returns, when it returns one)."""
    value = specs.reference(assignment.module, function_name(assignment))(*forward_args(assignment, case))
    output = assignment.declared(api.Value).output
    return float(np.asarray(value[output or 0] if isinstance(value, tuple) else value).reshape(-1)[0])


@assignments.cached
def _reference_cost(assignment: Assignment, case_index: int) -> float:
    """reference_cost of the assignment's case, once per process rather than once per submission."""
    return reference_cost(assignment, assignment.cases()[case_index])


def cost_of(value: Any, *, returns_tuple: bool, output: int = 0) -> tuple[float | None, str]:
    """The cost a forward pass returned (a 1x1 array counts), or None and what was wrong with the value.

    returns_tuple: the cost is item output of a returned tuple ((cost, cache): item 0)."""
    if returns_tuple:
        if not isinstance(value, (tuple, list)) or len(value) <= output:
            kind = type(value).__name__ if not isinstance(value, Opaque) else value.type_name
            return None, f"returned a {kind}, expected (cost, cache)" if output == 0 else \
                f"returned a {kind}, expected a tuple whose item {output} is the cost"
        value = value[output]
    if isinstance(value, bool) or value is None or isinstance(value, Opaque):
        return None, "returned no number as its cost"
    if isinstance(value, (int, float)):
        return float(value), ""
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "biuf":
        return float(value.reshape(-1)[0]), ""
    shape = getattr(value, "shape", None)
    return None, f"returned a cost of shape {shape}, expected a number" if shape is not None else \
        f"returned a {type(value).__name__} as its cost, expected a number"


def judge_case(name: str, outcome: CallOutcome, expected: float, *, returns_tuple: bool,
               tolerance: float = COST_RTOL, output: int = 0) -> CaseResult:
    """One case's verdict on the cost."""
    if outcome.status is CallStatus.ERROR:
        return CaseResult(name, Status.ERROR, None, f"raised {outcome.message}")
    if outcome.status is CallStatus.TIMEOUT:
        return CaseResult(name, Status.TIMEOUT, None, "did not finish in time")
    if outcome.status is not CallStatus.OK:
        return CaseResult(name, Status.ERROR, None, "was not run")
    cost, problem = cost_of(outcome.value, returns_tuple=returns_tuple, output=output)
    if cost is None:
        return CaseResult(name, Status.FAIL, None, problem)
    difference = abs(cost - expected) / max(abs(expected), 1e-300)
    if math.isfinite(cost) and difference <= tolerance:
        return CaseResult(name, Status.PASS, difference, "ok")
    ratio = f" ({cost / expected:.4g} times it)" if expected and math.isfinite(cost) else ""
    return CaseResult(name, Status.FAIL, difference if math.isfinite(difference) else None,
                      f"cost {cost:.6g}, expected {expected:.6g}{ratio}")


def judge(assignment: Assignment, outcomes: Sequence[CallOutcome], run: SandboxRun,
          settings: Any) -> CheckResult | None:
    """The forward pass's CheckResult, or None when the submission does not define one (nothing to grade)."""
    declared = assignment.declared(api.Value)
    name = declared.function
    if name not in run.defined or all(outcome.status in (CallStatus.MISSING, CallStatus.NOT_RUN) for outcome in outcomes):
        # Not defined, or never reached because an earlier call (a checker that hung) ended the run.
        return None
    returns_tuple = declared.output is not None
    cases = []
    for index, (case, outcome) in enumerate(zip(assignment.cases(), outcomes)):
        cases.append(judge_case(case.name, outcome, _reference_cost(assignment, index), returns_tuple=returns_tuple,
                                tolerance=declared.tolerance, output=declared.output or 0))
    broken = [case for case in cases if case.status in (Status.ERROR, Status.TIMEOUT)]
    failing = [case for case in cases if case.status is Status.FAIL]
    differences = [case.difference for case in cases]
    worst = None if any(d is None for d in differences) else max(differences, default=None)
    if broken:
        status, message = broken[0].status, f"on case {broken[0].case}: {broken[0].message}"
    elif failing:
        status = Status.FAIL
        message = (f"wrong cost on {len(failing)} of {len(cases)} cases; first, {failing[0].case}: "
                   f"{failing[0].message} (the backward pass is graded on the reference forward pass's values, "
                   "so this does not count against it)")
    else:
        status, message = Status.PASS, f"the cost is right on all {len(cases)} cases"
    return CheckResult(name, status, worst, declared.tolerance, message, cases=tuple(cases))
