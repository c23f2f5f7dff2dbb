# tries: flood stdout and stderr with 32 MiB each, then return wrong gradients (None).
# expect: fail: returned None
import sys


def backward_propagation_n(X, Y, cache):
    line = "spam " * 200 + "\n"
    for _ in range(32 * 1024):
        sys.stdout.write(line)
        sys.stderr.write(line)
    return None
