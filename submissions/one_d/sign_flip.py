# one_d, wrong: dtheta = -x, and a forward pass with the wrong sign to match.
def forward_propagation(x, theta):
    return -theta * x


def backward_propagation(x, theta):
    dtheta = -x
    return dtheta
