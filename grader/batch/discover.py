"""Find a class's submissions in the layouts instructors have: a flat folder, a folder per student, nbgrader, a zip.

Layouts, found in a folder or in a .zip of one (a zip whose entries all sit in one top folder is unwrapped):

- flat: every file directly in the folder is a submission; the student id is the file stem (the file name
  when two files share a stem, e.g. `alice.py` and `alice.ipynb`);
- one folder per student: every subfolder is a student (its name is the id) and the submission is the
  file in it, searched recursively, that defines the assignment's function;
- nbgrader: `submitted/<student>/<assignment>/*.ipynb`, a folder per student under `submitted/`;
- section or group folders: `sec1/alice.py`, `sec1/bob/gc.ipynb`, `sec2/...`: a folder holding several
  students' work is a group, not a student (see _groups); each student in it is graded as in a flat folder
  or a folder per student (a file's versions, `alice_v1.py` and `alice_v2.py`, are one student's), and keeps
  the group's name. A layout that could be read either way is graded one way and said in Survey.ambiguous.

Of a student's several files, grader.picking's rule picks one (the newest by default), unless the
instructor picked one for them or the last run picked one among the very same files.

With an id pattern (grader.student_ids, `--id-pattern`), a top-level name the pattern finds a student id
in (an LMS's `doejane_1234_56789_gc.ipynb`) is moved into a folder of that id first: all of one student's
files are then one student folder, graded as above.

Only files gradgrade grades count as submissions: .py and .ipynb in any case, and those a download renamed
(`hw.ipynb.txt`, `hw.py.json`; see load.source_kind). Hidden files and folders, `__MACOSX`, `__pycache__`
and `.ipynb_checkpoints` are skipped, and so are subfolders named after a built-in assignment (`l_layer/`,
`one_d/`, `three_layer/`): they hold that assignment's submissions, and `--assignment l_layer` grades
the `l_layer/` folder when there is one (so `gradgrade grade submissions --assignment l_layer` grades
submissions/l_layer/).

No student goes missing without a word:
- a file gradgrade will not read still counts, so its student gets an error row saying why: a symbolic link
  out of the class folder (or any link in a zip), a named pipe or a device;
- in a class of student folders, a folder with no gradable file but a zip is graded from inside the zip
  (a zip on disk: one inside the class zip stays shut), and one with nothing gradable at all (a PDF, a
  broken zip) is an error row that names its files, and one with nothing in it (an nbgrader folder with no
  notebook) an error row saying it is empty;
- any other file that is not a submission (`README.md`, `alice.zip` beside the others) is listed in the
  survey as not graded, for the instructor to see;
- a zip that holds one name twice (appended to by `zip -g` or an LMS) grades the last, and its student's
  page says so.
"""
from __future__ import annotations

import calendar
import os
import stat
import unicodedata
import zipfile
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Iterable, Iterator, Mapping

from grader import assignments
from grader.grading import picking
from grader.load import files as reading
from grader.load import program as load
from grader.load.files import UnreadableSubmission
from grader.batch.student_ids import IdPattern
SKIPPED_NAMES = frozenset({"__MACOSX", "__pycache__", ".ipynb_checkpoints", "node_modules"})
NBGRADER_ROOT = "submitted"
MAX_ZIP_BYTES = 2 * 1024 ** 3
MAX_ZIP_ENTRIES = 200_000
EMPTY = "is empty: nothing was submitted"  # a student folder with nothing in it


class DiscoverError(Exception):
    """The class folder itself cannot be read (missing, not a folder or zip, a corrupt zip)."""




