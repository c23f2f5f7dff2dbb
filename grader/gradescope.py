"""The Gradescope autograder entry: grade the one submission in /autograder/submission, write results.json.

Gradescope's format (https://gradescope-autograders.readthedocs.io/en/latest/specs/): a top-level `score`,
`output`, `execution_time`, `visibility` and `stdout_visibility`, and `tests`, each with `name`, `number`,
`score`, `max_score`, `status` ("passed" or "failed"), `output`, `output_format` and `visibility`.
Gradescope shows students only what is in the JSON, so it carries all the terminal shows, uncut.
"""
from __future__ import annotations

import html as html_text
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from grader import assignments
from grader.assignments import Assignment
from grader.batch import choosing, discover
from grader.batch.entries import Submission, folder_entries
from grader.grading import pipeline, score
from grader.report import html, render
from grader.report.atomic import write_atomic
from grader.results import CheckResult, Status, SubmissionResult
from grader.settings import Settings
from grader.load import files as reading

# A test's output is shown in a <pre>: plain text keeps the parameter table's columns and shows whatever a
# student wrote as written. The top-level output is "simple_format" (Gradescope's default there: newlines
# become line breaks), so gradgrade escapes it and a student's `<b>` prints as typed.
TEST_OUTPUT_FORMAT = "text"
OUTPUT_FORMAT = "simple_format"


def _checker_lines(check: CheckResult) -> list[str]:
    """What the terminal and the student page say about a student's checker: bugs caught per family, flaws."""
    lines = []
    details = check.details or {}
    flaws = details.get("flaws")
    if isinstance(flaws, list):
        lines += [f"flaw: {flaw}" for flaw in flaws if flaw]
    families = html.checker_families(check)
    if families:
        lines += ["", "Your checker against known bugs:"]
        lines += [f"  {family.operator}: caught {family.caught} of {family.total}" for family in families]
        missed = [entry["mutant"] for entry in html.checker_mutants(check) if not entry["caught"]]
        if missed:
            lines.append(f"  missed: {', '.join(missed)}")
    return lines


def _check_output(check: CheckResult) -> str:
    points = (f", {render.format_points(check.points)}/{render.format_points(check.max_points)} points"
              if check.max_points else "")
    lines = [f"{render.VERDICT[check.status.value]}: relative difference {render.format_difference(check.difference)} "
             f"(pass below {check.threshold:g}){points}", check.message]
    if check.parameters:
        lines += ["", render.check_table(check, width=None)]
    if check.diagnosis:
        lines += [""] + [render.hint_line(diagnosis) for diagnosis in check.diagnosis]
    lines += _checker_lines(check)
    if check.cases:
        lines += ["", "cases:"] + [f"  {case.case}: {render.VERDICT[case.status.value]}, difference "
                                   f"{render.format_difference(case.difference)}" + (f": {case.message}" if case.message else "")
                                   for case in check.cases]
    return "\n".join(line for line in lines if line is not None)


def _kinds(assignment: Assignment | None) -> dict[str, str]:
    """Which kind of check (the rubric's backward, checker, forward) each graded function is."""
    if assignment is None or assignment.graded_by_spec:
        return {}  # a spec's functions take the rubric's default visibility
    return {name: kind for kind, name in (("backward", assignment.backward), ("checker", assignment.checker),
                                          ("forward", assignment.forward)) if name}


def test_entry(check: CheckResult, *, number: int = 1, visibility: score.Visibility = score.Visibility.VISIBLE
               ) -> dict[str, Any]:
    """One Gradescope test per graded function, with the points the rubric gave it."""
    return {"name": check.name, "number": str(number), "score": check.points, "max_score": check.max_points,
            "status": "passed" if check.status is Status.PASS else "failed",
            "output": _check_output(check), "output_format": TEST_OUTPUT_FORMAT, "visibility": visibility.value}


