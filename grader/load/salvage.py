"""Salvage a .py that does not parse: blank each top-level statement that does not parse alone, and name it."""
from __future__ import annotations

import re

from grader.load.loaded import Skipped
from grader.load.parse import parse_problem, python_lines

# A line that starts a top-level statement: code at column 0 that does not continue the statement above
# (a closing bracket, else/elif/except/finally, a def under its decorator).
_CONTINUES = re.compile(r"^([)\]}]|(else|elif|except|finally)\b)")
_DEFINES = re.compile(r"^(?:async\s+def|def|class)\s+([A-Za-z_]\w*)|^([A-Za-z_]\w*)\s*(?::[^=]*)?=(?!=)", re.MULTILINE)
# How many following statements a piece that does not parse alone may be joined with (a triple-quoted
# string holding lines at column 0 is cut into several pieces): bounds the parsing a broken file costs.
_JOIN_AT_MOST = 12


def defined_names(text: str) -> list[str]:
    """The names text's lines at column 0 define or assign (`def f`, `class C`, `EPS = ...`), read without
    parsing: what a statement or cell that does not parse would have defined."""
    return list(dict.fromkeys(match.group(1) or match.group(2) for match in _DEFINES.finditer(text)))


def _statement_starts(lines: list[str]) -> list[int]:
    """The indexes of the lines where a top-level statement may start, by their indentation alone."""
    starts, above = [0], ""
    for index, line in enumerate(lines):
        if index == 0 or not line or line[0] in " \t#\f":
            above = line if line.strip() and not line.lstrip().startswith("#") else above
            continue
        decorated = above.startswith("@") and re.match(r"(async\s+)?(def|class)\b", line)
        if not (_CONTINUES.match(line) or decorated or above.rstrip().endswith("\\")):
            starts.append(index)
        above = line
    return starts


def salvage_statements(text: str) -> tuple[str, list[Skipped]]:
    """A .py that does not parse as a whole, with each top-level statement that does not parse alone blanked
    (every other line stays where the student wrote it), and what was blanked.

    Statements are found by indentation; a piece that does not parse alone is joined with the pieces after
    it (a triple-quoted string spanning lines at column 0) before it is given up.
    """
    lines = python_lines(text)
    starts = _statement_starts(lines) + [len(lines)]
    skipped: list[Skipped] = []
    piece = 0
    while piece < len(starts) - 1:
        first = starts[piece]
        problem = None
        for last in range(piece + 1, min(piece + 1 + _JOIN_AT_MOST, len(starts))):
            problem = parse_problem("\n".join(lines[first:starts[last]]), first_line=first + 1)
            if problem is None:
                break
        if problem is None:
            piece = last
            continue
        end = starts[piece + 1]
        chunk = "\n".join(lines[first:end])
        skipped.append(Skipped(f"the statement at line {first + 1}", first_line(chunk), tuple(defined_names(chunk)),
                               parse_problem(chunk, first_line=first + 1) or "it does not parse", chunk, first + 1))
        lines[first:end] = [""] * (end - first)
        piece += 1
    return "\n".join(lines) + "\n", skipped


def first_line(text: str) -> str:
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return line if len(line) <= 60 else line[:57] + "..."
