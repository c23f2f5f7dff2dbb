"""The fork server: a long-lived trusted process with numpy and the child runner imported, forking one
child per submission; and the grader's side of it (ForkServer, fork_server()).

Started once per grader process (lazily, by fork_server(), or ahead of need by start_fork_server()) as
`python -I -m grader.forkserver FD` would be, but from this gradgrade's own folder (python_command), where
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

import ctypes
import json
import os
import select
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from typing import Sequence

from grader.sandbox import scratch

child = None  # grader.child, imported by _preload once the server has left the network
# The calls of each plan the grader sent, their arguments decoded: every child forked after a plan came
# inherits it, and finds its calls here by the key its request names.
PLANS: dict[str, list[dict]] = {}
MAX_PLANS = 32

MAX_REQUEST = 64 * 1024
OPEN_MAX = os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 1024
PR_SET_CHILD_SUBREAPER = 36
PR_SET_PDEATHSIG = 1
CLONE_NEWPID = 0x20000000
CLONE_NEWNS = 0x00020000


def _become_subreaper() -> None:
    # Orphans of a submission come back to this server, which reaps them, instead of lingering under init.
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        except (OSError, AttributeError):
            pass


def _detach(keep: Sequence[int]) -> None:
    """In a child just forked from the server: its own session, killed with the server, default signals,
    none of the server's descriptors but keep."""
    try:
        os.setsid()
    except OSError:
        pass
    # A server killed outright (SIGKILL, the OOM killer) cannot kill its children: the kernel does.
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    signal.set_wakeup_fd(-1)
    for number in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGPIPE):
        signal.signal(number, signal.SIG_DFL)
    low = 0
    for fd in sorted(keep):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, OPEN_MAX)


def _take_pipes(fds: Sequence[int]) -> None:
    """Put stdin, stdout, stderr and the result pipe on 0-3 and close every other descriptor."""
    import fcntl  # here, not at the top: Windows has none, and sandbox.run must still say it needs Linux or macOS

    # Copies above 9 first, so no dup2 below overwrites a pipe still needed.
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in fds]
    for target, fd in enumerate(high):
        os.dup2(fd, target)
    os.closerange(4, OPEN_MAX)


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
    _detach(keep=fds)
    _take_pipes(fds)
    _run(request, _enter_pid_namespace())


def _spare_main(channel: int) -> None:
    """A child forked ahead of a request: detach and enter its PID namespace now, then wait on channel for
    a request and its pipes; its run then skips both forks. Never returns."""
    _detach(keep=[channel])
    namespace = _enter_pid_namespace()
    waiting = socket.socket(fileno=channel)
    try:
        data, fds, _, _ = socket.recv_fds(waiting, MAX_REQUEST, 4)
        request = json.loads(data) if data and len(fds) == 4 else None
    except (OSError, ValueError):
        request = None
    if request is None:  # the server went away, or sent something else
        os._exit(0)
    waiting.detach()  # _take_pipes closes the descriptor itself
    _take_pipes(fds)
    _run(request, namespace)