@dataclass(frozen=True)
class Submission:
    """One student's submission: the id, the file name the loader sees, and where its bytes are."""

    student: str
    filename: str
    path: Path
    member: str | None = None
    note: str = ""
    refused: str = ""  # why its bytes are never read (a symbolic link out of the class): an error row
    group: str = ""  # the section or group folder the student's work sat in ("" when none)
    graded_path: str = ""  # the file graded, as it is in the class ("alice/gc_v2.ipynb")
    not_graded: tuple[str, ...] = ()  # the student's other files, not graded
    candidates: tuple[str, ...] = ()  # the files the grader chose among (kept with the pick in the gradebook)

    @property
    def origin(self) -> str:
        return f"{self.path}!{self.member}" if self.member else str(self.path)

    def read(self) -> bytes:
        """The submission's bytes; UnreadableSubmission with a one-line reason when they cannot be had."""
        if self.refused:
            raise UnreadableSubmission(self.refused)
        if self.member is None:
            return reading.read_path(self.path, self.filename)
        return reading.read_member(self.path, self.member, self.filename)




@dataclass(frozen=True)
class _Entry:
    """A candidate file: its path inside the class folder or zip, and where to read it."""

    parts: tuple[str, ...]
    path: Path
    member: str | None = None
    refused: str = ""
    note: str = ""  # what the student's page says about the file itself (a zip holding its name twice)
    grouped: bool = False  # placed in a folder of its student's id by regroup: the first part is no folder
    stray: bool = False  # beside the folder that wraps a class zip: no submission's, listed as not graded
    mtime: float = 0.0  # last modified (a zip entry's date), by which the newest of a student's files is picked
    base: tuple[str, ...] = ()  # the group folder it sits in, when its path is taken from inside that folder

    @property
    def gradable(self) -> bool:
        return load.source_kind(self.parts[-1]) is not None

    @property
    def shown(self) -> str:
        """The path as it is in the class (without the folder regroup placed it in)."""
        return "/".join(self.base + (self.parts[1:] if self.grouped else self.parts))

    def inside(self) -> "_Entry":
        """The same file, its path taken from one folder further in."""
        return replace(self, parts=self.parts[1:])

    def within(self) -> "_Entry":
        """The same file, its path taken from inside its group folder, shown with the folder still."""
        return replace(self, parts=self.parts[1:], base=self.base + self.parts[:1])

    def submission(self, student: str, *, note: str = "", group: str = "", others: Iterable["_Entry"] = (),
                   candidates: tuple[str, ...] = ()) -> Submission:
        """This file as the submission of student (refused, and never read, when the entry is)."""
        notes = "; ".join(filter(None, (self.note, note)))
        not_graded = tuple(sorted(entry.shown for entry in others if entry.parts[-1]))
        return Submission(student, self.parts[-1], self.path, self.member, notes, self.refused, group, self.shown,
                          not_graded, candidates)


def skipped(name: str) -> bool:
    """Whether a file or folder name is never part of a submission (hidden, macOS metadata, caches)."""
    return name.startswith(".") or name in SKIPPED_NAMES


