# tries: loop forever inside backward_propagation_n.
# expect: timeout: ran longer than
def backward_propagation_n(X, Y, cache):
    while True:
        pass
