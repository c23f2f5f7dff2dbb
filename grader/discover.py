"""Find a class's submissions in the layouts instructors have: a flat folder, a folder per student, nbgrader, a zip.

Layouts, found in a folder or in a .zip of one (a zip whose entries all sit in one top folder is unwrapped):

- flat: every file directly in the folder is a submission; the student id is the file stem (the file name
  when two files share a stem, e.g. `alice.py` and `alice.ipynb`);
- one folder per student: every subfolder is a student (its name is the id) and the submission is the
  file in it, searched recursively, that defines the assignment's function;
- nbgrader: `submitted/<student>/<assignment>/*.ipynb`, a folder per student under `submitted/`.

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

import os
import stat
import unicodedata
import zipfile
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Iterable, Iterator

from grader import assignments, load
from grader.student_ids import IdPattern
SKIPPED_NAMES = frozenset({"__MACOSX", "__pycache__", ".ipynb_checkpoints", "node_modules"})
NBGRADER_ROOT = "submitted"
MAX_FILE_BYTES = 32 * 1024 ** 2
MAX_ZIP_BYTES = 2 * 1024 ** 3
MAX_ZIP_ENTRIES = 200_000
EMPTY = "is empty: nothing was submitted"  # a student folder with nothing in it


class DiscoverError(Exception):
    """The class folder itself cannot be read (missing, not a folder or zip, a corrupt zip)."""


class UnreadableSubmission(Exception):
    """One submission's bytes cannot be read; the batch gives it an error row and goes on."""


@dataclass(frozen=True)
class Submission:
    """One student's submission: the id, the file name the loader sees, and where its bytes are."""

    student: str
    filename: str
    path: Path
    member: str | None = None
    note: str = ""
    refused: str = ""  # why its bytes are never read (a symbolic link out of the class): an error row

    @property
    def origin(self) -> str:
        return f"{self.path}!{self.member}" if self.member else str(self.path)

    def read(self) -> bytes:
        """The submission's bytes; UnreadableSubmission with a one-line reason when they cannot be had."""
        if self.refused:
            raise UnreadableSubmission(self.refused)
        if self.member is None:
            return _read_file(self.path, self.filename)
        return _read_member(self.path, self.member, self.filename)


class _NotRegular(OSError):
    """A path that is a named pipe, a device or a socket: never read, never waited on."""


def _open_regular(path: Path) -> BinaryIO:
    """path opened for reading; _NotRegular, at once, when it is not a regular file."""
    # Non-blocking, so a named pipe does not wait for a writer: it is refused below like any non-file.
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    handle = open(descriptor, "rb")
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        handle.close()
        raise _NotRegular(f"{path.name} is not a regular file (a pipe, a device or a socket)")
    return handle


def _read_file(path: Path, filename: str) -> bytes:
    try:
        with _open_regular(path) as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except _NotRegular:
        raise UnreadableSubmission(f"{filename} is not a regular file (a pipe, a device or a socket)") from None
    except OSError as error:
        raise UnreadableSubmission(f"cannot read {filename}: {error.strerror or error}") from None
    return _capped(data, filename)


def _read_member(archive: Path, member: str, filename: str) -> bytes:
    try:
        with _open_regular(archive) as raw, zipfile.ZipFile(raw) as zipped, zipped.open(member) as handle:
            # Read at most the cap: the size in the zip's header is whatever the zip's author wrote.
            data = handle.read(MAX_FILE_BYTES + 1)
    except (OSError, zipfile.BadZipFile, KeyError, RuntimeError, NotImplementedError, EOFError) as error:
        raise UnreadableSubmission(f"cannot read {filename} from {archive.name}: {error}") from None
    return _capped(data, filename)


def _capped(data: bytes, filename: str) -> bytes:
    """data, read with one byte past the cap, unless it went past it."""
    if len(data) > MAX_FILE_BYTES:
        raise UnreadableSubmission(f"{filename} is larger than {MAX_FILE_BYTES // 1024 ** 2} MiB")
    return data


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

    @property
    def gradable(self) -> bool:
        return load.source_kind(self.parts[-1]) is not None

    @property
    def shown(self) -> str:
        """The path as it is in the class (without the folder regroup placed it in)."""
        return "/".join(self.parts[1:] if self.grouped else self.parts)

    def inside(self) -> "_Entry":
        """The same file, its path taken from one folder further in."""
        return replace(self, parts=self.parts[1:])

    def submission(self, student: str, *, note: str = "") -> Submission:
        """This file as the submission of student (refused, and never read, when the entry is)."""
        notes = "; ".join(filter(None, (self.note, note)))
        return Submission(student, self.parts[-1], self.path, self.member, notes, self.refused)


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
            yield _Entry(tuple(printable(part) for part in path.relative_to(root).parts), path, refused=refused)


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
        with _open_regular(archive) as raw, zipfile.ZipFile(raw) as zipped:
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
        entries.append(_Entry(parts, archive, info.filename, refused, note))
    # A folder with nothing under it: in a class of student folders, a student who submitted nothing.
    holding = {entry.parts[:depth] for entry in entries for depth in range(1, len(entry.parts))}
    holding |= {parts[:depth] for parts in folders for depth in range(1, len(parts))}
    entries += [_empty_folder(parts, archive) for parts in dict.fromkeys(folders) if parts not in holding]
    entries.sort(key=lambda entry: entry.parts)
    return entries



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
    return [_Entry(entry.parts + member.parts, entry.path, member.member, member.refused, grouped=entry.grouped)
            for member in members if member.gradable]


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


