"""Grade a class: find the submissions, grade what the gradebook lacks in parallel, write every report."""
from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Protocol, Sequence, TextIO

from grader.batch import choosing, discover, entries, final, gradebook
from grader.grading import late, picking, pipeline
from grader.report import html, render
from grader.report.atomic import write_atomic
from grader.batch.executors import Executor, Job, LocalExecutor
from grader.results import SubmissionResult, submission_from_json
from grader.settings import Settings
from grader.batch.student_ids import IdPattern
from grader.load import files as reading

RESULTS_JSON, GRADES_CSV, INDEX_HTML = "results.json", "grades.csv", "index.html"
STALE_PAGE_HEAD = 4096  # a student page says what it is in its head, well within its first bytes
CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class OutputError(Exception):
    """The output folder cannot take the gradebook or the reports (one line, for the instructor)."""


class UnknownStudent(ValueError):
    """A student named to regrade (--student) who has no submission in the class; one line."""


LAYOUTS = ("flat", "nbgrader")  # where the student pages go: beside the class page, or nbgrader's feedback/ tree


def _reason(error: BaseException) -> str:
    return (error.strerror if isinstance(error, OSError) and error.strerror else str(error)) or type(error).__name__


class Progress(Protocol):
    """Told how many submissions will be graded, then about each one as it finishes."""

    def start(self, total: int) -> None: ...

    def advance(self, result: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


class LineProgress:
    """One plain line per graded submission, for logs and pipes."""

    def __init__(self, stream: TextIO) -> None:
        self.stream, self.total, self.done = stream, 0, 0

    def start(self, total: int) -> None:
        self.total = total
        print(f"grading {total} submission(s)", file=self.stream, flush=True)

    def advance(self, result: dict[str, Any]) -> None:
        self.done += 1
        print(f"[{self.done}/{self.total}] {shown(result['submission'])}: {result['status']} "
              f"{render.format_points(result['score'])}/{render.format_points(result['max_score'])}", file=self.stream, flush=True)

    def close(self) -> None:
        pass


class BarProgress:
    """A tqdm progress bar with an ETA, for a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream, self.bar = stream, None

    def start(self, total: int) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, file=self.stream, unit="submission", dynamic_ncols=True)

    def advance(self, result: dict[str, Any]) -> None:
        self.bar.set_postfix_str(f"{shown(result['submission'])[:24]} {result['status']}", refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class NoProgress:
    def start(self, total: int) -> None:
        pass

    def advance(self, result: dict[str, Any]) -> None:
        pass

    def close(self) -> None:
        pass


def shown(student: str) -> str:
    """A student id for one line of a terminal or log: a newline or escape code in a file name shown escaped."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in student)


def progress_for(stream: TextIO) -> Progress:
    """A bar on a terminal, plain lines otherwise."""
    return BarProgress(stream) if stream.isatty() else LineProgress(stream)


@dataclass(frozen=True)
class Summary:
    """What a batch did: submissions found, graded now, reused from the gradebook, and the results in order."""

    out: Path
    results: tuple[SubmissionResult, ...]
    graded: int
    reused: int
    seconds: float
    pages: dict[str, str] = field(default_factory=dict)
    not_graded: tuple[str, ...] = ()  # files in the class folder that are no submission (discover.Survey)
    ambiguous: tuple[str, ...] = ()  # what in the class's layout could be read two ways (discover.Survey)

    def counts(self) -> dict[str, int]:
        counts = {"pass": 0, "fail": 0, "error": 0}
        for result in self.results:
            counts[result.status.value] += 1
        return counts

    def line(self) -> str:
        counts = self.counts()
        return (f"{len(self.results)} submission(s): {counts['pass']} pass, {counts['fail']} fail, "
                f"{counts['error']} error; graded {self.graded}, reused {self.reused} from the gradebook "
                f"in {self.seconds:.1f} s; class page {self.out / INDEX_HTML}{not_graded_note(self.not_graded)}"
                f"{ambiguous_note(self.ambiguous)}")


def not_graded_note(paths: Sequence[str], *, shown: int = 5) -> str:
    """The summary line's tail naming the files not graded, the first few by name, or "" when there are none."""
    if not paths:
        return ""
    listed = ", ".join(paths[:shown]) + (f" and {len(paths) - shown} more" if len(paths) > shown else "")
    return f"; {len(paths)} file(s) not graded (not .py or .ipynb): {listed}"


def ambiguous_note(questions: Sequence[str]) -> str:
    """The summary line's tail counting the layout questions the class page lists, or "" when there are none."""
    if not questions:
        return ""
    return f"; {len(questions)} layout question(s), graded one way, listed on the class page: {questions[0]}" + (
        f" and {len(questions) - 1} more" if len(questions) > 1 else "")


@dataclass(frozen=True)
class _Pending:
    submission: entries.Submission
    content_hash: str


def _with_note(result: dict[str, Any], submission: entries.Submission) -> dict[str, Any]:
    return _in_class(result, submission)


def _in_class(result: dict[str, Any], submission: entries.Submission) -> dict[str, Any]:
    """result with where its submission is in the class as found now: its group, the file graded, the others,
    and discovery's note in its warnings (a reused result's note of an earlier run replaced)."""
    warnings = [warning for warning in result.get("warnings", [])
                if warning == submission.note or not choosing.is_found_note(warning)]
    if submission.note and submission.note not in warnings:
        warnings.append(submission.note)
    return dict(result, warnings=warnings, group=submission.group, file=submission.graded_path,
                other_files=list(submission.not_graded))


def grade(directory: Path, out: Path, settings: Settings, *, jobs: int | None = None, force: bool = False,
          executor: Executor | None = None, progress: Progress | None = None, title: str = "",
          id_pattern: IdPattern | None = None, late_rules: late.LateRules | None = None,
          students: Sequence[str] = (), layout: str = "flat", pick: picking.Pick = picking.DEFAULT) -> Summary:
    """Grade every submission in directory (a folder or .zip) into out; returns what was done.

    A submission whose (student, content hash) row exists under the same settings is not graded again
    unless force is set. Each result reaches the gradebook as soon as it is graded; the reports are
    written from the gradebook at the end. Raises entries.DiscoverError when directory is unusable and
    OutputError when out cannot take the gradebook or the reports. id_pattern reads the student ids out
    of the names an LMS gave its downloads (grader.student_ids). late_rules judge each submission's lateness
    (grader.late) and the gradebook's overrides are applied (grader.final) on every run. students, when given,
    are graded again whatever the gradebook holds, and the others reused wherever their file is unchanged,
    under any settings (UnknownStudent for a name not in the class). layout "nbgrader" writes each page to
    feedback/<student>/<assignment>/<submission>.html. pick chooses among a student's several files
    (grader.picking), and each pick is kept in the gradebook, so a rerun on the same files keeps it.
    """
    started = time.monotonic()
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} is a file, not a folder for the gradebook and the reports")
    if out.resolve() == Path(directory).resolve():
        # A page or grades.csv would overwrite a file of the same name that sits among the submissions.
        raise OutputError(f"{out} is the class folder itself: the reports would be written among the submissions "
                          f"(a folder inside it, {out / 'reports'}, is fine)")
    survey = discover.survey(Path(directory), assignment=settings.assignment, leave_out=out, id_pattern=id_pattern,
                             pick=pick, remembered=gradebook.remembered_picks(out) if out.is_dir() else {})
    submissions = survey.submissions
    in_class = {submission.student for submission in submissions}
    unknown = [student for student in students if student not in in_class]
    if unknown:
        raise UnknownStudent(f"no submission of {', '.join(map(repr, unknown))} in {directory} (--student takes the "
                             f"ids of the class page, e.g. {', '.join(sorted(in_class)[:3]) or 'none found'})")
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    fingerprint = gradebook.settings_hash(settings.to_json())
    progress = progress or NoProgress()
    results: dict[str, dict[str, Any]] = {}
    names = page_names({s.student: s.filename for s in submissions}, assignment=settings.assignment, layout=layout)
    try:
        book = gradebook.open_gradebook(out)
    except (OSError, sqlite3.Error) as error:
        raise OutputError(f"cannot open the gradebook {out / gradebook.FILENAME}: {_reason(error)}") from None
    rules = late_rules or late.LateRules()
    times = late.submitted_all(submissions, late_from=rules.late_from)
    try:
        with book:
            book.remember_picks({s.student: (s.graded_path, s.candidates) for s in submissions if len(s.candidates) > 1})
            overrides = book.overrides()

            def finish(result: SubmissionResult) -> SubmissionResult:
                lateness = late.lateness(times[result.submission], due=rules.due, policy=rules.policy,
                                         max_score=result.max_score)
                return final.adjust(result, lateness=lateness, overrides=overrides.get(result.submission, ()))

            # Each graded submission's result, its line of results.json and its page (written as it arrives, while
            # the workers grade the next ones, rather than all at the end, when only this process works).
            prepared = _Prepared(out, names, finish)
            graded, reused = _grade_into(book, submissions, results, settings, fingerprint, jobs=jobs, force=force,
                                         executor=executor, progress=progress, prepared=prepared,
                                         regrade=frozenset(students))
            ordered = tuple(prepared.results[s.student] if s.student in prepared.results
                            else finish(submission_from_json(results[s.student]))
                            for s in submissions if s.student in results)
            book.record_lateness({result.submission: result.late for result in ordered})
    except sqlite3.Error as error:
        raise OutputError(f"the gradebook {out / gradebook.FILENAME} stopped taking grades: {_reason(error)}") from None
    try:
        title = title or f"{entries.printable(Path(directory).name)} · {settings.assignment}"
        pages = write_reports(ordered, out, title=title, not_graded=survey.not_graded, written=prepared.written,
                              lines=prepared.lines, pages=names, ambiguous=survey.ambiguous)
        _remember_reports(out, title=title, not_graded=survey.not_graded, pages=pages, ambiguous=survey.ambiguous)
    except OSError as error:
        raise OutputError(f"cannot write the reports in {out}: {_reason(error)}; every grade is in the gradebook, "
                          "run again to write them") from None
    return Summary(out, ordered, graded, reused, time.monotonic() - started, pages, survey.not_graded,
                   survey.ambiguous)


