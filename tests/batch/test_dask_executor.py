"""DaskExecutor: the sample class graded on a 2-worker LocalCluster, worker deaths, and what a missing Dask says."""
from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")
import cloudpickle  # noqa: E402  (installed with distributed)

from grader import assignments, cli  # noqa: E402
from grader.batch import batch, dask_executor, discover, gradebook
from grader.batch.dask_executor import DaskExecutor, DaskUnavailable  # noqa: E402
from grader.batch.executors import Job, LocalExecutor, grade_job  # noqa: E402
from grader.settings import Settings  # noqa: E402

SUBMISSIONS = Path(__file__).resolve().parents[2] / "submissions"
SETTINGS = Settings().to_json()
# Submissions that cannot be graded travel too: their error results must come back like any other.
BROKEN = {
    "syntax_error.py": b"def backward_propagation_n(X, Y, cache)\n    return {}\n",
    "no_backward.py": b"import numpy as np\n\ndef forward_propagation_n(X, Y, parameters):\n    return 0.0, ()\n",
}
SLOW_SECONDS = 2.0
POISON = "poison"

# The test-only grading functions below run on the workers, which cannot import this test module.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def slow_grade(job: Job) -> dict:
    """grade_job, after a pause for jobs named slow-*, so the batch is still running when a worker dies."""
    if job.key.startswith("slow"):
        time.sleep(SLOW_SECONDS)
    return grade_job(job)


def killing_grade(job: Job) -> dict:
    """grade_job, except that grading the poison job ends the worker process every time."""
    if job.key == POISON:
        os._exit(17)
    return grade_job(job)


def class_jobs() -> list[Job]:
    """The sample class as `gradgrade grade submissions` finds it (.py and .ipynb), and two broken files."""
    found = discover.discover(SUBMISSIONS, assignment=assignments.get(Settings().assignment))
    jobs = [Job(submission.student, submission.filename, submission.read(), SETTINGS) for submission in found]
    return jobs + [Job(Path(name).stem, name, data, SETTINGS) for name, data in BROKEN.items()]


@pytest.fixture(scope="module")
def executor():
    with DaskExecutor("local", allowed_failures=1) as executor_:
        yield executor_


@pytest.fixture(scope="module")
def jobs() -> list[Job]:
    found = class_jobs()
    assert len(found) >= 5, "the sample class is missing"
    return found


@pytest.fixture(scope="module")
def expected(jobs) -> dict[str, dict]:
    """The sample class graded by the local pool (the default executor), one result per student."""
    with LocalExecutor(2) as pool:
        return dict(pool.run(jobs))


def differences(got, want, path: str = "") -> list[str]:
    """Where two result dicts differ, as paths with both values, so a mismatch names its field."""
    if isinstance(got, dict) and isinstance(want, dict):
        return [found for key in sorted(set(got) | set(want), key=str)
                for found in differences(got.get(key), want.get(key), f"{path}.{key}")]
    if isinstance(got, list) and isinstance(want, list) and len(got) == len(want):
        return [found for index, pair in enumerate(zip(got, want)) for found in differences(*pair, f"{path}[{index}]")]
    return [] if got == want else [f"{path}: {got!r} != {want!r}"]


def test_the_sample_class_grades_the_same_on_dask_as_on_the_local_pool(executor, jobs, expected):
    results = list(executor.run(jobs))
    assert Counter(key for key, _ in results) == Counter(job.key for job in jobs)
    for key, result in results:
        assert not differences(result, expected[key]), key
    statuses = {result["status"] for _, result in results}
    assert statuses == {"pass", "fail", "error"}


