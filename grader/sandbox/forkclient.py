"""The grader's side of the fork server: start, share, adopt and shut down this process's server, and ask it for a child.

One server per grader process, shared by its threads, and by a pool's workers (share_fork_server,
adopt_fork_server); the server process itself is grader.sandbox.forkserver.
"""
from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import threading
from typing import Sequence

from grader.sandbox import scratch
from grader.sandbox.processes import kill_group

SERVER_START_TIMEOUT = 60.0
# One BLAS thread: the arrays are tiny, and a forked child must not inherit a thread pool.
CHILD_ENVIRONMENT = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                     "PYTHONHASHSEED": "0"}
# Only these of the grader's variables reach a child: the rest may hold an instructor's tokens.
PASSED_VARIABLES = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "SYSTEMROOT")


# The sandbox's processes run the very copy of gradgrade that started them (a checkout, installed or not, or
# one of several), in isolated mode all the same: no PYTHON* variables, no user site, no current folder.
_BOOT = ("import sys; sys.path.insert(0, sys.argv[1]); module = sys.argv[2]; del sys.argv[1:3]; "
         "import runpy; runpy.run_module(module, run_name='__main__', alter_sys=True)")


def python_command(module: str, *arguments: str) -> list[str]:
    """The command that runs one of gradgrade's modules as `python -I -m module arguments` would, from the
    folder this gradgrade was imported from (guard.python_path keeps that folder from the submission)."""
    return [sys.executable, "-I", "-c", _BOOT, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
            module, *arguments]


def child_environment() -> dict[str, str]:
    """The environment of the fork server and of every child: a few harmless variables, no secrets."""
    return {**{name: os.environ[name] for name in PASSED_VARIABLES if name in os.environ}, **CHILD_ENVIRONMENT}


def _receive(run_socket: socket.socket) -> dict:
    """The server's next message on a socket; {} if none came in time, or it closed, or it was garbled."""
    try:
        return json.loads(run_socket.recv(4096) or b"{}")
    except (OSError, ValueError):
        return {}


class ForkedChild:
    """A child the server forked, as the grader sees it: its pid, a kill, its return code."""

    def __init__(self, run_socket: socket.socket, pid: int) -> None:
        self.run_socket, self.pid, self.returncode = run_socket, pid, None

    def kill(self) -> None:
        # Safe until the server reports the exit: it reaps the leader only after killing the group itself.
        if self.returncode is None:
            kill_group(self.pid)

    def wait(self, timeout: float) -> int | None:
        if self.returncode is None:
            self.run_socket.settimeout(timeout)
            message = _receive(self.run_socket)
            if "exit" in message:
                self.returncode = int(message["exit"])
        return self.returncode

    def close(self) -> None:
        # Closing before the exit is reported tells the server to kill the group itself.
        self.run_socket.close()


