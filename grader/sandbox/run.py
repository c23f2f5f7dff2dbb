"""Run a submission's functions in a contained child process and bring back their results as data.

Student code never runs in the grader's process. A child (forked by grader.sandbox.forkserver on Linux, started
as `python -I -m grader.child` elsewhere on POSIX) gets the source and the calls on stdin, contains
itself before any student code runs (its own session and PID namespace, rlimits, an empty network
namespace, a read-only file system but for its scratch folder, an audit hook; see grader.sandbox.containment),
answers with wire frames on a private pipe, and is killed with its whole process group when a call
overruns its time. Everything the grader concludes, it concludes from decoded arrays in this process.
"""
from __future__ import annotations

import hashlib
import math
import os
import selectors
import shutil
import signal
import time
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from grader.sandbox import scratch, wire
from grader.results import Capped
from grader.sandbox.children import Child, spawn
from grader.sandbox.forkclient import fork_server
from grader.sandbox.output import (RESULT_PIPE_BYTES, clipped, decode_all, drain, exit_reason, opaque_capped,
                                   output_capped, read_available, text_of)

OUTPUT_LIMIT = 64 * 1024
RESULT_LIMIT = 64 * 1024 * 1024
RESULT_POLL = 0.05  # seconds between reads of the result pipe while nothing else wakes the grader
F_SETPIPE_SZ = 1031


@dataclass(frozen=True)
class Limits:
    """What one submission may use: seconds per call and in all, bytes of memory, file size and captured output.

    A call's seconds count from when the grader read the previous call's result, at most RESULT_POLL
    after it came; total_timeout (None: no limit but the calls' own) counts from the child's start, so
    a submission slow in every call stops there instead of holding its worker for every call's timeout.

    processes=True lets the submission fork and call C functions through ctypes (the audit hook and the
    process-count limit step aside); it exists only so tests can show the layers under the hook at work:
    a timeout killing a whole process group, the kernel refusing a write outside scratch.
    """

    timeout: float = 10.0
    total_timeout: float | None = None
    memory_bytes: int = 2 * 1024 ** 3
    file_bytes: int = 16 * 1024 ** 2
    output_bytes: int = OUTPUT_LIMIT
    processes: bool = False

    def __post_init__(self) -> None:
        if self.timeout <= 0 or (self.total_timeout is not None and self.total_timeout <= 0):
            raise ValueError("timeout and total_timeout must be positive")
        if self.memory_bytes <= 0 or self.file_bytes <= 0 or self.output_bytes <= 0:
            raise ValueError("memory_bytes, file_bytes and output_bytes must be positive")

    def for_child(self, calls: int) -> dict[str, Any]:
        """The limits the child sets on itself; CPU seconds back up the grader's clock if it dies."""
        seconds = self.timeout * (calls + 1)
        if self.total_timeout is not None:
            seconds = min(seconds, self.total_timeout)
        return {"memory_bytes": self.memory_bytes, "file_bytes": self.file_bytes, "processes": self.processes,
                "cpu_seconds": int(math.ceil(seconds)) + 1}


@dataclass(frozen=True)
class Ref:
    """An argument that is the value an earlier call of the same run returned (item `item` of it, if set).

    This lets a student's own forward pass feed their backward pass without the values leaving the child.
    """

    call: int
    item: int | None = None

    def marker(self) -> dict[str, list]:
        return {wire.REF_MARKER: [self.call, -1 if self.item is None else self.item]}


