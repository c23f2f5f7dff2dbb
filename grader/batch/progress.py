"""How a batch shows its progress: a bar on a terminal, one plain line per submission otherwise."""
from __future__ import annotations

import sys
from typing import Any, Protocol, TextIO

from grader.report import render


class Progress(Protocol):
    """Told how many submissions will be graded, then about each one as it finishes."""

    def start(self, total: int) -> None: ...

    def advance(self, result: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


class LineProgress:
    """One plain line per graded submission, for logs and pipes."""

    def __init__(self, stream: TextIO) -> None:
        self.stream, self.total, self.done = stream, 0, 0

    def start(self, total: int) -> None:
        self.total = total
        print(f"grading {total} submission(s)", file=self.stream, flush=True)

    def advance(self, result: dict[str, Any]) -> None:
        self.done += 1
        print(f"[{self.done}/{self.total}] {shown(result['submission'])}: {result['status']} "
              f"{render.format_points(result['score'])}/{render.format_points(result['max_score'])}", file=self.stream, flush=True)

    def close(self) -> None:
        pass


class BarProgress:
    """A tqdm progress bar with an ETA, for a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream, self.bar = stream, None

    def start(self, total: int) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, file=self.stream, unit="submission", dynamic_ncols=True)

    def advance(self, result: dict[str, Any]) -> None:
        self.bar.set_postfix_str(f"{shown(result['submission'])[:24]} {result['status']}", refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class NoProgress:
    def start(self, total: int) -> None:
        pass

    def advance(self, result: dict[str, Any]) -> None:
        pass

    def close(self) -> None:
        pass


def shown(student: str) -> str:
    """A student id for one line of a terminal or log: a newline or escape code in a file name shown escaped."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in student)


def progress_for(stream: TextIO) -> Progress:
    """A bar on a terminal, plain lines otherwise."""
    return BarProgress(stream) if stream.isatty() else LineProgress(stream)


def default_progress() -> Progress:
    return progress_for(sys.stdout)
