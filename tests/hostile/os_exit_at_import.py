# tries: os._exit(3) while loading, so no result ever comes back.
# expect: error: exited with code 3
import os


class _Leave:
    os._exit(3)


def backward_propagation_n(X, Y, cache):
    return {}
