"""What loading a submission gives: the program to run, the parts skipped, or a LoadError."""
from __future__ import annotations

import re
from dataclasses import dataclass

_LINE_REFERENCE = re.compile(r"\(line (\d+)\)")
_NAME_ERROR = re.compile(r"NameError: name '([A-Za-z_][A-Za-z0-9_]*)' is not defined")


class LoadError(Exception):
    """A submission that cannot be graded at all; the message is one line for the student."""


@dataclass(frozen=True)
class Skipped:
    """A part of a submission that does not parse and was left out: where it is ("code cell 4", "the
    statement at line 47"), its first line, what it would have defined, and why (one line, naming the
    student's lines)."""

    where: str
    opening: str
    names: tuple[str, ...]
    problem: str
    # The part's text, and the student's number of its first line (the file's, or the cell's own with the
    # cell's number), for a page to show the code that was not run.
    text: str = ""
    line: int = 1
    cell: int | None = None

    def warning(self) -> str:
        return f"{self.where} ({self.opening}) does not parse and was skipped: {self.problem}"

    def reason(self, name: str) -> str:
        """Why `name` is not in the program, for its row."""
        return f"{name} was not graded: {self.where}, where it is defined, does not parse ({self.problem})"


@dataclass(frozen=True)
class Program:
    """The code gradgrade will run for a submission, and what loading it had to say.

    line_map holds, for each line of source, the (cell number, line in that cell) it came from;
    empty for a .py file, whose lines are the student's own. unrun holds (name, line) for each name that
    only top-level code gradgrade left out sets, and the line of the first such statement. skipped holds
    the cells or statements left out because they do not parse, with what they would have defined.
    """

    source: str
    filename: str
    warnings: tuple[str, ...] = ()
    line_map: tuple[tuple[int, int], ...] = ()
    unrun: tuple[tuple[str, int], ...] = ()
    skipped: tuple[Skipped, ...] = ()
    # What the student calls each cell of line_map, where that is not "code cell N": `In [4]` for a
    # function grader.check took from a running notebook.
    cell_names: tuple[str, ...] = ()

    def skipped_reason(self, name: str) -> str | None:
        """Why name is not defined when a part that does not parse would have defined it (the last such), else None."""
        return next((part.reason(name) for part in reversed(self.skipped) if name in part.names), None)

    def locate(self, line: int) -> str:
        """Where line `line` of source is in the student's file: "line 12" or "code cell 7, line 3".

        Code cells are counted from the top, markdown cells not: a student counts the cells they wrote code in.
        """
        if self.line_map and 1 <= line <= len(self.line_map):
            cell, cell_line = self.line_map[line - 1]
            if 1 <= cell <= len(self.cell_names):
                return f"{self.cell_names[cell - 1]}, line {cell_line}"
            return f"code cell {cell}, line {cell_line}"
        return f"line {line}"

    def relabel(self, message: str) -> str:
        """A sandbox message in the student's terms: every "(line N)" of the program turned into their own
        place, and a NameError for a name only top-level code gradgrade did not run sets explained."""
        if self.line_map:
            message = _LINE_REFERENCE.sub(lambda match: f"({self.locate(int(match.group(1)))})", message)
        missing = _NAME_ERROR.search(message) if self.unrun else None
        line = dict(self.unrun).get(missing.group(1)) if missing else None
        if line is None:
            return message
        name = missing.group(1)
        return (f"{message}; {name} is set only by top-level code at {self.locate(line)}, which gradgrade does not "
                f"run (it runs imports, definitions and constant assignments): set {name} inside the function, "
                "or grade with --run-all")
