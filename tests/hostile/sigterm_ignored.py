# tries: ignore SIGTERM and SIGINT, then spin, hoping a polite kill is all the grader has.
# expect: timeout: ran longer than
import signal


class _Stubborn:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def backward_propagation_n(X, Y, cache):
    while True:
        pass
