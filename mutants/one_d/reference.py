def backward_propagation(x, theta):
    dtheta = x
    return dtheta
# The reference one_d.backward_propagation through ast.unparse; mutants' line numbers refer to this file.