def summary(result: SubmissionResult) -> str:
    """The top-level output: the verdict, a line per test, warnings, and what the student's code printed."""
    lines = [f"{result.submission}: {render.VERDICT[result.status.value]}, score "
             f"{render.format_points(result.score)}/{render.format_points(result.max_score)}"]
    lines += [f"{check.name}: {render.VERDICT[check.status.value]}, "
              f"{render.format_points(check.points)}/{render.format_points(check.max_points)} points"
              for check in result.checks]
    if result.message and (not result.checks or result.status is Status.ERROR):
        lines.append(result.message)
    lines += [f"warning: {warning}" for warning in result.warnings]
    if result.output.strip():
        lines += ["", "Your code printed:", html.plain_text(result.output)]
    return "\n".join(lines)


def results_json(result: SubmissionResult, *, seconds: float | None = None, settings: Settings | None = None,
                 assignment: Assignment | None = None) -> dict[str, Any]:
    """Gradescope's results.json for one graded submission, visibilities from the rubric's [gradescope] table."""
    rubric = score.gradescope_rubric(settings.rubric if settings else None)
    kinds = _kinds(assignment)
    tests = [test_entry(check, number=number, visibility=rubric.of(kinds.get(check.name, "")))
             for number, check in enumerate(result.checks, start=1)]
    if not tests:
        tests = [{"name": "submission", "number": "1", "score": 0.0, "max_score": result.max_score,
                  "status": "failed", "output": result.message, "output_format": TEST_OUTPUT_FORMAT,
                  "visibility": rubric.visibility.value}]
    document: dict[str, Any] = {
        "score": result.score, "output": html_text.escape(summary(result), quote=False),
        "output_format": OUTPUT_FORMAT, "visibility": rubric.visibility.value,
        "stdout_visibility": rubric.stdout_visibility.value, "tests": tests,
        # Stored by Gradescope with the submission, shown to no one: the whole result/v1 object.
        "extra_data": {"gradgrade": result.to_json()}}
    if seconds is not None:
        document["execution_time"] = max(0, round(seconds))
    return document


def find_submission(folder: Path, assignment: Assignment) -> Submission | None:
    """The file to grade in Gradescope's submission folder (the one defining the assignment's function);
    None when the folder holds no file at all, and an unreadable submission naming them when none is gradable."""
    entries = list(folder_entries(folder)) if folder.is_dir() else []
    if not entries:
        return None
    picked = choosing.pick(entries, assignment.student_functions)
    if picked is None:
        reason = discover.nothing_gradable("the submission", ["/".join(entry.parts) for entry in entries])
        return replace(entries[0].submission(folder.name), refused=reason)
    chosen, note = picked
    return chosen.submission(folder.name, note=note)


def grade(folder: Path, settings: Settings, *, assignment: Assignment) -> SubmissionResult:
    """Grade the submission in folder; a missing or unreadable one is an error result, never an exception."""
    submission = find_submission(Path(folder), assignment)
    if submission is None:
        message = (f"no .py or .ipynb file found in the submission ({folder})" if Path(folder).is_dir()
                   else f"there is no submission folder at {folder}")
        return pipeline.error_result("submission", settings, message, assignment=assignment)
    try:
        data = submission.read()
    except reading.UnreadableSubmission as error:
        return pipeline.error_result(submission.filename, settings, str(error), assignment=assignment)
    result = pipeline.grade_source(data, submission.filename, settings, submission=submission.filename,
                                   assignment=assignment)
    if submission.note:
        result = replace(result, warnings=result.warnings + (submission.note,))
    return result


def write_results(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(document, indent=2, allow_nan=False) + "\n")


def run(folder: Path, results: Path, settings: Settings) -> int:
    """Grade and write results.json; 0 when it was written (whatever the score), 2 when it could not be."""
    started = time.monotonic()
    assignment = assignments.ready(settings.assignment)  # the front door: resolved once, passed down
    result = grade(folder, settings, assignment=assignment)
    document = results_json(result, seconds=time.monotonic() - started, settings=settings, assignment=assignment)
    try:
        write_results(Path(results), document)
    except OSError as error:
        print(f"gradgrade: cannot write {results}: {error.strerror or error}", file=sys.stderr)
        return 2
    print(render.text(result))
    return 0
