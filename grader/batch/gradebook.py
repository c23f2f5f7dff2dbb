"""The class's gradebook in SQLite: one row per submission, keyed by student and the submission's content hash.

Each result is committed in its own transaction the moment it arrives (WAL journal), with INSERT OR
REPLACE on the key, so a run killed at any instant keeps every result committed before the kill, and a
rerun of the same submission replaces its row instead of adding a second one.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from grader.results import Lateness, LateStatus, Override

FILENAME = "gradebook.sqlite"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS grades (
    student TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    settings_hash TEXT NOT NULL,
    filename TEXT NOT NULL,
    status TEXT NOT NULL,
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    result TEXT NOT NULL,
    graded_at REAL NOT NULL,
    PRIMARY KEY (student, content_hash)
)
"""
# An instructor's overrides (check_name '' for the whole submission), kept across every rerun and --force.
_OVERRIDES = """
CREATE TABLE IF NOT EXISTS overrides (
    student TEXT NOT NULL,
    check_name TEXT NOT NULL,
    points REAL NOT NULL,
    comment TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at TEXT NOT NULL,
    PRIMARY KEY (student, check_name)
)
"""
# What the last run's reports were written with (title, files not graded, page paths), to write them again
# after an override without grading.
_REPORTS = """
CREATE TABLE IF NOT EXISTS reports (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
)
"""
# Each student's lateness as the last run judged it (grader.late), the result/v1 "late" object.
_LATENESS = """
CREATE TABLE IF NOT EXISTS lateness (
    student TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    submitted TEXT,
    source TEXT NOT NULL,
    due TEXT,
    seconds_late REAL,
    penalty REAL NOT NULL,
    note TEXT NOT NULL,
    recorded_at REAL NOT NULL
)
"""
# Which file of a student's several was graded, among which files: a rerun keeps the pick while the
# student's files are the same files (choosing.choose), so a copied folder's new times flip no pick.
_PICKS_SCHEMA = """
CREATE TABLE IF NOT EXISTS picks (
    student TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    candidates TEXT NOT NULL,
    picked_at REAL NOT NULL
)
"""


def content_hash(data: bytes) -> str:
    """The key of a submission's content: sha256 of its bytes."""
    return hashlib.sha256(data).hexdigest()


