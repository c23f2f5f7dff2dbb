"""Grade a student's backward pass: the sandbox calls to make, and the verdict from what they returned."""
from __future__ import annotations

import inspect
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from grader import assignments
from grader import spec as api
from grader.assignments.compare import gradients_of, judge_case, worst  # noqa: F401 (this stage's names for them)
from grader.numerics import check, large
from grader.assignments import Assignment, specs
from grader.results import CaseResult, CheckResult, ParameterResult, Status
from grader.sandbox.run import Call, CallOutcome, CallStatus, Ref, SandboxRun
from grader.settings import Settings

KIND = "backward"


def function_name(assignment: Assignment) -> str | None:
    """The student function this grader grades."""
    return assignment.backward


def calls(assignment: Assignment, settings: Settings, *, start: int = 0) -> list[Call]:
    """One call of the student's backward pass per case, on the reference forward's outputs (these are graded).

    When the spec's Gradients declaration chains the student's own forward pass into their backward pass
    (forward and chain: their caches may have their own layout), a forward and a backward call per case
    follow, the backward's inputs taken from the forward's output inside the sandbox. start: the index in
    the run of the first of these calls.
    """
    declared = assignment.declared(api.Gradients)
    cases = assignment.cases()
    arg_names = _arg_names(assignment, declared.function, len(assignment.backward_args(0)))
    plan = [Call(declared.function, assignment.backward_args(index), arg_names=arg_names)
            for index, _ in enumerate(cases)]
    if _chains(assignment):
        for case in cases:
            forward_index = start + len(plan)
            args, names = specs.positional(specs.reference(assignment.module, declared.forward), case.inputs)
            plan.append(Call(declared.forward, args, arg_names=names))
            own = declared.chain(case.inputs, lambda item, index=forward_index: Ref(index, item))
            plan.append(Call(declared.function, own, arg_names=arg_names))
    return plan


def _arg_names(assignment: Assignment, name: str, count: int) -> tuple[str, ...]:
    """The names of the reference function's first count parameters, for messages about the student's call."""
    return tuple(inspect.signature(specs.reference(assignment.module, name)).parameters)[:count]


def _chains(assignment: Assignment) -> bool:
    declared = assignment.declared(api.Gradients)
    return bool(declared.forward) and declared.chain is not None


def _forward_agrees(assignment: Assignment, case: Any, value: Any, *, threshold: float) -> bool:
    """Whether what a student's forward pass returned has the reference forward's form (a tuple as long as
    its) and its first output (relative difference below threshold)."""
    declared = assignment.declared(api.Gradients)
    args, _ = specs.positional(specs.reference(assignment.module, declared.forward), case.inputs)
    reference = specs.reference(assignment.module, declared.forward)(*args)
    if isinstance(reference, tuple):
        if not isinstance(value, (tuple, list)) or len(value) != len(reference):
            return False
        reference, value = reference[0], value[0]
    if not isinstance(value, np.ndarray):
        return False
    if value.shape != np.shape(reference) or value.dtype.kind not in "biuf" or not np.all(np.isfinite(value)):
        return False
    difference = np.linalg.norm(value - reference) / (np.linalg.norm(value) + np.linalg.norm(reference))
    return bool(difference < threshold)


def _own_forward(assignment: Assignment, outcomes: Sequence[CallOutcome], threshold: float
                 ) -> tuple[list[CallOutcome | None], dict[str, Any]]:
    """Per case, the backward outcome on the student's own forward caches when that one is usable, and details.

    Usable: the student's forward returned the reference's output (relative difference below the
    threshold) and the backward on its caches returned. It replaces a graded call that raised, so a
    backward pass written for its own cache layout is graded on the caches it was written for.
    """
    cases = assignment.cases()
    if not _chains(assignment) or len(outcomes) != 3 * len(cases):
        return [None] * len(cases), {}
    usable, report = [], []
    for index, case in enumerate(cases):
        forward, own = outcomes[len(cases) + 2 * index], outcomes[len(cases) + 2 * index + 1]
        agrees = forward.status is CallStatus.OK and _forward_agrees(assignment, case, forward.value,
                                                                     threshold=threshold)
        entry = {"case": case.name, "forward": forward.status.value if forward.status is not CallStatus.OK
                 else ("ok" if agrees else "wrong output"), "backward": own.status.value}
        if own.status is not CallStatus.OK and own.message:
            entry["message"] = own.message
        report.append(entry)
        usable.append(own if agrees and own.status is CallStatus.OK else None)
    defined = any(outcome.status is not CallStatus.MISSING for outcome in outcomes[len(cases)::2])
    return usable, {"own_forward": {"defined": defined, "cases": report}}


