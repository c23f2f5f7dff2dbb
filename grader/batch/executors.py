"""Where a batch's submissions are graded: one small interface, a local process pool behind it by default.

An executor takes work items of plain data and yields (key, result) pairs as each finishes, in any
order. A work item is a Job; its result is the result/v1 dict of grader.results, also plain data, so
an executor may send both across processes or machines.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Protocol


@dataclass(frozen=True)
class Job:
    """One submission to grade: its key (student id), file name, bytes and the settings as plain data."""

    key: str
    filename: str
    data: bytes
    settings: dict[str, Any]


def grade_job(job: Job) -> dict[str, Any]:
    """Grade one Job anywhere gradgrade is installed; returns the result/v1 dict, never raises for the student.

    A worker's front door: the job's settings name the assignment, resolved here into the process's one
    Assignment object (whose caches serve every job the worker grades).
    """
    from grader import assignments
    from grader.grading import pipeline
    from grader.settings import Settings

    settings = Settings.from_json(job.settings)
    result = pipeline.grade_source(job.data, job.filename, settings, submission=job.key,
                                   assignment=assignments.get(settings.assignment))
    return result.to_json()


class Executor(Protocol):
    """Grades jobs and yields (job.key, result dict) as each completes."""

    def run(self, jobs: Iterable[Job]) -> Iterator[tuple[str, dict[str, Any]]]: ...

    def close(self) -> None: ...


def _start_worker(grader: int, settings: dict[str, Any] | None,
                  shared_server: tuple[Any, str | None] | None = None) -> None:
    """A pool worker's first act: die with the grader process that made the pool (grader.lifeline), then
    warm up for settings, if given."""
    from grader.batch import lifeline

    lifeline.die_with(grader)
    if settings is not None:
        _warm(settings, shared_server)


def _warm(settings: dict[str, Any], shared_server: tuple[Any, str | None] | None = None) -> None:
    """Compute the assignment's cases, expected gradients and diagnosis catalogue once per worker, before its
    first job; then take everything the worker holds out of the garbage collector's sight. shared_server:
    the sandbox fork server the pool's maker shares with its workers (forkclient.share_fork_server).

    Grading allocates enough to set off full collections now and then, and each walked every object of
    numpy, the catalogue and gradgrade: about 0.5 ms of every submission's CPU, none of it needed (gc.freeze).
    """
    from grader import assignments
    from grader.grading import matching, spec_diagnosis
    from grader.sandbox import forkclient
    from grader.settings import Settings

    if shared_server is not None:
        forkclient.adopt_fork_server(*shared_server)
    parsed = Settings.from_json(settings)
    assignment = assignments.get(parsed.assignment)
    if assignment.graded_by_spec:
        assignment.spec_cases()  # drawn, screened and prepared: the expected values of every case
        spec_diagnosis.prepare(assignment)  # the mutant catalogue, before the first job as for the built-ins
    else:
        for index, _ in enumerate(assignment.cases()):
            assignment.expected_gradients(index, epsilon=parsed.epsilon)
        matching.catalogue_candidates(assignment)
    gc.collect()
    gc.freeze()


def error_dict(job: Job, message: str) -> dict[str, Any]:
    """The result/v1 dict of a job an executor could not grade (its worker died, the cluster failed it).

    Settings that do not parse fall back to the defaults: the job still gets its error row.
    """
    from grader import assignments
    from grader.grading import pipeline
    from grader.settings import Settings

    try:
        settings = Settings.from_json(job.settings)
    except (TypeError, ValueError):
        settings = Settings()
    try:  # a spec's maximum is its functions' points, not the built-in rubric's
        assignment = assignments.get(settings.assignment)
    except (assignments.UnknownAssignment, ValueError):
        assignment = None
    return pipeline.error_result(job.key, settings, message, assignment=assignment).to_json()


# A fork server spends about 3 ms of CPU on each child (the fork, the hand-over, the reaping): shared by
# four workers grading 25 submissions a second each, it is busy a third of the time; more would queue.
SHARED_SERVER_WORKERS = 4


def default_workers() -> int:
    """All the cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class LocalExecutor:
    """A pool of worker processes on this machine, started with forkserver (spawn where that is missing).

    Never plain fork: the grader may have threads (tqdm's monitor, a notebook's kernel) and a forked
    copy of a threaded process can deadlock. At most `ahead` jobs per worker are in flight, so a class of
    10,000 notebooks is never all in memory. When a worker dies, the jobs that were in the pool run
    again one at a time in a fresh pool; the one whose worker dies alone gets an error result.
    """

    def __init__(self, workers: int | None = None, *, ahead: int = 4, warm: dict[str, Any] | None = None,
                 grade: Callable[[Job], dict[str, Any]] = grade_job) -> None:
        self.workers = max(1, workers or default_workers())
        self.grade = grade
        self.ahead = max(1, ahead)
        self._warm = warm
        methods = multiprocessing.get_all_start_methods()
        self._context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if "forkserver" in methods:
            # Imported once in multiprocessing's fork server, so each worker forked from it starts with
            # gradgrade and numpy loaded: the first two results came 0.3 s sooner (1.65 -> 1.35 s).
            self._context.set_forkserver_preload(["grader.grading.pipeline"])
        self._pool: ProcessPoolExecutor | None = None

    def _new_pool(self) -> ProcessPoolExecutor:
        shared = None if self._warm is None else self._shared_server()
        return ProcessPoolExecutor(self.workers, mp_context=self._context, initializer=_start_worker,
                                   initargs=(os.getpid(), self._warm, shared))

    def _shared_server(self) -> tuple[Any, str | None] | None:
        """This process's sandbox fork server, for the workers to share; None where there is none, or for
        more than SHARED_SERVER_WORKERS workers, which start one each.

        It boots here while multiprocessing's own fork server does, on the core that would otherwise
        wait; workers with a server each started theirs only once warm, and the first results came
        0.2 s later. One server forks for every worker: one fewer to boot and to hold in memory.
        """
        from grader.sandbox import forkclient

        if self.workers > SHARED_SERVER_WORKERS:
            return None
        if self._context.get_start_method() == "forkserver":
            from multiprocessing import forkserver

            forkserver.ensure_running()
        return forkclient.share_fork_server()

    def run(self, jobs: Iterable[Job]) -> Iterator[tuple[str, dict[str, Any]]]:
        pending = iter(jobs)
        suspects: list[Job] = []
        running: dict[Future, Job] = {}
        alone: Job | None = None
        if self._pool is None:
            self._pool = self._new_pool()
        while True:
            if suspects:
                # After a worker died, every job that was in the pool with it runs alone until the guilty one shows.
                if not running:
                    alone = suspects.pop(0)
                    running[self._pool.submit(self.grade, alone)] = alone
            else:
                alone = None
                while len(running) < self.workers * self.ahead:
                    job = next(pending, None)
                    if job is None:
                        break
                    running[self._pool.submit(self.grade, job)] = job
            if not running:
                return
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            broken = False
            for future in done:
                job = running.pop(future)
                try:
                    yield job.key, future.result()
                except BrokenProcessPool:
                    broken = True
                    if job is alone:
                        yield job.key, error_dict(job, "the grading worker died while grading this submission")
                    else:
                        suspects.append(job)
                except Exception as error:  # noqa: BLE001 - a grader bug on one submission must not stop the batch
                    yield job.key, error_dict(job, f"gradgrade failed on this submission: {type(error).__name__}: {error}")
            if broken:
                suspects.extend(running.values())
                running.clear()
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> "LocalExecutor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