class ForkServer:
    """The grader's side of a fork server process: one per grader process, shared by its threads and by the
    processes it is shared with (each request is one message, so several clients' requests never mix)."""

    def __init__(self, *, shared: tuple[socket.socket, str | None] | None = None) -> None:
        """Launch a server; or, given shared (its control socket and private scratch folder, from
        share_fork_server), be a client of a ready server that another gradgrade process launched."""
        self.process: subprocess.Popen | None = None
        if shared is None:
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            try:
                self.process = subprocess.Popen(
                    python_command("grader.sandbox.forkserver", str(theirs.fileno())), pass_fds=(theirs.fileno(),),
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    start_new_session=True, env=child_environment())
            finally:
                theirs.close()
        self.control = ours if shared is None else shared[0]
        self.lock = threading.Lock()
        self.plans: set[str] = set()  # the keys of the plans sent to this server
        self.ready = shared is not None
        # The folder each child mounts a private tmpfs on as its scratch folder, or None: a folder per run.
        self.private_scratch: str | None = None if shared is None else shared[1]

    def wait_ready(self) -> None:
        """Wait for the server's word that it is ready (once); OSError, the server closed, if it never comes."""
        if self.ready:
            return
        self.control.settimeout(SERVER_START_TIMEOUT)
        ready = _receive(self.control)
        self.control.settimeout(None)
        if not isinstance(ready, dict) or ready.get("ready") is not True:
            self.close()
            raise OSError("the fork server did not start")
        self.private_scratch = ready.get("private_scratch") or None
        self.ready = True

    def start(self, fds: Sequence[int], *, scratch: str | None = None,
              plan: tuple[str, bytes] | None = None) -> ForkedChild:
        """Fork a child with these stdin, stdout, stderr and result descriptors, and the calls of plan
        ((key, calls in wire format), sent to the server the first time only).

        The server removes scratch if the grader goes away before the run ends.
        """
        request = {"scratch": scratch} if scratch else {}
        if plan is not None:
            request["plan"] = plan[0]
        started = self._start(fds, request, plan)
        if started is None and plan is not None:
            # The server keeps MAX_PLANS plans and lets the oldest go: send this one again, once.
            with self.lock:
                self.plans.discard(plan[0])
            started = self._start(fds, request, plan)
        if started is None:
            raise OSError("the fork server did not start a child")
        return started

    def _start(self, fds: Sequence[int], request: dict, plan: tuple[str, bytes] | None) -> ForkedChild | None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            with self.lock:
                if plan is not None and plan[0] not in self.plans:
                    self._send_plan(*plan)
                socket.send_fds(self.control, [json.dumps(request).encode()], [theirs.fileno(), *fds])
        finally:
            theirs.close()
        ours.settimeout(SERVER_START_TIMEOUT)
        message = _receive(ours)
        if "pid" not in message:
            ours.close()
            return None
        return ForkedChild(ours, int(message["pid"]))

    def _send_plan(self, key: str, data: bytes) -> None:
        # In a memory file: a plan can be larger than one message on the control socket.
        fd = os.memfd_create("gradgrade-plan", os.MFD_CLOEXEC)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.lseek(fd, 0, os.SEEK_SET)
            socket.send_fds(self.control, [json.dumps({"plan": key}).encode()], [fd])
        finally:
            os.close(fd)
        self.plans.add(key)

    def alive(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        # A shared server is not this process's child: its end of the socket closes when it exits.
        poller = select.poll()
        poller.register(self.control, select.POLLIN)
        return not any(events & (select.POLLHUP | select.POLLERR | select.POLLNVAL) for _, events in poller.poll(0))

    def close(self) -> None:
        self.control.close()
        if self.process is None:  # shared: the process that launched it stops it
            return
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()


_server: ForkServer | None = None
_server_pid: int | None = None
_server_lock = threading.Lock()


def _forget_server() -> None:
    """In a process just forked from this one (a pool worker): the parent's server and lock are not ours."""
    global _server, _server_pid, _server_lock
    _server_lock = threading.Lock()  # another thread may have held it at the fork
    if _server is not None:
        try:
            _server.control.close()  # the parent's server must not live on because this worker holds its socket
        except OSError:
            pass
    _server, _server_pid = None, None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_server)


def shutdown_fork_server() -> None:
    """Stop this process's fork server (it kills any child still running); the next run starts a new one."""
    global _server, _server_pid
    with _server_lock:
        if _server is not None and _server_pid == os.getpid():
            _server.close()
        _server, _server_pid = None, None


def fork_server() -> ForkServer | None:
    """This process's fork server, started on first use, ready; None where there is none (not Linux, or it
    failed)."""
    global _server, _server_pid
    with _server_lock:
        server = _launched()
        if server is not None and not server.ready:
            try:
                server.wait_ready()
            except OSError:
                _server, _server_pid = None, None
                return None
        return server


def share_fork_server() -> tuple[socket.socket, str | None] | None:
    """What another process needs to use this process's fork server too (adopt_fork_server): the server's
    control socket and private scratch folder, once it is ready; None where there is none.

    A pool's workers share their maker's server: it boots while the pool does, and one server forks for
    them all rather than one each."""
    server = fork_server()
    return None if server is None else (server.control, server.private_scratch)


def adopt_fork_server(control: socket.socket, private_scratch: str | None) -> None:
    """Take the fork server another process shares (share_fork_server) as this process's own, unless it has
    a live one already. Should the shared server go away, the next run starts one of this process's own."""
    global _server, _server_pid
    with _server_lock:
        if _server is not None and _server_pid == os.getpid() and _server.alive():
            control.close()
            return
        _server, _server_pid = ForkServer(shared=(control, private_scratch)), os.getpid()


def start_fork_server() -> None:
    """Start this process's fork server now, without waiting for it: a grader with work to do before its
    first run (the assignment's probes and expected gradients) has the server's start behind it by then,
    where there is a core to spare. fork_server() waits for it when it is needed."""
    with _server_lock:
        _launched()


def _launched() -> ForkServer | None:
    """This process's fork server, launched if it is not running, perhaps not ready yet; call with _server_lock."""
    global _server, _server_pid
    if not sys.platform.startswith("linux") or os.environ.get("GRADGRADE_SANDBOX") == "spawn":
        return None
    if _server is not None and _server_pid == os.getpid() and _server.alive():
        return _server
    # A forked worker inherits its parent's client: it starts a server of its own. What servers and runs
    # killed outright left in the temporary folder goes first.
    scratch.sweep()
    try:
        _server, _server_pid = ForkServer(), os.getpid()
    except OSError:
        _server, _server_pid = None, None
    return _server
