"""Which of one student's files is graded: the instructor's pick, the last run's, else grader.picking's rule."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from grader.batch.entries import DiscoverError, Entry, zip_members
from grader.grading import picking
from grader.load import kinds
from grader.load.files import UnreadableSubmission


def gradable_files(files: list[Entry]) -> tuple[list[Entry], bool]:
    """A student's gradable files, and whether they come from inside a zip: when none of the files is
    gradable, the gradable files in the zips among them (zips on disk only: one inside a zip stays shut)."""
    gradable = [entry for entry in files if entry.gradable]
    if gradable:
        return gradable, False
    inside = [member for entry in files if _own_zip(entry) for member in _opened(entry)]
    return inside, bool(inside)


def _own_zip(entry: Entry) -> bool:
    return entry.member is None and not entry.refused and entry.parts[-1].lower().endswith(".zip")


def _opened(entry: Entry) -> list[Entry]:
    """The gradable files in a student's zip, as if the zip were a folder beside its other files."""
    try:
        members = zip_members(entry.path)
    except DiscoverError:
        return []
    return [Entry(entry.parts + member.parts, entry.path, member.member, member.refused, grouped=entry.grouped,
                   mtime=member.mtime, base=entry.base) for member in members if member.gradable]


def mentions(entry: Entry, names: Iterable[str]) -> bool:
    try:
        data = entry.submission("").read()
    except UnreadableSubmission:
        return False
    return any(f"def {name}".encode() in data for name in names)


def _recency(entry: Entry) -> tuple:
    """How recent a file is, for picking the newest: the attempt date in its name (else its time), then its
    version number, then not being a copy, then being a notebook."""
    stem = kinds.source_stem(entry.parts[-1])
    when = picking.attempt_time(entry.parts[-1])
    return (entry.mtime if when is None else when, picking.version_number(stem), not picking.is_copy(stem),
            kinds.source_kind(entry.parts[-1]) == ".ipynb")


def _named(entry: Entry, wanted: str) -> bool:
    """Whether the instructor's path names this file: its path in the class, in its student's folder, or its name."""
    wanted = wanted.strip().removeprefix("./")
    inner = entry.parts[1:] if len(entry.parts) > 1 else entry.parts
    return wanted in (entry.shown, "/".join(inner), entry.parts[-1])


@dataclass(frozen=True)
class Choice:
    """How one student's file is chosen: the pick rule, the student's id and group, and what was picked before."""

    student: str = ""
    group: str = ""
    pick: picking.Pick = picking.DEFAULT
    remembered: tuple[str, tuple[str, ...]] | None = None  # (path graded, files chosen among) in the last run

    def wanted(self) -> str | None:
        files = self.pick.files
        return files.get(self.student) or (files.get(f"{self.group}/{self.student}") if self.group else None)


def choose(entries: list[Entry], names: tuple[str, ...], *, choice: Choice = Choice()) -> tuple[Entry, str]:
    """The file of a student's folder to grade, and a note when there was a choice to make.

    The instructor's pick for the student wins; else the file graded last time, while the student's files
    are the same files; else, among the files that define one of the assignment's functions (all of them
    when none does), the one grader.picking's rule picks (the newest by default).
    """
    ordered = sorted(entries, key=lambda entry: entry.parts)
    if len(ordered) == 1:
        return ordered[0], ""
    candidates = tuple(sorted(entry.shown for entry in ordered))
    readable = [entry for entry in ordered if not entry.refused] or ordered
    pool = [entry for entry in readable if mentions(entry, names)] or readable
    chosen, reason, said = None, "", []
    wanted = choice.wanted()
    if wanted is not None:
        chosen = next((entry for entry in ordered if _named(entry, wanted)), None)
        if chosen is not None:
            reason = "the instructor's pick"
        else:
            said.append(f"the pick {wanted} names no file of {choice.student}'s")
    if chosen is None and choice.remembered is not None and choice.remembered[1] == candidates:
        chosen = next((entry for entry in ordered if entry.shown == choice.remembered[0]), None)
        reason = "as graded before: the same files as then" if chosen is not None else ""
    if chosen is None:
        rule = choice.pick
        if rule.rule is picking.Rule.NAME_PATTERN:
            matching = [entry for entry in pool if rule.matches(entry.shown)]
            if not matching:
                said.append(f"none of {choice.student}'s files matches {rule.pattern!r}: graded the newest")
            pool = matching or pool
        chosen = max(pool, key=_recency)  # the first by name of equals
        if len(pool) > 1:
            reason = rule.describe() + (f" of {len(pool)} defining the assignment's functions"
                                        if len(pool) < len(readable) else "")
    others = ", ".join(entry.shown for entry in ordered if entry is not chosen)
    note = f"graded {chosen.shown}" + (f" ({reason})" if reason else "") + f"; also found {others}"
    return chosen, "; ".join([note, *said])


def is_found_note(text: str) -> bool:
    """Whether a warning is a note of choose or pick about which file was graded (replaced on a rerun by the
    note of that run)."""
    return text.startswith("graded ") and ("; also found " in text or text.endswith(", from inside the zip"))


def pick(files: list[Entry], names: tuple[str, ...], *, choice: Choice = Choice()) -> tuple[Entry, str] | None:
    """The file to grade among one student's files (see choose; from inside their zip when nothing beside
    it is gradable) and a note for the student; None when nothing is gradable."""
    gradable, zipped = gradable_files(files)
    if not gradable:
        return None
    chosen, note = choose(gradable, names, choice=choice)
    if zipped and not note:
        note = f"graded {chosen.shown}, from inside the zip"
    return chosen, note
