"""A started child as the grader sees it (its pid, a kill of its group, its return code); and one spawned with a fresh interpreter where there is no fork server."""
from __future__ import annotations

import os
import signal
import subprocess

from grader.sandbox.forkclient import child_environment, python_command
from grader.sandbox.processes import kill_group


class Child:
    """A started child: its pid (also its process group id), a way to kill the group, its return code."""

    pid: int

    def kill(self) -> None:
        raise NotImplementedError

    def wait(self, timeout: float) -> int | None:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the grader holds for this child."""


class SpawnedChild(Child):
    def __init__(self, process: subprocess.Popen) -> None:
        self.process, self.pid = process, process.pid

    def kill(self) -> None:
        if self.process.poll() is None:
            kill_group(self.pid)
        else:
            # The leader is gone; members of its group may not be (the group id stays theirs).
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def wait(self, timeout: float) -> int | None:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def close(self) -> None:
        self.wait(timeout=1.0)  # reap it


def spawn(stdin: int, stdout: int, stderr: int, result: int) -> SpawnedChild:
    process = subprocess.Popen(
        python_command("grader.sandbox.child"), stdin=stdin, stdout=stdout, stderr=stderr,
        pass_fds=(result,), start_new_session=True, env=child_environment())
    return SpawnedChild(process)
