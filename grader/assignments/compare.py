"""How a value a declared function returned is judged against what it must give (a Prepared): one case's verdict.

Grading (grader.grading.declared, on the sandbox's outcomes) and mutation testing (grader.mutation, on a
mutant's values in this process) judge with these same functions, so a mutant is caught exactly when a
student's function that returns its values would fail. Pure: values in, verdicts out.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from grader import spec as api
from grader.assignments.specs import Prepared
from grader.numerics import check
from grader.results import CaseResult, Status
from grader.sandbox.run import CallOutcome, CallStatus
from grader.sandbox.wire import Opaque

Verdict = tuple[CaseResult, dict]


def gradients_of(value: Any, names: Sequence[str]) -> tuple[dict[str, Any] | None, str]:
    """The gradients a backward pass returned, keyed by name, or None and what was wrong with the value."""
    if isinstance(value, Opaque):
        return None, f"returned a {value.type_name}, expected a dict of gradients ({', '.join(names)})"
    if len(names) == 1 and value is not None and not isinstance(value, dict):
        # A one-gradient backward pass (dtheta of J = theta * x) returns the gradient itself.
        value = {names[0]: value}
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


def judge_case(case_name: str, outcome: CallOutcome, expected: Mapping[str, np.ndarray] | check.Expected, *,
               names: Sequence[str], threshold: float,
               verify: Callable[[Mapping[str, Any]], check.GradientCheck] | None = None
               ) -> tuple[CaseResult, dict[str, check.BlockCheck]]:
    """One case's verdict, and the per-parameter blocks it contributes.

    verify, when given, checks the gradients instead of comparing them with expected (the fast check).
    """
    unrun = _unrun(case_name, outcome, names)
    if unrun:
        return unrun
    gradients, problem = gradients_of(outcome.value, names)
    if gradients is None:
        return _failed(case_name, Status.FAIL, problem, names)
    verdict = verify(gradients) if verify else check.check_gradients(gradients, expected, threshold=threshold, names=names)
    failing = [block.message for block in verdict.blocks if not block.passed]
    message = "; ".join(failing[:2]) if failing else "ok"
    if outcome.mutated:
        message += f" (it changed its input {', '.join(outcome.mutated)} in place)"
    status = Status.PASS if verdict.passed else Status.FAIL
    return CaseResult(case_name, status, verdict.difference, message), {b.name: b for b in verdict.blocks}


def block_names(declared: api.Function, item: Prepared) -> tuple[str, ...]:
    """The names a case's verdict has a block for: value, or the loss and each gradient."""
    if isinstance(declared, api.Value):
        return ("value",)
    if isinstance(declared, (api.Loss, api.Method)):
        return ("loss",) + tuple(item.gradients)
    return tuple(item.gradients)


def best_convention(declared: api.Function, prepared: Sequence[Prepared], per_case: Sequence[Sequence[CallOutcome]],
                     threshold: float, epsilon: float) -> tuple[list[tuple[CaseResult, dict]], str | None]:
    """The verdicts of every case (per_case: each case's call outcomes) against the reference, or against the
    accepted convention the function agrees with on more cases (the reference wins ties), and that
    convention's name (None: the reference)."""
    def verdicts(items: Sequence[Prepared]) -> list[tuple[CaseResult, dict]]:
        return [judge(declared, item, calls, threshold, epsilon) for item, calls in zip(items, per_case)]

    best, followed = verdicts(prepared), None
    for name in getattr(declared, "conventions", ()):
        if all(case.status is Status.PASS for case, _ in best):
            break
        other = verdicts([item.conventions[name] for item in prepared])
        if sum(case.status is Status.PASS for case, _ in other) > sum(case.status is Status.PASS for case, _ in best):
            best, followed = other, name
    return best, followed


def calls_per_case(declared: api.Function, item: Prepared) -> int:
    """How many call outcomes a case's verdict is judged from: one; a layer's forward and backward, and
    with own_forward every perturbed forward (perturbed()'s)."""
    if not isinstance(declared, api.LayerBackward):
        return 1
    return 2 + (2 * sum(np.size(item.args[item.arg_names.index(name)]) for name in declared.wrt)
                if declared.own_forward else 0)


def perturbed(item: Prepared, wrt: Sequence[str], epsilon: float) -> list[tuple]:
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


def worst(differences: Sequence[float | None]) -> float | None:
    """The largest of the cases' (or blocks') differences; None when any is unknown."""
    return None if any(value is None for value in differences) else max(differences, default=None)


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


