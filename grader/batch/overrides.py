"""Manual overrides (`gradgrade override`): an instructor's points for a student or one check, kept in the
gradebook with who set them and when, and applied on every run until cleared."""
from __future__ import annotations

import getpass
import os
from datetime import datetime, timezone
from pathlib import Path

from grader.batch import gradebook
from grader.results import Override


class OverrideError(Exception):
    """An override that cannot be made (no gradebook, a student or check it does not know); one line."""


def operator_name() -> str:
    """Who is at the keyboard: the OS user, as `--by` defaults to."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container's user without a passwd entry
        return os.environ.get("USER") or "unknown"


def _book(out: Path) -> gradebook.Gradebook:
    path = Path(out) / gradebook.FILENAME
    if not path.is_file():
        raise OverrideError(f"{out}: no gradebook here ({gradebook.FILENAME}); grade the class into it first")
    return gradebook.Gradebook(path)


def set_override(out: Path, student: str, *, points: float, check: str | None = None, comment: str = "",
                 by: str | None = None) -> Override:
    """Record an override of student's score (or of one check's points) in out's gradebook; returns it.

    OverrideError when out has no gradebook, the student has no row in it, the check is not one of the
    student's, or the points are negative.
    """
    if not points >= 0:
        raise OverrideError(f"--points must be at least 0, got {points:g}")
    with _book(out) as book:
        latest = book.latest(student)
        if latest is None:
            known = book.students()
            hint = f" (it holds {len(known)} student(s), e.g. {', '.join(sorted(known)[:3])})" if known else ""
            raise OverrideError(f"{student!r} is not in the gradebook {Path(out) / gradebook.FILENAME}{hint}")
        if check is not None:
            names = [item["name"] for item in latest.result.get("checks", [])]
            if check not in names:
                raise OverrideError(f"{student!r} has no check {check!r} (their checks: {', '.join(names) or 'none'})")
        override = Override(check, float(points), comment, by or operator_name(),
                            datetime.now(timezone.utc).isoformat(timespec="seconds"))
        book.set_override(student, override)
    return override


def clear_override(out: Path, student: str, *, check: str | None = None) -> int:
    """Remove student's override of the whole score (or of check); returns how many were removed."""
    with _book(out) as book:
        if book.latest(student) is None:
            raise OverrideError(f"{student!r} is not in the gradebook {Path(out) / gradebook.FILENAME}")
        return book.clear_override(student, check)