def own_pid_namespace() -> int | None:
    """This process's PID namespace, open, when it may make a new one for each child it forks and come back
    after (setns needs CAP_SYS_ADMIN over the namespace it returns to: root has it, a user namespace of our
    own does not); None when it may not.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        handle = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        # Joining the namespace it is already in changes nothing, and asks the kernel the same question.
        if ctypes.CDLL(None).setns(handle, CLONE_NEWPID) == 0:
            return handle
    except (OSError, AttributeError):
        pass
    os.close(handle)
    return None


def fork_into_pid_namespace(home: int | None) -> int:
    """os.fork(), the child made process 1 of a new PID namespace when home (own_pid_namespace()) is set.

    unshare(CLONE_NEWPID) places this process's next child in a new namespace; joining home again right
    after the fork places the one after it in a namespace of its own too: one fork per child instead of a
    stand-in's two. Without home, or if the kernel refuses a namespace, a plain fork (the child then makes
    its namespace behind a stand-in).
    """
    if home is None:
        return os.fork()
    libc = ctypes.CDLL(None)
    if libc.unshare(CLONE_NEWPID) != 0:
        return os.fork()
    try:
        pid = os.fork()
    except BaseException:
        _return_home(libc, home)
        raise
    if pid != 0:
        _return_home(libc, home)
    return pid


def _return_home(libc: ctypes.CDLL, home: int) -> None:
    # Were this to fail, the next child would join this one's namespace: better no server at all (the
    # grader then starts each child with a fresh interpreter).
    if libc.setns(home, CLONE_NEWPID) != 0:
        os.write(2, b"gradgrade fork server: cannot return to its own PID namespace\n")
        os._exit(70)


def _enter_pid_namespace() -> str:
    """Run the rest as process 1 of a new PID namespace: already, when the server forked this process into
    one (fork_into_pid_namespace); else this process stays outside as the stand-in of process 1.

    When process 1 of a namespace dies the kernel kills every process in it, so nothing a submission
    starts can outlive it, even in a session of its own. The stand-in keeps the pid the grader knows:
    killing its group kills it, and its death kills process 1 (PR_SET_PDEATHSIG). Returns how it went.
    """
    if not sys.platform.startswith("linux"):
        return "no PID namespace on this platform"
    if os.getpid() == 1:
        return "own PID namespace"
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(CLONE_NEWPID) != 0:
            return f"no PID namespace: {os.strerror(ctypes.get_errno())}"
    except (OSError, AttributeError) as error:
        return f"no PID namespace: {error}"
    inner = os.fork()
    if inner != 0:
        _stand_in(inner)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    return "own PID namespace"


def _stand_in(inner: int) -> None:
    """Wait for process 1 of the namespace and leave the way it left (same code, same signal). Never returns."""
    os.closerange(0, OPEN_MAX)  # the pipes are process 1's alone, so the grader sees them close when it exits
    try:
        _, status = os.waitpid(inner, 0)
        number = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
        if number:
            import resource
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            signal.signal(number, signal.SIG_DFL)
            os.kill(os.getpid(), number)
        os._exit(os.waitstatus_to_exitcode(status))
    finally:
        os._exit(70)


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
            self.leftover = {folder for folder in self.leftover if not _remove(folder)}
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
            if folder and not _remove(folder):
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
            _remove(folder)
        self.prepared.remove_scratch()


@dataclass(frozen=True)
class PreparedFileSystem:
    """What a server set up for its children's file systems.

    scratch: the folder every child mounts a tmpfs of its own on, as its scratch folder (None where a
    child cannot: the grader then makes a folder per run). view: what the server's own read-only view
    of the file system achieved, which its children inherit (None when it has none: each child makes
    its own). parent: the folder above scratch, opened before the view was made read-only, to remove
    scratch from. held: scratch as the server holds it while it lives (see grader.scratch), so that a
    server killed outright leaves it to the next sweep.
    """

    scratch: str | None = None
    view: str | None = None
    parent: int | None = None
    held: scratch.Held | None = None

    def remove_scratch(self) -> None:
        if self.scratch and self.parent is not None:
            try:
                os.rmdir(os.path.basename(self.scratch), dir_fd=self.parent)
            except OSError:
                pass
        elif self.scratch:
            _remove(self.scratch)
        if self.held is not None:
            self.held.release()


def prepare_file_system() -> PreparedFileSystem:
    """A scratch folder for private tmpfs mounts, if this server's children can make them, and then this
    server's own file system made read-only (the reference hidden), for its children to inherit.

    A tmpfs per child is seen by no other process and goes away with the child: the grader makes and
    removes no folder per run, nothing a submission writes reaches the disk, and it is bounded in size.
    Making the view read-only once here leaves each child only its tmpfs to mount.
    """
    if not sys.platform.startswith("linux"):
        return PreparedFileSystem()
    held = scratch.make(f"{scratch.SERVER_PREFIX}{os.getpid()}-")
    folder = held.path
    pid = os.fork()
    if pid == 0:  # try it once, in a process of its own, down to writing a file there
        try:
            child.read_only_filesystem(folder, private_bytes=1 << 20)
            # A user namespace without id maps mounts the tmpfs, but files cannot be made in it (EOVERFLOW).
            written = os.open(os.path.join(folder, "probe"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os._exit(0 if os.write(written, b"x") == 1 else 1)
        finally:
            os._exit(1)
    if os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) != 0:
        held.remove()
        return PreparedFileSystem()
    parent = os.open(os.path.dirname(folder), os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    before = os.open("/proc/self/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)
    try:
        return PreparedFileSystem(folder, child.read_only_view(), parent, held)
    except OSError:
        # Back to the namespace it started in (a half-made view must not reach the children), which
        # must work, or no server at all.
        if ctypes.CDLL(None).setns(before, CLONE_NEWNS) != 0:
            os._exit(70)
        os.close(parent)
        return PreparedFileSystem(folder, held=held)
    finally:
        os.close(before)


def _remove(folder: str | None) -> bool:
    """Remove a run's scratch folder (the grader names them gradgrade-*); whether it is gone."""
    if folder and os.path.basename(folder).startswith("gradgrade-"):
        shutil.rmtree(folder, ignore_errors=True)
        return not os.path.exists(folder)
    return True


def kill_group(pid: int) -> None:
    """SIGKILL the process group pid leads, then pid itself (in case it has not yet made its own group)."""
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _preload() -> str:
    """Leave the network, then import numpy and the child runner once, so no child pays for them, and
    forget the grader's modules once for all children.

    The namespace is made here, once, and every child inherits it: making one per child costs
    milliseconds each. A user namespace (the way in without root) needs a single-threaded process:
    the grader starts this server with BLAS held to one thread, so importing numpy starts none.
    """
    global child
    from grader.sandbox import child as child_module

    child = child_module
    # Computed and imported once here, inherited by every child.
    child_module.python_folders(), child_module.grader_folders(), child_module.python_path()
    import _posixsubprocess  # noqa: F401
    import resource  # noqa: F401
    _preload_helpers(child_module.HELPERS)
    network = child_module.leave_network()
    child_module.scrub_modules()  # the server needs its modules no more: each child then skips the scan
    return network


def _preload_helpers(folder: str) -> None:
    """Import every course helper module in folder once: a submission's `from gc_utils import ...` then costs nothing.

    Each child gets its own copy of them with the fork, so what one submission does to them stays its own.
    """
    import importlib
    from pathlib import Path

    # Every module in the folder, not a list kept by hand: a helper left out is compiled again by each child.
    names = sorted(path.stem for path in Path(folder).glob("*.py"))
    sys.path.insert(0, folder)
    try:
        for name in names:
            try:
                importlib.import_module(name)
            except Exception:
                continue  # the child imports it itself, and reports what goes wrong
    finally:
        sys.path.remove(folder)



# --- the grader's side: one server per grader process, shared by its threads ----------------------------

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
    folder this gradgrade was imported from (child.python_path keeps that folder from the submission)."""
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


if __name__ == "__main__":
    control = socket.socket(fileno=int(sys.argv[1]))
    network = _preload()
    _become_subreaper()
    Server(control, network=network).serve_forever()
