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
from typing import Any, Iterator

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
            self._db.execute(_SCHEMA)
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

    def count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM grades").fetchone()[0]


# What a Row is read from, in Row's order.
_COLUMNS = "student, content_hash, settings_hash, filename, result, graded_at"


def _row(found: tuple) -> Row:
    return Row(*found[:4], json.loads(found[4]), found[5])


def open_gradebook(out: Path) -> Gradebook:
    """The gradebook of an output folder (OUT/gradebook.sqlite), created when missing."""
    return Gradebook(Path(out) / FILENAME)
