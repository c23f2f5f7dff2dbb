# tries: os.system to run a shell command that writes outside the sandbox.
# expect: error: running a shell command is not allowed
import os


def backward_propagation_n(X, Y, cache):
    os.system("touch /tmp/gradgrade-hostile-system")
    return {}
