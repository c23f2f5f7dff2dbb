"""Scratch folders held while their maker lives, and swept once it is gone."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.sandbox import scratch

ROOT = Path(__file__).resolve().parents[2]


def aged(path: Path | str, seconds: float = 3600) -> None:
    """Make a folder look as if nothing had changed in it for seconds."""
    past = time.time() - seconds
    os.utime(path, (past, past))


def killed_holder(folder: Path, prefix: str = scratch.RUN_PREFIX) -> Path:
    """A folder made and held by a process that was then killed outright (SIGKILL: no cleanup ran)."""
    script = (f"import sys, time; sys.path.insert(0, {str(ROOT)!r}); from grader.sandbox import scratch\n"
              f"held = scratch.make({prefix!r}, folder={str(folder)!r}); (open(held.path + '/out.txt', 'w').write('x'))\n"
              "print(held.path, flush=True); time.sleep(3600)\n")
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        path = Path(holder.stdout.readline().strip())
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        holder.stdout.close()
    assert path.is_dir() and path.parent == folder
    return path


def test_a_held_folder_is_never_swept(tmp_path):
    held = scratch.make(scratch.RUN_PREFIX, folder=str(tmp_path))
    try:
        aged(held.path)
        assert scratch.sweep(folders=[str(tmp_path)]) == [] and os.path.isdir(held.path)
    finally:
        held.release()
    assert scratch.sweep(folders=[str(tmp_path)]) == [held.path] and not os.path.exists(held.path)


@pytest.mark.parametrize("prefix", [scratch.RUN_PREFIX, f"{scratch.SERVER_PREFIX}123-"])
def test_a_folder_whose_holder_was_killed_is_swept_once_it_is_old(tmp_path, prefix):
    path = killed_holder(tmp_path, prefix)
    assert scratch.sweep(folders=[str(tmp_path)]) == [] and path.is_dir()  # just made: its maker may not hold it yet
    aged(path)
    assert scratch.sweep(folders=[str(tmp_path)]) == [str(path)] and not path.exists()


def test_only_held_folders_are_swept(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    others = [tmp_path / "gradgrade-bench-1", tmp_path / "gradgrade-1234", tmp_path / "run-1"]
    for folder in others:
        folder.mkdir()
    (tmp_path / f"{scratch.RUN_PREFIX}file").write_text("x")
    (tmp_path / f"{scratch.RUN_PREFIX}link").symlink_to(elsewhere)
    for path in [*others, elsewhere, tmp_path / f"{scratch.RUN_PREFIX}file"]:
        aged(path)
    assert scratch.sweep(folders=[str(tmp_path)]) == []
    assert all(path.exists() for path in [*others, elsewhere, tmp_path / f"{scratch.RUN_PREFIX}file"])
    assert (tmp_path / f"{scratch.RUN_PREFIX}link").is_symlink()


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a folder to another user needs root")
def test_another_users_folder_is_left_alone(tmp_path):
    path = killed_holder(tmp_path)
    os.chown(path, 65534, 65534)
    aged(path)
    assert scratch.sweep(folders=[str(tmp_path)]) == [] and path.is_dir()


def test_a_sweep_of_a_folder_that_cannot_be_read_removes_nothing_and_says_nothing(tmp_path):
    assert scratch.sweep(folders=[str(tmp_path / "missing")]) == []


def test_folders_to_sweep_include_the_temporary_folder_and_tmp(monkeypatch, tmp_path):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert scratch.folders_to_sweep() == (str(tmp_path), "/tmp")
