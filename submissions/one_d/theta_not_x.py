# one_d, wrong: dtheta = theta, the derivative taken with respect to the wrong variable.
def forward_propagation(x, theta):
    return theta * x


def backward_propagation(x, theta):
    dtheta = theta
    return dtheta
