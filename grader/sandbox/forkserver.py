"""The fork server process: long-lived and trusted, numpy and the child runner imported, forking one child per submission.

Started once per grader process by its client (grader.sandbox.forkclient: lazily, by fork_server(), or
ahead of need by start_fork_server()) as `python -I -m grader.sandbox.forkserver FD` would be, but from this gradgrade's own folder (python_command), where
FD is one end of a SOCK_SEQPACKET socket pair; a pool's workers share the server of the process that made
the pool (share_fork_server, adopt_fork_server). Each request on it carries, as passed descriptors, the run's
own socket and the child's stdin, stdout, stderr and result pipes. The child (forked ahead of time as a
spare, or on demand) moves to a new session, runs as process 1 of its own PID namespace (forked straight
into it where the server may make one per child, else behind a stand-in that keeps the pid the grader
knows), contains itself and runs the job it reads on stdin; the server answers the run's socket with the pid
and, when that process exits, its return code (negative for a signal), after killing whatever is left of its
process group. A request with one descriptor, a memory file, brings a plan instead: a batch's calls, decoded
once here and inherited by every child forked after. The grader going away (EOF on FD) kills every child,
and so does the kernel if the server itself is killed. The server imports nothing of the reference, so a
forked child inherits no grading secret.
"""
from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import sys
from typing import Sequence

from grader.sandbox.processes import (become_subreaper, detach, enter_pid_namespace, fork_into_pid_namespace, kill_group,
                                      own_pid_namespace, take_pipes)
from grader.sandbox.serverfs import prepare_file_system, remove_folder

child = None  # grader.child, imported by _preload once the server has left the network
# The calls of each plan the grader sent, their arguments decoded: every child forked after a plan came
# inherits it, and finds its calls here by the key its request names.
PLANS: dict[str, list[dict]] = {}
MAX_PLANS = 32
MAX_REQUEST = 64 * 1024


def _run(request: dict, namespace: str) -> None:
    """Read the job on stdin, add the calls of its plan, and serve it: contain, load, call. Never returns."""
    job = child.read_job(0)
    plan = request.pop("plan", None)
    job.update(request, pid_namespace=namespace)
    if plan is not None:
        job["calls"] = PLANS[plan]  # the server forks a child only for a plan it holds
    child.serve(job, child.RESULT_FD)


def decode_plan(fd: int) -> list[dict]:
    """The plan a descriptor holds: its calls as the grader sent them (sandbox.plan_of), each call's
    arguments decoded."""
    calls = child.read_job(fd)
    if not isinstance(calls, list) or not all(isinstance(call, dict) and "payload" in call for call in calls):
        raise ValueError("not a list of calls")
    for call in calls:
        call["arguments"] = child.wire.decode(call.pop("payload").tobytes())
    return calls


def _child_main(request: dict, fds: list[int]) -> None:
    """A child forked for a request: detach, take the pipes, its own PID namespace, run. Never returns."""
    detach(keep=fds)
    take_pipes(fds)
    _run(request, enter_pid_namespace())


def _spare_main(channel: int) -> None:
    """A child forked ahead of a request: detach and enter its PID namespace now, then wait on channel for
    a request and its pipes; its run then skips both forks. Never returns."""
    detach(keep=[channel])
    namespace = enter_pid_namespace()
    waiting = socket.socket(fileno=channel)
    try:
        data, fds, _, _ = socket.recv_fds(waiting, MAX_REQUEST, 4)
        request = json.loads(data) if data and len(fds) == 4 else None
    except (OSError, ValueError):
        request = None
    if request is None:  # the server went away, or sent something else
        os._exit(0)
    waiting.detach()  # take_pipes closes the descriptor itself
    take_pipes(fds)
    _run(request, namespace)

