# tries: allocate 16 GiB (numpy), then keep 100 MB arrays until something gives.
# expect: error: memory
import numpy as np


def backward_propagation_n(X, Y, cache):
    try:
        huge = np.ones((2 ** 31,), dtype=np.float64)
    except MemoryError:
        pass
    hoard = []
    while True:
        hoard.append(np.empty(100 * 1024 * 1024 // 8))
