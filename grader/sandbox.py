"""Run a submission's functions in a child process and bring back their results as data.

Student code never runs in the grader's process. The child gets the source and the calls on stdin,
answers with wire frames on a private pipe, and is killed with its whole process group when a call
overruns its time. Everything the grader concludes, it concludes from decoded arrays in this process.
"""
from __future__ import annotations

import os
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Mapping, Sequence

from grader import wire

COURSE_HELPERS = Path(__file__).resolve().parent / "course"
OUTPUT_LIMIT = 64 * 1024
RESULT_LIMIT = 256 * 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one submission may use: seconds per call, bytes of memory, file size and captured output."""

    timeout: float = 10.0
    memory_bytes: int = 2 * 1024 ** 3
    file_bytes: int = 16 * 1024 ** 2
    output_bytes: int = OUTPUT_LIMIT

    def __post_init__(self) -> None:
        if self.timeout <= 0:
            raise ValueError("timeout must be positive")


@dataclass(frozen=True)
class Ref:
    """An argument that is the value an earlier call of the same run returned (item `item` of it, if set).

    This lets a student's own forward pass feed their backward pass without the values leaving the child.
    """

    call: int
    item: int | None = None

    def marker(self) -> dict[str, list]:
        return {REF_MARKER: [self.call, -1 if self.item is None else self.item]}


REF_MARKER = "__gradgrade_ref__"


def _with_markers(value: Any) -> Any:
    if isinstance(value, Ref):
        return value.marker()
    if isinstance(value, (list, tuple)):
        return type(value)(_with_markers(item) for item in value)
    if isinstance(value, dict):
        return {key: _with_markers(item) for key, item in value.items()}
    return value


@dataclass(frozen=True)
class Call:
    """One call of a student function: its name, arguments, and names for the arguments in messages."""

    function: str
    args: tuple = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    arg_names: tuple[str, ...] = ()


class CallStatus(str, Enum):
    OK = "ok"
    ERROR = "error"
    MISSING = "missing"
    TIMEOUT = "timeout"
    NOT_RUN = "not run"


@dataclass(frozen=True)
class CallOutcome:
    """What one call gave: a value (decoded data), or why there is none; arguments it changed in place."""

    status: CallStatus
    value: Any = None
    message: str = ""
    mutated: tuple[str, ...] = ()


class RunStatus(str, Enum):
    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"


@dataclass(frozen=True)
class SandboxRun:
    """The whole run of one submission in the sandbox."""

    status: RunStatus
    message: str
    defined: tuple[str, ...]
    outcomes: tuple[CallOutcome, ...]
    stdout: str = ""
    stderr: str = ""
    load_error: str | None = None


def _limit_child(limits: Limits) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _exit_reason(returncode: int) -> str:
    if returncode < 0:
        number = -returncode
        name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else str(number)
        meaning = {"SIGSEGV": "a segmentation fault", "SIGKILL": "killed", "SIGABRT": "aborted",
                   "SIGXFSZ": "a file over the size limit", "SIGBUS": "a bus error"}.get(name, "a signal")
        return f"the submission's process died of {name} ({meaning})"
    return f"the submission's process exited with code {returncode} before it finished"


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run(source: str, calls: Sequence[Call], *, filename: str = "submission.py",
        limits: Limits = Limits(), inject: Mapping[str, str] | None = None) -> SandboxRun:
    """Load source in a fresh child and make every call in order; never raises for student behaviour."""
    scratch = tempfile.mkdtemp(prefix="gradgrade-")
    read_end, write_end = os.pipe()
    nonce = os.urandom(wire.NONCE_BYTES)
    job = wire.encode({
        "source": source, "filename": filename, "nonce": nonce.hex(), "result_fd": write_end,
        "helpers": str(COURSE_HELPERS), "inject": dict(inject or {}),
        "calls": [{"function": call.function, "args": _with_markers(tuple(call.args)),
                   "kwargs": _with_markers(dict(call.kwargs))} for call in calls],
    })
    try:
        process = subprocess.Popen(
            [sys.executable, "-I", "-m", "grader.child"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, cwd=scratch, pass_fds=(write_end,), start_new_session=True,
            preexec_fn=lambda: _limit_child(limits))
    finally:
        os.close(write_end)
    try:
        return _supervise(process, read_end, job, nonce, calls, limits)
    finally:
        _kill_group(process)
        process.wait()
        os.close(read_end)
        shutil.rmtree(scratch, ignore_errors=True)


def _supervise(process: subprocess.Popen, read_end: int, job: bytes, nonce: bytes,
               calls: Sequence[Call], limits: Limits) -> SandboxRun:
    selector = selectors.DefaultSelector()
    buffers = {"stdout": bytearray(), "stderr": bytearray(), "result": bytearray()}
    caps = {"stdout": limits.output_bytes, "stderr": limits.output_bytes, "result": RESULT_LIMIT}
    selector.register(process.stdout, selectors.EVENT_READ, "stdout")
    selector.register(process.stderr, selectors.EVENT_READ, "stderr")
    selector.register(read_end, selectors.EVENT_READ, "result")
    try:
        process.stdin.write(job)
        process.stdin.close()
    except (BrokenPipeError, OSError):
        pass
    seen_frames = 0
    deadline = time.monotonic() + limits.timeout
    timed_out = False
    while selector.get_map():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            _kill_group(process)
            break
        for key, _ in selector.select(timeout=min(remaining, 0.5)):
            stream = key.data
            fd = key.fd if stream == "result" else key.fileobj.fileno()
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                selector.unregister(key.fileobj)
                continue
            room = caps[stream] - len(buffers[stream])
            if room > 0:
                buffers[stream] += chunk[:room]
            if stream == "result":
                count = sum(1 for _ in wire.frames(bytes(buffers["result"]), nonce))
                if count > seen_frames:
                    seen_frames = count
                    deadline = time.monotonic() + limits.timeout
    selector.close()
    if not timed_out:
        try:
            process.wait(timeout=limits.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
    return _collect(process, buffers, nonce, calls, limits, timed_out)


def _text(data: bytearray, cap: int) -> str:
    text = bytes(data).decode("utf-8", errors="replace")
    if len(data) >= cap:
        text += f"\n[output truncated at {cap // 1024} KiB]"
    return text


def _collect(process: subprocess.Popen, buffers: dict[str, bytearray], nonce: bytes,
             calls: Sequence[Call], limits: Limits, timed_out: bool) -> SandboxRun:
    messages = []
    for payload in wire.frames(bytes(buffers["result"]), nonce):
        try:
            messages.append(wire.decode(payload))
        except wire.WireError:
            continue
    loaded = next((m for m in messages if isinstance(m, dict) and m.get("kind") == "loaded"), None)
    results = {m["index"]: m for m in messages if isinstance(m, dict) and m.get("kind") == "result"}
    done = any(isinstance(m, dict) and m.get("kind") == "done" for m in messages)
    outcomes = []
    for index, call in enumerate(calls):
        message = results.get(index)
        if message is None:
            outcomes.append(CallOutcome(CallStatus.TIMEOUT if timed_out else CallStatus.NOT_RUN))
            continue
        mutated = tuple(call.arg_names[int(item)] if item.isdigit() and int(item) < len(call.arg_names)
                        else item for item in message.get("mutated", []))
        outcomes.append(CallOutcome(CallStatus(message["status"]), message.get("value"),
                                    message.get("message", ""), mutated))
    if timed_out:
        status = RunStatus.TIMEOUT
        text = f"the submission ran longer than the {limits.timeout:g} s allowed for a call and was stopped"
    elif not done:
        status, text = RunStatus.ERROR, _exit_reason(process.returncode)
        if b"MemoryError" in buffers["stderr"]:
            text += f"; it ran out of memory (the limit is {limits.memory_bytes // 1024 ** 2} MiB)"
    else:
        status, text = RunStatus.OK, ""
    return SandboxRun(
        status=status, message=text, defined=tuple(loaded["defined"]) if loaded else (),
        outcomes=tuple(outcomes), stdout=_text(buffers["stdout"], limits.output_bytes),
        stderr=_text(buffers["stderr"], limits.output_bytes), load_error=loaded["error"] if loaded else None)