class Server:
    """The fork server's loop: requests on the control socket, exits reported on each run's socket."""

    def __init__(self, control: socket.socket, *, network: str) -> None:
        self.control = control
        self.network = network
        self.home = own_pid_namespace()
        self.prepared = prepare_file_system()
        self.selector = selectors.DefaultSelector()
        self.runs: dict[int, socket.socket] = {}
        self.spare: tuple[int, socket.socket] | None = None
        self.scratch: dict[int, str] = {}
        self.leftover: set[str] = set()  # scratch folders of abandoned runs, removed once their child is gone
        self.wakeup_read, wakeup_write = os.pipe()
        os.set_blocking(self.wakeup_read, False)
        os.set_blocking(wakeup_write, False)
        signal.set_wakeup_fd(wakeup_write)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self.wakeup_write = wakeup_write
        self.selector.register(control, selectors.EVENT_READ, "control")
        self.selector.register(self.wakeup_read, selectors.EVENT_READ, "wakeup")

    def serve_forever(self) -> None:
        self.make_spare()
        self.control.send(json.dumps({"ready": True, "private_scratch": self.prepared.scratch}).encode())
        while True:
            for key, _ in self.selector.select():
                if key.data == "control":
                    if not self.accept():
                        self.shutdown()
                        return
                elif key.data == "wakeup":
                    try:
                        os.read(self.wakeup_read, 4096)
                    except BlockingIOError:
                        pass
                    self.reap()
                else:
                    self.abandoned(key.data)

    def accept(self) -> bool:
        """Take one request; False when the grader has gone."""
        try:
            data, fds, _, _ = socket.recv_fds(self.control, MAX_REQUEST, 6)
        except OSError:
            return False
        if not data:
            for fd in fds:
                os.close(fd)
            return False
        try:
            request = json.loads(data)
        except ValueError:
            request = None
        request = request if isinstance(request, dict) else None
        if request is not None and len(fds) == 1 and isinstance(request.get("plan"), str):
            self.add_plan(request["plan"], fds[0])
            return True
        if len(fds) != 5:
            for fd in fds:
                os.close(fd)
            return True
        run_socket = socket.socket(fileno=fds[0])
        pid = self.start(request, fds[1:]) if request is not None else -1
        for fd in fds[1:]:
            os.close(fd)
        if pid < 0:
            run_socket.close()
            return True
        # No setpgid(pid, pid) here: winning that race would make the child's setsid fail. Until the
        # child's setsid, a kill of its group misses, and the kill of the pid itself that follows it hits.
        self.runs[pid] = run_socket
        if isinstance(request.get("scratch"), str):
            self.scratch[pid] = request["scratch"]
        self.selector.register(run_socket, selectors.EVENT_READ, pid)
        self._tell(run_socket, {"pid": pid})
        if self.spare is None:
            self.make_spare()  # after the answer, so the grader does not wait for it
        return True

    def add_plan(self, key: str, fd: int) -> None:
        """Keep the plan the descriptor holds (decoded) for the children forked from now on, the oldest of
        MAX_PLANS let go; a spare forked before it is replaced. A plan that does not decode is not kept:
        runs naming it are refused."""
        try:
            if key not in PLANS:
                decoded = decode_plan(fd)
                while len(PLANS) >= MAX_PLANS:  # the oldest goes; a grader that needs it again sends it again
                    del PLANS[next(iter(PLANS))]
                PLANS[key] = decoded
        except (OSError, ValueError):
            return
        finally:
            os.close(fd)
        if self.spare is not None:
            pid, channel = self.spare
            self.spare = None
            channel.close()  # the spare reads EOF and leaves; reap() collects it
            self.make_spare()

    def start(self, request: dict, pipes: Sequence[int]) -> int:
        """The pid of a child running request with these pipes: the spare if there is one, else a fresh fork;
        -1 when the request names a plan this server does not hold."""
        if "plan" in request and request["plan"] not in PLANS:
            return -1
        request = {**request, "network": self.network}
        if self.prepared.view is not None:
            request["file_system"] = self.prepared.view
        if self.spare is not None:
            pid, channel = self.spare
            self.spare = None
            try:
                socket.send_fds(channel, [json.dumps(request).encode()], list(pipes))
                return pid
            except OSError:
                kill_group(pid)
            finally:
                channel.close()
        pid = fork_into_pid_namespace(self.home)
        if pid == 0:
            try:
                _child_main(request, list(pipes))
            finally:
                os._exit(70)
        return pid

    def make_spare(self) -> None:
        """Fork the next child ahead of its request (see _spare_main)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = fork_into_pid_namespace(self.home)
        if pid == 0:
            try:
                _spare_main(theirs.fileno())
            finally:
                os._exit(70)
        theirs.close()
        self.spare = (pid, ours)

    @staticmethod
    def _tell(run_socket: socket.socket, message: dict) -> None:
        try:
            run_socket.send(json.dumps(message).encode())
        except OSError:
            pass

    def reap(self) -> None:
        """Report every child that exited, after killing what is left of its process group."""
        while True:
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return
            if info is None or info.si_pid == 0:
                return
            pid = info.si_pid
            # The unreaped leader keeps the group id reserved, so this kill cannot hit a stranger.
            kill_group(pid)
            _, status = os.waitpid(pid, 0)
            if self.spare is not None and self.spare[0] == pid:
                self.spare[1].close()
                self.spare = None
            self.scratch.pop(pid, None)  # the grader, still there, removes it
            self.leftover = {folder for folder in self.leftover if not remove_folder(folder)}
            run_socket = self.runs.pop(pid, None)
            if run_socket is not None:
                self.selector.unregister(run_socket)
                self._tell(run_socket, {"exit": os.waitstatus_to_exitcode(status)})
                run_socket.close()

    def abandoned(self, pid: int) -> None:
        """The grader closed a run's socket early: its child must not outlive the run."""
        run_socket = self.runs.get(pid)
        try:
            data = run_socket.recv(4096) if run_socket else b""
        except OSError:
            data = b""
        if not data:
            kill_group(pid)
            folder = self.scratch.pop(pid, None)
            if folder and not remove_folder(folder):
                self.leftover.add(folder)  # still a mount point of the dying child: removed after a reap
            if run_socket is not None:
                self.selector.unregister(run_socket)
                run_socket.close()
                self.runs.pop(pid, None)

    def shutdown(self) -> None:
        if self.spare is not None:
            self.runs[self.spare[0]] = self.spare[1]
        for pid in list(self.runs):
            kill_group(pid)
        while True:  # every child, and every orphan of theirs this subreaper inherits, is gone
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                break
        for folder in {*self.scratch.values(), *self.leftover}:
            remove_folder(folder)
        self.prepared.remove_scratch()


