"""The Gradescope autograder entry: grade the one submission in /autograder/submission, write results.json.

Gradescope's format (https://gradescope-autograders.readthedocs.io/en/latest/specs/): a top-level
`score` and `output`, and `tests`, each with `name`, `score`, `max_score`, `status` ("passed" or
"failed"), `output` and `visibility`. Gradescope shows students only what is in the JSON.
"""
from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from grader import discover, pipeline, render
from grader.atomic import write_atomic
from grader.results import CheckResult, Status, SubmissionResult
from grader.settings import Settings

VISIBILITY = "visible"


def _check_output(check: CheckResult) -> str:
    lines = [f"{render.VERDICT[check.status.value]}: relative difference {render.format_difference(check.difference)} "
             f"(pass below {check.threshold:g})", check.message]
    if check.parameters:
        lines += ["", render.check_table(check)]
    lines += [f"hint: {diagnosis.hint}" for diagnosis in check.diagnosis]
    return "\n".join(line for line in lines if line is not None)


def test_entry(check: CheckResult) -> dict[str, Any]:
    """One Gradescope test per graded function, with the points the rubric gave it."""
    return {"name": check.name, "score": check.points, "max_score": check.max_points,
            "status": "passed" if check.status is Status.PASS else "failed",
            "output": _check_output(check), "visibility": VISIBILITY}


def results_json(result: SubmissionResult, *, seconds: float | None = None) -> dict[str, Any]:
    """Gradescope's results.json for one graded submission."""
    output = [f"{result.submission}: {render.VERDICT[result.status.value]}, score {result.score:g}/{result.max_score:g}"]
    if result.message and (not result.checks or result.status is Status.ERROR):
        output.append(result.message)
    output += [f"warning: {warning}" for warning in result.warnings]
    if result.output.strip():
        output += ["", "Your code printed:", result.output[:4000]]
    document: dict[str, Any] = {"score": result.score, "output": "\n".join(output),
                                "visibility": VISIBILITY, "stdout_visibility": "hidden",
                                "tests": [test_entry(check) for check in result.checks]}
    if not result.checks:
        document["tests"] = [{"name": "submission", "score": 0.0, "max_score": result.max_score, "status": "failed",
                              "output": result.message, "visibility": VISIBILITY}]
    if seconds is not None:
        document["execution_time"] = round(seconds, 3)
    return document


def find_submission(folder: Path, settings: Settings) -> discover.Submission | None:
    """The file to grade in Gradescope's submission folder (the one defining the assignment's function);
    None when the folder holds no file at all, and an unreadable submission naming them when none is gradable."""
    entries = list(discover.folder_entries(folder)) if folder.is_dir() else []
    if not entries:
        return None
    picked = discover.pick(entries, discover.function_names(settings.assignment))
    if picked is None:
        reason = discover.nothing_gradable("the submission", ["/".join(entry.parts) for entry in entries])
        return replace(entries[0].submission(folder.name), refused=reason)
    chosen, note = picked
    return chosen.submission(folder.name, note=note)


def grade(folder: Path, settings: Settings) -> SubmissionResult:
    """Grade the submission in folder; a missing or unreadable one is an error result, never an exception."""
    submission = find_submission(Path(folder), settings)
    if submission is None:
        message = (f"no .py or .ipynb file found in the submission ({folder})" if Path(folder).is_dir()
                   else f"there is no submission folder at {folder}")
        return pipeline.error_result("submission", settings, message)
    try:
        data = submission.read()
    except discover.UnreadableSubmission as error:
        return pipeline.error_result(submission.filename, settings, str(error))
    result = pipeline.grade_source(data, submission.filename, settings, submission=submission.filename)
    if submission.note:
        result = replace(result, warnings=result.warnings + (submission.note,))
    return result


def write_results(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(document, indent=2, allow_nan=False) + "\n")


def run(folder: Path, results: Path, settings: Settings) -> int:
    """Grade and write results.json; 0 when it was written (whatever the score), 2 when it could not be."""
    started = time.monotonic()
    result = grade(folder, settings)
    document = results_json(result, seconds=time.monotonic() - started)
    try:
        write_results(Path(results), document)
    except OSError as error:
        print(f"gradgrade: cannot write {results}: {error.strerror or error}", file=sys.stderr)
        return 2
    print(render.text(result))
    return 0
