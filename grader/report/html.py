"""HTML feedback from the Jinja2 templates: a page per student and the class page, self-contained and escaped."""
from __future__ import annotations

import functools
import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import jinja2

from grader.report import listing, render
from grader.grading.late import late_by
from grader.results import CheckResult, Status, SubmissionResult

HISTOGRAM_BINS = 10
TOP = 10
RESERVED_PAGES = frozenset({"index", "grades", "results", "gradebook"})
# What every student page carries in its head (student.html.j2), by which a rerun knows its own stale pages.
STUDENT_PAGE_MARK = b'<meta name="gradgrade-page" content="student">'
# Terminal colour codes (the course's checker prints in colour) and other control characters but tab/newline.
_CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|[\x00-\x08\x0b-\x1f\x7f]")


def plain_text(text: str) -> str:
    """Captured output without terminal escape sequences and control characters, for a page."""
    return _CONTROL.sub("", text)


@functools.cache
def environment() -> jinja2.Environment:
    """The one template environment; autoescaping on for every .html.j2 template (select_autoescape's
    default list only matches names ending in .html)."""
    env = jinja2.Environment(loader=jinja2.PackageLoader("grader"),
                             autoescape=jinja2.select_autoescape(("html", "html.j2", "xml")),
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters["difference"] = render.format_difference
    env.filters["plain"] = plain_text
    env.filters["points"] = render.format_points
    env.filters["visible"] = listing.visible
    env.filters["percent"] = lambda value: f"{100 * value:.0f}%"
    env.globals["verdict"] = render.VERDICT
    env.filters["late_by"] = late_by
    return env


def _digest(student: str, length: int) -> str:
    # surrogatepass: a student id comes from a file name, which may hold undecodable bytes.
    return hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()[:length]


def page_name(student: str) -> str:
    """A file name for a student's page that is safe on every file system; odd ids get a hash suffix."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", student).strip("._-")[:80] or "student"
    if safe != student or safe.lower() in RESERVED_PAGES:
        safe += "-" + _digest(student, 8)
    return safe + ".html"


def page_names(students: Iterable[str]) -> dict[str, str]:
    """Each student's page file name, distinct even on case-insensitive file systems."""
    names, taken = {}, set()
    for student in students:
        name = page_name(student)
        if name.lower() in taken:
            name = name[:-5] + "-" + _digest(student, 12) + ".html"
        taken.add(name.lower())
        names[student] = name
    return names


FEEDBACK = "feedback"  # nbgrader's folder of feedback pages, beside the class page with --feedback-layout nbgrader


def nbgrader_pages(files: Mapping[str, str], *, assignment: str) -> dict[str, str]:
    """feedback/<student>/<assignment>/<submission>.html for each student (files: student -> the file graded),
    as nbgrader lays out its feedback; each part safe on every file system, student folders distinct."""
    folders = page_names(files)
    folder_of_assignment = page_name(assignment)[:-5]
    pages = {}
    for student, filename in files.items():
        stem = filename.rsplit(".", 1)[0] if "." in filename.strip(".") else filename
        if stem.lower().endswith((".py", ".ipynb")):  # a download renamed: hw.ipynb.txt
            stem = stem.rsplit(".", 1)[0]
        pages[student] = f"{FEEDBACK}/{folders[student][:-5]}/{folder_of_assignment}/{page_name(stem or 'submission')}"
    return pages


@dataclass(frozen=True)
class Family:
    """How a student's checker did on one operator family of mutants."""

    operator: str
    caught: int
    total: int


def _caught(entry: dict[str, Any]) -> bool:
    if "caught" in entry:
        return bool(entry["caught"])
    return str(entry.get("status", "")).lower() in ("caught", "killed", "pass", "rejected")


def checker_mutants(check: CheckResult) -> list[dict[str, Any]]:
    """The mutants a student's checker was run on, as {mutant, operator, caught, ran} (none when not recorded).

    ran is False where the call of the checker raised or timed out: it said nothing about that mutant.
    Details that do not record it count every call as run unless the whole check crashed or timed out.
    """
    details = check.details or {}
    entries = details.get("mutants")
    found = []
    crashed = check.status in (Status.ERROR, Status.TIMEOUT)
    if isinstance(entries, list):
        for entry in entries:
            if isinstance(entry, dict) and (entry.get("mutant") or entry.get("id")):
                mutant = str(entry.get("mutant") or entry.get("id"))
                operator = str(entry.get("family") or entry.get("operator") or mutant.rsplit("-", 1)[0])
                found.append({"mutant": mutant, "operator": operator, "caught": _caught(entry),
                              "ran": bool(entry.get("ran", not crashed))})
    missed = details.get("missed")
    if not found and isinstance(missed, list):
        for mutant in missed:
            name = str(mutant.get("mutant", mutant.get("id", "")) if isinstance(mutant, dict) else mutant)
            found.append({"mutant": name, "operator": name.rsplit("-", 1)[0], "caught": False, "ran": not crashed})
    return found


def checker_families(check: CheckResult) -> list[Family]:
    """Mutants caught out of the total, per operator family, from the checker's details."""
    details = check.details or {}
    families = details.get("families")
    if isinstance(families, dict) and families:
        rows = []
        for operator, counts in sorted(families.items()):
            if isinstance(counts, dict) and "total" in counts:
                rows.append(Family(str(operator), int(counts.get("caught", 0)), int(counts["total"])))
        if rows:
            return rows
    counts: dict[str, list[int]] = {}
    for entry in checker_mutants(check):
        caught_total = counts.setdefault(entry["operator"], [0, 0])
        caught_total[0] += entry["caught"]
        caught_total[1] += 1
    return [Family(operator, caught, total) for operator, (caught, total) in sorted(counts.items())]


def misconception_anchor(operator: str) -> str:
    """The id, on a student's page, of their first diagnosis of a misconception (the class page links to it)."""
    return "bug-" + (re.sub(r"[^A-Za-z0-9_-]+", "-", operator).strip("-") or _digest(operator, 8))


def _line_number(shown: listing.Listing | None, line: int | None) -> int | None:
    """The student's number of the program's line `line`, when the listing shows that line."""
    if shown is None or not line or not shown.source.program_line:
        return None
    number = shown.source.line + line - shown.source.program_line
    return number if any(entry.number == number for block in shown.blocks for entry in block.lines) else None


def _context_for_student(result: SubmissionResult) -> dict[str, Any]:
    checks = []
    anchored: set[str] = set()
    for check in result.checks:
        families = checker_families(check)
        details = check.details or {}
        flaws = [str(flaw) for flaw in details.get("flaws", ()) if flaw] if isinstance(details.get("flaws"), list) else []
        anchors, targets = [], []
        shown = listing.listing(check)
        for diagnosis in check.diagnosis:
            anchor = misconception_anchor(diagnosis.operator or diagnosis.mutant)
            anchors.append(anchor if anchor not in anchored else "")
            anchored.add(anchor)
            targets.append(_line_number(shown, diagnosis.line))
        mutants = checker_mutants(check)
        checks.append({"check": check, "families": families, "flaws": flaws, "listing": shown,
                       "anchors": anchors, "targets": targets,
                       "missed": [entry["mutant"] for entry in mutants if entry["ran"] and not entry["caught"]],
                       "crashed_on": [entry["mutant"] for entry in mutants if not entry["ran"]]})
    shown = any(item["listing"] is not None for item in checks)
    return {"result": result, "checks": checks, "source_style": listing.stylesheet() if shown else ""}


def student_page(result: SubmissionResult, *, class_page: str | None = None) -> str:
    """One submission's page: verdict, per-parameter table, diagnosis, checker results, output, warnings."""
    return environment().get_template("student.html.j2").render(
        **_context_for_student(result), class_page=class_page)


@dataclass(frozen=True)
class Bar:
    """One bar of the score histogram, in SVG user units."""

    label: str
    count: int
    x: float
    y: float
    width: float
    height: float


def histogram(results: Sequence[SubmissionResult], *, bins: int = HISTOGRAM_BINS,
              width: float = 600, height: float = 160) -> list[Bar]:
    """Bars of the share of the maximum score, in equal bins from 0 to 100% (a full score in the last)."""
    counts = [0] * bins
    for result in results:
        share = result.score / result.max_score if result.max_score else 0.0
        counts[min(bins - 1, max(0, int(share * bins)))] += 1
    tallest = max(counts, default=0) or 1
    slot = width / bins
    bars = []
    for index, count in enumerate(counts):
        bar_height = height * count / tallest
        low, high = 100 * index // bins, 100 * (index + 1) // bins
        bars.append(Bar(f"{low}–{high}%", count, index * slot + 2, height - bar_height, slot - 4, bar_height))
    return bars


def parameter_pass_rates(results: Sequence[SubmissionResult]) -> list[dict[str, Any]]:
    """For each check's parameters, how many submissions got that gradient right."""
    rows: dict[tuple[str, str], list[int]] = {}
    for result in results:
        for check in result.checks:
            for parameter in check.parameters:
                counts = rows.setdefault((check.name, parameter.name), [0, 0])
                counts[0] += parameter.status is Status.PASS
                counts[1] += 1
    return [{"check": check, "parameter": parameter, "passed": passed, "total": total,
             "rate": passed / total if total else 0.0}
            for (check, parameter), (passed, total) in rows.items()]


def function_pass_rates(results: Sequence[SubmissionResult]) -> list[dict[str, Any]]:
    """One row per check (a function the assignment grades): how many submissions passed it, how many had it
    missing or not implemented (a term may leave a function out), and each of its parameters' pass rates."""
    rows: dict[str, dict[str, Any]] = {}
    for parameter in parameter_pass_rates(results):
        rows.setdefault(parameter["check"], {"parameters": []})["parameters"].append(parameter)
    for result in results:
        for check in result.checks:
            row = rows.setdefault(check.name, {"parameters": []})
            row["passed"] = row.get("passed", 0) + (check.status is Status.PASS)
            row["missing"] = row.get("missing", 0) + (check.status is Status.MISSING)
            row["total"] = row.get("total", 0) + 1
    return [{"check": name, **row, "rate": row["passed"] / row["total"] if row["total"] else 0.0,
             "attempted": row["total"] - row["missing"]}
            for name, row in rows.items() if "total" in row]


def misconceptions(results: Sequence[SubmissionResult], *, top: int = TOP) -> list[dict[str, Any]]:
    """The most common diagnosed misconceptions (operator families), by how many students made them,
    with the catalogued mutants behind them, the hint the first such student was given, and every student
    who made it (in the order of results)."""
    students: Counter[str] = Counter()
    mutants: dict[str, list[str]] = {}
    first: dict[str, Any] = {}
    who: dict[str, list[str]] = {}
    for result in results:
        seen: set[str] = set()
        for check in result.checks:
            for diagnosis in check.diagnosis:
                operator = diagnosis.operator or diagnosis.mutant
                first.setdefault(operator, diagnosis)
                names = mutants.setdefault(operator, [])
                if diagnosis.mutant and diagnosis.mutant not in names:
                    names.append(diagnosis.mutant)
                seen.add(operator)
        students.update(seen)
        for operator in seen:
            who.setdefault(operator, []).append(result.submission)
    return [{"operator": operator, "mutants": mutants[operator], "hint": first[operator].hint, "count": count,
             "students": who[operator], "anchor": misconception_anchor(operator)}
            # Ties by name: the order a set of operators came in depends on the process's hash seed.
            for operator, count in sorted(students.items(), key=lambda item: (-item[1], item[0]))[:top]]


def missed_mutants(results: Sequence[SubmissionResult], *, top: int = TOP) -> tuple[list[dict[str, Any]], int]:
    """The mutants students' checkers let through most, and how many checkers ran on mutants at all.

    Only calls that ran count: a checker that raised or timed out on a mutant did not miss it (crashed_checkers
    lists those apart). Each row says how many checkers missed the mutant out of how many ran on it.
    """
    counts: Counter[str] = Counter()
    ran: Counter[str] = Counter()
    operators: dict[str, str] = {}
    checkers = 0
    for result in results:
        for check in result.checks:
            entries = [entry for entry in checker_mutants(check) if entry["ran"]]
            if not entries:
                continue
            checkers += 1
            for entry in entries:
                operators[entry["mutant"]] = entry["operator"]
                ran[entry["mutant"]] += 1
                if not entry["caught"]:
                    counts[entry["mutant"]] += 1
    return ([{"mutant": mutant, "operator": operators[mutant], "count": count, "ran": ran[mutant]}
             for mutant, count in counts.most_common(top)], checkers)


def crashed_checkers(results: Sequence[SubmissionResult]) -> list[dict[str, Any]]:
    """The students whose checker raised or timed out on some of the mutants it was given, with how many:
    those calls are not counted as misses."""
    found = []
    for result in results:
        for check in result.checks:
            entries = checker_mutants(check)
            crashed = sum(1 for entry in entries if not entry["ran"])
            if crashed:
                found.append({"submission": result.submission, "check": check.name, "crashed": crashed,
                              "total": len(entries)})
    return found


def class_page(results: Sequence[SubmissionResult], pages: dict[str, str], *, title: str = "",
               files: dict[str, str] | None = None, not_graded: Sequence[str] = (),
               ambiguous: Sequence[str] = (), checker: bool = True) -> str:
    """The class page: histogram, pass rates, misconceptions, missed mutants (checker: whether the assignment
    grades a student checker at all), a table linking every page (with each student's group and file graded),
    the class folder's files that were no submission, and what in its layout could be read two ways."""
    missed, checkers = missed_mutants(results)
    crashed = crashed_checkers(results)
    statuses = Counter(result.status.value for result in results)
    mean = sum(result.score for result in results) / len(results) if results else 0.0
    return environment().get_template("class.html.j2").render(
        results=results, pages=pages, title=title, bars=histogram(results), rates=function_pass_rates(results),
        misconceptions=misconceptions(results), missed=missed, checkers=checkers, crashed=crashed, statuses=statuses,
        mean=mean, max_score=max((result.max_score for result in results), default=0.0), files=files or {},
        not_graded=tuple(not_graded), ambiguous=tuple(ambiguous), groups=any(result.group for result in results),
        checker=checker or bool(checkers))
