"""Grade a batch on a Dask cluster: Jobs go out to workers as plain data, result/v1 dicts come back."""
from __future__ import annotations

import hashlib
import json
from concurrent.futures import CancelledError
from contextlib import suppress
from typing import Any, Callable, Iterable, Iterator

from grader.batch.executors import Job, error_dict, grade_job
from grader.results import submission_from_json

EXTRA = "pip install 'gradgrade[dask]'"
LOCAL = "local"
LOCAL_WORKERS = 2
# Worker deaths a task may see before the scheduler gives up on it (Dask's allowed-failures). It is
# a scheduler setting: it applies to the clusters gradgrade starts; a running scheduler keeps its own.
ALLOWED_FAILURES = 2
# Retries of a task that raised. grade_job never raises for the student, so a raise is the worker's
# trouble (gradgrade missing there, a lost connection) and one more try elsewhere may get past it.
RETRIES = 1
TASK_NAME = "gradgrade-grade"
AFTER_LOSS = "the results that arrived before are kept; run again to grade the rest"

Grade = Callable[[Job], dict[str, Any]]


class DaskUnavailable(RuntimeError):
    """dask.distributed is not installed, or the scheduler cannot be reached."""


def require_distributed():
    """The dask.distributed module, or DaskUnavailable naming the extra that installs it."""
    try:
        import distributed
    except ImportError as error:
        raise DaskUnavailable(f"grading on Dask needs dask.distributed: {EXTRA}") from error
    return distributed


def task_key(job: Job, *, grade: Grade = grade_job) -> tuple[str, str, str]:
    """The Dask key of a job: (name, student, hash of what decides the grade), so a retry is the same task."""
    digest = hashlib.sha256()
    for part in (f"{grade.__module__}.{grade.__qualname__}", job.filename,
                 json.dumps(job.settings, sort_keys=True)):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(job.data)
    return TASK_NAME, job.key, digest.hexdigest()[:32]


def describe_failure(error: BaseException) -> str:
    """The one-line reason a task failed, for the student's error result and the instructor."""
    distributed = require_distributed()
    if isinstance(error, distributed.KilledWorker):
        retries = getattr(error, "allowed_failures", None)
        if retries is None:
            return "grading this submission killed its Dask worker on every try; gave up"
        return (f"grading this submission killed its Dask worker {retries + 1} times; "
                f"gave up after {retries} {'retry' if retries == 1 else 'retries'}")
    reason = " ".join(str(error).split())
    return f"a Dask worker could not grade this submission: {type(error).__name__}: {reason}"


class DaskExecutor:
    """Grades jobs on a Dask cluster, yielding (job.key, result dict) as each completes.

    scheduler is "local" (start a LocalCluster on 127.0.0.1 with `workers` one-thread worker processes),
    the address of a running scheduler ("tcp://HOST:PORT"), or a distributed.Client to share (close()
    then leaves it open). At most `window` jobs are on the cluster at once (default: one per worker
    thread), so a large course does not sit in the scheduler's memory and a worker holds only what it runs.
    workers and allowed_failures apply to the local cluster only; a running scheduler keeps its own.
    """

    def __init__(self, scheduler: Any, *, workers: int = LOCAL_WORKERS, allowed_failures: int = ALLOWED_FAILURES,
                 retries: int = RETRIES, grade: Grade = grade_job, window: int | None = None,
                 timeout: float = 10.0) -> None:
        distributed = require_distributed()
        self._cluster = None
        self._owns_client = not isinstance(scheduler, distributed.Client)
        self.retries = retries
        self.grade = grade
        self.window = window
        if not self._owns_client:
            self.client = scheduler
        elif scheduler == LOCAL:
            import dask

            try:
                with dask.config.set({"distributed.scheduler.allowed-failures": allowed_failures}):
                    self._cluster = distributed.LocalCluster(
                        n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                        dashboard_address=None,
                        # No dashboard; the scheduler's health page binds a free loopback port, not 8787.
                        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
            except (OSError, RuntimeError, TimeoutError) as error:
                raise DaskUnavailable(f"cannot start a local Dask cluster: {error}") from error
            self.client = distributed.Client(self._cluster)
        else:
            try:
                self.client = distributed.Client(scheduler, timeout=timeout)
            except (OSError, TimeoutError, ValueError) as error:
                raise DaskUnavailable(f"cannot reach the Dask scheduler at {scheduler}: {error}") from error

    @property
    def address(self) -> str:
        """The scheduler's address, for messages."""
        return str(getattr(self.client.scheduler, "address", "") or "the scheduler")

    def _slots(self) -> int:
        if self.window is not None:
            return max(self.window, 1)
        return max(sum(self.client.nthreads().values()), 1)

    def run(self, jobs: Iterable[Job]) -> Iterator[tuple[str, dict[str, Any]]]:
        """Send jobs to the cluster and yield (key, result/v1 dict) as each finishes, in any order.

        A job whose task fails (its worker died on every try, or the worker raised) yields an error
        result saying why; the rest of the batch goes on. Losing the scheduler raises DaskUnavailable:
        what was yielded before stays graded, the rest is not given a result. Stopping the iteration
        cancels what is left.
        """
        distributed = require_distributed()
        pending = iter(jobs)
        running: dict[Any, Job] = {}
        finished = distributed.as_completed()

        def fill() -> None:
            slots = self._slots()  # one request to the scheduler per refill, not one per job sent
            while len(running) < slots:
                job = next(pending, None)
                if job is None:
                    return
                future = self.client.submit(self.grade, job, key=task_key(job, grade=self.grade),
                                            retries=self.retries)
                running[future] = job
                finished.add(future)

        try:
            fill()
            for future in finished:
                job = running.pop(future)
                if future.status not in ("finished", "error"):
                    # The client cancels every task when it loses the scheduler: no verdict on the student.
                    raise DaskUnavailable(f"lost the Dask scheduler at {self.address} (the task for {job.key} "
                                          f"was {future.status}); {AFTER_LOSS}")
                yield job.key, self._collect(future, job)
                future.release()
                fill()
        except (OSError, TimeoutError, CancelledError) as error:
            reason = " ".join(str(error).split()) or type(error).__name__
            raise DaskUnavailable(f"lost the Dask scheduler at {self.address}: {reason}; {AFTER_LOSS}") from error
        finally:
            if running and self.client.status == "running":
                with suppress(OSError, TimeoutError):
                    self.client.cancel(list(running))

    def _collect(self, future: Any, job: Job) -> dict[str, Any]:
        if future.status == "error":
            return error_dict(job, describe_failure(future.exception()))
        result = future.result()
        try:
            submission_from_json(result)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            return error_dict(job, f"a Dask worker sent back no result/v1 record: {error!r}")
        if result["submission"] != job.key:
            return error_dict(job, f"a Dask worker sent back the result of {result['submission']!r}")
        return result

    def close(self) -> None:
        """Close the client and the cluster this executor started (a shared client stays open)."""
        if self._owns_client:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()

    def __enter__(self) -> "DaskExecutor":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
