"""Read one submission file's bytes, as `check`, `grade` and `gradescope` alike read them: one bound on size,
never a pipe or a device, every failure a one-line reason."""
from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path
from typing import BinaryIO

# One bound on any one file's raw size, for `check` and `grade` alike: against a zip bomb or a runaway file,
# never against a notebook's saved figures (outputs are not code, and a notebook's size must not decide its
# grade), so generous: the course's notebook with all its plots is a few MB, with videos a few tens.
MAX_FILE_BYTES = 256 * 1024 ** 2


class UnreadableSubmission(Exception):
    """One submission's bytes cannot be read; the batch gives it an error row and goes on."""


class NotRegular(OSError):
    """A path that is a named pipe, a device or a socket: never read, never waited on."""


def open_regular(path: Path) -> BinaryIO:
    """path opened for reading; NotRegular, at once, when it is not a regular file."""
    # Non-blocking, so a named pipe does not wait for a writer: it is refused below like any non-file.
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    handle = open(descriptor, "rb")
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        handle.close()
        raise NotRegular(f"{path.name} is not a regular file (a pipe, a device or a socket)")
    return handle


def read_file(path: Path, *, filename: str | None = None) -> bytes:
    """A submission file's bytes, as `check` and `grade` alike read them: UnreadableSubmission with a one-line
    reason for a file past MAX_FILE_BYTES, a pipe or a device, or one that cannot be read."""
    return read_path(Path(path), filename or Path(path).name)


def read_path(path: Path, filename: str) -> bytes:
    try:
        with open_regular(path) as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except NotRegular:
        raise UnreadableSubmission(f"{filename} is not a regular file (a pipe, a device or a socket)") from None
    except OSError as error:
        raise UnreadableSubmission(f"cannot read {filename}: {error.strerror or error}") from None
    return capped(data, filename)


def read_member(archive: Path, member: str, filename: str) -> bytes:
    try:
        with open_regular(archive) as raw, zipfile.ZipFile(raw) as zipped, zipped.open(member) as handle:
            # Read at most the cap: the size in the zip's header is whatever the zip's author wrote.
            data = handle.read(MAX_FILE_BYTES + 1)
    except (OSError, zipfile.BadZipFile, KeyError, RuntimeError, NotImplementedError, EOFError) as error:
        raise UnreadableSubmission(f"cannot read {filename} from {archive.name}: {error}") from None
    return capped(data, filename)


def capped(data: bytes, filename: str) -> bytes:
    """data, read with one byte past the cap, unless it went past it."""
    if len(data) > MAX_FILE_BYTES:
        raise UnreadableSubmission(
            f"{filename} is larger than {MAX_FILE_BYTES // 1024 ** 2} MiB, gradgrade's bound on any one file (for "
            "check and grade alike, a notebook's saved outputs included): clear the notebook's outputs and "
            "submit it again")
    return data