def _holds_ref(value: Any) -> bool:
    """Whether value holds a Ref, or the marker one becomes, anywhere inside."""
    if isinstance(value, Ref):
        return True
    if isinstance(value, (list, tuple)):
        return any(_holds_ref(item) for item in value)
    if isinstance(value, dict):
        return set(value) == {wire.REF_MARKER} or any(_holds_ref(item) for item in value.values())
    return False


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
    # {name: source}: our own definitions (a known-bad backward pass) that replace the submission's
    # global `name` for this call only, so a student's checker can be run on a mutant.
    bind: Mapping[str, str] = field(default_factory=dict)
    # (back, bound): run only when the call `back` places before this one returned a number in [0, bound),
    # read as the grader reads a checker's difference; otherwise the outcome is NOT_RUN. A probe whose
    # reading could not count then costs nothing.
    only_if_below: tuple[int, float] | None = None
    # Call the submission's own definition only: where the name is still gradgrade's injected course
    # helper, the outcome is MISSING without a call (grading our own helper would tell nothing).
    own_only: bool = False
    # Send back only the first item of a tuple or list the call returns (a forward pass's cost, without
    # the dozen arrays of its cache that the grader would decode only to drop).
    first_only: bool = False
    # Functions of the submission (the forward pass a checker calls over and over) whose results the
    # child may reuse for byte-identical arguments, from this call to the next (see grader.reuse).
    reuse: tuple[str, ...] = ()
    # The names of the last len(optional) positional arguments, which the child fits to the signature the
    # student wrote: by keyword where it has that parameter, by position where it takes one more, left out
    # otherwise (a checker written without an epsilon parameter); CallOutcome.omitted says which were left out.
    optional: tuple[str, ...] = ()
    # A model's method: `function` names a class made as function(**init), `attributes` set on it, `method` called.
    method: str | None = None
    init: Mapping[str, Any] = field(default_factory=dict)
    attributes: Mapping[str, Any] = field(default_factory=dict)


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
    omitted: tuple[str, ...] = ()  # optional arguments the function's signature has no place for


class RunStatus(str, Enum):
    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"


@dataclass(frozen=True)
class SandboxRun:
    """The whole run of one submission in the sandbox; pid is the child's (its process group's) id.

    isolation lists the layers the child set up before student code ran, as the child reported them
    after loading (informational: nothing is graded on it).
    """

    status: RunStatus
    message: str
    defined: tuple[str, ...]
    outcomes: tuple[CallOutcome, ...]
    stdout: str = ""
    stderr: str = ""
    load_error: str | None = None
    pid: int | None = None
    returncode: int | None = None
    isolation: tuple[tuple[str, str], ...] = ()
    # What came back cut: output past its limit, a long repr of a value that is not data, long error text.
    capped: tuple[Capped, ...] = ()
    load_failures: tuple[tuple[int, str], ...] = ()

    def relabelled(self, relabel: Callable[[str], str]) -> "SandboxRun":
        """This run with every message passed through relabel (e.g. program lines to notebook cells); load_failures
        keep their program line (the statement that failed starts there): only their messages change."""
        outcomes = tuple(replace(outcome, message=relabel(outcome.message)) for outcome in self.outcomes)
        load_error = relabel(self.load_error) if self.load_error is not None else None
        failures = tuple((line, relabel(message)) for line, message in self.load_failures)
        return replace(self, message=relabel(self.message), outcomes=outcomes, load_error=load_error,
                       load_failures=failures)


# --- how a child is started: the fork server on Linux, a fresh interpreter elsewhere on POSIX -------------

def _start(fds: tuple[int, int, int, int], job: dict[str, Any],
           calls: Sequence[Call]) -> tuple[Child, dict[str, Any], scratch.Held | None]:
    """Start a child and complete its job; also the scratch folder made for the run, which the caller
    removes and releases.

    A forked child finds the calls in its fork server (sent there once, see plan_of), and mounts a
    private scratch folder of its own where the server can; a spawned one gets the calls in the job
    and a folder made here.
    """
    server = fork_server()
    if server is not None:
        plan = plan_of(calls)  # before anything is made or started: a WireError here leaves nothing behind
        made = None if server.private_scratch else scratch.make(scratch.RUN_PREFIX)
        try:
            started = server.start(fds, scratch=made and made.path, plan=plan)
            return started, {**job, "result_fd": 3, "scratch": made.path if made else server.private_scratch,
                             "private_scratch": made is None}, made
        except OSError:
            if made:
                made.remove()
    wired = _wire_calls(calls)
    made = scratch.make(scratch.RUN_PREFIX)
    try:
        started = spawn(*fds)
    except BaseException:
        made.remove()
        raise
    return started, {**job, "result_fd": fds[3], "scratch": made.path, "calls": wired}, made


# --- one run -------------------------------------------------------------------------------------------

# Encoded arguments by Call, for as long as the Call lives: a batch grades every submission with the
# same Call objects (pipeline builds a plan once per settings), so their arrays are encoded once.
_PAYLOADS: dict[int, tuple[Call, np.ndarray, bool]] = {}
_PAYLOAD_CACHE_SIZE = 1024


