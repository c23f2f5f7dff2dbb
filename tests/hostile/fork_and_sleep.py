# tries: start children that sleep (os.fork, then libc's fork through ctypes), print their pids, then sleep.
# expect: timeout: ran longer than
# Forks are refused by the audit hook and the process-count limit, so the children only exist when a test
# allows processes (sandbox.Limits(processes=True)); then the timeout must kill the whole process group.
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


def backward_propagation_n(X, Y, cache):
    for _ in range(3):
        pid = _fork()
        if pid == 0:
            time.sleep(3600)
            os._exit(0)
        if pid > 0:
            print("child pid", pid, flush=True)
    time.sleep(3600)
