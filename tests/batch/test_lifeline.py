"""Everything gradgrade starts dies with it: a watched process's end ends the watcher, and a `gradgrade
grade` killed with SIGKILL mid-run leaves no process behind (pool, fork servers, sandboxed children)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from grader.sandbox import scratch

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pidfds and /proc are Linux's")
ROOT = Path(__file__).resolve().parents[2]
GONE_WITHIN = 5.0


def state(pid: int) -> str | None:
    """A process's state letter (Z for a zombie), None when there is no such process."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def living(pids) -> list[int]:
    return [pid for pid in pids if state(pid) not in (None, "Z")]


def descendants(pid: int) -> list[int]:
    """Every process under pid, found by walking /proc's children lists."""
    found, todo = [], [pid]
    while todo:
        for task in _tasks(todo.pop()):
            try:
                children = [int(item) for item in (task / "children").read_text().split()]
            except OSError:
                continue
            found += [child for child in children if child not in found]
            todo += children
    return found


def _tasks(pid: int) -> list[Path]:
    try:
        return list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return []


def command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def wait_until_gone(pids, seconds: float = GONE_WITHIN) -> list[int]:
    end = time.monotonic() + seconds
    while living(pids) and time.monotonic() < end:
        time.sleep(0.05)
    return living(pids)


def python(code: str, *args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], cwd=ROOT, **kwargs)


WATCHER = """
    import os, sys, time
    from grader.batch import lifeline
    if sys.argv[2] == "poll":
        del os.pidfd_open  # a system without pidfds
    lifeline.die_with(int(sys.argv[1]))
    print("watching", flush=True)
    time.sleep(60)
"""


@linux_only
@pytest.mark.parametrize("how", ["pidfd", "poll"])
def test_a_watcher_dies_with_the_process_it_watches(how):
    watched = python("import time; time.sleep(60)")
    watcher = python(WATCHER, str(watched.pid), how, stdout=subprocess.PIPE, text=True)
    try:
        assert watcher.stdout.readline() == "watching\n"
        time.sleep(0.3)
        assert watcher.poll() is None  # alive while what it watches is
        watched.kill()
        watched.wait()
        assert watcher.wait(timeout=GONE_WITHIN) == -signal.SIGKILL
    finally:
        for process in (watched, watcher):
            process.kill()
            process.wait()


@linux_only
def test_a_watcher_of_a_process_already_gone_dies_at_once():
    gone = python("pass")
    gone.wait()
    watcher = python(WATCHER, str(gone.pid), "pidfd", stdout=subprocess.PIPE, text=True)
    try:
        assert watcher.wait(timeout=GONE_WITHIN) == -signal.SIGKILL
        assert watcher.stdout.read() == ""
    finally:
        watcher.kill()
        watcher.wait()


# --- gradgrade grade killed outright ----------------------------------------------------------------------

# Runs the command below it as its child, as a subreaper: whatever the command starts and leaves behind
# comes back here rather than to init, so the test finds it by walking this process's descendants.
REAPER = """
    import ctypes, os, subprocess, sys, threading
    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    child = subprocess.Popen(sys.argv[1:])
    print(child.pid, flush=True)
    def reap():
        while True:
            try:
                os.wait()
            except ChildProcessError:
                threading.Event().wait(0.05)
    threading.Thread(target=reap, daemon=True).start()
    sys.stdin.read()  # until the test is done with it
"""

SLOW_BACKWARD = """\
# A correct backward pass that takes its time (half a second a call): a class of them is long enough to kill mid-run.
import time
import numpy as np


def backward_propagation_n(X, Y, cache):
    time.sleep(0.5)
    m = X.shape[1]
    (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) = cache
    dZ3 = A3 - Y
    dW3 = 1. / m * np.dot(dZ3, A2.T)
    db3 = 1. / m * np.sum(dZ3, axis=1, keepdims=True)
    dA2 = np.dot(W3.T, dZ3)
    dZ2 = np.multiply(dA2, np.int64(A2 > 0))
    dW2 = 1. / m * np.dot(dZ2, A1.T)
    db2 = 1. / m * np.sum(dZ2, axis=1, keepdims=True)
    dA1 = np.dot(W2.T, dZ2)
    dZ1 = np.multiply(dA1, np.int64(A1 > 0))
    dW1 = 1. / m * np.dot(dZ1, X.T)
    db1 = 1. / m * np.sum(dZ1, axis=1, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2, "dW3": dW3, "db3": db3}
"""


def dask_available() -> bool:
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


@linux_only
@pytest.mark.parametrize("options", [
    pytest.param(["--jobs", "2"], id="local-pool"),
    pytest.param(["--jobs", "5"], id="local-pool-a-fork-server-per-worker"),
    pytest.param(["--scheduler", "local", "--jobs", "2"], id="dask-local",
                 marks=pytest.mark.skipif(not dask_available(), reason="dask is not installed")),
])
def test_a_grade_killed_mid_run_leaves_no_process_and_nothing_held(tmp_path, options):
    folder, temporary = tmp_path / "class", tmp_path / "tmp"
    folder.mkdir()
    temporary.mkdir()
    for index in range(30):
        (folder / f"student{index:02d}.py").write_text(SLOW_BACKWARD)
    reaper = python(REAPER, sys.executable, "-m", "grader", "grade", str(folder), "--out", str(tmp_path / "out"),
                    *options, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True,
                    env={**os.environ, "TMPDIR": str(temporary)})
    everything: list[int] = []
    try:
        grader = int(reaper.stdout.readline())
        line = reaper.stdout.readline()
        while line and not line.startswith("[1/30]"):  # one result in, 29 to go: mid-run
            line = reaper.stdout.readline()
        assert line.startswith("[1/30]")
        everything = descendants(reaper.pid)
        running = [command(pid) for pid in everything]
        assert any("grader.sandbox.forkserver" in text for text in running), running  # the sandbox is at work
        assert sum("multiprocessing" in text for text in running) >= 2, running  # and the pool (or Dask's)
        os.kill(grader, signal.SIGKILL)
        left = wait_until_gone(everything + descendants(reaper.pid))
        assert left == [], [command(pid) for pid in left]
        assert living(descendants(reaper.pid)) == []
        # Nobody holds what they left in the temporary folder: the next run's sweep takes it all.
        scratch.sweep(folders=[str(temporary)], older_than=0)
        assert [entry.name for entry in temporary.iterdir() if entry.name.startswith(scratch.HELD_PREFIXES)] == []
    finally:
        for pid in living(everything + descendants(reaper.pid)):  # only ours: under this test's reaper
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        reaper.stdin.close()
        reaper.kill()
        reaper.wait()