def payload(call: Call) -> tuple[np.ndarray, bool]:
    """A call's arguments in wire format, as bytes in a uint8 array: the child decodes them only when the
    function exists, so a submission without a checker does not pay for the checker's probes. Also
    whether they hold what earlier calls returned: the child resolves only the arguments that do."""
    cached = _PAYLOADS.get(id(call))
    if cached is not None and cached[0] is call:
        return cached[1], cached[2]
    arguments = {"args": _with_markers(tuple(call.args)), "kwargs": _with_markers(dict(call.kwargs)),
                 **({"init": dict(call.init), "attributes": dict(call.attributes)} if call.method else {})}
    data = wire.encode(arguments, exact=True)
    encoded, refs = np.frombuffer(data, dtype=np.uint8), _holds_ref((call.args, dict(call.kwargs)))
    if len(_PAYLOADS) >= _PAYLOAD_CACHE_SIZE:
        _PAYLOADS.clear()
    _PAYLOADS[id(call)] = (call, encoded, refs)
    return encoded, refs


def _wire_calls(calls: Sequence[Call]) -> list[dict[str, Any]]:
    return [{"function": call.function, "payload": encoded, "bind": dict(call.bind),
             "only_if_below": call.only_if_below, "own_only": call.own_only, "first_only": call.first_only,
             "reuse": list(call.reuse), "refs": refs, "optional": list(call.optional), "method": call.method}
            for call, (encoded, refs) in zip(calls, map(payload, calls))]


# Each list of calls in wire format with its key, for as long as its Calls live (a batch makes the same
# calls, the same Call objects, for every submission).
_PLANS: dict[tuple[int, ...], tuple[tuple[Call, ...], tuple[str, bytes]]] = {}
_PLAN_CACHE_SIZE = 16


def plan_of(calls: Sequence[Call]) -> tuple[str, bytes]:
    """The calls in wire format, and a key naming them (their SHA-256).

    A fork server is sent each plan once: it decodes the arguments once, and every child it forks after
    inherits them decoded, where each child would otherwise read and decode the same arguments again.
    """
    ids = tuple(id(call) for call in calls)
    cached = _PLANS.get(ids)
    if cached is not None and all(a is b for a, b in zip(cached[0], calls)):
        return cached[1]
    data = wire.encode(_wire_calls(calls), exact=True)
    plan = (hashlib.sha256(data).hexdigest(), data)
    if len(_PLANS) >= _PLAN_CACHE_SIZE:
        _PLANS.clear()
    _PLANS[ids] = (tuple(calls), plan)
    return plan


def _widen(fd: int) -> None:
    """Let the result pipe hold RESULT_PIPE_BYTES where the platform allows (Linux), so a child rarely waits."""
    try:
        import fcntl

        fcntl.fcntl(fd, F_SETPIPE_SZ, RESULT_PIPE_BYTES)
    except (ImportError, OSError):
        pass


def run(source: str, calls: Sequence[Call], *, filename: str = "submission.py",
        limits: Limits = Limits(), inject: Mapping[str, str] | None = None, modules: Mapping[str, str] | None = None) -> SandboxRun:
    """Load source in a fresh contained child and make every call in order; never raises for student behaviour.

    inject maps names to "module:attribute" of course helpers put in the namespace before the source runs;
    modules maps module names to the source of modules it may import (an assignment's helpers), made first.
    """
    if os.name != "posix":
        return SandboxRun(RunStatus.ERROR, "gradgrade's sandbox needs Linux or macOS (on Windows, run it under WSL)",
                          (), tuple(CallOutcome(CallStatus.NOT_RUN) for _ in calls))
    nonce = os.urandom(wire.NONCE_BYTES)
    pipes = [os.pipe() for _ in range(4)]  # stdin, stdout, stderr, result
    _widen(pipes[3][0])
    child_ends = (pipes[0][0], pipes[1][1], pipes[2][1], pipes[3][1])
    job = {
        "source": source, "filename": filename, "nonce": nonce.hex(),
        "limits": limits.for_child(len(calls)), "inject": dict(inject or {}), "modules": dict(modules or {}),
    }
    child, made = None, None
    ours = {pipes[0][1], pipes[1][0], pipes[2][0], pipes[3][0]}  # closed exactly once, even across threads
    try:
        try:
            child, job, made = _start(child_ends, job, calls)
            # Exact: the source, its name and every argument arrive whole, at any size, or nothing runs.
            sent = wire.encode(job, exact=True)
        except OSError as error:
            return SandboxRun(RunStatus.ERROR, f"gradgrade could not start the sandbox: {error}", (),
                              tuple(CallOutcome(CallStatus.NOT_RUN) for _ in calls))
        except wire.WireError as error:  # gradgrade's own calls are at fault, never the submission
            return SandboxRun(RunStatus.ERROR, f"gradgrade could not send the submission its job: {error}", (),
                              tuple(CallOutcome(CallStatus.NOT_RUN) for _ in calls))
        for fd in child_ends:
            os.close(fd)
        child_ends = ()
        return _supervise(child, pipes[0][1], pipes[1][0], pipes[2][0], pipes[3][0], sent, nonce,
                          calls, limits, ours)
    finally:
        if child is not None:
            child.kill()
        for fd in (*child_ends, *ours):
            os.close(fd)
        if made is not None:
            shutil.rmtree(made.path, ignore_errors=True)
        if child is not None:
            if made is not None and os.path.exists(made.path):  # something of the child was still writing as it died
                child.wait(timeout=1.0)
                shutil.rmtree(made.path, ignore_errors=True)
            child.close()
        if made is not None:
            made.release()  # whatever is left of it, a later sweep removes


