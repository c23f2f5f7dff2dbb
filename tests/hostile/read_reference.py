# tries: find the reference's source file on disk, read it and run it.
# expect: error: reading
import importlib.util
import os
import sys


def _reference_file():
    spec = importlib.util.find_spec("reference")
    if spec is not None and spec.submodule_search_locations:
        return os.path.join(list(spec.submodule_search_locations)[0], "three_layer.py")
    for folder in sys.path + ["/work/main", os.getcwd()]:
        candidate = os.path.join(folder, "reference", "three_layer.py")
        if os.path.exists(candidate):
            return candidate
    return "/work/main/reference/three_layer.py"


def backward_propagation_n(X, Y, cache):
    namespace = {}
    with open(_reference_file()) as source:
        exec(source.read(), namespace)
    return namespace["backward_propagation_n"](X, Y, cache)
