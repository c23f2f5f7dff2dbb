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
(`hw.ipynb.txt`, `hw.py.json`; see kinds.source_kind). Hidden files and folders, `__MACOSX`, `__pycache__`
and `.ipynb_checkpoints` are skipped, and so are subfolders named after a built-in assignment: they hold
that assignment's submissions, and `--assignment NAME` grades the `NAME/` folder when there is one (so
`gradgrade grade submissions --assignment NAME` grades submissions/NAME/).

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

from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

from grader import assignments
from grader.assignments import Assignment
from grader.batch.choosing import Choice, gradable_files, mentions, pick
from grader.batch.entries import (EMPTY, NBGRADER_ROOT, DiscoverError, Entry, Submission, folder_entries, into,
                                  zip_entries)
from grader.batch.student_ids import IdPattern
from grader.grading import picking
from grader.load import kinds


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


def survey_entries(entries: list[Entry], *, assignment: Assignment | None = None,
                   id_pattern: IdPattern | None = None, pick: picking.Pick = picking.DEFAULT,
                   remembered: Mapping[str, tuple[str, tuple[str, ...]]] | None = None) -> Survey:
    """Group files into submissions by the layout rules of this module's docstring.

    assignment: the one graded; its student functions choose a student's file, its name its folder.
    """
    context = _Context(assignment.student_functions if assignment else (), pick, remembered or {})
    assignment_folder = assignment.name if assignment else None
    other_assignments = set(assignments.BUILT_IN + assignments.BUILT_IN_SPECS)
    strays = [entry.shown for entry in entries if entry.stray]
    entries = [entry for entry in entries if not entry.stray]
    if assignment_folder and any(entry.parts[0] == assignment_folder and len(entry.parts) > 1 and entry.gradable
                                 for entry in entries):
        entries = into(entries, assignment_folder)
    if any(entry.parts[0] == NBGRADER_ROOT and len(entry.parts) > 2 for entry in entries):
        # Every student folder under submitted/, gradable files or not; the rest of nbgrader's tree is its own.
        entries = [entry for entry in into(entries, NBGRADER_ROOT) if len(entry.parts) > 1]
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


def _students(entries: list[Entry], context: _Context, *, group: str = "") -> tuple[list[Submission], list[str]]:
    """The submissions of one level of the class (the class folder, or a group folder in it): its flat files
    and its student folders; and the paths of its files that are no submission."""
    flat = [entry for entry in entries if len(entry.parts) == 1]
    folders: dict[str, list[Entry]] = {}
    for entry in entries:
        if len(entry.parts) > 1:
            folders.setdefault(entry.parts[0], []).append(entry)
    picks = {student: pick(files, context.names, choice=context.choice(student, group))
             for student, files in folders.items()}
    student_folders = any(picks.values())
    not_graded = [entry.shown for entry in flat if not entry.gradable]
    flat = [entry for entry in flat if entry.gradable]
    stems = Counter(kinds.source_stem(entry.parts[0]) for entry in flat)
    found: dict[str, Submission] = {}
    for entry in flat:
        stem = kinds.source_stem(entry.parts[0])
        student = stem if stems[stem] == 1 and stem not in folders else entry.parts[0]
        found[student] = entry.submission(student, group=group)
    for student, files in folders.items():
        key = student if student not in found else f"{student}/"
        if picks[student]:
            chosen, note = picks[student]
            gradable = gradable_files(files)[0]
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


def _unit(entry: Entry, names: tuple[str, ...]) -> str | None:
    """The student an entry of a folder stands for if the folder were a group folder (a file's name, or a
    subfolder's, with version endings dropped), or None when it is not a student's work (a helper file that
    defines none of the assignment's functions, a note, an empty folder)."""
    if not entry.gradable or entry.refused or (names and not mentions(entry, names)):
        return None
    inner = entry.parts[1:]
    if len(inner) == 1:
        return picking.base_name(kinds.source_stem(inner[0])).lower()
    # "_" first, so a folder named only a version ("v2", "old") is a version of its student's work.
    return picking.base_name("_" + inner[0]).lower()


def _groups(entries: list[Entry], names: tuple[str, ...], id_pattern: IdPattern | None) -> tuple[set[str], list[str]]:
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


def _as_student_folders(entries: list[Entry], names: tuple[str, ...]) -> list[Entry]:
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
            student = picking.base_name(kinds.source_stem(entry.parts[0])) or kinds.source_stem(entry.parts[0])
            student = spelled.setdefault(student.lower(), student)
            entry = replace(entry, parts=(student, *entry.parts), grouped=True)
        placed.append(entry)
    return placed


def regroup(entries: list[Entry], pattern: IdPattern, *, keep: set[str]) -> list[Entry]:
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


def _nothing_gradable(key: str, folder: str, files: list[Entry]) -> Submission:
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


def survey(path: Path, *, assignment: Assignment | None = None, leave_out: Path | None = None,
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
        entries = zip_entries(path)
    elif path.exists():  # a plain file, or a named pipe or device, whatever its name
        raise DiscoverError(f"{path}: expected a folder of submissions or a .zip of one")
    else:
        raise DiscoverError(f"{path}: no such folder")
    return survey_entries(entries, assignment=assignment, id_pattern=id_pattern, pick=pick, remembered=remembered)


def discover(path: Path, *, assignment: Assignment | None = None) -> list[Submission]:
    """Every submission in a class folder or .zip, sorted by student id; DiscoverError if path is unusable."""
    return list(survey(path, assignment=assignment).submissions)
