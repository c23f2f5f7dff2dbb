"""Grade one function a spec declares (grader.spec): the sandbox calls it needs and the verdict on what they gave.

One DeclaredGrader per declared function; each speaks the pipeline's grader protocol (KIND, function_name,
calls, judge). The expected values come from the assignment's prepared cases (computed once per process);
what a function must return depends on its kind, and the verdict is given per case and per returned
gradient (the loss of a loss counts as one of them).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Mapping, Sequence

import numpy as np

from grader import spec as api
from grader.assignments import Assignment
from grader.grading import backward
from grader.numerics import check
from grader.results import CaseResult, CheckResult, ParameterResult, Status
from grader.sandbox.run import Call, CallOutcome, CallStatus, Ref, SandboxRun
from grader.sandbox.wire import Opaque
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
        names = tuple(dict.fromkeys(name for item in prepared for name in _names(declared, item)))
        per_case = _split(declared, prepared, outcomes)
        first = [calls[0] for calls in per_case]
        if first and all(outcome.status is CallStatus.MISSING for outcome in first):
            name = self.function_name(assignment)
            return CheckResult(declared.function, Status.MISSING, None, threshold,
                               f"{name} is not defined in the submission",
                               parameters=tuple(ParameterResult(n, Status.FAIL, None, f"{name} is missing")
                                                for n in names))
        verdicts, followed = _best_convention(declared, prepared, per_case, threshold, settings.epsilon)
        stub = _not_implemented(declared, prepared, per_case)
        if stub:
            return CheckResult(declared.function, Status.MISSING, None, threshold, f"not implemented: {stub}",
                               parameters=tuple(ParameterResult(n, Status.FAIL, None, "not implemented")
                                                for n in names),
                               cases=tuple(case for case, _ in verdicts), details={"not_implemented": True})
        parameters = backward.aggregate_parameters(names, [case.name for case in cases],
                                                   [blocks for _, blocks in verdicts])
        results = tuple(case for case, _ in verdicts)
        status, message = _overall(results, run)
        details: dict[str, Any] = {"kind": type(declared).__name__}
        if followed:
            details["convention"] = followed
            message += f" (it follows the convention of {followed}, which the assignment accepts)"
        return CheckResult(declared.function, status, _worst([case.difference for case in results]), threshold,
                           message, parameters=parameters, cases=results, details=details)


def _best_convention(declared: api.Function, prepared: Sequence[Any], per_case: Sequence[Sequence[CallOutcome]],
                     threshold: float, epsilon: float) -> tuple[list[tuple[CaseResult, dict]], str | None]:
    """The verdicts against the reference, or against the accepted convention the submission agrees with
    on more cases (the reference wins ties), and that convention's name (None: the reference)."""
    def verdicts(items: Sequence[Any]) -> list[tuple[CaseResult, dict]]:
        return [_judge_case(declared, item, calls, threshold, epsilon) for item, calls in zip(items, per_case)]

    best, followed = verdicts(prepared), None
    for name in getattr(declared, "conventions", ()):
        if all(case.status is Status.PASS for case, _ in best):
            break
        other = verdicts([item.conventions[name] for item in prepared])
        if sum(case.status is Status.PASS for case, _ in other) > sum(case.status is Status.PASS for case, _ in best):
            best, followed = other, name
    return best, followed


def _names(declared: api.Function, item: Any) -> tuple[str, ...]:
    if isinstance(declared, api.Value):
        return ("value",)
    if isinstance(declared, (api.Loss, api.Method)):
        return ("loss",) + tuple(item.gradients)
    return tuple(item.gradients)


def _case_calls(declared: api.Function, item: Any, start: int, epsilon: float) -> list[Call]:
    if isinstance(declared, api.LayerBackward):
        forward = Call(declared.forward, item.args, arg_names=item.arg_names, first_only=True)
        calls = [forward, Call(declared.function, (item.dout, Ref(start, 1)), arg_names=("dout", "cache"))]
        if declared.own_forward:
            calls += [Call(declared.forward, moved, arg_names=item.arg_names, first_only=True)
                      for moved in _perturbed(item, declared.wrt, epsilon)]
        return calls
    if isinstance(declared, api.Method):
        return [Call(declared.cls, item.args, arg_names=item.arg_names, method=declared.method, init=item.init,
                     attributes=item.attributes)]
    return [Call(declared.function, item.args, arg_names=item.arg_names)]


