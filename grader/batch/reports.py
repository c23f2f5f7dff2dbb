"""A class's reports in the output folder: results.json, grades.csv, a page per student and the class page."""
from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from grader.batch import final, gradebook
from grader.report import html
from grader.report.atomic import write_atomic
from grader.results import SubmissionResult, submission_from_json


RESULTS_JSON, GRADES_CSV, INDEX_HTML = "results.json", "grades.csv", "index.html"
STALE_PAGE_HEAD = 4096  # a student page says what it is in its head, well within its first bytes
CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class OutputError(Exception):
    """The output folder cannot take the gradebook or the reports (one line, for the instructor)."""


def error_reason(error: BaseException) -> str:
    return (error.strerror if isinstance(error, OSError) and error.strerror else str(error)) or type(error).__name__


class Prepared:
    """The reports' share of each result graded in this run, done as it arrives: the result as the reports
    take it, its line of results.json, and its page, written at once under the name the class gives it.

    A page that cannot be written now is left to write_reports, which says why if it fails again: a full
    disk must not stop the grading, whose grades reach the gradebook first.
    """

    def __init__(self, out: Path, pages: Mapping[str, str],
                 finish: Callable[[SubmissionResult], SubmissionResult] = lambda result: result) -> None:
        self.out = out
        self.pages = pages
        self.finish = finish
        self.results: dict[str, SubmissionResult] = {}
        self.lines: dict[str, str] = {}
        self.written: dict[str, str] = {}  # student -> the page file holding this run's page

    def add(self, student: str, result: dict[str, Any]) -> None:
        submission = self.results[student] = self.finish(submission_from_json(result))
        self.lines[student] = _json_line(submission)
        name = self.pages.get(student)
        if name is None:
            return
        try:
            _write_page(self.out, name, submission)
        except OSError:
            return
        self.written[student] = name


def page_names(files: Mapping[str, str], *, assignment: str, layout: str = "flat") -> dict[str, str]:
    """Each student's page, as a path inside the output folder: beside the class page, or (layout "nbgrader")
    feedback/<student>/<assignment>/<submission>.html as nbgrader lays out its feedback (files: student ->
    the file graded)."""
    if layout == "nbgrader":
        return html.nbgrader_pages(files, assignment=assignment)
    return html.page_names(files)


def _write_page(out: Path, name: str, result: SubmissionResult) -> None:
    """A student's page at name (a path inside out), its link to the class page relative to where it is."""
    path = out / name
    if "/" in name:
        path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, html.student_page(result, class_page="../" * name.count("/") + INDEX_HTML))


def _json_line(result: SubmissionResult) -> str:
    return json.dumps(result.to_json(), allow_nan=False)


def results_json(results: Sequence[SubmissionResult], lines: Mapping[str, str] | None = None) -> str:
    """OUT/results.json: the list of result objects, one to a line; lines holds lines made already
    (student -> the line of that very result).

    One line each rather than json's indent, which takes its pure-Python encoder: ten times slower, over
    half a second for 600 submissions.
    """
    if not results:
        return "[]\n"
    lines = lines or {}
    return "[\n" + ",\n".join(lines.get(result.submission) or _json_line(result) for result in results) + "\n]\n"


def _csv_cell(text: str) -> str:
    # A spreadsheet runs a cell starting with = + - @ as a formula; student ids come from file names.
    return "'" + text if text.startswith(CSV_FORMULA_START) else text


TERM_COLUMNS = ("final_score", "late", "submitted", "hours_late", "late_source", "late_penalty", "override")


def grades_csv(results: Sequence[SubmissionResult]) -> str:
    """student, score (the automatic one), max_score, status, the points of each check (blank when a submission
    lacks it), then the final score (late penalty and overrides applied), the lateness (its status, the time
    submitted, hours late, where that time came from, the points taken) and the overrides, one per check;
    then the student's group (section folder, blank when none) and the file graded."""
    names: list[str] = []
    for result in results:
        for check in result.checks:
            if check.name not in names:
                names.append(check.name)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "score", "max_score", "status", *names, *TERM_COLUMNS, "group", "file"])
    for result in results:
        points = {check.name: f"{check.points:g}" for check in result.checks}
        lateness = result.late
        hours = "" if lateness is None or lateness.seconds_late is None else f"{lateness.seconds_late / 3600:.2f}"
        overrides = "; ".join(_override_cell(override) for override in result.overrides)
        writer.writerow([_csv_cell(result.submission), f"{result.score:g}", f"{result.max_score:g}",
                         result.status.value, *(points.get(name, "") for name in names), f"{result.final:g}",
                         lateness.status.value if lateness else "", (lateness.submitted or "") if lateness else "",
                         hours, lateness.source if lateness else "", f"{lateness.penalty:g}" if lateness else "",
                         _csv_cell(overrides), _csv_cell(result.group), _csv_cell(result.file)])
    return buffer.getvalue()


