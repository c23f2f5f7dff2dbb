"""Process plumbing of the fork server's children: their own session and descriptors, a PID namespace each, a group kill."""
from __future__ import annotations

import ctypes
import os
import signal
import sys
from typing import Sequence

OPEN_MAX = os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 1024
PR_SET_CHILD_SUBREAPER = 36
PR_SET_PDEATHSIG = 1
CLONE_NEWPID = 0x20000000
CLONE_NEWNS = 0x00020000


def become_subreaper() -> None:
    # Orphans of a submission come back to this server, which reaps them, instead of lingering under init.
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        except (OSError, AttributeError):
            pass


def detach(keep: Sequence[int]) -> None:
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


def take_pipes(fds: Sequence[int]) -> None:
    """Put stdin, stdout, stderr and the result pipe on 0-3 and close every other descriptor."""
    import fcntl  # here, not at the top: Windows has none, and sandbox.run must still say it needs Linux or macOS

    # Copies above 9 first, so no dup2 below overwrites a pipe still needed.
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in fds]
    for target, fd in enumerate(high):
        os.dup2(fd, target)
    os.closerange(4, OPEN_MAX)

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


def enter_pid_namespace() -> str:
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

def kill_group(pid: int) -> None:
    """SIGKILL the process group pid leads, then pid itself (in case it has not yet made its own group)."""
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
