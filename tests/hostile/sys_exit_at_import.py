# tries: sys.exit(2) while loading, before the graded function is defined.
# expect: error: called exit(2)
import sys


class _Leave:
    sys.exit(2)


def backward_propagation_n(X, Y, cache):
    return {}
