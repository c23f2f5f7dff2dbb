"""The child's job loop: loading a submission statement by statement, and one-line accounts of what it raised."""
from __future__ import annotations

import errno

from grader.sandbox import child, containment


def test_loading_reports_the_first_line_of_each_statement_that_failed():
    source = ("import math\nEPS = undefined_name\n\ndef f(x,\n      e=EPS):\n    return x\n\n"
              "def g():\n    return 1\n\nraise SystemExit(3)\n\ndef h():\n    return 2\n")
    failures: list = []
    namespace: dict = {}
    summary = child.load(source, "s.py", namespace, memory_bytes=None, failures=failures)
    assert [line for line, _ in failures] == [2, 4, 11]
    assert failures[1][1].startswith("NameError: name 'EPS' is not defined (line 5)")
    assert failures[2][1] == "the submission called exit(3) (line 11)"
    assert "g" in namespace and "h" not in namespace and summary.endswith("(and 2 more statement(s) failed)")


def _refused_fork() -> BlockingIOError:
    try:
        raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")
    except BlockingIOError as error:
        return error


def test_a_fork_the_process_limit_refuses_is_reported_as_refused(monkeypatch):
    # Run as a user other than root, RLIMIT_NPROC = 0 makes the kernel refuse a fork that raised no audit
    # event (a fresh copy of a built-in _posixsubprocess): EAGAIN, which alone reads like a busy machine.
    monkeypatch.setattr(containment, "processes_refused", True)
    message = child.describe(_refused_fork(), "submission.py")
    assert message.startswith("PermissionError: gradgrade sandbox: starting a process is not allowed")
    assert "process limit" in message and "temporarily unavailable" not in message


def test_eagain_without_the_process_limit_is_described_as_raised(monkeypatch):
    monkeypatch.setattr(containment, "processes_refused", False)
    assert child.describe(_refused_fork(), "submission.py") == (
        "BlockingIOError: [Errno 11] Resource temporarily unavailable")
