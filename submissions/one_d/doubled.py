# one_d, wrong: dtheta = 2 * x, as if J were theta squared times x.
def forward_propagation(x, theta):
    return theta * x


def backward_propagation(x, theta):
    dtheta = 2 * x
    return dtheta