def _grade_into(book: gradebook.Gradebook, submissions: Sequence[entries.Submission],
                results: dict[str, dict[str, Any]], settings: Settings, fingerprint: str, *, jobs: int | None,
                force: bool, executor: Executor | None, progress: Progress, prepared: "_Prepared",
                regrade: frozenset[str] = frozenset()) -> tuple[int, int]:
    """Fill results (student -> result JSON) from the gradebook and by grading, and prepared with each
    graded result; returns (graded, reused). With students to regrade, those are graded again and every
    other student's row for the same file is reused whatever settings it was graded under."""
    settings_json = settings.to_json()
    hashes: dict[str, str] = {}
    pending: list[_Pending] = []
    reused = 0
    refused: list[dict[str, Any]] = []  # unreadable from the start: graded at once, shown in the progress too
    for submission in submissions:
        try:
            data = submission.read()
        except reading.UnreadableSubmission as error:
            # Keyed by the reason: the same refusal on a rerun is the row already made, not a new grading.
            key = gradebook.content_hash(b"unreadable\0" + str(error).encode())
            row = None if force or submission.student in regrade else book.lookup(submission.student, key)
            if row is not None and (row.settings_hash == fingerprint or regrade):
                results[submission.student] = _in_class(row.result, submission)
                reused += 1
                continue
            result = _in_class(pipeline.error_result(submission.student, settings, str(error)).to_json(), submission)
            book.record(submission.student, key, fingerprint, submission.filename, result)
            results[submission.student] = result
            refused.append(result)
            continue
        key = gradebook.content_hash(data)
        row = None if force or submission.student in regrade else book.lookup(submission.student, key)
        if row is not None and (row.settings_hash == fingerprint or regrade):
            results[submission.student] = _in_class(row.result, submission)
            reused += 1
        else:
            pending.append(_Pending(submission, key))
    graded = len(refused)
    progress.start(len(refused) + len(pending))
    for result in refused:
        progress.advance(result)
    by_student = {item.submission.student: item for item in pending}

    unreadable: list[tuple[_Pending, str]] = []

    def jobs_() -> Iterator[Job]:
        # Read again here rather than holding every file in memory; the hash follows the bytes sent.
        for item in pending:
            try:
                data = item.submission.read()
            except reading.UnreadableSubmission as error:  # gone or changed since it was found
                unreadable.append((item, str(error)))
                continue
            hashes[item.submission.student] = gradebook.content_hash(data)
            yield Job(item.submission.student, item.submission.filename, data, settings_json)

    own_executor = executor is None and bool(pending)
    if own_executor:
        executor = LocalExecutor(jobs, warm=settings_json)
    try:
        if pending:
            for student, result in executor.run(jobs_()):
                item = by_student[student]
                result = _with_note(result, item.submission)
                book.record(student, hashes.get(student, item.content_hash), fingerprint,
                            item.submission.filename, result)
                results[student] = result
                graded += 1
                progress.advance(result)
                prepared.add(student, result)
        for item, reason in unreadable:
            student = item.submission.student
            result = _in_class(pipeline.error_result(student, settings, reason).to_json(), item.submission)
            book.record(student, item.content_hash, fingerprint, item.submission.filename, result)
            results[student] = result
            graded += 1
            progress.advance(result)
    finally:
        progress.close()
        if own_executor:
            executor.close()
    return graded, reused


