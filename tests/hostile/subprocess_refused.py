# tries: run a program with subprocess (and leave a file behind if it could).
# expect: error: starting a program is not allowed
import subprocess


def backward_propagation_n(X, Y, cache):
    subprocess.run(["touch", "/tmp/gradgrade-hostile-subprocess"], check=False)
    return {}
