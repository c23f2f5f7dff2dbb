# tries: os.fork() inside the graded function.
# expect: error: starting a process is not allowed
import os


def backward_propagation_n(X, Y, cache):
    if os.fork() == 0:
        os._exit(0)
    return {}