def printable(name: str) -> str:
    """A file or folder name as gradgrade shows and stores it: bytes that are not UTF-8 (an old zip tool's
    Latin-1, say) written as \\xNN escapes, so the name can be printed, kept in the gradebook and used for a
    page, and composed (NFC), so `José` written decomposed by macOS is the same student as `José` typed
    anywhere else; the file itself is still read by its real name."""
    return unicodedata.normalize("NFC", name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace"))


def folder_entries(root: Path, *, leave_out: Path | None = None) -> Iterator[_Entry]:
    """Every file under root, gradable or not, not following symlinks out of it, skipping hidden and cache
    folders and the folder leave_out (the reports, when they are written inside the class folder)."""
    root_real = root.resolve()
    left_out = leave_out.resolve() if leave_out is not None else None
    for folder, subfolders, files in os.walk(root, followlinks=False):
        base = Path(folder)
        subfolders[:] = sorted(name for name in subfolders if not skipped(name) and (
            left_out is None or name != left_out.name or (base / name).resolve() != left_out))
        if base != root and not subfolders and all(skipped(name) for name in files):
            yield _empty_folder(tuple(printable(part) for part in base.relative_to(root).parts), base)
        for name in sorted(files):
            path = base / name
            if skipped(name):
                continue
            # A symlink may point anywhere: one out of the class folder is listed (its student gets an error
            # row) and never read.
            refused = (f"{printable(name)} is a symbolic link to a file outside the class folder; gradgrade does "
                       "not follow it" if path.is_symlink() and not path.resolve().is_relative_to(root_real) else "")
            try:
                mtime = path.lstat().st_mtime
            except OSError:
                mtime = 0.0
            yield _Entry(tuple(printable(part) for part in path.relative_to(root).parts), path, refused=refused,
                         mtime=mtime)


def safe_member_parts(name: str) -> tuple[str, ...] | None:
    """A zip member's path as parts, or None when it could escape (absolute, `..`, drive letters)."""
    if "\x00" in name or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return None
    parts = tuple(part for part in PurePosixPath(name.replace("\\", "/")).parts if part not in ("", "."))
    if not parts or any(part == ".." for part in parts):
        return None
    return parts


def _zip_entries(archive: Path) -> list[_Entry]:
    return _unwrap(_zip_members(archive))


def _zip_members(archive: Path) -> list[_Entry]:
    """Every file in a zip, by path, without reading any; DiscoverError for a zip gradgrade will not open."""
    try:
        with reading.open_regular(archive) as raw, zipfile.ZipFile(raw) as zipped:
            infos = zipped.infolist()
    except (OSError, zipfile.BadZipFile, RuntimeError, EOFError) as error:
        raise DiscoverError(f"{archive.name} is not a readable zip file: {error}") from None
    if len(infos) > MAX_ZIP_ENTRIES:
        raise DiscoverError(f"{archive.name} has {len(infos)} entries; gradgrade reads at most {MAX_ZIP_ENTRIES}")
    if sum(info.file_size for info in infos) > MAX_ZIP_BYTES:
        raise DiscoverError(f"{archive.name} unpacks to more than {MAX_ZIP_BYTES // 1024 ** 3} GiB")
    entries, folders = [], []
    # An archive appended to (zip -g, an LMS adding a resubmission) may hold a name twice; reading by name
    # gives the last, so that one is the file, and the student is told.
    copies = Counter(info.filename for info in infos)
    infos = list({info.filename: info for info in infos}.values())
    for info in infos:
        parts = safe_member_parts(info.filename)
        if parts is None:
            continue
        parts = tuple(printable(part) for part in parts)
        kept = next((parts[:depth] for depth, part in enumerate(parts) if skipped(part)), None)
        if kept is not None or info.is_dir():  # a folder, or a hidden file whose folder is one
            if kept != ():
                folders.append(parts if kept is None else kept)
            continue
        refused = (f"{parts[-1]} is a symbolic link in the zip; gradgrade does not follow it"
                   if stat.S_ISLNK(info.external_attr >> 16) else "")
        note = (f"the zip holds {copies[info.filename]} files named {'/'.join(parts)}; graded the last of them"
                if copies[info.filename] > 1 else "")
        entries.append(_Entry(parts, archive, info.filename, refused, note, mtime=_zip_time(info)))
    # A folder with nothing under it: in a class of student folders, a student who submitted nothing.
    holding = {entry.parts[:depth] for entry in entries for depth in range(1, len(entry.parts))}
    holding |= {parts[:depth] for parts in folders for depth in range(1, len(parts))}
    entries += [_empty_folder(parts, archive) for parts in dict.fromkeys(folders) if parts not in holding]
    entries.sort(key=lambda entry: entry.parts)
    return entries



def _zip_time(info: zipfile.ZipInfo) -> float:
    """A zip entry's date as seconds (read as UTC: only compared with the zip's other dates)."""
    try:
        return float(calendar.timegm((*info.date_time, 0, 0, 0)))
    except (ValueError, OverflowError, TypeError):
        return 0.0


def _empty_folder(parts: tuple[str, ...], path: Path) -> _Entry:
    """An empty folder as an entry: its path with an empty name last, never read."""
    return _Entry(parts + ("",), path, refused=f"{'/'.join(parts)}/ {EMPTY}")


def _gradable_files(files: list[_Entry]) -> tuple[list[_Entry], bool]:
    """A student's gradable files, and whether they come from inside a zip: when none of the files is
    gradable, the gradable files in the zips among them (zips on disk only: one inside a zip stays shut)."""
    gradable = [entry for entry in files if entry.gradable]
    if gradable:
        return gradable, False
    inside = [member for entry in files if _own_zip(entry) for member in _opened(entry)]
    return inside, bool(inside)


def _own_zip(entry: _Entry) -> bool:
    return entry.member is None and not entry.refused and entry.parts[-1].lower().endswith(".zip")


def _opened(entry: _Entry) -> list[_Entry]:
    """The gradable files in a student's zip, as if the zip were a folder beside its other files."""
    try:
        members = _zip_members(entry.path)
    except DiscoverError:
        return []
    return [_Entry(entry.parts + member.parts, entry.path, member.member, member.refused, grouped=entry.grouped,
                   mtime=member.mtime, base=entry.base) for member in members if member.gradable]


def _unwrap(entries: list[_Entry]) -> list[_Entry]:
    """Drop a single top folder that wraps a whole zip (`class.zip` holding `class/...`) when it holds the
    submissions: files beside it are no submission's (a stray README: kept, as strays, to be listed as not
    graded), folders beside it are students'."""
    # A zip of one student's folder looks the same; a class zip is the common case, so it wins.
    while True:
        tops = {entry.parts[0] for entry in entries if len(entry.parts) > 1 and not entry.stray}
        if (len(tops) != 1 or NBGRADER_ROOT in tops or not any(entry.gradable for entry in entries)
                or any(entry.gradable for entry in entries if len(entry.parts) == 1)):
            return entries
        strays = [replace(entry, stray=True) for entry in entries if len(entry.parts) == 1]
        entries = strays + _into(entries, tops.pop())


def _into(entries: list[_Entry], folder: str) -> list[_Entry]:
    """The entries under folder, their paths taken from inside it."""
    return [entry.inside() for entry in entries if entry.parts[0] == folder and len(entry.parts) > 1]


def _mentions(entry: _Entry, names: Iterable[str]) -> bool:
    try:
        data = entry.submission("").read()
    except UnreadableSubmission:
        return False
    return any(f"def {name}".encode() in data for name in names)


def _recency(entry: _Entry) -> tuple:
    """How recent a file is, for picking the newest: the attempt date in its name (else its time), then its
    version number, then not being a copy, then being a notebook."""
    stem = load.source_stem(entry.parts[-1])
    when = picking.attempt_time(entry.parts[-1])
    return (entry.mtime if when is None else when, picking.version_number(stem), not picking.is_copy(stem),
            load.source_kind(entry.parts[-1]) == ".ipynb")


def _named(entry: _Entry, wanted: str) -> bool:
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


def choose(entries: list[_Entry], names: tuple[str, ...], *, choice: Choice = Choice()) -> tuple[_Entry, str]:
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
    pool = [entry for entry in readable if _mentions(entry, names)] or readable
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


def pick(files: list[_Entry], names: tuple[str, ...], *, choice: Choice = Choice()) -> tuple[_Entry, str] | None:
    """The file to grade among one student's files (see choose; from inside their zip when nothing beside
    it is gradable) and a note for the student; None when nothing is gradable."""
    gradable, zipped = _gradable_files(files)
    if not gradable:
        return None
    chosen, note = choose(gradable, names, choice=choice)
    if zipped and not note:
        note = f"graded {chosen.shown}, from inside the zip"
    return chosen, note


def function_names(assignment: str | None) -> tuple[str, ...]:
    """The student functions of an assignment (backward, checker, forward), by which a student's file is chosen."""
    if assignment is None:
        return ()
    try:
        found = assignments.get(assignment)
    except assignments.UnknownAssignment:
        return ()
    return found.student_functions


@dataclass(frozen=True)
class Survey:
    """What a class folder holds: the submissions, the paths of files that are neither one nor part of one,
    and what in its layout could be read two ways (said on the class page, never silently resolved)."""

    submissions: tuple[Submission, ...]
    not_graded: tuple[str, ...] = ()
    ambiguous: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Context:
    names: tuple[str, ...]
    pick: picking.Pick = picking.DEFAULT
    remembered: Mapping[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)

    def choice(self, student: str, group: str) -> Choice:
        remembered = self.remembered.get(student) or (self.remembered.get(f"{group}/{student}") if group else None)
        return Choice(student, group, self.pick, remembered)


def survey_entries(entries: list[_Entry], *, assignment: str | None = None, id_pattern: IdPattern | None = None,
                   pick: picking.Pick = picking.DEFAULT,
                   remembered: Mapping[str, tuple[str, tuple[str, ...]]] | None = None) -> Survey:
    """Group files into submissions by the layout rules of this module's docstring."""
    context = _Context(function_names(assignment), pick, remembered or {})
    other_assignments = set(assignments.BUILT_IN)
    strays = [entry.shown for entry in entries if entry.stray]
    entries = [entry for entry in entries if not entry.stray]
    if assignment and any(entry.parts[0] == assignment and len(entry.parts) > 1 and entry.gradable
                          for entry in entries):
        entries = _into(entries, assignment)
    if any(entry.parts[0] == NBGRADER_ROOT and len(entry.parts) > 2 for entry in entries):
        # Every student folder under submitted/, gradable files or not; the rest of nbgrader's tree is its own.
        entries = [entry for entry in _into(entries, NBGRADER_ROOT) if len(entry.parts) > 1]
    if id_pattern is not None:
        entries = regroup(entries, id_pattern, keep=other_assignments)
    entries = [entry for entry in entries if len(entry.parts) == 1 or entry.parts[0] not in other_assignments]
    groups, ambiguous = _groups(entries, context.names, id_pattern)
    rows, not_graded = _students([entry for entry in entries if entry.parts[0] not in groups or len(entry.parts) == 1],
                                 context)
    for group in groups:
        inside = _as_student_folders([entry.within() for entry in entries
                                      if entry.parts[0] == group and len(entry.parts) > 1], context.names)
        group_rows, group_not_graded = _students(inside, context, group=group)
        rows += group_rows
        not_graded += group_not_graded
    found = _unique(rows)
    ambiguous += [f"a pick names {student}, who is no student of this class" for student in sorted(pick.files)
                  if not any(student in (key, f"{s.group}/{s.student}") for key, s in found.items())]
    return Survey(tuple(found[key] for key in sorted(found)), tuple(sorted(strays + not_graded)), tuple(ambiguous))


def _students(entries: list[_Entry], context: _Context, *, group: str = "") -> tuple[list[Submission], list[str]]:
    """The submissions of one level of the class (the class folder, or a group folder in it): its flat files
    and its student folders; and the paths of its files that are no submission."""
    flat = [entry for entry in entries if len(entry.parts) == 1]
    folders: dict[str, list[_Entry]] = {}
    for entry in entries:
        if len(entry.parts) > 1:
            folders.setdefault(entry.parts[0], []).append(entry)
    picks = {student: pick(files, context.names, choice=context.choice(student, group))
             for student, files in folders.items()}
    student_folders = any(picks.values())
    not_graded = [entry.shown for entry in flat if not entry.gradable]
    flat = [entry for entry in flat if entry.gradable]
    stems = Counter(load.source_stem(entry.parts[0]) for entry in flat)
    found: dict[str, Submission] = {}
    for entry in flat:
        stem = load.source_stem(entry.parts[0])
        student = stem if stems[stem] == 1 and stem not in folders else entry.parts[0]
        found[student] = entry.submission(student, group=group)
    for student, files in folders.items():
        key = student if student not in found else f"{student}/"
        if picks[student]:
            chosen, note = picks[student]
            gradable = _gradable_files(files)[0]
            found[key] = chosen.submission(key, note=note, group=group,
                                           others=[entry for entry in files if entry is not chosen],
                                           candidates=tuple(sorted(entry.shown for entry in gradable)))
        elif student_folders:
            found[key] = replace(_nothing_gradable(key, student, files), group=group)
        else:
            not_graded += [entry.shown for entry in files]
    return list(found.values()), not_graded


def _unique(rows: list[Submission]) -> dict[str, Submission]:
    """The submissions by id: an id that two groups (or a group and the class folder) share is written
    group/id in each group, so no two students are ever one row."""
    counts = Counter(row.student for row in rows)
    found: dict[str, Submission] = {}
    for row in rows:
        key = f"{row.group}/{row.student}" if counts[row.student] > 1 and row.group else row.student
        while key in found:  # a group/id that is also some other student's id
            key += "/"
        found[key] = replace(row, student=key)
    return found


def _unit(entry: _Entry, names: tuple[str, ...]) -> str | None:
    """The student an entry of a folder stands for if the folder were a group folder (a file's name, or a
    subfolder's, with version endings dropped), or None when it is not a student's work (a helper file that
    defines none of the assignment's functions, a note, an empty folder)."""
    if not entry.gradable or entry.refused or (names and not _mentions(entry, names)):
        return None
    inner = entry.parts[1:]
    if len(inner) == 1:
        return picking.base_name(load.source_stem(inner[0])).lower()
    # "_" first, so a folder named only a version ("v2", "old") is a version of its student's work.
    return picking.base_name("_" + inner[0]).lower()


def _groups(entries: list[_Entry], names: tuple[str, ...], id_pattern: IdPattern | None) -> tuple[set[str], list[str]]:
    """The top folders that are group folders (a section holding several students' work), and what about
    them is ambiguous.

    A folder stands for several students when it holds the work of several (files of distinct names that are
    not versions of one name, or subfolders that each hold work). The class's folders are groups when at
    least half of those holding work hold several students', there are two such folders (or no other
    folder), and no student name recurs across them (file names recur across students' folders, student ids
    do not).
    """
    units: dict[str, dict[str, list[str]]] = {}
    gradable = Counter(entry.parts[0] for entry in entries if len(entry.parts) > 1 and entry.gradable)
    for entry in entries:
        if len(entry.parts) < 2 or entry.grouped or (id_pattern is not None and id_pattern.student(entry.parts[0])):
            continue
        # A folder's only file is its only student's work, whatever it defines: no need to read it.
        unit = _unit(entry, names if gradable[entry.parts[0]] > 1 else ())
        if unit is not None:
            units.setdefault(entry.parts[0], {}).setdefault(unit, []).append("/".join(entry.parts[1:]))
    for held in units.values():
        if len(held) > 1:
            held.pop("", None)  # a folder named only as a version: one of the others' versions
    several = [folder for folder, held in units.items() if len(held) > 1]
    recurring = any(count > 1 for count in Counter(unit for held in units.values() for unit in held).values())
    listed = {folder: ", ".join(sorted(path for paths in units[folder].values() for path in paths)) for folder in units}
    # One folder of several files among students' folders is a student with several files; a section is
    # rarely alone, unless it is the class's only folder.
    if several and (len(several) > 1 or len(units) == 1) and 2 * len(several) >= len(units) and not recurring:
        lone = [f"{folder}/ holds one student's work ({listed[folder]}) among folders of several students': "
                f"graded as group {folder}" for folder in sorted(units) if folder not in several]
        return set(units), lone
    return set(), [f"{folder}/ holds {listed[folder]}, which could be several students' work: graded as one "
                   f"student, {folder}" for folder in sorted(several)]


def _as_student_folders(entries: list[_Entry], names: tuple[str, ...]) -> list[_Entry]:
    """A group folder's entries with each student's files in a folder of the student's name: a file directly in
    it (`alice_v2.py`) goes in the folder of its name without version endings (`alice`), with the student's
    own subfolder (`alice/`) when there is one."""
    spelled: dict[str, str] = {}
    for entry in entries:
        if len(entry.parts) > 1:
            spelled.setdefault(entry.parts[0].lower(), entry.parts[0])
    placed = []
    for entry in entries:
        if len(entry.parts) == 1 and entry.gradable:
            student = picking.base_name(load.source_stem(entry.parts[0])) or load.source_stem(entry.parts[0])
            student = spelled.setdefault(student.lower(), student)
            entry = replace(entry, parts=(student, *entry.parts), grouped=True)
        placed.append(entry)
    return placed


def regroup(entries: list[_Entry], pattern: IdPattern, *, keep: set[str]) -> list[_Entry]:
    """The entries with each top-level name in which pattern finds a student id moved into a folder of
    that id (a flat file, or a student's folder with its path kept under it), so all of one student's
    files, however many the LMS made, are one student's files to choose from. The folders in keep stay
    as they are; a name with no id in it (or an id that is one of keep, never a student's) stays where it
    is, and its files say so."""
    regrouped = []
    for entry in entries:
        top = entry.parts[0]
        student = None if top in keep else pattern.student(top)
        if student is None or student in keep:
            if top not in keep:
                entry = replace(entry, note="; ".join(filter(None, (
                    entry.note, f"{top} does not match the id pattern {pattern.name}: graded under its own name"))))
        elif len(entry.parts) == 1 or student != top:
            entry = replace(entry, parts=(student, *entry.parts), grouped=True)
        regrouped.append(entry)
    return regrouped


def _nothing_gradable(key: str, folder: str, files: list[_Entry]) -> Submission:
    """The error row of a student folder that holds no gradable file: files of other kinds, or nothing at all."""
    reason = nothing_gradable(f"{folder}/", ["/".join(entry.parts[1:]) for entry in files])
    named = next((entry for entry in files if entry.parts[-1]), files[0])
    return Submission(key, named.parts[-1] or f"{folder}/", named.path, named.member, refused=reason)


def nothing_gradable(where: str, held: list[str]) -> str:
    """Why a folder that holds these paths has no submission: none of them is .py or .ipynb, nor holds one,
    or it holds nothing but empty folders (paths ending in /, as entries name them)."""
    held = sorted(path for path in held if path and not path.endswith("/"))
    if not held:
        return f"{where} {EMPTY}"
    shown = ", ".join(held[:5]) + (f" and {len(held) - 5} more" if len(held) > 5 else "")
    return f"no .py or .ipynb file in {where} (it holds {shown})"


def survey(path: Path, *, assignment: str | None = None, leave_out: Path | None = None,
           id_pattern: IdPattern | None = None, pick: picking.Pick = picking.DEFAULT,
           remembered: Mapping[str, tuple[str, tuple[str, ...]]] | None = None) -> Survey:
    """A class folder's or .zip's submissions, sorted by student id, and its files that are not graded;
    DiscoverError if path is unusable. A folder leave_out inside the class folder is not looked into; an
    id_pattern reads the student ids out of the names an LMS gave (grader.student_ids); pick chooses among a
    student's several files (grader.picking), remembered holds the last run's picks (student -> (path
    graded, files chosen among)), kept while a student's files are the same."""
    path = Path(path)
    if path.is_dir():
        entries = list(folder_entries(path, leave_out=leave_out))
    elif path.is_file() and path.suffix.lower() == ".zip":
        entries = _zip_entries(path)
    elif path.exists():  # a plain file, or a named pipe or device, whatever its name
        raise DiscoverError(f"{path}: expected a folder of submissions or a .zip of one")
    else:
        raise DiscoverError(f"{path}: no such folder")
    return survey_entries(entries, assignment=assignment, id_pattern=id_pattern, pick=pick, remembered=remembered)


def discover(path: Path, *, assignment: str | None = None) -> list[Submission]:
    """Every submission in a class folder or .zip, sorted by student id; DiscoverError if path is unusable."""
    return list(survey(path, assignment=assignment).submissions)
