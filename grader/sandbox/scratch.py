"""Scratch folders that outlive no process: held (an flock) while their maker lives, swept once it is gone.

The process that makes a folder holds it until it removes it. A folder whose holder died without removing
it (killed outright, with no chance to clean up) is removed by the next gradgrade that sweeps the
temporary folder.

Only folders made here are ever swept (their names start with a prefix of HELD_PREFIXES), only those of
this user, and only once they are older than STALE_AFTER seconds: a folder just made is not yet held.
Imports nothing of gradgrade's: the fork server uses it too.
"""
from __future__ import annotations

import os
import shutil
import stat
import tempfile
import time
from dataclasses import dataclass
from typing import Iterable

try:
    import fcntl
except ImportError:  # not on Windows, where the sandbox does not run
    fcntl = None  # type: ignore[assignment]

# A run's folder (made by the grader where children cannot mount a private one), and the folder a fork
# server's children mount their private scratch on.
RUN_PREFIX = "gradgrade-run-"
SERVER_PREFIX = "gradgrade-scratch-"
HELD_PREFIXES = (RUN_PREFIX, SERVER_PREFIX)
STALE_AFTER = 60.0


@dataclass(frozen=True)
class Held:
    """A scratch folder and the descriptor whose lock says its maker is alive (None where locks are missing)."""

    path: str
    fd: int | None

    def remove(self) -> None:
        """Remove the folder and everything in it, then let it go (a sweep takes whatever could not be removed)."""
        shutil.rmtree(self.path, ignore_errors=True)
        self.release()

    def release(self) -> None:
        """Let the folder go: from now on a sweep may remove whatever of it is left."""
        if self.fd is not None:
            try:
                os.close(self.fd)
            except OSError:
                pass


def make(prefix: str, *, folder: str | None = None) -> Held:
    """A new empty folder in folder (the temporary folder by default), held by this process until released."""
    path = tempfile.mkdtemp(prefix=prefix, dir=folder)
    if fcntl is None:
        return Held(path, None)
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # a file system without locks: the folder is removed as before, only never swept
        os.close(fd)
        return Held(path, None)
    return Held(path, fd)


def folders_to_sweep() -> tuple[str, ...]:
    """Where held folders are made: this process's temporary folder, and /tmp, a fork server's (it runs
    without the grader's TMPDIR)."""
    return tuple(dict.fromkeys([tempfile.gettempdir(), "/tmp"]))


def sweep(*, folders: Iterable[str] | None = None, older_than: float = STALE_AFTER) -> list[str]:
    """Remove the held folders in folders whose holder is gone; the paths removed.

    Never raises: a folder that cannot be looked at or removed is left for the next sweep.
    """
    if fcntl is None:
        return []
    removed = []
    for folder in folders_to_sweep() if folders is None else folders:
        try:
            entries = [entry for entry in os.scandir(folder) if entry.name.startswith(HELD_PREFIXES)]
        except OSError:
            continue
        for entry in entries:
            if _abandoned(entry.path, older_than) and _remove(entry.path):
                removed.append(entry.path)
    return removed


def _abandoned(path: str, older_than: float) -> bool:
    """path is a folder of this user's, old enough, that nobody holds."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:  # gone, not a folder, a symbolic link, or not ours to read
        return False
    try:
        info = os.fstat(fd)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or time.time() - info.st_mtime < older_than:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held: its maker is alive (or locks do not work here, and then nothing is swept)
            return False
        return True
    finally:
        os.close(fd)


def _remove(path: str) -> bool:
    shutil.rmtree(path, ignore_errors=True)
    return not os.path.lexists(path)