def _perturbed(item: Any, wrt: Sequence[str], epsilon: float) -> list[tuple]:
    """The forward's arguments with each entry of each input in wrt moved by +epsilon, then -epsilon."""
    found = []
    for name in wrt:
        position = item.arg_names.index(name)
        value = np.asarray(item.args[position], dtype=np.float64)
        for index in range(value.size):
            for step in (epsilon, -epsilon):
                moved = value.copy()
                moved.reshape(-1)[index] += step
                found.append(item.args[:position] + (moved,) + item.args[position + 1:])
    return found


def _split(declared: api.Function, prepared: Sequence[Any], outcomes: Sequence[CallOutcome]
           ) -> list[list[CallOutcome]]:
    """The outcomes of each case's calls, in calls() order."""
    per_case, start = [], 0
    for item in prepared:
        count = 1
        if isinstance(declared, api.LayerBackward):
            count = 2 + (2 * sum(np.size(item.args[item.arg_names.index(name)]) for name in declared.wrt)
                         if declared.own_forward else 0)
        per_case.append(list(outcomes[start:start + count]))
        start += count
    return per_case


def _failed(case: str, status: Status, message: str, names: Sequence[str]) -> tuple[CaseResult, dict]:
    blocks = {name: check.BlockCheck(name, False, None, message) for name in names}
    return CaseResult(case, status, None, message), blocks


def _unrun(case: str, outcome: CallOutcome, names: Sequence[str], who: str = "") -> tuple[CaseResult, dict] | None:
    """The case's verdict when the call gave no value (raised, timed out, not run), else None."""
    prefix = f"{who} " if who else ""
    if outcome.status is CallStatus.ERROR:
        return _failed(case, Status.ERROR, f"{prefix}raised {outcome.message}", names)
    if outcome.status is CallStatus.TIMEOUT:
        return _failed(case, Status.TIMEOUT, f"{prefix}did not finish in time", names)
    if outcome.status in (CallStatus.MISSING, CallStatus.NOT_RUN):
        return _failed(case, Status.ERROR, f"{prefix}was not run" if not who else f"{who} is not defined", names)
    return None


def _array(value: Any) -> Any:
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return np.asarray(value, dtype=np.float64)
    return value


def _fitted(gradients: Mapping[str, Any], expected: Mapping[str, np.ndarray]) -> tuple[dict[str, Any], list[str]]:
    """The gradients with any whose shape differs from the expected one only by axes of size 1 ((1, D) for
    (D,), (1, C, 1, 1) for (C,)) reshaped to it, and a note for each: the values are what is graded."""
    fitted, notes = {}, []
    for name, value in gradients.items():
        value = _array(value)
        wanted = expected.get(name)
        if isinstance(value, np.ndarray) and wanted is not None and value.shape != wanted.shape \
                and value.size == wanted.size and _squeezed(value.shape) == _squeezed(wanted.shape):
            notes.append(f"{name} has shape {value.shape} for {wanted.shape} (accepted: the same values)")
            value = value.reshape(wanted.shape)
        fitted[name] = value
    return fitted, notes


