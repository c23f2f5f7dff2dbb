"""Grade one function a spec declares (grader.spec): the sandbox calls it needs and the verdict on what they gave.

One DeclaredGrader per declared function; each speaks the pipeline's grader protocol (KIND, function_name,
calls, judge). The expected values come from the assignment's prepared cases (computed once per process);
what a function must return depends on its kind, and the verdict is given per case and per returned
gradient (the loss of a loss counts as one of them).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from grader import spec as api
from grader.assignments import Assignment
from grader.assignments import compare
from grader.grading import backward, conventions
from grader.results import CaseResult, CheckResult, ParameterResult, Status
from grader.sandbox.run import Call, CallOutcome, CallStatus, Ref, SandboxRun
from grader.settings import Settings

KIND = "spec"


def graders(assignment: Assignment) -> tuple["DeclaredGrader", ...]:
    """One grader per function the assignment's spec declares, in the spec's order."""
    return tuple(DeclaredGrader(declared) for declared in assignment.functions)


@dataclass(frozen=True)
class DeclaredGrader:
    """The grader of one declared function."""

    declared: api.Function
    KIND = KIND

    def function_name(self, assignment: Assignment) -> str:
        """The name the student defines: the function's, or a model's class."""
        return getattr(self.declared, "cls", None) or self.declared.function

    def calls(self, assignment: Assignment, settings: Settings, *, start: int = 0) -> list[Call]:
        """Per case: the call of the function (a layer: its forward, then the backward on that forward's cache).

        start: the index in the run of the first of these calls (a backward's cache refers to its forward's).
        """
        found: list[Call] = []
        for case in assignment.graded_on(self.declared):
            found += _case_calls(self.declared, assignment.prepared(self.declared.function, case),
                                 start + len(found), settings.epsilon)
        return found

    def judge(self, assignment: Assignment, outcomes: Sequence[CallOutcome], run: SandboxRun,
              settings: Settings) -> CheckResult:
        declared, threshold = self.declared, settings.threshold
        cases = assignment.graded_on(declared)
        prepared = [assignment.prepared(declared.function, case) for case in cases]
        names = tuple(dict.fromkeys(name for item in prepared for name in compare.block_names(declared, item)))
        per_case = _split(declared, prepared, outcomes)
        first = [calls[0] for calls in per_case]
        if first and all(outcome.status is CallStatus.MISSING for outcome in first):
            name = self.function_name(assignment)
            return CheckResult(declared.function, Status.MISSING, None, threshold,
                               f"{name} is not defined in the submission",
                               parameters=tuple(ParameterResult(n, Status.FAIL, None, f"{name} is missing")
                                                for n in names))
        choice = conventions.choose(declared, lambda name: [
            compare.judge(declared, item, calls, threshold, settings.epsilon) for item, calls in zip(
                prepared if name is None else [item.conventions[name] for item in prepared], per_case)],
            module=assignment.module, fixed=conventions.fixed_by(settings.rubric, declared))
        verdicts = choice.verdicts
        stub = _not_implemented(declared, per_case, verdicts)
        if stub:
            return CheckResult(declared.function, Status.MISSING, None, threshold, stub,
                               parameters=tuple(ParameterResult(n, Status.FAIL, None, "not implemented")
                                                for n in names),
                               cases=tuple(case for case, _ in verdicts), details={"not_implemented": True})
        parameters = backward.aggregate_parameters(names, [case.name for case in cases],
                                                   [blocks for _, blocks in verdicts])
        results = tuple(case for case, _ in verdicts)
        status, message = _overall(results, run)
        details: dict[str, Any] = {"kind": type(declared).__name__}
        if choice.followed:
            details["convention"] = choice.followed
        if choice.note:
            message += f" ({choice.note})"
        difference = compare.worst([case.difference for case in results])
        return CheckResult(declared.function, status, difference, threshold, message, parameters=parameters,
                           cases=results, details=details)


def _case_calls(declared: api.Function, item: Any, start: int, epsilon: float) -> list[Call]:
    if isinstance(declared, api.LayerBackward):
        forward = Call(declared.forward, item.args, arg_names=item.arg_names, first_only=True)
        calls = [forward, Call(declared.function, (item.dout, Ref(start, 1)), arg_names=("dout", "cache"))]
        if declared.own_forward:
            calls += [Call(declared.forward, moved, arg_names=item.arg_names, first_only=True)
                      for moved in compare.perturbed(item, declared.wrt, epsilon)]
        return calls
    if isinstance(declared, api.Method):
        return [Call(declared.cls, item.args, arg_names=item.arg_names, method=declared.method, init=item.init,
                     attributes=item.attributes)]
    return [Call(declared.function, item.args, arg_names=item.arg_names)]


def _split(declared: api.Function, prepared: Sequence[Any], outcomes: Sequence[CallOutcome]
           ) -> list[list[CallOutcome]]:
    """The outcomes of each case's calls, in calls() order."""
    per_case, start = [], 0
    for item in prepared:
        count = compare.calls_per_case(declared, item)
        per_case.append(list(outcomes[start:start + count]))
        start += count
    return per_case


def _not_implemented(declared: api.Function, per_case: Sequence[Sequence[CallOutcome]],
                     verdicts: Sequence[tuple[CaseResult, dict]]) -> str:
    """Why the function looks like a starter stub (the whole message), or ''. Only the cases it does not pass
    count: a starter's dropout backward already passes dout through in test mode, and a stub is the rest."""
    layer = isinstance(declared, api.LayerBackward)
    failing = [calls for calls, (case, _) in zip(per_case, verdicts) if case.status is not Status.PASS]
    if not failing:
        return ""
    if layer and all(_stub(calls[0], None) for calls in failing) \
            and all(calls[1].status is not CallStatus.OK for calls in failing):
        return f"not judged: {declared.forward}, whose cache it takes, is not implemented"
    reasons = [_stub(calls[1] if layer else calls[0], getattr(declared, "output", None)) for calls in failing]
    if not all(reasons):
        return ""
    every = "every case" if len(failing) == len(per_case) else "every case it does not pass"
    return reasons[0].format(every=every)


def _stub(outcome: CallOutcome, output: int | None) -> str:
    """Why one call's outcome is what a starter stub gives, or ''. output: the item of a tuple that is graded
    (a stub forward returns its cache beside the None it leaves for out)."""
    if outcome.status is CallStatus.ERROR and outcome.message.startswith("NotImplementedError"):
        return "not implemented: it raises NotImplementedError"
    if outcome.status is CallStatus.ERROR and outcome.message.startswith("AttributeError: 'NoneType' object"):
        # The starter's own lines after the TODO (out.astype(...)) failing on the None it leaves.
        return "not implemented: it leaves its result None (the starter's code after the TODO fails on it)"
    if outcome.status is not CallStatus.OK:
        return ""
    value = outcome.value
    if output is not None and isinstance(value, (tuple, list)) and len(value) > output:
        value = value[output]
    return "not implemented: it returns None or zeros on {every}" if _empty(value) else ""


def _empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, (tuple, list)):
        return len(value) > 0 and all(_empty(item) for item in value)
    if isinstance(value, dict):  # the starter's `grads = {}` left empty is no work done either
        return all(_empty(item) for item in value.values())
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return not np.any(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value == 0
    return False


def _overall(cases: Sequence[CaseResult], run: SandboxRun) -> tuple[Status, str]:
    for status in (Status.TIMEOUT, Status.ERROR):
        broken = [case for case in cases if case.status is status]
        if broken:
            detail = run.message if status is Status.TIMEOUT and run.message else broken[0].message
            return status, f"on case {broken[0].case}: {detail}"
    failing = [case for case in cases if case.status is Status.FAIL]
    if failing:
        return Status.FAIL, (f"wrong on {len(failing)} of {len(cases)} cases; first, "
                             f"{failing[0].case}: {failing[0].message}")
    return Status.PASS, f"correct on all {len(cases)} cases"