def judge(declared: api.Function, item: Prepared, calls: Sequence[CallOutcome], threshold: float,
          epsilon: float) -> Verdict:
    """One case's verdict and its blocks by name, from the outcomes of the case's calls (calls_per_case of them)."""
    case, names = item.case.name, block_names(declared, item)
    if isinstance(declared, api.LayerBackward):
        return _judge_layer(declared, item, calls, threshold, epsilon)
    outcome = _without_parameter_dicts(calls[0], item.args, item.arg_names)
    unrun = _unrun(case, outcome, names)
    if unrun:
        return unrun
    value = outcome.value
    if isinstance(declared, api.Gradients):
        return judge_case(case, outcome, item.gradients, names=names, threshold=threshold)
    if isinstance(declared, api.Value):
        if declared.output is not None:
            if not isinstance(value, (tuple, list)) or len(value) <= declared.output:
                return _failed(case, Status.FAIL, f"returned {_type(value)}, expected a tuple whose item "
                                                  f"{declared.output} is the output", names)
            value = value[declared.output]
        if value is None:
            return _failed(case, Status.FAIL, "returned None as its output", names)
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


def _judge_layer(declared: api.LayerBackward, item: Prepared, calls: Sequence[CallOutcome], threshold: float,
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


def _forward_right(forward: CallOutcome, item: Prepared, threshold: float) -> bool:
    value = forward.value
    out = value[0] if isinstance(value, (tuple, list)) and value else value
    reference = item.value
    if reference is None:
        return True
    return check.check_block("out", _array(out), np.asarray(reference, dtype=np.float64), threshold=1e-6).passed


def _own_gradients(declared: api.LayerBackward, item: Prepared, moved: Sequence[CallOutcome], epsilon: float
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


def _without_parameter_dicts(outcome: CallOutcome, args: tuple, names: Sequence[str] = ()) -> CallOutcome:
    """The outcome without the dict arguments it changed: a bn_param or dropout_param dict is the function's to
    update (running means), not an input changed in place by mistake. The sandbox names a changed argument
    by its name where the call gave names, else by its position."""
    dicts = {str(index) for index, arg in enumerate(args) if isinstance(arg, dict)}
    dicts |= {name for name, arg in zip(names, args) if isinstance(arg, dict)}
    kept = tuple(changed for changed in outcome.mutated if changed not in dicts)
    return outcome if kept == outcome.mutated else replace(outcome, mutated=kept)


def _type(value: Any) -> str:
    if isinstance(value, Opaque):
        return f"a {value.type_name}"
    if value is None:
        return "None"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    return f"a {type(value).__name__}"




def named_values(declared: api.Function, item: Prepared, calls: Sequence[CallOutcome]) -> dict[str, Any] | None:
    """What the function returned on a case, by the names its verdict has blocks for (a loss's "loss" and its
    gradient, a dict's graded gradients, a layer's gradients in order, "value"), reshaped as judge() accepts
    them; None when it raised or returned something of another form."""
    outcome = calls[1] if isinstance(declared, api.LayerBackward) else calls[0]
    if outcome.status is not CallStatus.OK:
        return None
    value, names = outcome.value, block_names(declared, item)
    if isinstance(declared, api.Value):
        if declared.output is not None:
            if not isinstance(value, (tuple, list)) or len(value) <= declared.output:
                return None
            value = value[declared.output]
        found = {"value": value}
    elif isinstance(declared, api.Gradients):
        found, _ = gradients_of(value, names)
    elif isinstance(declared, api.LayerBackward):
        value = (value,) if len(names) == 1 and not isinstance(value, (tuple, list)) else value
        found = dict(zip(names, value)) if isinstance(value, (tuple, list)) and len(value) == len(names) else None
    elif not isinstance(value, (tuple, list)) or len(value) != 2:
        found = None
    elif isinstance(declared, api.Loss):
        found = {"loss": value[0], names[1]: value[1]}
    else:
        found = {"loss": value[0], **{name: value[1].get(name) for name in names[1:]}} \
            if isinstance(value[1], Mapping) else None
    if found is None:
        return None
    fitted, _ = _fitted(found, {name: np.asarray(expected) for name, expected in expected_values(declared, item).items()})
    return fitted


def expected_values(declared: api.Function, item: Prepared) -> dict[str, Any]:
    """What the function must give on the case, by the same names: the reference's loss or value, the gradients."""
    if isinstance(declared, api.Value):
        return {"value": np.asarray(item.value, dtype=np.float64)}
    if isinstance(declared, (api.Loss, api.Method)):
        return {"loss": np.asarray(item.value, dtype=np.float64), **item.gradients}
    return dict(item.gradients)