def aggregate_parameters(names: Sequence[str], case_names: Sequence[str],
                         blocks_by_case: Sequence[Mapping[str, check.BlockCheck]]) -> tuple[ParameterResult, ...]:
    """Each parameter's worst status and difference over every case, with the first failure's message."""
    parameters = []
    for name in names:
        graded = [(case, blocks[name]) for case, blocks in zip(case_names, blocks_by_case) if name in blocks]
        blocks = [block for _, block in graded]
        failures = [(case, block) for case, block in graded if not block.passed]
        if failures:
            case, block = failures[0]
            more = f" (fails on {len(failures)} of {len(blocks)} cases)" if len(blocks) > 1 else ""
            message = f"case {case}: {block.message}{more}"
        else:
            message = f"ok on all {len(blocks)} cases"
        parameters.append(ParameterResult(name, Status.FAIL if failures else Status.PASS,
                                          worst([block.difference for block in blocks]), message))
    return tuple(parameters)


def judge(assignment: Assignment, outcomes: Sequence[CallOutcome], run: SandboxRun,
          settings: Settings) -> CheckResult:
    """The CheckResult of the backward pass from its outcomes, one per case in calls() order."""
    epsilon, threshold = settings.epsilon, settings.threshold
    name, names = assignment.backward, assignment.gradient_names
    case_names = [case.name for case in assignment.cases()]
    if all(outcome.status is CallStatus.MISSING for outcome in outcomes[:len(case_names)]):
        # Why it is missing (its def raised, loading stopped before it) is absent.explain's to say: a failed
        # import elsewhere is not the reason a function the student never wrote is missing.
        return CheckResult(name, Status.MISSING, None, threshold, f"{name} is not defined in the submission",
                           parameters=tuple(ParameterResult(n, Status.FAIL, None, f"{name} is missing") for n in names))
    own, details = _own_forward(assignment, outcomes, threshold)
    if details and assignment.forward not in run.defined:
        # The course's forward pass, put in the namespace for the student's checker, is not their own.
        own, details["own_forward"]["defined"] = [None] * len(own), False
    cases, blocks_by_case = [], []
    for index, (case_name, outcome) in enumerate(zip(case_names, outcomes)):
        expected = _expected(assignment, index, epsilon)
        note = ""
        if outcome.status is CallStatus.ERROR and own[index] is not None:
            outcome, note = own[index], " (graded on the caches of its own forward pass, which it was written for)"
        case, blocks = judge_case(case_name, outcome, expected, names=assignment.case_gradient_names(index),
                                  threshold=threshold, verify=_fast_verify(assignment, index, settings, details))
        if note:
            case = CaseResult(case.case, case.status, case.difference, case.message + note)
        cases.append(case)
        blocks_by_case.append(blocks)
    parameters = aggregate_parameters(names, case_names, blocks_by_case)
    status, message = _overall(cases, run)
    return CheckResult(name, status, worst([case.difference for case in cases]), threshold, message,
                       parameters=parameters, cases=tuple(cases), details=details)


@assignments.cached
def _expected(assignment: Assignment, case_index: int, epsilon: float) -> check.Expected:
    """A case's numerical gradients ready for check_gradients: the same for every submission, so prepared once."""
    return check.prepare(assignment.expected_gradients(case_index, epsilon=epsilon),
                         assignment.case_gradient_names(case_index))


def _fast_verify(assignment: Assignment, case_index: int, settings: Settings, details: dict[str, Any]
                 ) -> Callable[[Mapping[str, Any]], check.GradientCheck] | None:
    """With settings.fast, on a ReLU/sigmoid network: random directional derivatives first, exact checks after.

    Blocks sent to the exact check and ReLU kinks stepped around are recorded in details["fast"].
    """
    if not settings.fast or not assignment.declared(api.Gradients).relu_sigmoid:
        return None
    case = assignment.cases()[case_index]
    parameters = case.inputs[assignment.declared(api.Gradients).wrt]

    def verify(gradients: Mapping[str, Any]) -> check.GradientCheck:
        found = large.fast_check(parameters, gradients, case.inputs["X"], case.inputs["Y"], epsilon=settings.epsilon,
                                 threshold=settings.threshold, network=_network(assignment, case_index))
        details.setdefault("fast", []).append({"case": case.name, "rechecked": list(found.rechecked),
                                               "kinks": [kink.message() for kink in found.kinks]})
        return found.check
    return verify


@assignments.cached
def _network(assignment: Assignment, case_index: int) -> large.Network:
    """The reference case's sweeps for the fast check, the same for every submission: computed once."""
    case = assignment.cases()[case_index]
    return large.forward(case.inputs[assignment.declared(api.Gradients).wrt], case.inputs["X"], case.inputs["Y"])


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
