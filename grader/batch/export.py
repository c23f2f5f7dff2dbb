"""LMS export (`gradgrade export`): the final scores of a graded class as a file an LMS gradebook imports.

- canvas: Canvas's gradebook CSV: `Student, ID, SIS User ID, SIS Login ID, Section, <column>`, then the
  `Points Possible` row, then a row per student. Canvas matches a row by `ID`, its user id, which its
  download names carry (`doejane_1234_56789_gc.ipynb` is student `doejane_1234` with `--id-pattern canvas`).
- moodle: Moodle's offline grading worksheet, the CSV an assignment's "Upload grading worksheet" takes:
  `Identifier` (`Participant 123456`, the number its download folders carry: `Jane Doe_123456_assignsubmission_file_`
  is student `Jane Doe_123456` with `--id-pattern moodle`), `Full name`, `Grade`, `Maximum Grade`,
  `Last modified (grade)` and `Feedback comments`.
- csv: one plain row per student: id, final score, maximum, automatic score, late penalty, overrides.

The scores are the final ones: late penalties and overrides applied. A student whose id holds no LMS number
(not graded from that LMS's downloads) still gets a row, without it, and the export says who.
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Sequence

from grader.results import SubmissionResult, submission_from_json

LMS_ID = re.compile(r"^(?P<name>.+)_(?P<number>\d+)$")  # what --id-pattern canvas and moodle make: name_number
CANVAS_HEADER = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_POINTS_POSSIBLE = "    Points Possible"  # as Canvas's own export writes it, four spaces first
MOODLE_HEADER = ("Identifier", "Full name", "Grade", "Maximum Grade", "Last modified (grade)", "Feedback comments")
MOODLE_PARTICIPANT = "Participant "


class Target(str, Enum):
    CANVAS = "canvas"
    MOODLE = "moodle"
    CSV = "csv"


class ExportError(Exception):
    """The graded class cannot be read (no results.json); one line."""


@dataclass(frozen=True)
class Export:
    """The file's text, and the students whose id holds no number of the LMS (rows it cannot match)."""

    text: str
    unmatched: tuple[str, ...] = ()


def read_results(out: Path) -> list[SubmissionResult]:
    """The results of a graded class (OUT/results.json, final scores included)."""
    path = Path(out) / "results.json"
    try:
        return [submission_from_json(document) for document in json.loads(path.read_text(encoding="utf-8"))]
    except FileNotFoundError:
        raise ExportError(f"{path}: no such file; grade the class into {out} first") from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ExportError(f"cannot read {path}: {error}") from None


def _score(value: float) -> str:
    return f"{round(value, 2):g}"


def _cell(text: str) -> str:
    # A spreadsheet runs a cell starting with = + - @ as a formula; names come from file names.
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text


def _feedback(result: SubmissionResult) -> str:
    parts = [f"gradgrade: {_score(result.score)} / {_score(result.max_score)} automatic"]
    if result.late is not None and result.late.penalty:
        parts.append(f"late penalty -{_score(result.late.penalty)}")
    for override in result.overrides:
        if override.applied:
            target = override.check or "score"
            parts.append(f"{target} set to {_score(override.points)} by {override.by}: {override.comment}")
    return "; ".join(parts)


def canvas(results: Sequence[SubmissionResult], *, column: str) -> Export:
    """Canvas's gradebook CSV for one assignment column (name it `Name (assignment id)` to fill an existing one)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([*CANVAS_HEADER, column])
    most = max((result.max_score for result in results), default=0.0)
    writer.writerow([CANVAS_POINTS_POSSIBLE, "", "", "", "", _score(most)])
    unmatched = []
    for result in results:
        found = LMS_ID.match(result.submission)
        if found is None:
            unmatched.append(result.submission)
        name, number = (found["name"], found["number"]) if found else (result.submission, "")
        writer.writerow([_cell(name), number, "", "", "", _score(result.final)])
    return Export(buffer.getvalue(), tuple(unmatched))


def moodle(results: Sequence[SubmissionResult], *, now: datetime | None = None) -> Export:
    """Moodle's offline grading worksheet, keyed by `Participant <number>`."""
    stamp = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(MOODLE_HEADER)
    unmatched = []
    for result in results:
        found = LMS_ID.match(result.submission)
        if found is None:
            unmatched.append(result.submission)
        identifier = MOODLE_PARTICIPANT + found["number"] if found else ""
        name = found["name"] if found else result.submission
        writer.writerow([identifier, _cell(name), _score(result.final), _score(result.max_score), stamp,
                         _cell(_feedback(result))])
    return Export(buffer.getvalue(), tuple(unmatched))


def plain(results: Sequence[SubmissionResult]) -> Export:
    """One row per student: student, final_score, max_score, score (automatic), late_penalty, overrides."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "final_score", "max_score", "score", "late_penalty", "feedback"])
    for result in results:
        penalty = result.late.penalty if result.late is not None else 0.0
        writer.writerow([_cell(result.submission), f"{result.final:g}", f"{result.max_score:g}", f"{result.score:g}",
                         f"{penalty:g}", _cell(_feedback(result))])
    return Export(buffer.getvalue())


def export(results: Sequence[SubmissionResult], target: Target, *, column: str = "") -> Export:
    """The export of results for target; column names Canvas's assignment column (default: the assignment)."""
    if target is Target.CANVAS:
        return canvas(results, column=column or (results[0].assignment if results else "gradgrade"))
    if target is Target.MOODLE:
        return moodle(results)
    return plain(results)