def settings_hash(settings: dict[str, Any]) -> str:
    """A fingerprint of everything that changes a grade; a row graded under other settings is stale."""
    from grader import __version__

    text = json.dumps({"settings": settings, "version": __version__}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Row:
    """One gradebook row: who, which content, under which settings, and the result/v1 dict."""

    student: str
    content_hash: str
    settings_hash: str
    filename: str
    result: dict[str, Any]
    graded_at: float


class Gradebook:
    """An open gradebook; use as a context manager so the connection closes."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL is durable against a killed process in WAL mode (only a power cut can lose the last commits).
            self._db.execute("PRAGMA synchronous=NORMAL")
            for table in (_SCHEMA, _OVERRIDES, _LATENESS, _REPORTS, _PICKS_SCHEMA):
                self._db.execute(table)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except BaseException:
            self._db.close()  # a file that is not a gradebook: nothing stays open on it
            raise

    def __enter__(self) -> "Gradebook":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def lookup(self, student: str, content_hash_: str) -> Row | None:
        """The row for this student's exact content, or None when it was never graded."""
        found = self._db.execute(f"SELECT {_COLUMNS} FROM grades WHERE student = ? AND content_hash = ?",
                                 (student, content_hash_)).fetchone()
        return None if found is None else _row(found)

    def record(self, student: str, content_hash_: str, settings_hash_: str, filename: str,
               result: dict[str, Any]) -> None:
        """Write one result in its own transaction, replacing any row with the same key."""
        text = json.dumps(result, allow_nan=False)
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT OR REPLACE INTO grades (student, content_hash, settings_hash, filename, status, score, "
                "max_score, result, graded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (student, content_hash_, settings_hash_, filename, result["status"], float(result["score"]),
                 float(result["max_score"]), text, time.time()))

    def rows(self) -> Iterator[Row]:
        """Every row, by student then time graded."""
        for found in self._db.execute(f"SELECT {_COLUMNS} FROM grades ORDER BY student, graded_at"):
            yield _row(found)

    def picks(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        """The last run's pick of each student with several files: student -> (path graded, files chosen among)."""
        rows = self._db.execute("SELECT student, path, candidates FROM picks")
        return {student: (path, tuple(json.loads(candidates))) for student, path, candidates in rows}

    def remember_picks(self, picks: dict[str, tuple[str, tuple[str, ...]]]) -> None:
        """Keep each student's pick (student -> (path graded, files chosen among)) for the next run, in one transaction."""
        now = time.time()
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT OR REPLACE INTO picks (student, path, candidates, picked_at) VALUES (?, ?, ?, ?)",
                [(student, path, json.dumps(list(candidates)), now) for student, (path, candidates) in picks.items()])

    def count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM grades").fetchone()[0]

    def latest(self, student: str) -> Row | None:
        """The student's row graded last, or None when the student has none."""
        found = self._db.execute(f"SELECT {_COLUMNS} FROM grades WHERE student = ? ORDER BY graded_at DESC LIMIT 1",
                                 (student,)).fetchone()
        return None if found is None else _row(found)

    def students(self) -> set[str]:
        return {found[0] for found in self._db.execute("SELECT DISTINCT student FROM grades")}

    def set_override(self, student: str, override: Override) -> None:
        """Keep an override, replacing the student's earlier one of the same check (or of the whole score)."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("INSERT OR REPLACE INTO overrides (student, check_name, points, comment, set_by, set_at) "
                             "VALUES (?, ?, ?, ?, ?, ?)", (student, override.check or "", override.points,
                                                           override.comment, override.by, override.at))

    def clear_override(self, student: str, check: str | None = None) -> int:
        """Remove the student's override of check (of the whole score when None); returns how many went."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            return self._db.execute("DELETE FROM overrides WHERE student = ? AND check_name = ?",
                                    (student, check or "")).rowcount

    def overrides(self) -> dict[str, list[Override]]:
        """Every student's overrides, oldest first."""
        found: dict[str, list[Override]] = {}
        for student, check, points, comment, by, at in self._db.execute(
                "SELECT student, check_name, points, comment, set_by, set_at FROM overrides ORDER BY set_at"):
            found.setdefault(student, []).append(Override(check or None, points, comment, by, at))
        return found

    def record_lateness(self, lateness: Mapping[str, Lateness | None]) -> None:
        """Keep each student's lateness as this run judged it (a student with None has none)."""
        now = time.time()
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("DELETE FROM lateness WHERE student = ?", [(student,) for student in lateness])
            self._db.executemany(
                "INSERT INTO lateness (student, status, submitted, source, due, seconds_late, penalty, note, "
                "recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(student, late.status.value, late.submitted, late.source, late.due, late.seconds_late, late.penalty,
                  late.note, now) for student, late in lateness.items() if late is not None])

    def set_report_setting(self, key: str, value: Any) -> None:
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("INSERT OR REPLACE INTO reports (key, value) VALUES (?, ?)", (key, json.dumps(value)))

    def report_setting(self, key: str, default: Any = None) -> Any:
        found = self._db.execute("SELECT value FROM reports WHERE key = ?", (key,)).fetchone()
        return default if found is None else json.loads(found[0])

    def lateness(self) -> dict[str, Lateness]:
        return {found[0]: Lateness(LateStatus(found[1]), *found[2:]) for found in self._db.execute(
            "SELECT student, status, submitted, source, due, seconds_late, penalty, note FROM lateness")}


# What a Row is read from, in Row's order.
_COLUMNS = "student, content_hash, settings_hash, filename, result, graded_at"


def _row(found: tuple) -> Row:
    return Row(*found[:4], json.loads(found[4]), found[5])


def remembered_picks(out: Path) -> dict[str, tuple[str, tuple[str, ...]]]:
    """The picks an earlier run kept in OUT's gradebook, without creating one; none when there is none to read."""
    path = Path(out) / FILENAME
    if not path.is_file():
        return {}
    try:
        with Gradebook(path) as book:
            return book.picks()
    except sqlite3.Error:  # a gradebook that cannot be read: batch says so when it opens it to record grades
        return {}


def open_gradebook(out: Path) -> Gradebook:
    """The gradebook of an output folder (OUT/gradebook.sqlite), created when missing."""
    return Gradebook(Path(out) / FILENAME)
