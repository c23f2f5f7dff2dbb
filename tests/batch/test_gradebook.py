"""The gradebook: one row per (student, content hash), reruns grade only what changed, a killed run loses nothing."""
from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader import assignments
from grader.batch import batch, gradebook
from grader.batch.executors import Job
from grader.results import Status, SubmissionResult
from grader.settings import Settings

BACKWARD = "def backward_propagation_n(X, Y, cache):\n    return {{}}  # {tag}\n"


class CountingExecutor:
    """Grades in-process with a stand-in result, and remembers which students it was asked to grade."""

    def __init__(self) -> None:
        self.graded: list[str] = []

    def run(self, jobs):
        for job in jobs:
            self.graded.append(job.key)
            yield job.key, SubmissionResult(job.key, "three_layer", Status.FAIL, 1.0, 6.0,
                                            message=f"{len(job.data)} bytes").to_json()

    def close(self) -> None:
        pass


def write_class(folder: Path, students: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for student, tag in students.items():
        (folder / f"{student}.py").write_text(BACKWARD.format(tag=tag))
    return folder


def run_batch(folder: Path, out: Path, *, force: bool = False, settings: Settings = Settings()):
    executor = CountingExecutor()
    summary = batch.grade(folder, out, settings, assignment=assignments.get(settings.assignment), force=force, executor=executor)
    return executor.graded, summary


def test_record_replaces_the_row_with_the_same_key(tmp_path):
    with gradebook.open_gradebook(tmp_path) as book:
        first = SubmissionResult("alice", "three_layer", Status.FAIL, 1.0, 6.0).to_json()
        second = SubmissionResult("alice", "three_layer", Status.PASS, 6.0, 6.0).to_json()
        book.record("alice", "hash-1", "s", "alice.py", first)
        book.record("alice", "hash-1", "s", "alice.py", second)
        book.record("alice", "hash-2", "s", "alice.py", first)
        assert book.count() == 2
        assert book.lookup("alice", "hash-1").result["status"] == "pass"
        assert book.lookup("bob", "hash-1") is None


def test_gradebook_uses_wal(tmp_path):
    with gradebook.open_gradebook(tmp_path):
        pass
    with sqlite3.connect(tmp_path / gradebook.FILENAME) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_second_run_grades_only_what_changed(tmp_path):
    folder = write_class(tmp_path / "class", {"alice": "a", "bob": "b", "carol": "c"})
    out = tmp_path / "out"
    graded, summary = run_batch(folder, out)
    assert sorted(graded) == ["alice", "bob", "carol"] and summary.reused == 0
    write_class(folder, {"bob": "b changed", "dave": "d"})
    graded, summary = run_batch(folder, out)
    assert sorted(graded) == ["bob", "dave"]
    assert (summary.graded, summary.reused, len(summary.results)) == (2, 2, 4)
    with gradebook.open_gradebook(out) as book:
        # bob's old content keeps its row: the gradebook is the history, the reports show what was found now.
        assert book.count() == 5


def test_force_regrades_everything(tmp_path):
    folder = write_class(tmp_path / "class", {"alice": "a", "bob": "b"})
    out = tmp_path / "out"
    run_batch(folder, out)
    graded, summary = run_batch(folder, out, force=True)
    assert sorted(graded) == ["alice", "bob"] and summary.reused == 0
    with gradebook.open_gradebook(out) as book:
        assert book.count() == 2


def test_other_settings_regrade(tmp_path):
    folder = write_class(tmp_path / "class", {"alice": "a"})
    out = tmp_path / "out"
    run_batch(folder, out)
    graded, _ = run_batch(folder, out, settings=Settings(threshold=1e-5))
    assert graded == ["alice"]


SLOW = ("import time\n\n"
        "def backward_propagation_n(X, Y, cache, _pause=time.sleep({pause})):\n"
        "    return {{}}  # {tag}\n")
STUDENTS = 12


def _rows(path: Path) -> int:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM grades").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def test_kill_9_mid_batch_then_rerun_loses_nothing_and_duplicates_nothing(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    for index in range(STUDENTS):
        (folder / f"student{index:02d}.py").write_text(SLOW.format(pause=0.3, tag=index))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "grader", "grade", str(folder), "--out", str(out), "--jobs", "1"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 60
    while _rows(out / gradebook.FILENAME) < 3 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    before = _rows(out / gradebook.FILENAME)
    assert 3 <= before < STUDENTS, "the kill must land in the middle of the batch"
    assert process.returncode == -signal.SIGKILL

    completed = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    graded, reused = map(int, re.search(r"graded (\d+), reused (\d+)", completed.stdout).groups())
    assert reused == before and graded + reused == STUDENTS
    with sqlite3.connect(out / gradebook.FILENAME) as db:
        rows = db.execute("SELECT student, COUNT(*) FROM grades GROUP BY student").fetchall()
    assert len(rows) == STUDENTS and all(count == 1 for _, count in rows)
    assert len(list(out.glob("student*.html"))) == STUDENTS