class _Prepared:
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
                  ambiguous: Sequence[str] = ()) -> dict[str, str]:
    """OUT/results.json, OUT/grades.csv, a page per student and OUT/index.html; returns student -> page.

    written: the pages on disk already (student -> the file holding the page of that very result), left
    as they are where the name is still the student's; lines: lines of results.json made already; pages: each
    student's page path (page_names), beside the class page when not given.
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
                                                    ambiguous=ambiguous))
    _remove_stale_pages(out, keep={INDEX_HTML, *pages.values()})
    return {result.submission: pages[result.submission] for result in results}


def _remember_reports(out: Path, *, title: str, not_graded: Sequence[str], pages: Mapping[str, str],
                      ambiguous: Sequence[str] = ()) -> None:
    try:
        with gradebook.open_gradebook(out) as book:
            book.set_report_setting("reports", {"title": title, "not_graded": list(not_graded), "pages": dict(pages),
                                                "ambiguous": list(ambiguous)})
    except sqlite3.Error as error:
        raise OSError(f"the gradebook did not keep how the reports were written ({_reason(error)})") from None


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
        raise OutputError(f"cannot read {out / RESULTS_JSON}: {_reason(error)}") from None
    try:
        with gradebook.open_gradebook(out) as book:
            overrides = book.overrides()
            kept = book.report_setting("reports", {})
    except sqlite3.Error as error:
        raise OutputError(f"cannot read the gradebook {out / gradebook.FILENAME}: {_reason(error)}") from None
    results = [submission_from_json(document) for document in documents]
    results = [final.adjust(result, lateness=result.late, overrides=overrides.get(result.submission, ()))
               for result in results]
    pages = kept.get("pages") or {}
    try:
        write_reports(results, out, title=kept.get("title", ""), not_graded=kept.get("not_graded", ()),
                      pages=pages if all(result.submission in pages for result in results) else None,
                      ambiguous=kept.get("ambiguous", ()))
    except OSError as error:
        raise OutputError(f"cannot write the reports in {out}: {_reason(error)}") from None
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


def default_progress() -> Progress:
    return progress_for(sys.stdout)
