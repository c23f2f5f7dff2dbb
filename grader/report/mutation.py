"""Show a mutation run: the terminal table, the mutation/v1 JSON, the HTML report and Stryker's report JSON."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tabulate import tabulate

from grader.report.atomic import write_atomic
from grader.report.html import environment
from grader.mutation.catalogue import reference_file
from grader.mutation.records import MutantStatus, MutationRun
from grader.report.render import format_difference

SCHEMA = "gradgrade/mutation/v1"
STRYKER_SCHEMA_VERSION = "1"
# Stryker's report viewer colours the score with these bounds (percent).
STRYKER_THRESHOLDS = {"high": 90, "low": 70}
STRYKER_STATUS = {
    MutantStatus.KILLED: "Killed",
    MutantStatus.CRASHED: "RuntimeError",
    MutantStatus.SURVIVED: "Survived",
    MutantStatus.TIMEOUT: "Timeout",
    MutantStatus.INVALID: "CompileError",
    MutantStatus.EQUIVALENT: "Ignored",
    MutantStatus.DUPLICATE: "Ignored",
}


def to_json(run: MutationRun) -> dict[str, Any]:
    """The mutation/v1 object: schema, assignment, reference{status, difference}, mutants[...], score (+ extras)."""
    return {"schema": SCHEMA, "assignment": run.assignment, "backward": run.backward,
            "reference": run.reference.to_json(), "sound": run.sound, "passed": run.passed,
            "counts": run.counts(), "score": round(run.score, 6),
            "mutants": [record.to_json() for record in run.mutants]}


def json_text(run: MutationRun) -> str:
    return json.dumps(to_json(run), indent=2)


def _profiles(record) -> str:
    return " ".join(f"{outcome.profile}:{outcome.status.value}" for outcome in record.profiles) or "-"


def text(run: MutationRun) -> str:
    """The terminal report: one row per mutant, then the verdict on the reference and the run."""
    rows = [(r.id, r.family, r.status.value.upper(), r.line, format_difference(r.difference),
             ",".join(r.parameters) or "-", _profiles(r), r.duplicate_of or "") for r in run.mutants]
    table = tabulate(rows, headers=("mutant", "family", "status", "line", "difference", "parameters", "profiles",
                                    "duplicate of"), tablefmt="simple", disable_numparse=True)
    counts = ", ".join(f"{count} {status}" for status, count in run.counts().items() if count)
    survivors = [r.id for r in run.mutants if r.status is MutantStatus.SURVIVED]
    lines = [table, "",
             f"reference {run.assignment}.{run.backward}: {run.reference.status.upper()} "
             f"(largest difference {format_difference(run.reference.difference)}) - {run.reference.message}",
             f"{len(run.mutants)} mutants: {counts}",
             f"mutation score {run.score:.1%}; canary {'caught' if run.sound else 'NOT caught: the run is unsound'}"]
    if survivors:
        lines.append(f"survived (the checker misses them): {', '.join(survivors)}")
    lines += [line for r in run.mutants if r.status is MutantStatus.SURVIVED and r.target for line in _survivor(r)]
    lines.append("PASS" if run.passed else "FAIL")
    return "\n".join(lines)


def _survivor(record) -> list[str]:
    """A spec mutant that survived: the line it changed, and the case that would expose it."""
    found = [f"  {record.id}: line {record.line} of {record.target}: {record.before}  ->  {record.after}"]
    if record.suggestion is not None:
        found.append(f"    suggestion: {record.suggestion.text}")
    return found


def stryker(run: MutationRun) -> dict[str, Any]:
    """The run as mutation-testing-report-schema JSON, for Stryker's report viewer (mutation-testing-elements)."""
    mutants = []
    for record in run.mutants:
        mutant = {"id": record.id, "mutatorName": record.operator,
                  "location": {"start": {"line": record.line, "column": record.column + 1},
                               "end": {"line": record.end_line, "column": record.end_column + 1}},
                  "status": STRYKER_STATUS[record.status], "statusReason": _status_reason(record),
                  "replacement": record.replacement, "description": f"{record.description} {record.misconception}"}
        mutants.append(mutant)
    return {"$schema": "https://git.io/mutation-testing-schema", "schemaVersion": STRYKER_SCHEMA_VERSION,
            "thresholds": dict(STRYKER_THRESHOLDS), "projectRoot": ".",
            "files": {f"mutants/{run.assignment}/reference.py": {"language": "python", "source": reference_file(run),
                                                                  "mutants": mutants}},
            "framework": {"name": "gradgrade"}}


def _status_reason(record) -> str:
    if record.status is MutantStatus.DUPLICATE:
        return f"duplicate of {record.duplicate_of}: {record.message}"
    if record.status is MutantStatus.EQUIVALENT:
        return f"equivalent: {record.message}"
    return record.message


def html(run: MutationRun) -> str:
    """The HTML report: the reference source with each mutated line marked, and the mutants by status."""
    by_line: dict[int, list] = {}
    for record in run.mutants:
        by_line.setdefault(record.line, []).append(record)
    lines = [{"number": number, "code": code, "mutants": by_line.get(number, [])}
             for number, code in enumerate(run.reference_source.splitlines(), 1)]
    statuses = [status.value for status in MutantStatus if any(r.status is status for r in run.mutants)]
    template = environment().get_template("mutation.html.j2")
    return template.render(run=run, lines=lines, statuses=statuses, counts=run.counts(),
                           format_difference=format_difference)


def write_reports(run: MutationRun, *, html_path: str | Path | None = None,
                  stryker_path: str | Path | None = None) -> list[Path]:
    """Write the HTML and Stryker reports that were asked for; returns the paths written."""
    written = []
    if html_path:
        write_atomic(Path(html_path), html(run))
        written.append(Path(html_path))
    if stryker_path:
        write_atomic(Path(stryker_path), json.dumps(stryker(run), indent=1) + "\n")
        written.append(Path(stryker_path))
    return written
