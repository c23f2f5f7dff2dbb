"""The files of a class folder or .zip as entries, without reading any: walking folders, listing zips safely."""
from __future__ import annotations

import calendar
import os
import stat
import unicodedata
import zipfile
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Iterable, Iterator

from grader.load import files as reading
from grader.load import kinds
from grader.load.files import UnreadableSubmission
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
class Entry:
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
        return kinds.source_kind(self.parts[-1]) is not None

    @property
    def shown(self) -> str:
        """The path as it is in the class (without the folder regroup placed it in)."""
        return "/".join(self.base + (self.parts[1:] if self.grouped else self.parts))

    def inside(self) -> "Entry":
        """The same file, its path taken from one folder further in."""
        return replace(self, parts=self.parts[1:])

    def within(self) -> "Entry":
        """The same file, its path taken from inside its group folder, shown with the folder still."""
        return replace(self, parts=self.parts[1:], base=self.base + self.parts[:1])

    def submission(self, student: str, *, note: str = "", group: str = "", others: Iterable["Entry"] = (),
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


def folder_entries(root: Path, *, leave_out: Path | None = None) -> Iterator[Entry]:
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
            yield Entry(tuple(printable(part) for part in path.relative_to(root).parts), path, refused=refused,
                         mtime=mtime)


def safe_member_parts(name: str) -> tuple[str, ...] | None:
    """A zip member's path as parts, or None when it could escape (absolute, `..`, drive letters)."""
    if "\x00" in name or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return None
    parts = tuple(part for part in PurePosixPath(name.replace("\\", "/")).parts if part not in ("", "."))
    if not parts or any(part == ".." for part in parts):
        return None
    return parts


def zip_entries(archive: Path) -> list[Entry]:
    return _unwrap(zip_members(archive))


def zip_members(archive: Path) -> list[Entry]:
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
        entries.append(Entry(parts, archive, info.filename, refused, note, mtime=_zip_time(info)))
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


def _empty_folder(parts: tuple[str, ...], path: Path) -> Entry:
    """An empty folder as an entry: its path with an empty name last, never read."""
    return Entry(parts + ("",), path, refused=f"{'/'.join(parts)}/ {EMPTY}")


def _unwrap(entries: list[Entry]) -> list[Entry]:
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
        entries = strays + into(entries, tops.pop())


def into(entries: list[Entry], folder: str) -> list[Entry]:
    """The entries under folder, their paths taken from inside it."""
    return [entry.inside() for entry in entries if entry.parts[0] == folder and len(entry.parts) > 1]
