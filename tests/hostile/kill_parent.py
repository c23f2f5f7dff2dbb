# tries: kill the process that started it (the grader's fork server) and its own process group's parent.
# expect: error: signalling another process is not allowed
import os
import signal


def backward_propagation_n(X, Y, cache):
    os.kill(os.getppid(), signal.SIGKILL)
    return {}