def _supervise(child: Child, stdin: int, stdout: int, stderr: int, result: int, job: bytes, nonce: bytes,
               calls: Sequence[Call], limits: Limits, ours: set[int]) -> SandboxRun:
    selector = selectors.DefaultSelector()
    outputs = {"stdout": bytearray(), "stderr": bytearray()}
    sizes = {"stdout": 0, "stderr": 0}  # every byte read, kept or not: a cut output says of how much
    reader = wire.FrameReader(nonce, max_frame=RESULT_LIMIT)
    messages: list[dict] = []
    received = 0
    done = False
    for fd, name in ((stdout, "stdout"), (stderr, "stderr")):
        os.set_blocking(fd, False)
        selector.register(fd, selectors.EVENT_READ, name)
    # The results are read when something else wakes this thread (output, the child closing its output
    # as it finishes) or every RESULT_POLL seconds, not as each arrives: a wakeup per result costs both
    # processes a switch, and the pipe holds them meanwhile.
    os.set_blocking(result, False)
    result_open = True
    os.set_blocking(stdin, False)
    selector.register(stdin, selectors.EVENT_WRITE, "stdin")
    pending = memoryview(job)
    started = time.monotonic()
    deadline = started + limits.timeout
    last = started + limits.total_timeout if limits.total_timeout is not None else math.inf
    timed_out = over_total = False
    while (selector.get_map() or result_open) and not done:
        now = time.monotonic()
        remaining = min(deadline, last) - now
        if remaining <= 0:
            timed_out, over_total = True, now >= last
            child.kill()
            break
        wait = min(remaining, RESULT_POLL)
        if selector.get_map():
            events = selector.select(timeout=wait)
        else:  # the child has closed its output and stdin, and may still send results
            time.sleep(wait)
            events = []
        if result_open:
            chunks, result_open = read_available(result)
            for chunk in chunks:
                received += len(chunk)
                fresh = decode_all(reader.feed(chunk))
                if fresh:
                    messages += fresh
                    deadline = time.monotonic() + limits.timeout
                    done = done or any(message.get("kind") == "done" for message in fresh)
            if received >= RESULT_LIMIT:
                # More results than any gradient needs: stop the child instead of reading on.
                child.kill()
                for fd in list(selector.get_map()):
                    selector.unregister(fd)
                break
        for key, _ in events:
            if key.data == "stdin":
                try:
                    pending = pending[os.write(stdin, pending[:1 << 16]):]
                except BlockingIOError:
                    continue
                except OSError:  # the child closed its stdin (BrokenPipeError): stop writing the job
                    pending = pending[:0]
                if not pending:
                    # The child reads the job to its end: closing is what tells it the job is complete.
                    selector.unregister(stdin)
                    ours.discard(stdin)
                    os.close(stdin)
                continue
            try:
                chunk = os.read(key.fd, 1 << 16)
            except BlockingIOError:
                continue
            if not chunk:
                selector.unregister(key.fd)
                continue
            sizes[key.data] += len(chunk)
            # One byte past the cap is kept only to remember that there was more.
            room = limits.output_bytes + 1 - len(outputs[key.data])
            if room > 0:
                outputs[key.data] += chunk[:room]
    returncode = None
    if done:
        # The child flushed its output before "done": what is left is already in the pipes. Its exit
        # status adds nothing, so the run ends here and the child is killed while it tears down.
        for key in list(selector.get_map().values()):
            if key.data in outputs:
                sizes[key.data] += drain(key.fd, outputs[key.data], limits.output_bytes)
    elif not timed_out:
        returncode = child.wait(timeout=limits.timeout)
        if returncode is None:
            timed_out = True
    selector.close()
    return _collect(child, returncode, outputs, messages, calls, limits, timed_out,
                    overflow=received >= RESULT_LIMIT, over_total=over_total, sizes=sizes)


