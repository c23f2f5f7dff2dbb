"""Show results: the terminal table (tabulate) and the result/v1 JSON."""
from __future__ import annotations

import json
import textwrap
from typing import Any

from tabulate import tabulate

from grader.results import CheckResult, Diagnosis, SubmissionResult

VERDICT = {"pass": "PASS", "fail": "FAIL", "error": "ERROR", "timeout": "TIMEOUT", "missing": "MISSING"}


def format_difference(difference: float | None) -> str:
    return "-" if difference is None else f"{difference:.2e}"


def format_points(points: float) -> str:
    """Points as people read them: at most two decimals, no trailing zeros (4.33, 6, 2.5); JSON keeps them whole."""
    return f"{points:.2f}".rstrip("0").rstrip(".")


# Width of the wrapped lines of the terminal report; the per-parameter table cuts its messages to TABLE_WIDTH.
WRAP_WIDTH = 110
TABLE_WIDTH = 110


def _shorten(text: str, width: int = TABLE_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def wrap(text: str, *, first: str = "  ", rest: str = "    ", width: int = WRAP_WIDTH) -> list[str]:
    """text on lines of at most width characters where its words allow: every word kept whole, none cut (the
    end of a message is what says what to do)."""
    return textwrap.wrap(" ".join(text.split()), width=width, initial_indent=first, subsequent_indent=rest,
                         break_long_words=False, break_on_hyphens=False) or [first.rstrip()]


def check_table(check: CheckResult, *, width: int | None = TABLE_WIDTH) -> str:
    """One row per parameter: relative difference, pass or fail, and its message on one line (cut to width
    characters in a terminal; whole with width=None, where the reader can scroll)."""
    rows = [(p.name, format_difference(p.difference), VERDICT[p.status.value],
             _shorten(p.message, width) if width else " ".join(p.message.split()))
            for p in check.parameters]
    return tabulate(rows, headers=("parameter", "difference", "verdict", "message"), tablefmt="simple",
                    disable_numparse=True)


def case_lines(check: CheckResult) -> list[str]:
    """Each case's verdict, when some case has no difference (it raised, or gave inf or NaN) and others have
    one: the table's worst difference is then unknown, and the cases that ran still show what they gave."""
    differences = [case.difference for case in check.cases]
    if not check.parameters or None not in differences or all(value is None for value in differences):
        return []
    found = ["  per case:"]
    for case in check.cases:
        found += wrap(f"{case.case}: {VERDICT[case.status.value]}, difference {format_difference(case.difference)}: "
                      f"{case.message}", first="    ", rest="      ")
    return found


def hint_line(diagnosis: Diagnosis) -> str:
    """A diagnosis on one line, with where it is in the student's own file: "hint [mutant] (code cell 7, line 3): ..."."""
    where = f" ({diagnosis.where or f'line {diagnosis.line}'})" if diagnosis.line else ""
    return f"hint [{diagnosis.mutant or diagnosis.operator}]{where}: {diagnosis.hint}"


def text(result: SubmissionResult) -> str:
    """The terminal report of one submission."""
    lines = [f"{result.submission} ({result.assignment})", ""]
    for check in result.checks:
        points = f"  {format_points(check.points)}/{format_points(check.max_points)} points" if check.max_points else ""
        lines.append(f"{check.name}: {VERDICT[check.status.value]}  difference "
                     f"{format_difference(check.difference)} (threshold {check.threshold:g}){points}")
        if check.parameters:
            lines.append(check_table(check))
            # The table cut these to its width: their whole text follows it.
            for parameter in check.parameters:
                if _shorten(parameter.message) != " ".join(parameter.message.split()):
                    lines += wrap(parameter.message, first=f"  {parameter.name}: ")
        lines += case_lines(check)
        for diagnosis in check.diagnosis:
            lines += wrap(hint_line(diagnosis))
        lines += wrap(check.message)
        lines.append("")
    for warning in result.warnings:
        lines += wrap(warning, first="warning: ", rest="  ")
    if result.message and not result.checks:
        lines.append(result.message)
    lines.append(f"verdict: {VERDICT[result.status.value]}  score {format_points(result.score)}/{format_points(result.max_score)}")
    return "\n".join(lines)


def to_json(result: SubmissionResult) -> dict[str, Any]:
    return result.to_json()


def json_text(result: SubmissionResult) -> str:
    """The result/v1 object as one JSON document (NaN never appears: non-finite differences are null)."""
    return json.dumps(to_json(result), indent=2, allow_nan=False)
