from builtins import range
import numpy as np


def affine_forward(x, w, b):
    """Forward pass of an affine layer: x (N, d_1, ..., d_k), w (D, M), b (M,) -> out (N, M), cache."""
    out = None
    ###########################################################################
    # TODO: Implement the affine forward pass. Store the result in out. You   #
    # will need to reshape the input into rows.                               #
    ###########################################################################
    pass
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    x, w, b = cache
    dx, dw, db = None, None, None
    # TODO: Implement the affine backward pass.
    pass
    return dx, dw, db


def relu_forward(x):
    out = None
    # TODO: Implement the ReLU forward pass.
    pass
    cache = x
    return out, cache


def relu_backward(dout, cache):
    dx, x = None, cache
    # TODO: Implement the ReLU backward pass.
    pass
    return dx


def softmax_loss(x, y):
    loss, dx = None, None
    # TODO: Copy over your solution from the softmax exercise.
    pass
    return loss, dx


def svm_loss(x, y):
    loss, dx = None, None
    # TODO: Copy over your solution from the SVM exercise.
    pass
    return loss, dx


def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)

    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))

    out, cache = None, None
    if mode == "train":
        # TODO: Implement the training-time forward pass for batch norm.
        pass
    elif mode == "test":
        # TODO: Implement the test-time forward pass for batch norm.
        pass
    else:
        raise ValueError('Invalid forward batchnorm mode "%s"' % mode)

    # Store the updated running means back into bn_param
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var

    return out, cache


def batchnorm_backward(dout, cache):
    dx, dgamma, dbeta = None, None, None
    # TODO: Implement the backward pass for batch normalization.
    pass
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    dx, dgamma, dbeta = None, None, None
    # TODO: Implement the backward pass for batch normalization in one expression.
    pass
    return dx, dgamma, dbeta


def layernorm_forward(x, gamma, beta, ln_param):
    out, cache = None, None
    eps = ln_param.get("eps", 1e-5)
    # TODO: Implement the training-time forward pass for layer norm.
    pass
    return out, cache


def layernorm_backward(dout, cache):
    dx, dgamma, dbeta = None, None, None
    # TODO: Implement the backward pass for layer norm.
    pass
    return dx, dgamma, dbeta


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])

    mask = None
    out = None

    if mode == "train":
        # TODO: Implement training phase forward pass for inverted dropout.
        pass
    elif mode == "test":
        # TODO: Implement the test phase forward pass for inverted dropout.
        pass

    cache = (dropout_param, mask)
    out = out.astype(x.dtype, copy=False)

    return out, cache


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    mode = dropout_param["mode"]

    dx = None
    if mode == "train":
        # TODO: Implement training phase backward pass for inverted dropout
        pass
    elif mode == "test":
        dx = dout
    return dx


def conv_forward_naive(x, w, b, conv_param):
    out = None
    # TODO: Implement the convolutional forward pass.
    pass
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout, cache):
    dx, dw, db = None, None, None
    # TODO: Implement the convolutional backward pass.
    pass
    return dx, dw, db


def max_pool_forward_naive(x, pool_param):
    out = None
    # TODO: Implement the max-pooling forward pass
    pass
    cache = (x, pool_param)
    return out, cache


def max_pool_backward_naive(dout, cache):
    dx = None
    # TODO: Implement the max-pooling backward pass
    pass
    return dx


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    out, cache = None, None
    # TODO: Implement the forward pass for spatial batch normalization.
    pass
    return out, cache


def spatial_batchnorm_backward(dout, cache):
    dx, dgamma, dbeta = None, None, None
    # TODO: Implement the backward pass for spatial batch normalization.
    pass
    return dx, dgamma, dbeta


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    out, cache = None, None
    eps = gn_param.get("eps", 1e-5)
    # TODO: Implement the forward pass for spatial group normalization.
    pass
    return out, cache


def spatial_groupnorm_backward(dout, cache):
    dx, dgamma, dbeta = None, None, None
    # TODO: Implement the backward pass for spatial group normalization.
    pass
    return dx, dgamma, dbeta