def _preload() -> str:
    """Leave the network, then import numpy and the child runner once, so no child pays for them, and
    forget the grader's modules once for all children.

    The namespace is made here, once, and every child inherits it: making one per child costs
    milliseconds each. A user namespace (the way in without root) needs a single-threaded process:
    the grader starts this server with BLAS held to one thread, so importing numpy starts none.
    """
    global child
    from grader.sandbox import child as child_module
    from grader.sandbox import containment, guard

    child = child_module
    # Computed and imported once here, inherited by every child.
    guard.python_folders(), guard.grader_folders(), guard.python_path()
    import _posixsubprocess  # noqa: F401
    import resource  # noqa: F401
    _preload_helpers(guard.HELPERS)
    network = containment.leave_network()
    containment.scrub_modules()  # the server needs its modules no more: each child then skips the scan
    return network


def _preload_helpers(folder: str) -> None:
    """Import every course helper module in folder once: a submission's `from <helper> import ...` then costs nothing.

    Each child gets its own copy of them with the fork, so what one submission does to them stays its own.
    """
    import importlib
    from pathlib import Path

    # Every module in the folder and its packages (cs231n.im2col), not a list kept by hand: a helper left out
    # is compiled again by each child.
    names = sorted(".".join(path.relative_to(folder).with_suffix("").parts[:-1] if path.name == "__init__.py"
                            else path.relative_to(folder).with_suffix("").parts)
                   for path in Path(folder).rglob("*.py") if "__pycache__" not in path.parts)
    sys.path.insert(0, folder)
    try:
        for name in names:
            try:
                importlib.import_module(name)
            except Exception:
                continue  # the child imports it itself, and reports what goes wrong
    finally:
        sys.path.remove(folder)



if __name__ == "__main__":
    control = socket.socket(fileno=int(sys.argv[1]))
    network = _preload()
    become_subreaper()
    Server(control, network=network).serve_forever()
