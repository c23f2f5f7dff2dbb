"""Student ids from the names an LMS gives its downloads (`gradgrade grade --id-pattern`).

An LMS names each download after the student and its own numbers, so the file stem is no id an
instructor recognises, and one student's two files are two rows. A pattern reads the id out of each
top-level name of the class (a file's name in a flat class, a folder's name in a class of folders):

- `canvas`: `doejane_1234_56789_gc.ipynb` (`doejane_LATE_1234_...` when late) is `doejane_1234`;
- `moodle`: `Jane Doe_123456_assignsubmission_file_` (a folder, or the start of a file's name) is `Jane Doe_123456`;
- `blackboard`: `Gradient Checking_jdoe_attempt_2026-03-01-10-20-30_gc.ipynb` is `jdoe`;
- any other regular expression, searched in the name: the groups it captures, joined by `_`, are the id
  (the whole match when it captures none).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

PRESETS = {
    "canvas": r"^([^_]+)_(?:LATE_)?(\d+)_\d+_.",
    "moodle": r"^(.+?_\d+)_assignsubmission_",
    "blackboard": r"^.*?_([^_]+)_attempt_\d{4}-\d{2}-\d{2}",
}


class BadPattern(ValueError):
    """An id pattern that is neither a preset's name nor a regular expression."""


@dataclass(frozen=True)
class IdPattern:
    """How a top-level name of the class becomes a student id: a preset's name or a regular expression."""

    name: str
    regex: re.Pattern

    @classmethod
    def parse(cls, text: str) -> "IdPattern":
        try:
            return cls(text, re.compile(PRESETS.get(text, text)))
        except re.error as error:
            presets = ", ".join(PRESETS)
            raise BadPattern(f"{text!r} is not a regular expression ({error}) nor one of {presets}") from None

    def student(self, name: str) -> str | None:
        """The student id in name, or None when the pattern does not find one there."""
        found = self.regex.search(name)
        if found is None:
            return None
        student = "_".join(group for group in found.groups() if group) if self.regex.groups else found.group(0)
        return student.strip() or None