def _outcome(message: dict | None, call: Call, timed_out: bool) -> CallOutcome:
    if message is None:
        return CallOutcome(CallStatus.TIMEOUT if timed_out else CallStatus.NOT_RUN)
    try:
        status = CallStatus(message.get("status"))
    except ValueError:
        return CallOutcome(CallStatus.ERROR, message="the child sent a result gradgrade does not understand")
    names = call.arg_names
    mutated = tuple(names[int(item)] if str(item).isdigit() and int(item) < len(names) else str(item)
                    for item in message.get("mutated", []) or [])
    omitted = tuple(str(name) for name in message.get("omitted", []) or [] if str(name) in call.optional)
    return CallOutcome(status, message.get("value"), str(message.get("message", "")), mutated, omitted)


def _collect(child: Child, returncode: int | None, outputs: dict[str, bytearray], messages: list[dict],
             calls: Sequence[Call], limits: Limits, timed_out: bool, *, overflow: bool = False,
             over_total: bool = False, sizes: Mapping[str, int] | None = None) -> SandboxRun:
    loaded = next((m for m in messages if m.get("kind") == "loaded"), None)
    results = {m.get("index"): m for m in messages if m.get("kind") == "result"}
    done = any(m.get("kind") == "done" for m in messages)
    outcomes = tuple(_outcome(results.get(index), call, timed_out) for index, call in enumerate(calls))
    if timed_out:
        status = RunStatus.TIMEOUT
        allowed = (f"{limits.total_timeout:g} s allowed for the whole submission" if over_total
                   else f"{limits.timeout:g} s allowed for a call")
        text = f"the submission ran longer than the {allowed} and was stopped"
    elif overflow and not done:
        status = RunStatus.ERROR
        text = f"the submission returned more than the {RESULT_LIMIT // 1024 ** 2} MiB of results gradgrade reads"
    elif not done:
        status, text = RunStatus.ERROR, exit_reason(returncode)
        if b"MemoryError" in outputs["stderr"] or returncode == -signal.SIGKILL:
            text += f"; it may have run out of memory (the limit is {limits.memory_bytes // 1024 ** 2} MiB)"
    else:
        status, text = RunStatus.OK, ""
    defined = loaded.get("defined") if loaded else None
    load_error = loaded.get("error") if loaded else None
    isolation = loaded.get("isolation") if loaded else None
    layers = tuple((str(k), str(v)) for k, v in isolation.items()) if isinstance(isolation, dict) else ()
    sizes = sizes or {name: len(data) for name, data in outputs.items()}
    capped = [item for name in ("stdout", "stderr")
              for item in output_capped(name, outputs[name], limits.output_bytes, sizes[name])]
    if load_error is not None:
        capped += clipped("the error loading the submission", str(load_error))
    for call, outcome in zip(calls, outcomes):
        capped += clipped(f"the error message of {call.function}", outcome.message)
        if outcome.value is not None:
            capped += opaque_capped(f"{call.function} returned", outcome.value)
    failures = loaded.get("failures") if loaded else None
    load_failures = tuple((entry[0], str(entry[1])) for entry in (failures if isinstance(failures, list) else ())
                          if isinstance(entry, list) and len(entry) == 2 and type(entry[0]) is int)
    return SandboxRun(
        status=status, message=text, defined=tuple(str(name) for name in defined or ()), outcomes=outcomes,
        stdout=text_of(outputs["stdout"], limits.output_bytes, sizes["stdout"]),
        stderr=text_of(outputs["stderr"], limits.output_bytes, sizes["stderr"]),
        load_error=str(load_error) if load_error is not None else None, pid=child.pid, returncode=returncode,
        isolation=layers, capped=tuple(dict.fromkeys(capped)), load_failures=load_failures)
