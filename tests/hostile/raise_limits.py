# tries: lift its own memory and file-size limits before allocating.
# expect: error: changing resource limits is not allowed
import resource


def backward_propagation_n(X, Y, cache):
    resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    return {}