def choose(entries: list[_Entry], names: tuple[str, ...]) -> tuple[_Entry, str]:
    """The file of a student's folder to grade, and a note when there was a choice to make.

    The first file that defines one of the assignment's functions wins, notebooks before .py files,
    then by path; with none, the first file in that order (it will be graded as missing the function).
    """
    ordered = sorted(entries, key=lambda entry: (load.source_kind(entry.parts[-1]) != ".ipynb", entry.parts))
    if len(ordered) == 1:
        return ordered[0], ""
    chosen = next((entry for entry in ordered if _mentions(entry, names)), ordered[0])
    others = ", ".join(entry.shown for entry in ordered if entry is not chosen)
    return chosen, f"graded {chosen.shown}; also found {others}"


def pick(files: list[_Entry], names: tuple[str, ...]) -> tuple[_Entry, str] | None:
    """The file to grade among one student's files (see choose; from inside their zip when nothing beside
    it is gradable) and a note for the student; None when nothing is gradable."""
    gradable, zipped = _gradable_files(files)
    if not gradable:
        return None
    chosen, note = choose(gradable, names)
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
    """What a class folder holds: the submissions, and the paths of files that are neither one nor part of one."""

    submissions: tuple[Submission, ...]
    not_graded: tuple[str, ...] = ()


def survey_entries(entries: list[_Entry], *, assignment: str | None = None,
                   id_pattern: IdPattern | None = None) -> Survey:
    """Group files into submissions by the layout rules of this module's docstring."""
    names = function_names(assignment)
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
    flat = [entry for entry in entries if len(entry.parts) == 1]
    folders: dict[str, list[_Entry]] = {}
    for entry in entries:
        if len(entry.parts) > 1 and entry.parts[0] not in other_assignments:
            folders.setdefault(entry.parts[0], []).append(entry)
    picks = {student: pick(files, names) for student, files in folders.items()}
    student_folders = any(picks.values())
    not_graded = strays + [entry.shown for entry in flat if not entry.gradable]
    flat = [entry for entry in flat if entry.gradable]
    stems = Counter(load.source_stem(entry.parts[0]) for entry in flat)
    found: dict[str, Submission] = {}
    for entry in flat:
        stem = load.source_stem(entry.parts[0])
        student = stem if stems[stem] == 1 and stem not in folders else entry.parts[0]
        found[student] = entry.submission(student)
    for student, files in folders.items():
        key = student if student not in found else f"{student}/"
        if picks[student]:
            chosen, note = picks[student]
            found[key] = chosen.submission(key, note=note)
        elif student_folders:
            found[key] = _nothing_gradable(key, student, files)
        else:
            not_graded += [entry.shown for entry in files]
    return Survey(tuple(found[key] for key in sorted(found)), tuple(sorted(not_graded)))


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
           id_pattern: IdPattern | None = None) -> Survey:
    """A class folder's or .zip's submissions, sorted by student id, and its files that are not graded;
    DiscoverError if path is unusable. A folder leave_out inside the class folder is not looked into; an
    id_pattern reads the student ids out of the names an LMS gave (grader.student_ids)."""
    path = Path(path)
    if path.is_dir():
        entries = list(folder_entries(path, leave_out=leave_out))
    elif path.is_file() and path.suffix.lower() == ".zip":
        entries = _zip_entries(path)
    elif path.exists():  # a plain file, or a named pipe or device, whatever its name
        raise DiscoverError(f"{path}: expected a folder of submissions or a .zip of one")
    else:
        raise DiscoverError(f"{path}: no such folder")
    return survey_entries(entries, assignment=assignment, id_pattern=id_pattern)


def discover(path: Path, *, assignment: str | None = None) -> list[Submission]:
    """Every submission in a class folder or .zip, sorted by student id; DiscoverError if path is unusable."""
    return list(survey(path, assignment=assignment).submissions)
