"""Where a batch's submissions are graded: one small interface, a local process pool behind it by default.

An executor takes work items of plain data and yields (key, result) pairs as each finishes, in any
order. A work item is a Job; its result is the result/v1 dict of grader.results, also plain data, so
an executor may send both across processes or machines.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Protocol


@dataclass(frozen=True)
class Job:
    """One submission to grade: its key (student id), file name, bytes and the settings as plain data."""

    key: str
    filename: str
    data: bytes
    settings: dict[str, Any]


def grade_job(job: Job) -> dict[str, Any]:
    """Grade one Job anywhere gradgrade is installed; returns the result/v1 dict, never raises for the student."""
    from grader import pipeline
    from grader.settings import Settings

    settings = Settings.from_json(job.settings)
    result = pipeline.grade_source(job.data, job.filename, settings, submission=job.key)
    return result.to_json()


class Executor(Protocol):
    """Grades jobs and yields (job.key, result dict) as each completes."""

    def run(self, jobs: Iterable[Job]) -> Iterator[tuple[str, dict[str, Any]]]: ...

    def close(self) -> None: ...
