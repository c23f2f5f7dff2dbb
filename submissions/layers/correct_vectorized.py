import numpy as np
from cs231n.im2col import im2col_indices, col2im_indices


def affine_forward(x, w, b):
    cache = (x, w, b)
    return np.dot(x.reshape(len(x), -1), w) + b, cache


def affine_backward(dout, cache):
    x, w, b = cache
    return np.dot(dout, w.T).reshape(x.shape), np.dot(x.reshape(len(x), -1).T, dout), dout.sum(0)


def relu_forward(x):
    return x * (x > 0), x


def relu_backward(dout, cache):
    return dout * (cache > 0)


def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param['mode']
    eps = bn_param.get('eps', 1e-5)
    momentum = bn_param.get('momentum', 0.9)
    N, D = x.shape
    running_mean = bn_param.get('running_mean', np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get('running_var', np.zeros(D, dtype=x.dtype))
    out, cache = None, None
    if mode == 'train':
        mu, var = x.mean(0), x.var(0)
        std = np.sqrt(var + eps)
        z = (x - mu) / std
        out = gamma * z + beta
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
        cache = {'z': z, 'gamma': gamma, 'std': std, 'axis': 0}
    elif mode == 'test':
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    else:
        raise ValueError('Invalid forward batchnorm mode "%s"' % mode)
    bn_param['running_mean'] = running_mean
    bn_param['running_var'] = running_var
    return out, cache


def batchnorm_backward(dout, cache):
    return batchnorm_backward_alt(dout, cache)


def batchnorm_backward_alt(dout, cache):
    z, gamma, std, axis = cache['z'], cache['gamma'], cache['std'], cache['axis']
    # layer norm reuses this with axis=1: the parameters are always summed over the batch
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(dout * z, axis=0)
    m = dout.shape[axis]
    dz = dout * gamma
    dx = (m * dz - dz.sum(axis=axis, keepdims=True) - z * np.sum(dz * z, axis=axis, keepdims=True)) / (m * std)
    return dx, dgamma, dbeta


def layernorm_forward(x, gamma, beta, ln_param):
    eps = ln_param.get('eps', 1e-5)
    mu = x.mean(axis=1, keepdims=True)
    std = np.sqrt(x.var(axis=1, keepdims=True) + eps)
    z = (x - mu) / std
    return gamma * z + beta, {'z': z, 'gamma': gamma, 'std': std, 'axis': 1}


def layernorm_backward(dout, cache):
    dx, dgamma, dbeta = batchnorm_backward_alt(dout, cache)
    # kept as rows, the way the parameters are stored in my model
    return dx, dgamma.reshape(1, -1), dbeta.reshape(1, -1)


def dropout_forward(x, dropout_param):
    p, mode = dropout_param['p'], dropout_param['mode']
    if 'seed' in dropout_param:
        np.random.seed(dropout_param['seed'])
    mask = None
    out = None
    if mode == 'train':
        mask = (np.random.rand(*x.shape) < p) / p
        out = x * mask
    elif mode == 'test':
        out = x
    cache = (dropout_param, mask)
    out = out.astype(x.dtype, copy=False)
    return out, cache


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    return dout * mask if dropout_param['mode'] == 'train' else dout


def conv_forward_naive(x, w, b, conv_param):
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    stride, pad = conv_param['stride'], conv_param['pad']
    H_out = (H + 2 * pad - HH) // stride + 1
    W_out = (W + 2 * pad - WW) // stride + 1
    cols = im2col_indices(x, HH, WW, padding=pad, stride=stride)
    res = w.reshape(F, -1).dot(cols) + b.reshape(-1, 1)
    out = res.reshape(F, H_out, W_out, N).transpose(3, 0, 1, 2)
    return out, (x, w, b, conv_param, cols)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param, cols = cache
    F, _, HH, WW = w.shape
    db = dout.sum(axis=(0, 2, 3))
    dout_flat = dout.transpose(1, 2, 3, 0).reshape(F, -1)
    dw = dout_flat.dot(cols.T).reshape(w.shape)
    dcols = w.reshape(F, -1).T.dot(dout_flat)
    dx = col2im_indices(dcols, x.shape, HH, WW, padding=conv_param['pad'], stride=conv_param['stride'])
    return dx, dw, db


def max_pool_forward_naive(x, pool_param):
    N, C, H, W = x.shape
    ph, pw, s = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    H_out, W_out = (H - ph) // s + 1, (W - pw) // s + 1
    cols = im2col_indices(x.reshape(N * C, 1, H, W), ph, pw, padding=0, stride=s)
    arg = np.argmax(cols, axis=0)
    out = cols[arg, np.arange(cols.shape[1])].reshape(H_out, W_out, N, C).transpose(2, 3, 0, 1)
    return out, (x, pool_param, cols.shape, arg)


def max_pool_backward_naive(dout, cache):
    x, pool_param, shape, arg = cache
    N, C, H, W = x.shape
    ph, pw, s = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    dcols = np.zeros(shape)
    dcols[arg, np.arange(shape[1])] = dout.transpose(2, 3, 0, 1).ravel()
    dx = col2im_indices(dcols, (N * C, 1, H, W), ph, pw, padding=0, stride=s)
    return dx.reshape(x.shape)


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    N, C, H, W = x.shape
    out, cache = batchnorm_forward(x.transpose(0, 2, 3, 1).reshape(-1, C), gamma, beta, bn_param)
    return out.reshape(N, H, W, C).transpose(0, 3, 1, 2), cache


def spatial_batchnorm_backward(dout, cache):
    N, C, H, W = dout.shape
    dx, dgamma, dbeta = batchnorm_backward_alt(dout.transpose(0, 2, 3, 1).reshape(-1, C), cache)
    return dx.reshape(N, H, W, C).transpose(0, 3, 1, 2), dgamma, dbeta


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    eps = gn_param.get('eps', 1e-5)
    N, C, H, W = x.shape
    # every group of a sample is one row: layer norm over the rows
    rows = x.reshape(N * G, -1)
    mu = rows.mean(axis=1, keepdims=True)
    std = np.sqrt(rows.var(axis=1, keepdims=True) + eps)
    z = ((rows - mu) / std).reshape(x.shape)
    return gamma * z + beta, (z, gamma, std, G)


def spatial_groupnorm_backward(dout, cache):
    z, gamma, std, G = cache
    N, C, H, W = dout.shape
    dbeta = dout.sum(axis=(0, 2, 3))
    dgamma = (dout * z).sum(axis=(0, 2, 3))
    dz = (dout * gamma).reshape(N * G, -1)
    zr = z.reshape(N * G, -1)
    m = zr.shape[1]
    dx = (m * dz - dz.sum(axis=1, keepdims=True) - zr * (dz * zr).sum(axis=1, keepdims=True)) / (m * std)
    return dx.reshape(dout.shape), dgamma, dbeta


def svm_loss(x, y):
    n = x.shape[0]
    margins = np.maximum(0, x - x[range(n), y][:, None] + 1)
    margins[range(n), y] = 0
    loss = margins.sum() / n
    dx = (margins > 0).astype(x.dtype)
    dx[range(n), y] = -dx.sum(axis=1)
    return loss, dx / n


def softmax_loss(x, y):
    n = x.shape[0]
    p = np.exp(x - x.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[range(n), y]))
    p[range(n), y] -= 1
    return loss, p / n