def _squeezed(shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(size for size in shape if size != 1)


def _scalar_block(name: str, got: Any, expected: float, tolerance: float) -> check.BlockCheck:
    """A loss compared by value: a real number whose relative difference from the reference's is small."""
    got = _array(got)
    if isinstance(got, np.ndarray) and got.size == 1 and got.dtype.kind in "biuf":
        value = float(got.reshape(-1)[0])
        difference = check.relative_difference(np.asarray(value), np.asarray(expected))
        if check.passes(difference, tolerance):
            return check.BlockCheck(name, True, difference, "ok")
        return check.BlockCheck(name, False, difference if np.isfinite(difference) else None,
                                f"{name} is {value:.6g}, expected {expected:.6g}")
    return check.BlockCheck(name, False, None, f"{name} should be a number, got {check.kind_of(got)}")


def _verdict(case: str, blocks: list[check.BlockCheck], outcome: CallOutcome, threshold: float, *,
             note: str = "") -> tuple[CaseResult, dict]:
    with np.errstate(all="ignore"):
        differences = [block.difference for block in blocks]
    failing = [block.message for block in blocks if not block.passed]
    message = "; ".join(failing[:2]) if failing else "ok"
    if outcome.mutated:
        message += f" (it changed its input {', '.join(outcome.mutated)} in place)"
    status = Status.FAIL if failing else Status.PASS
    if note.startswith("; ") and not failing:
        message, note = "ok" + note, ""
    difference = None if any(d is None for d in differences) else max(differences, default=None)
    return CaseResult(case, status, difference, message + note), {block.name: block for block in blocks}


def _judge_case(declared: api.Function, item: Any, calls: Sequence[CallOutcome], threshold: float,
                epsilon: float) -> tuple[CaseResult, dict]:
    case, names = item.case.name, _names(declared, item)
    if isinstance(declared, api.LayerBackward):
        return _judge_layer(declared, item, calls, threshold, epsilon)
    outcome = _without_parameter_dicts(calls[0], item.args)
    unrun = _unrun(case, outcome, names)
    if unrun:
        return unrun
    value = outcome.value
    if isinstance(declared, api.Gradients):
        return backward.judge_case(case, outcome, item.gradients, names=names, threshold=threshold)
    if isinstance(declared, api.Value):
        if declared.output is not None:
            if not isinstance(value, (tuple, list)) or len(value) <= declared.output:
                return _failed(case, Status.FAIL, f"returned {_type(value)}, expected a tuple whose item "
                                                  f"{declared.output} is the output", names)
            value = value[declared.output]
        expected = np.asarray(item.value, dtype=np.float64)
        block = check.check_block("value", _array(value), expected, threshold=declared.tolerance)
        return _verdict(case, [block], outcome, threshold)
    gradient_names = tuple(item.gradients)
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        what = "(loss, grads)" if isinstance(declared, api.Method) else f"(loss, {gradient_names[0]})"
        return _failed(case, Status.FAIL, f"returned {_type(value)}, expected a pair {what}", names)
    loss, gradients = value
    blocks = [_scalar_block("loss", loss, item.value, declared.tolerance)]
    notes: list[str] = []
    if isinstance(declared, api.Loss):
        fitted, notes = _fitted({gradient_names[0]: gradients}, item.gradients)
        blocks.append(check.check_block(gradient_names[0], fitted[gradient_names[0]], item.gradients[gradient_names[0]],
                                        threshold=threshold))
    elif not isinstance(gradients, dict):
        blocks += [check.BlockCheck(name, False, None, f"grads is {_type(gradients)}, expected a dict")
                   for name in gradient_names]
    else:
        fitted, notes = _fitted(gradients, item.gradients)
        verdict = check.check_gradients(fitted, item.gradients, threshold=threshold, names=gradient_names)
        blocks += list(verdict.blocks)
    return _verdict(case, blocks, outcome, threshold, note="".join(f"; {note}" for note in notes))


def _judge_layer(declared: api.LayerBackward, item: Any, calls: Sequence[CallOutcome], threshold: float,
                 epsilon: float) -> tuple[CaseResult, dict]:
    case, names = item.case.name, tuple(item.gradients)
    forward, outcome = calls[0], calls[1]
    unrun = _unrun(case, forward, names, who=declared.forward)
    if unrun:
        return unrun
    own = _own_gradients(declared, item, calls[2:], epsilon) if declared.own_forward else None
    expected = own if own is not None else item.gradients
    if own is None and declared.own_forward:
        return _failed(case, Status.FAIL, f"{declared.forward} did not give an output to check against", names)
    unrun = _unrun(case, outcome, names)
    if unrun:
        return unrun
    value = outcome.value
    if len(names) == 1 and not isinstance(value, (tuple, list)):
        value = (value,)
    if not isinstance(value, (tuple, list)) or len(value) != len(names):
        return _failed(case, Status.FAIL, f"returned {_type(value)}, expected {len(names)} gradients "
                                          f"({', '.join(names)})", names)
    fitted, notes = _fitted(dict(zip(names, value)), expected)
    note = "".join(f"; {text}" for text in notes)
    verdict = check.check_gradients(fitted, expected, threshold=threshold, names=names)
    if not declared.own_forward and not verdict.passed and not _forward_right(forward, item, threshold):
        note += (f" ({declared.forward}'s output is wrong on this case, and its cache is what "
                f"{declared.function} was given: fix the forward pass first)")
    return _verdict(case, list(verdict.blocks), outcome, threshold, note=note)


def _forward_right(forward: CallOutcome, item: Any, threshold: float) -> bool:
    value = forward.value
    out = value[0] if isinstance(value, (tuple, list)) and value else value
    reference = item.value
    if reference is None:
        return True
    return check.check_block("out", _array(out), np.asarray(reference, dtype=np.float64), threshold=1e-6).passed


def _own_gradients(declared: api.LayerBackward, item: Any, moved: Sequence[CallOutcome], epsilon: float
                   ) -> dict[str, np.ndarray] | None:
    """The numerical gradients of sum(own forward * dout), from the perturbed forward calls' outputs."""
    found, start = {}, 0
    for name in declared.wrt:
        value = np.asarray(item.args[item.arg_names.index(name)], dtype=np.float64)
        gradient = np.zeros(value.size)
        for index in range(value.size):
            pair = moved[start + 2 * index:start + 2 * index + 2]
            sums = []
            for outcome in pair:
                out = outcome.value[0] if isinstance(outcome.value, (tuple, list)) and outcome.value else outcome.value
                if outcome.status is not CallStatus.OK or not isinstance(out, np.ndarray) \
                        or out.shape != item.dout.shape:
                    return None
                sums.append(float(np.sum(out * item.dout)))
            gradient[index] = (sums[0] - sums[1]) / (2 * epsilon)
        start += 2 * value.size
        found[f"d{name}"] = gradient.reshape(value.shape)
    return found


def _without_parameter_dicts(outcome: CallOutcome, args: tuple) -> CallOutcome:
    """The outcome without the dict arguments it changed: a bn_param or dropout_param dict is the function's to
    update (running means), not an input changed in place by mistake."""
    kept = tuple(position for position in outcome.mutated
                 if not (position.isdigit() and int(position) < len(args) and isinstance(args[int(position)], dict)))
    return outcome if kept == outcome.mutated else replace(outcome, mutated=kept)


def _type(value: Any) -> str:
    if isinstance(value, Opaque):
        return f"a {value.type_name}"
    if value is None:
        return "None"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    return f"a {type(value).__name__}"


def _not_implemented(declared: api.Function, prepared: Sequence[Any], per_case: Sequence[Sequence[CallOutcome]]) -> str:
    """Why the function looks like a starter stub (returns None, raises NotImplementedError, all zeros), or ''."""
    outcomes = [calls[1] if isinstance(declared, api.LayerBackward) else calls[0] for calls in per_case]
    if not outcomes:
        return ""
    if all(o.status is CallStatus.ERROR and o.message.startswith("NotImplementedError") for o in outcomes):
        return "it raises NotImplementedError"
    if all(o.status is CallStatus.OK and _empty(o.value) for o in outcomes):
        return "it returns None or zeros on every case"
    return ""


def _empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, (tuple, list)):
        return len(value) > 0 and all(_empty(item) for item in value)
    if isinstance(value, dict):
        return len(value) > 0 and all(_empty(item) for item in value.values())
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return not np.any(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value == 0
    return False


def _worst(values: list[float | None]) -> float | None:
    return None if any(value is None for value in values) else max(values, default=None)


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
