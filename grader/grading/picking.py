"""Which of a student's several files is graded: the newest, one matching a name pattern, or the instructor's pick.

A student's folder often holds versions of one file (`gc_v1.ipynb` and `gc_v2.ipynb`, Jupyter's
`Gradient_Checking-Copy1.ipynb`, an LMS's two attempts). Among the files that define one of the
assignment's functions (all of them when none does), the rule picks:

- `newest` (the default): the newest, by the attempt date an LMS wrote into the name (Blackboard's
  `_attempt_2026-03-05-...`), else by modification time (a zip entry's date); ties go to the higher version
  number in the name (`_v2` over `_v1`, `(2)` over `(1)`), then to the file that is no copy (`gc.ipynb`
  over `gc-Copy1.ipynb`), then to a notebook over a .py, then to the first by name;
- `name-pattern`: the files whose path matches a regular expression first (newest among them), the others
  only when none matches.

The instructor overrides either per student (`--pick-file STUDENT=PATH`, or the rubric's `[pick.files]`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any, Iterable, Mapping


class PickError(ValueError):
    """A pick rule or override the instructor wrote that cannot be used (one line)."""


class Rule(str, Enum):
    """How a student's file is picked when they have several."""

    NEWEST = "newest"
    NAME_PATTERN = "name-pattern"


ATTEMPT = re.compile(r"_attempt_(\d{4})-(\d{2})-(\d{2})(?:-(\d{2})-(\d{2})-(\d{2}))?")
# Endings that make a name a version of another: "-Copy1", " - Copy (2)", " (1)", "_v2", "-version3",
# "_final", "_old" and the like; stripped again and again, so "gc_v2_final" is a version of "gc".
VERSION_ENDING = re.compile(
    r"(?:[\s_.-]*-?\s*copy\s*\d*|\s*\(\d+\)|[\s_.-]*v(?:er(?:sion)?)?[\s_.-]?\d+|"
    r"[\s_.-]+(?:final|old|new|latest|draft|backup|orig(?:inal)?|fixed|updated|resubmit(?:ted)?))$",
    re.IGNORECASE)
VERSION_NUMBER = re.compile(r"(?:v(?:er(?:sion)?)?[\s_.-]?(\d+)|\((\d+)\))", re.IGNORECASE)
COPY = re.compile(r"[\s_.-]*-?\s*copy\s*\d*(?:\s*\(\d+\))?$", re.IGNORECASE)


def base_name(stem: str) -> str:
    """stem without the endings that make it a version of another file: gc_v2 -> gc, gc-Copy1 -> gc."""
    while True:
        shorter = VERSION_ENDING.sub("", stem)
        if shorter == stem:
            return stem.strip(" _.-")
        stem = shorter


def version_number(stem: str) -> int:
    """The last version number written in a name (`_v2`, `(3)`), 0 when it has none."""
    found = [int(a or b) for a, b in VERSION_NUMBER.findall(stem)]
    return found[-1] if found else 0


def is_copy(stem: str) -> bool:
    """Whether the name is a copy Jupyter or a file manager made (`gc-Copy1`, `gc - Copy`)."""
    return bool(COPY.search(stem))


def attempt_time(name: str) -> float | None:
    """The attempt date an LMS wrote into a file's name, in seconds (UTC), or None when it wrote none."""
    found = ATTEMPT.search(name)
    if found is None:
        return None
    year, month, day, hour, minute, second = (int(part or 0) for part in found.groups())
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc).timestamp()
    except ValueError:  # no such date (month 13): the name says nothing about when
        return None


@dataclass(frozen=True)
class Pick:
    """The instructor's pick rule: the rule, its pattern, and a file named per student (student -> path)."""

    rule: Rule = Rule.NEWEST
    pattern: str = ""
    files: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.rule is Rule.NAME_PATTERN and not self.pattern:
            raise PickError("--pick name-pattern needs a pattern (--pick-pattern REGEX, or pattern in [pick])")
        if self.pattern:
            try:
                re.compile(self.pattern)
            except re.error as error:
                raise PickError(f"pick pattern {self.pattern!r} is not a regular expression ({error})") from None

    def matches(self, path: str) -> bool:
        return bool(self.pattern) and re.search(self.pattern, path) is not None

    def describe(self) -> str:
        return f"matching {self.pattern!r}" if self.rule is Rule.NAME_PATTERN else "the newest"


DEFAULT = Pick()


def from_table(table: Mapping[str, Any] | None, *, rule: str | None = None, pattern: str | None = None,
               files: Iterable[str] = ()) -> Pick:
    """A Pick from the rubric's [pick] table (rule, pattern, and a [pick.files] table of student = path),
    with the command line's --pick, --pick-pattern and --pick-file STUDENT=PATH over it."""
    table = dict(table or {})
    unknown = set(table) - {"rule", "pattern", "files"}
    if unknown:
        raise PickError(f"rubric: unknown key pick.{sorted(unknown)[0]} (known: pick.rule, pick.pattern, pick.files)")
    chosen_files = table.get("files", {})
    if not isinstance(chosen_files, Mapping) or not all(isinstance(v, str) for v in chosen_files.values()):
        raise PickError('rubric: [pick.files] must map student ids to paths, like alice = "gc_v1.ipynb"')
    chosen_files = dict(chosen_files)
    for item in files:
        student, equals, path = item.partition("=")
        if not equals or not student or not path:
            raise PickError(f"--pick-file {item!r}: expected STUDENT=PATH, like alice=gc_v1.ipynb")
        chosen_files[student] = path
    rule_text = rule or table.get("rule", Rule.NEWEST.value)
    try:
        chosen_rule = Rule(rule_text)
    except ValueError:
        raise PickError(f"pick rule {rule_text!r}: expected newest or name-pattern") from None
    return Pick(chosen_rule, pattern if pattern is not None else str(table.get("pattern", "")), chosen_files)
