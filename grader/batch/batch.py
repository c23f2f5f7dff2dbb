"""Grade a class: find the submissions, grade what the gradebook lacks in parallel, write every report."""
from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

from grader.assignments import Assignment
from grader.batch import choosing, discover, entries, final, gradebook
from grader.grading import late, picking, pipeline
from grader.batch.executors import Executor, Job, LocalExecutor
from grader.batch.progress import NoProgress, Progress
from grader.batch.reports import (INDEX_HTML, OutputError, Prepared, error_reason, page_names,
                                  remember_reports, write_reports)
from grader.results import SubmissionResult, submission_from_json
from grader.settings import Settings
from grader.batch.student_ids import IdPattern
from grader.load import files as reading


class UnknownStudent(ValueError):
    """A student named to regrade (--student) who has no submission in the class; one line."""


LAYOUTS = ("flat", "nbgrader")  # where the student pages go: beside the class page, or nbgrader's feedback/ tree


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


def grade(directory: Path, out: Path, settings: Settings, *, assignment: Assignment, jobs: int | None = None,
          force: bool = False, executor: Executor | None = None, progress: Progress | None = None, title: str = "",
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
    assignment: settings.assignment, resolved by the front door (its functions choose each student's file;
    the workers resolve their own from the settings they are sent).
    """
    started = time.monotonic()
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} is a file, not a folder for the gradebook and the reports")
    if out.resolve() == Path(directory).resolve():
        # A page or grades.csv would overwrite a file of the same name that sits among the submissions.
        raise OutputError(f"{out} is the class folder itself: the reports would be written among the submissions "
                          f"(a folder inside it, {out / 'reports'}, is fine)")
    survey = discover.survey(Path(directory), assignment=assignment, leave_out=out, id_pattern=id_pattern,
                             pick=pick, remembered=gradebook.remembered_picks(out) if out.is_dir() else {})
    submissions = survey.submissions
    in_class = {submission.student for submission in submissions}
    unknown = [student for student in students if student not in in_class]
    if unknown:
        raise UnknownStudent(f"no submission of {', '.join(map(repr, unknown))} in {directory} (--student takes the "
                             f"ids of the class page, e.g. {', '.join(sorted(in_class)[:3]) or 'none found'})")
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    fingerprint = gradebook.settings_hash(_graded_by(settings, assignment))
    progress = progress or NoProgress()
    results: dict[str, dict[str, Any]] = {}
    names = page_names({s.student: s.filename for s in submissions}, assignment=assignment.name, layout=layout)
    try:
        book = gradebook.open_gradebook(out)
    except (OSError, sqlite3.Error) as error:
        raise OutputError(f"cannot open the gradebook {out / gradebook.FILENAME}: {error_reason(error)}") from None
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
            prepared = Prepared(out, names, finish)
            graded, reused = _grade_into(book, submissions, results, settings, fingerprint, assignment=assignment,
                                         jobs=jobs, force=force,
                                         executor=executor, progress=progress, prepared=prepared,
                                         regrade=frozenset(students))
            ordered = tuple(prepared.results[s.student] if s.student in prepared.results
                            else finish(submission_from_json(results[s.student]))
                            for s in submissions if s.student in results)
            book.record_lateness({result.submission: result.late for result in ordered})
    except sqlite3.Error as error:
        raise OutputError(f"the gradebook {out / gradebook.FILENAME} stopped taking grades: {error_reason(error)}") from None
    try:
        title = title or f"{entries.printable(Path(directory).name)} · {assignment.name}"
        checker = assignment.checker is not None
        pages = write_reports(ordered, out, title=title, not_graded=survey.not_graded, written=prepared.written,
                              lines=prepared.lines, pages=names, ambiguous=survey.ambiguous, checker=checker)
        remember_reports(out, title=title, not_graded=survey.not_graded, pages=pages, ambiguous=survey.ambiguous,
                         checker=checker)
    except OSError as error:
        raise OutputError(f"cannot write the reports in {out}: {error_reason(error)}; every grade is in the gradebook, "
                          "run again to write them") from None
    return Summary(out, ordered, graded, reused, time.monotonic() - started, pages, survey.not_graded,
                   survey.ambiguous)


def _graded_by(settings: Settings, assignment: Assignment) -> dict[str, Any]:
    """What a gradebook row's grade depends on: the settings, and a spec file's own bytes (an instructor who
    edits the spec between two runs gets every submission graded again, not last run's rows)."""
    where = getattr(assignment.module, "__file__", None) if assignment.graded_by_spec else None
    if where is None:
        return settings.to_json()
    try:
        spec = gradebook.content_hash(Path(where).read_bytes())
    except OSError:
        spec = "unreadable"
    return dict(settings.to_json(), spec=spec)


def _grade_into(book: gradebook.Gradebook, submissions: Sequence[entries.Submission],
                results: dict[str, dict[str, Any]], settings: Settings, fingerprint: str, *, assignment: Assignment,
                jobs: int | None,
                force: bool, executor: Executor | None, progress: Progress, prepared: "Prepared",
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
            result = _in_class(pipeline.error_result(submission.student, settings, str(error),
                                                     assignment=assignment).to_json(), submission)
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
            result = _in_class(pipeline.error_result(student, settings, reason, assignment=assignment).to_json(),
                               item.submission)
            book.record(student, item.content_hash, fingerprint, item.submission.filename, result)
            results[student] = result
            graded += 1
            progress.advance(result)
    finally:
        progress.close()
        if own_executor:
            executor.close()
    return graded, reused