def test_grade_with_scheduler_writes_every_result_once_into_the_gradebook(executor, jobs, expected, tmp_path, capsys):
    class_ = [job for job in jobs if job.key == Path(job.filename).stem][:4]
    folder = write_class(tmp_path / "class", class_)
    out = tmp_path / "out"
    address = executor.client.scheduler.address
    assert cli.main(["grade", str(folder), "--out", str(out), "--scheduler", address]) == 0
    results = json.loads((out / "results.json").read_text())
    assert sorted(result["submission"] for result in results) == sorted(job.key for job in class_)
    files = {job.key: job.filename for job in class_}
    for result in results:  # graded as the pool grades it, and found where it was in the class
        assert result == expected[result["submission"]] | {"file": files[result["submission"]]}, result["submission"]
    with gradebook.open_gradebook(out) as book:
        assert Counter(row.student for row in book.rows()) == Counter(job.key for job in class_)


def write_class(folder: Path, jobs: list[Job]) -> Path:
    """A flat class folder holding each job's bytes under its file name (student id = file stem)."""
    folder.mkdir()
    for job in jobs:
        (folder / job.filename).write_bytes(job.data)
    return folder


def test_a_worker_killed_mid_batch_loses_nothing_and_counts_nothing_twice(executor, jobs, expected, tmp_path):
    plain = [job for job in jobs if job.key == Path(job.filename).stem][:6]
    slow = [Job(f"slow-{job.key}", f"slow-{job.filename}", job.data, SETTINGS) for job in plain[:2]]
    folder = write_class(tmp_path / "class", slow + plain)
    out = tmp_path / "out"
    slow_executor = DaskExecutor(executor.client, grade=slow_grade)
    summaries: list[batch.Summary] = []
    removed_before = _removed_workers(executor.client)
    thread = threading.Thread(target=lambda: summaries.append(
        batch.grade(folder, out, Settings(), assignment=assignments.get("three_layer"), executor=slow_executor)))
    thread.start()
    victim = _worker_running(executor.client, "slow-")
    os.kill(executor.client.run(os.getpid)[victim], signal.SIGKILL)
    thread.join(timeout=120)
    assert not thread.is_alive()

    assert _removed_workers(executor.client) > removed_before
    students = Counter(job.key for job in slow + plain)
    [summary] = summaries
    assert summary.graded == len(students)
    for result in summary.results:
        want = expected[result.submission.removeprefix("slow-")] | {"submission": result.submission,
                                                                     "file": f"{result.submission}{Path(result.file).suffix}"}
        assert not differences(result.to_json(), want), result.submission
    with gradebook.open_gradebook(out) as book:
        assert Counter(row.student for row in book.rows()) == students


def _worker_running(client, prefix: str, *, timeout: float = 30.0) -> str:
    """The address of a worker that holds a task of a job whose key starts with prefix."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for address, keys in client.processing().items():
            if any(isinstance(key, tuple) and str(key[1]).startswith(prefix) for key in keys):
                return address
        time.sleep(0.05)
    raise AssertionError(f"no worker ever ran a {prefix}* job")


def _removed_workers(client) -> int:
    return client.run_on_scheduler(lambda dask_scheduler: dask_scheduler._workers_removed_total)


def test_a_submission_that_kills_its_worker_every_time_ends_as_an_error(executor, jobs, expected):
    poison = Job(POISON, "poison" + Path(jobs[0].filename).suffix, jobs[0].data, SETTINGS)
    batch = [jobs[0], poison, *jobs[1:4]]
    killer_executor = DaskExecutor(executor.client, grade=killing_grade)

    results = dict(killer_executor.run(batch))

    assert set(results) == {job.key for job in batch}
    assert results[POISON]["status"] == "error"
    assert results[POISON]["score"] == 0.0
    assert "killed its Dask worker 2 times" in results[POISON]["message"]
    assert "gave up after 1 retry" in results[POISON]["message"]
    for job in batch:
        if job.key != POISON:
            assert results[job.key] == expected[job.key], job.key


def raising_grade(job: Job) -> dict:
    """A grading function with a bug: it raises on the job named broken, on every worker."""
    if job.key == "broken":
        raise RuntimeError("grader bug\non two lines")
    return grade_job(job)


def forging_grade(job: Job) -> dict:
    """A grading function that sends back something that is not a result/v1 record for the job named broken."""
    if job.key == "broken":
        return {"status": "pass"}
    return grade_job(job)


def misaddressed_grade(job: Job) -> dict:
    """A grading function that sends back another student's result for the job named broken."""
    return grade_job(Job("someone-else", job.filename, job.data, job.settings) if job.key == "broken" else job)


