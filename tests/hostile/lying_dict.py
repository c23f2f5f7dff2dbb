# tries: return a dict subclass whose lookups invent a perfect gradient for whatever key is asked.
# expect: fail: returned a Oracle, expected a dict of gradients
class Oracle(dict):
    def __getitem__(self, key):
        return 0.0

    def get(self, key, default=None):
        return 0.0

    def __contains__(self, key):
        return True


def backward_propagation_n(X, Y, cache):
    return Oracle()
