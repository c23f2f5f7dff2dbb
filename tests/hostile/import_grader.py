# tries: import the reference solution (and the grader) and return its gradients.
# expect: error: importing reference is not allowed
def backward_propagation_n(X, Y, cache):
    from reference import three_layer
    import grader.check  # noqa: F401
    return three_layer.backward_propagation_n(X, Y, cache)
