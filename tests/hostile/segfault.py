# tries: crash the interpreter with a segmentation fault through ctypes (read address 0).
# expect: error: SIGSEGV
import ctypes


def backward_propagation_n(X, Y, cache):
    ctypes.string_at(0)
    return {}