def _override_cell(override: Any) -> str:
    target = override.check or "score"
    unused = "" if override.applied else " (not applied: no such check in this result)"
    return f"{target}={override.points:g} by {override.by} at {override.at}{unused}: {override.comment}"


def write_reports(results: Sequence[SubmissionResult], out: Path, *, title: str = "",
                  not_graded: Sequence[str] = (), written: Mapping[str, str] | None = None,
                  lines: Mapping[str, str] | None = None, pages: Mapping[str, str] | None = None,
                  ambiguous: Sequence[str] = (), checker: bool = True) -> dict[str, str]:
    """OUT/results.json, OUT/grades.csv, a page per student and OUT/index.html; returns student -> page.

    written: the pages on disk already (student -> the file holding the page of that very result), left
    as they are where the name is still the student's; lines: lines of results.json made already; pages: each
    student's page path (page_names), beside the class page when not given; checker: whether the assignment
    grades a student checker (the class page leaves out the checkers' section when it does not).
    """
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / RESULTS_JSON, results_json(results, lines))
    write_atomic(out / GRADES_CSV, grades_csv(results))
    pages = dict(pages) if pages is not None else html.page_names(result.submission for result in results)
    written = written or {}
    for result in results:
        if written.get(result.submission) != pages[result.submission]:
            _write_page(out, pages[result.submission], result)
    files = {"grades.csv": GRADES_CSV, "results.json": RESULTS_JSON}
    write_atomic(out / INDEX_HTML, html.class_page(results, pages, title=title, files=files, not_graded=not_graded,
                                                    ambiguous=ambiguous, checker=checker))
    _remove_stale_pages(out, keep={INDEX_HTML, *pages.values()})
    return {result.submission: pages[result.submission] for result in results}


def remember_reports(out: Path, *, title: str, not_graded: Sequence[str], pages: Mapping[str, str],
                      ambiguous: Sequence[str] = (), checker: bool = True) -> None:
    try:
        with gradebook.open_gradebook(out) as book:
            book.set_report_setting("reports", {"title": title, "not_graded": list(not_graded), "pages": dict(pages),
                                                "ambiguous": list(ambiguous), "checker": checker})
    except sqlite3.Error as error:
        raise OSError(f"the gradebook did not keep how the reports were written ({error_reason(error)})") from None


def refresh(out: Path) -> int:
    """Write out's reports again from its results.json with the gradebook's overrides as they are now (after
    `gradgrade override`), without grading; returns how many results they hold (0 when out has no reports yet).
    OutputError when they cannot be read or written."""
    out = Path(out)
    try:
        documents = json.loads((out / RESULTS_JSON).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return 0
    except (OSError, ValueError) as error:
        raise OutputError(f"cannot read {out / RESULTS_JSON}: {error_reason(error)}") from None
    try:
        with gradebook.open_gradebook(out) as book:
            overrides = book.overrides()
            kept = book.report_setting("reports", {})
    except sqlite3.Error as error:
        raise OutputError(f"cannot read the gradebook {out / gradebook.FILENAME}: {error_reason(error)}") from None
    results = [submission_from_json(document) for document in documents]
    results = [final.adjust(result, lateness=result.late, overrides=overrides.get(result.submission, ()))
               for result in results]
    pages = kept.get("pages") or {}
    try:
        write_reports(results, out, title=kept.get("title", ""), not_graded=kept.get("not_graded", ()),
                      pages=pages if all(result.submission in pages for result in results) else None,
                      ambiguous=kept.get("ambiguous", ()), checker=kept.get("checker", True))
    except OSError as error:
        raise OutputError(f"cannot write the reports in {out}: {error_reason(error)}") from None
    return len(results)


def _remove_stale_pages(out: Path, *, keep: set[str]) -> None:
    """Remove the student pages an earlier run wrote in out for students no longer in the class (a file
    renamed or withdrawn), so a published folder never shows a page the class page does not link. Only
    files that say they are a gradgrade student page go: whatever else is in out stays."""
    feedback = out / html.FEEDBACK
    nested = [Path(folder) / name for folder, _, files in os.walk(feedback) for name in files] if feedback.is_dir() else []
    for entry in [*os.scandir(out), *nested]:
        name = Path(entry).relative_to(out).as_posix() if isinstance(entry, Path) else entry.name
        if not name.endswith(".html") or name in keep or not os.path.isfile(entry) or os.path.islink(entry):
            continue
        try:
            with open(entry, "rb") as handle:
                head = handle.read(STALE_PAGE_HEAD)
            if html.STUDENT_PAGE_MARK in head:
                os.unlink(entry)
        except OSError:  # a page that cannot be read or removed stays; the reports are complete without it
            continue
