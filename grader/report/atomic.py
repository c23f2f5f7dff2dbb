"""Write a whole file or nothing: a killed run never leaves half a report behind."""
from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write text (or bytes, a zip's say) to path through a temporary file in the same folder, removed if anything fails.

    The file gets the permissions a plain write would give it: an existing file keeps its own, a new one
    gets rw-rw-rw- less the umask (so a report folder shared with a course's staff stays readable). A path
    that is not a regular file (a pipe, /dev/stdout) is written to in place.
    """
    path = Path(path)
    if path.exists() and not path.is_file():
        # A pipe, a terminal or /dev/stdout named as the output: written to, never replaced by a file.
        with _open(path, text) as handle:
            handle.write(text)
        return
    temporary, fd = _create_beside(path)
    try:
        with _open(fd, text) as handle:
            handle.write(text)
        try:
            os.chmod(temporary, stat.S_IMODE(os.stat(path).st_mode))
        except FileNotFoundError:
            pass
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _open(file: Path | int, data: str | bytes):
    return open(file, "wb") if isinstance(data, bytes) else open(file, "w", encoding="utf-8")


def _create_beside(path: Path) -> tuple[Path, int]:
    """A new empty hidden file in path's folder, open for writing; the kernel applies the umask to its mode."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        temporary = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
        try:
            return temporary, os.open(temporary, flags, 0o666)
        except FileExistsError:
            continue
        except OSError as error:  # the message names the file asked for, not the temporary one
            raise OSError(error.errno, error.strerror, str(path)) from None
