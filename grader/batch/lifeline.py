"""A process gradgrade starts dies with the gradgrade process it works for, even one killed outright.

A pool worker's parent is multiprocessing's fork server, not the grader, and every worker holds the
pipes that would tell the fork server, the resource tracker and gradgrade's own fork server that the
grader is gone: killed with `kill -9`, the grader left all of them running, each waiting on the others.
A worker therefore watches the grader itself (a pidfd on Linux, which becomes readable when the process
ends, whichever thread started what) and kills itself when it ends; the pipes it held close, and the
rest follows (see README, "What is isolated"). Imports nothing of gradgrade's.
"""
from __future__ import annotations

import os
import select
import signal
import threading
import time

POLL_SECONDS = 0.5  # how often a process without pidfds (Linux before 5.3, macOS) looks for its grader


def _end() -> None:
    os.kill(os.getpid(), signal.SIGKILL)  # no cleanup: whatever it held, the next run's sweep removes


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def die_with(pid: int) -> None:
    """End this process (SIGKILL) as soon as process pid ends; at once if it has ended already."""
    if pid == os.getpid():
        return
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        _end()
        return
    except (AttributeError, OSError):  # no pidfds here: look now and then instead
        fd = None

    def watch() -> None:
        if fd is not None:
            select.select([fd], [], [])  # readable once the process has ended
        else:
            while _alive(pid):
                time.sleep(POLL_SECONDS)
        _end()

    threading.Thread(target=watch, name="gradgrade-lifeline", daemon=True).start()
