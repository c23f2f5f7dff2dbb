# tries: start children that sleep in sessions of their own (os.fork, then libc's fork through ctypes), print
# their pids, then sleep.
# expect: timeout: ran longer than
# Forks are refused by the audit hook and the process-count limit, so the children only exist when a test
# allows processes (sandbox.Limits(processes=True)); then the timeout must kill them all, although they left
# the process group: the child's PID namespace dies with it.
import os
import time


def _fork():
    try:
        return os.fork()
    except OSError as error:
        print("os.fork refused:", error, flush=True)
    try:
        import ctypes
        return ctypes.CDLL(None).fork()
    except Exception as error:
        print("ctypes fork refused:", error, flush=True)
    return -1


def _outer_pid():
    # Inside a PID namespace getpid() says 1, 2, 3...; /proc (mounted outside) names the real pid.
    try:
        return int(os.readlink("/proc/self"))
    except (OSError, ValueError):
        return os.getpid()


def backward_propagation_n(X, Y, cache):
    for _ in range(3):
        pid = _fork()
        if pid == 0:
            print("child pid", _outer_pid(), flush=True)
            os.setsid()  # leave the process group too: only a PID namespace still holds it
            time.sleep(3600)
            os._exit(0)
    time.sleep(3600)
