# tries: sleep for an hour while loading (a default argument runs when the def runs, even definitions-only).
# expect: timeout: ran longer than
import time


def backward_propagation_n(X, Y, cache, _pause=time.sleep(3600)):
    return {}