@pytest.mark.parametrize("grade, message", [
    pytest.param(raising_grade, "a Dask worker could not grade this submission: RuntimeError: grader bug on two lines",
                 id="worker-raises"),
    pytest.param(forging_grade, "a Dask worker sent back no result/v1 record", id="not-a-result"),
    pytest.param(misaddressed_grade, "a Dask worker sent back the result of 'someone-else'", id="other-student"),
])
def test_a_task_that_fails_on_the_worker_is_an_error_result_and_the_batch_goes_on(executor, jobs, expected,
                                                                                 grade, message):
    broken = Job("broken", jobs[0].filename, jobs[0].data, SETTINGS)
    results = dict(DaskExecutor(executor.client, grade=grade).run([broken, *jobs[1:3]]))
    assert results["broken"]["status"] == "error"
    assert results["broken"]["message"].startswith(message)
    assert "\n" not in results["broken"]["message"]
    for job in jobs[1:3]:
        assert results[job.key] == expected[job.key], job.key


def test_stopping_the_iteration_cancels_the_jobs_left(executor, jobs):
    run = executor.run(jobs)
    first_key, _ = next(run)
    run.close()
    assert first_key in {job.key for job in jobs}
    deadline = time.monotonic() + 10
    while executor.client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)):
        assert time.monotonic() < deadline, "cancelled tasks stayed on the scheduler"
        time.sleep(0.05)


JOB = Job("alice", "alice.py", b"def f(): pass\n", SETTINGS)


@pytest.mark.parametrize("other, same", [
    pytest.param(Job("alice", "alice.py", b"def f(): pass\n", dict(SETTINGS)), True, id="equal-job"),
    pytest.param(Job("alice", "alice.py", b"def f(): return 1\n", SETTINGS), False, id="other-bytes"),
    pytest.param(Job("bob", "alice.py", b"def f(): pass\n", SETTINGS), False, id="other-student"),
    pytest.param(Job("alice", "alice.py", b"def f(): pass\n", SETTINGS | {"threshold": 1e-5}), False,
                 id="other-settings"),
])
def test_a_task_key_is_the_student_and_a_hash_of_what_decides_the_grade(other, same):
    assert (dask_executor.task_key(JOB) == dask_executor.task_key(other)) is same


def test_the_task_key_names_the_grading_function():
    assert dask_executor.task_key(JOB, grade=slow_grade) != dask_executor.task_key(JOB)


def test_without_dask_the_message_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(DaskUnavailable, match=r"pip install 'gradgrade\[dask\]'"):
        DaskExecutor("local")


def test_an_unreachable_scheduler_is_one_clear_error():
    with pytest.raises(DaskUnavailable, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        DaskExecutor("tcp://127.0.0.1:9", timeout=1)


def test_losing_the_scheduler_stops_the_run_with_one_clear_error(jobs):
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, host="127.0.0.1",
                                       protocol="tcp://", dashboard_address=None)
    executor_ = DaskExecutor(cluster.scheduler_address, timeout=2, grade=slow_grade)
    batch = [jobs[0]] + [Job(f"slow-{index}", job.filename, job.data, SETTINGS) for index, job in enumerate(jobs)]
    run = executor_.run(batch)
    try:
        key, _ = next(run)
        assert key == jobs[0].key
        cluster.close()
        with pytest.raises(DaskUnavailable, match="lost the Dask scheduler at tcp://127.0.0.1"):
            list(run)
    finally:
        executor_.close()
        cluster.close()
