"""Grade one submission: load -> sandbox -> check -> diagnose -> score, into one SubmissionResult.

The assignment arrives resolved (an Assignment, from the front door that read settings.assignment);
nothing here looks it up by name.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Mapping

from grader import assignments
from grader.assignments import Assignment
from grader.grading import absent, backward, checker, declared, diagnose, forward, function_source, score, spec_diagnosis
from grader.load import loaded
from grader.load import program as load
from grader.sandbox import forkclient
from grader.sandbox import run as sandbox
from grader.results import CheckResult, Status, SubmissionResult
from grader.settings import Settings
from grader.load import files as reading

# Each grader module grades one student function. It provides KIND (its rubric entry),
# function_name(assignment) -> the function's name or None when the assignment has none,
# calls(assignment, settings, start=) -> the sandbox calls it needs (start: the index in the run of the first
# of them, for a call that takes what an earlier one of them returned), and
# judge(assignment, outcomes, run, settings) -> CheckResult from the outcomes of exactly those calls.
GRADERS = (backward, checker, forward)
# A grader module may also provide inject(assignment, settings) -> {name: "module:attribute"}: course
# helpers the sandbox puts in the submission's namespace before its code runs (its own definitions win),
# and judge may return None for an optional function the submission does not define.

# Steps after a grader's judge, by KIND: refine(result, outcomes, assignment, settings, source=) -> CheckResult.
REFINERS = {backward.KIND: (diagnose.refine,), declared.KIND: (spec_diagnosis.refine,)}


def error_result(submission: str, settings: Settings, message: str, *,
                 warnings: tuple[str, ...] = (), assignment: Assignment | None = None) -> SubmissionResult:
    """The result of a submission that could not be graded at all: status error, score 0."""
    rubric = score.rubric_of(settings)
    if assignment is not None and assignment.graded_by_spec:
        return SubmissionResult(submission, assignment.name, Status.ERROR, 0.0,
                                round(sum(function.points for function in assignment.functions), 6),
                                message=message, warnings=warnings)
    return SubmissionResult(submission, settings.assignment, Status.ERROR, 0.0, rubric.backward_points + rubric.checker_points,
                            message=message, warnings=warnings)


# Beyond this many checks (a spec of twenty layers), a submission's summary names the checks that did not
# pass, those with the same message together, and counts the rest: twenty "correct on all 3 cases" hide the one.
SUMMARY_AT = 4


def checks_message(checks: tuple[CheckResult, ...]) -> str:
    """A submission's one-line summary: each check's name and message (with many checks, only those that
    did not pass, grouped by message, and how many did)."""
    if len(checks) <= SUMMARY_AT:
        return "; ".join(f"{check.name}: {check.message}" for check in checks)
    passed = sum(check.status is Status.PASS for check in checks)
    if passed == len(checks):
        return f"all {len(checks)} functions correct"
    by_message: dict[str, list[str]] = {}
    for check in checks:
        if check.status is not Status.PASS:
            by_message.setdefault(check.message, []).append(check.name)
    parts = [f"{', '.join(names)}: {message}" for message, names in by_message.items()]
    return "; ".join(parts) + (f"; {passed} other function{'s' if passed > 1 else ''} correct" if passed else "")


def overall_status(checks: tuple[CheckResult, ...]) -> Status:
    """pass when every check passed; error when a check could not run (raised, crashed, timed out); else fail."""
    statuses = {check.status for check in checks}
    if statuses == {Status.PASS}:
        return Status.PASS
    if statuses & {Status.ERROR, Status.TIMEOUT}:
        return Status.ERROR
    return Status.FAIL


Plan = tuple[tuple[Any, ...], tuple[tuple[sandbox.Call, ...], ...], Mapping[str, str]]


def plan(assignment: Assignment, settings: Settings) -> Plan:
    """The graders that apply, the sandbox calls each needs, and the course helpers to inject.

    The same for every submission graded with these settings, so it is built once per assignment object
    and settings (kept in the assignment's memo): the reference's cases, caches and probes are computed
    once, and the sandbox encodes each call once.
    """
    return _plan(assignment, json.dumps(settings.to_json(), sort_keys=True))


@assignments.cached
def _plan(assignment: Assignment, settings_json: str) -> Plan:
    settings = Settings.from_json(json.loads(settings_json))
    forkclient.start_fork_server()  # it boots while the plan is made, where a second core is free
    graders = declared.graders(assignment) if assignment.graded_by_spec else \
        tuple(grader for grader in GRADERS if grader.function_name(assignment))
    calls, start = [], 0
    for grader in graders:
        made = tuple(grader.calls(assignment, settings, start=start))
        calls.append(made)
        start += len(made)
    calls = tuple(calls)
    inject = {name: helper for grader in graders if hasattr(grader, "inject")
              for name, helper in grader.inject(assignment, settings).items()}
    # A spec's mutant catalogue is made on the first failing function (spec_diagnosis.suspects, once per
    # assignment), or by a batch worker as it warms up: a check of a correct file never needs it.
    return graders, calls, inject


def grade_program(program: loaded.Program, submission: str, settings: Settings, *,
                  assignment: Assignment) -> SubmissionResult:
    """Run a loaded program's functions in the sandbox (one run for every grader) and judge the results.

    assignment: settings.assignment, resolved by the front door.
    """
    settings, rubric = score.with_rubric_thresholds(settings), score.rubric_of(settings)
    graders, calls_by_grader, inject = plan(assignment, settings)
    expected = {grader.function_name(assignment): grader.KIND for grader in graders}
    taken = absent.taken_names(assignment, program)
    renamed = absent.aliases(program, expected, taken=taken) if rubric.accept_near_miss else {}
    run = sandbox.run(absent.alias_source(program.source, renamed), [call for calls in calls_by_grader for call in calls],
                      filename=program.filename,
                      limits=sandbox.Limits(timeout=settings.timeout, total_timeout=settings.total_timeout),
                      inject=inject, modules=assignment.helper_modules)
    run = run.relabelled(program.relabel)  # "(line 40)" of a notebook's program -> "(code cell 7, line 3)"
    checks, start = [], 0
    for grader, calls in zip(graders, calls_by_grader):
        outcomes = run.outcomes[start:start + len(calls)]
        start += len(calls)
        result = grader.judge(assignment, outcomes, run, settings)
        if result is None:
            continue
        result = absent.explain(result, program=program, run=run, kind=grader.KIND, taken=taken)
        for refine in REFINERS.get(grader.KIND, ()):
            result = refine(result, outcomes, assignment, settings, source=program.source)
        if result.diagnosis:
            result = dataclasses.replace(result, diagnosis=tuple(
                dataclasses.replace(d, where=program.locate(d.line)) if d.line else d for d in result.diagnosis))
        # A function graded under a near-miss name shows as the student named it.
        defined = grader.function_name(assignment)
        source = function_source.of(program, renamed.get(defined, defined), kind=grader.KIND, taken=taken,
                                    missing=result.status is Status.MISSING)
        result = score.score_check(grader.KIND, dataclasses.replace(result, source=source), rubric,
                                   points=getattr(getattr(grader, "declared", None), "points", None))
        if defined in renamed:
            result = absent.penalised(result, meant=renamed[defined], penalty=rubric.near_miss_penalty)
        checks.append(result)
    checks_ = tuple(checks)
    total, maximum = score.totals(checks_)
    warnings = program.warnings + ((f"while loading: {run.load_error}",) if run.load_error else ())
    warnings += tuple(capped.sentence() for capped in run.capped)
    output = run.stdout + (("\n[stderr]\n" + run.stderr) if run.stderr.strip() else "")
    message = run.message or checks_message(checks_)
    return SubmissionResult(submission, assignment.name, overall_status(checks_), total, maximum, checks_,
                            message, warnings, output, run.capped)


def grade_source(data: bytes, filename: str, settings: Settings, *, submission: str,
                 assignment: Assignment) -> SubmissionResult:
    """Grade a submission given as bytes (a batch worker or a remote one has no path to read)."""
    try:
        program = load.load_bytes(data, filename=filename, run_all=settings.run_all)
    except loaded.LoadError as error:
        return error_result(submission, settings, str(error), assignment=assignment)
    return grade_program(program, submission, settings, assignment=assignment)


def grade_file(path: Path, settings: Settings, *, assignment: Assignment,
               submission: str | None = None) -> SubmissionResult:
    """Grade one submission file; every problem with the file becomes an error result, never an exception."""
    path = Path(path)
    name = submission or path.stem
    try:
        data = reading.read_file(path)  # the very bound and message `grade` gives
    except reading.UnreadableSubmission as error:
        return error_result(name, settings, str(error), assignment=assignment)
    return grade_source(data, path.name, settings, submission=name, assignment=assignment)
