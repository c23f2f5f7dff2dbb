"""Modular layers (CS231n style): forward/backward pairs of a layers.py, as a gradgrade spec.

Students write each layer's forward(inputs) -> (out, cache) and backward(dout, cache) -> gradients, with a
cache of their own making. These references are vectorised (gradgrade differentiates them numerically on
every case when it builds a plan); students usually write the naive loops, which the cases are sized for.
"""
from __future__ import annotations

import functools

import numpy as np
from numpy.lib.stride_tricks import as_strided

from grader.spec import Case, LayerBackward, Loss, Spec, Value


def affine_forward(x, w, b):
    """out = x reshaped to (N, D) @ w + b, for x of shape (N, d_1, ..., d_k) with D = d_1 * ... * d_k."""
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    return dx, dw, dout.sum(axis=0)


def relu_forward(x):
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    return dout * (cache > 0)


def softmax_loss(x, y):
    """The mean cross-entropy of softmax(x) over the N rows, and its gradient with respect to x."""
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(x.shape[0])
    loss = -log_probs[rows, y].mean()
    dx = np.exp(log_probs)
    dx[rows, y] -= 1
    return loss, dx / x.shape[0]


def svm_loss(x, y):
    """The mean multiclass hinge loss, sum over j != y of max(0, x_j - x_y + 1), and its gradient."""
    rows = np.arange(x.shape[0])
    margins = np.maximum(0, x - x[rows, y][:, None] + 1)
    margins[rows, y] = 0
    loss = margins.sum() / x.shape[0]
    dx = (margins > 0).astype(float)
    dx[rows, y] = -dx.sum(axis=1)
    return loss, dx / x.shape[0]


def batchnorm_forward(x, gamma, beta, bn_param):
    """Normalise each feature over the batch (train) or by the running statistics (test), then scale and shift.

    Train mode updates bn_param's running_mean and running_var with the momentum, as the notebook expects.
    """
    mode, eps, momentum = bn_param["mode"], bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    D = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
    if mode == "train":
        mean, var = x.mean(axis=0), x.var(axis=0)
        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var = momentum * running_var + (1 - momentum) * var
    elif mode == "test":
        mean, var = running_mean, running_var
    else:
        raise ValueError(f'invalid forward batchnorm mode "{mode}"')
    inv_std = 1 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    bn_param["running_mean"], bn_param["running_var"] = running_mean, running_var
    return gamma * x_hat + beta, (x_hat, gamma, inv_std)


def batchnorm_backward(dout, cache):
    """Through the computational graph: x_hat = centred * inv_std, then the mean and variance paths."""
    x_hat, gamma, inv_std = cache
    N = dout.shape[0]
    dbeta, dgamma = dout.sum(axis=0), (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    centred = x_hat / inv_std
    dvar = -0.5 * (dx_hat * centred).sum(axis=0) * inv_std ** 3
    # The variance's own path to the mean, -2 dvar mean(centred), is zero: the centred inputs average to 0.
    dmean = -(dx_hat * inv_std).sum(axis=0)
    dx = dx_hat * inv_std + dvar * 2 * centred / N + dmean / N
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    """The simplified closed form: dx = inv_std / N * (N dx_hat - sum dx_hat - x_hat sum(dx_hat x_hat))."""
    x_hat, gamma, inv_std = cache
    dx_hat = dout * gamma
    N = dout.shape[0]
    dx = inv_std / N * (N * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0))
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def layernorm_forward(x, gamma, beta, ln_param):
    """Normalise each example over its features, then scale and shift per feature."""
    eps = ln_param.get("eps", 1e-5)
    inv_std = 1 / np.sqrt(x.var(axis=1, keepdims=True) + eps)
    x_hat = (x - x.mean(axis=1, keepdims=True)) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std)


def layernorm_backward(dout, cache):
    x_hat, gamma, inv_std = cache
    dx_hat = dout * gamma
    D = dout.shape[1]
    dx = inv_std / D * (D * dx_hat - dx_hat.sum(axis=1, keepdims=True)
                        - x_hat * (dx_hat * x_hat).sum(axis=1, keepdims=True))
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def _dropout(x, dropout_param, *, kept, binomial=False):
    """Inverted dropout: the mask kept(draws, p) zeroes dropped units and scales kept ones. The draws come
    from np.random.seed(seed), then np.random.rand (or np.random.binomial(1, p, shape)), as the notebook's
    starter seeds them (in a stream of their own here, so gradgrade's randomness is untouched)."""
    p, mode = dropout_param["p"], dropout_param["mode"]
    if mode == "test":
        return x.copy(), (dropout_param, None)
    if binomial:
        draws = _binomial_draws(dropout_param["seed"], x.shape, p)
    else:
        draws = _draws(dropout_param["seed"], x.shape) if "seed" in dropout_param else np.random.rand(*x.shape)
    mask = kept(draws, p)
    return x * mask, (dropout_param, mask)


def dropout_forward_binomial(x, dropout_param):
    """p is the probability of keeping a unit, the mask drawn as np.random.binomial(1, p, size=x.shape)."""
    return _dropout(x, dropout_param, kept=lambda draws, p: draws / p, binomial=True)


def dropout_forward_drop_binomial(x, dropout_param):
    """p is the probability of dropping a unit, the mask drawn as np.random.binomial(1, 1 - p, size=x.shape)."""
    return _dropout(x, {**dropout_param, "p": 1 - dropout_param["p"]}, kept=lambda draws, p: draws / p,
                    binomial=True)


@functools.lru_cache(maxsize=64)
def _binomial_draws(seed, shape, p):
    draws = np.random.RandomState(seed).binomial(1, p, size=shape).astype(np.float64)
    draws.flags.writeable = False
    return draws


@functools.lru_cache(maxsize=64)
def _draws(seed, shape):
    # A plan calls the forward on every perturbed input: the same seed gives the same draws, made once.
    draws = np.random.RandomState(seed).rand(*shape)
    draws.flags.writeable = False
    return draws


def dropout_forward(x, dropout_param):
    """p is the probability of keeping a unit (the notebook's convention since 2018)."""
    return _dropout(x, dropout_param, kept=lambda draws, p: (draws < p) / p)


def dropout_forward_drop(x, dropout_param):
    """p is the probability of dropping a unit (the notebook's convention before 2018)."""
    return _dropout(x, dropout_param, kept=lambda draws, p: (draws >= p) / (1 - p))


def dropout_forward_drop_below(x, dropout_param):
    """p is the probability of dropping a unit, the mask drawn as rand < 1 - p (the other way students write it)."""
    return _dropout(x, dropout_param, kept=lambda draws, p: (draws < 1 - p) / (1 - p))


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    return dout if dropout_param["mode"] == "test" else dout * mask


def _windows(x, height, width, stride, rows, columns):
    """(N, C, rows, columns, height, width): every window of x the layer slides over, without copying."""
    n, c, h, w = x.strides
    return as_strided(x, x.shape[:2] + (rows, columns, height, width), (n, c, h * stride, w * stride, h, w),
                      writeable=False)


def _padded(x, pad):
    # np.pad costs more than the whole convolution at these sizes, and a plan calls it thousands of times.
    if pad == 0:
        return np.ascontiguousarray(x, dtype=np.float64)
    N, C, H, W = x.shape
    padded = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    padded[:, :, pad:pad + H, pad:pad + W] = x
    return padded


def conv_forward_naive(x, w, b, conv_param):
    """The convolution (cross-correlation) of x (N, C, H, W) with filters w (F, C, HH, WW), plus b (F,)."""
    stride, pad = conv_param["stride"], conv_param["pad"]
    F, _, HH, WW = w.shape
    padded = _padded(x, pad)
    rows, columns = 1 + (padded.shape[2] - HH) // stride, 1 + (padded.shape[3] - WW) // stride
    # Each window a row of (C, HH, WW): one matrix product, the fastest form at these sizes.
    rows_of_windows = _windows(padded, HH, WW, stride, rows, columns).transpose(0, 2, 3, 1, 4, 5)
    out = rows_of_windows.reshape(x.shape[0] * rows * columns, -1) @ w.reshape(F, -1).T + b
    return out.reshape(x.shape[0], rows, columns, F).transpose(0, 3, 1, 2), (x, w, conv_param)


def conv_backward_naive(dout, cache):
    """Naive loops, as students write them: the catalogue's mutants of this function then give the values
    of the students' own loop bugs (a plan calls a backward once per case, so its speed does not matter)."""
    x, w, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    padded = _padded(x, pad)
    dpadded, dw = np.zeros_like(padded), np.zeros_like(w)
    for n in range(N):
        for f in range(F):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    dw[f] += padded[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW] * dout[n, f, i, j]
                    dpadded[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW] += w[f] * dout[n, f, i, j]
    dx = dpadded[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, dout.sum(axis=(0, 2, 3))


def max_pool_forward_naive(x, pool_param):
    height, width, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    rows, columns = 1 + (x.shape[2] - height) // stride, 1 + (x.shape[3] - width) // stride
    return _windows(x, height, width, stride, rows, columns).max(axis=(4, 5)), (x, pool_param)


def max_pool_backward_naive(dout, cache):
    """Each window's upstream gradient goes to its maximum; where windows overlap, the gradients add up."""
    x, pool_param = cache
    height, width, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    dx = np.zeros_like(x)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            window = x[:, :, i * stride:i * stride + height, j * stride:j * stride + width]
            mask = window == window.max(axis=(2, 3), keepdims=True)
            dx[:, :, i * stride:i * stride + height, j * stride:j * stride + width] += \
                mask * dout[:, :, i, j][:, :, None, None]
    return dx


def _channels_last(x):
    return x.transpose(0, 2, 3, 1).reshape(-1, x.shape[1])


def _channels_first(flat, shape):
    N, C, H, W = shape
    return flat.reshape(N, H, W, C).transpose(0, 3, 1, 2)


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalisation of each channel over the batch and both spatial axes; gamma and beta are (C,)."""
    out, cache = batchnorm_forward(_channels_last(x), gamma, beta, bn_param)
    return _channels_first(out, x.shape), (cache, x.shape)


def spatial_batchnorm_backward(dout, cache):
    cache, shape = cache
    dx, dgamma, dbeta = batchnorm_backward_alt(_channels_last(dout), cache)
    return _channels_first(dx, shape), dgamma, dbeta


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    """Normalise each example over each of G groups of C/G channels; gamma and beta are (1, C, 1, 1)."""
    N, C, H, W = x.shape
    grouped = x.reshape(N, G, -1)
    inv_std = 1 / np.sqrt(grouped.var(axis=2, keepdims=True) + gn_param.get("eps", 1e-5))
    x_hat = ((grouped - grouped.mean(axis=2, keepdims=True)) * inv_std).reshape(x.shape)
    return gamma * x_hat + beta, (x_hat, gamma, inv_std, G)


def spatial_groupnorm_backward(dout, cache):
    x_hat, gamma, inv_std, G = cache
    N = dout.shape[0]
    # Shaped like gamma by reshaping: a (C,) result is accepted anyway (shapes differing by axes of size 1).
    dgamma = (dout * x_hat).sum(axis=(0, 2, 3)).reshape(gamma.shape)
    dbeta = dout.sum(axis=(0, 2, 3)).reshape(gamma.shape)
    dx_hat, grouped_hat = (dout * gamma).reshape(N, G, -1), x_hat.reshape(N, G, -1)
    M = dx_hat.shape[2]
    dx = inv_std / M * (M * dx_hat - dx_hat.sum(axis=2, keepdims=True)
                        - grouped_hat * (dx_hat * grouped_hat).sum(axis=2, keepdims=True))
    return dx.reshape(dout.shape), dgamma, dbeta


# ---- The cases: the notebook's own shapes (smaller), then what the notebook never tries.

def _layer(name, functions, **inputs):
    return Case(name, inputs, functions=functions)


def _normal(rng, *shape, scale=1.0, shift=0.0):
    return shift + scale * rng.standard_normal(shape)


def _labels(rng, N, C):
    return rng.permutation(np.arange(N) % C) if N >= C else rng.integers(0, C, N)


AFFINE = ("affine_forward", "affine_backward")
RELU = ("relu_forward", "relu_backward")
BATCHNORM = ("batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt")
LAYERNORM = ("layernorm_forward", "layernorm_backward")
DROPOUT = ("dropout_forward", "dropout_backward")
CONV = ("conv_forward_naive", "conv_backward_naive")
POOL = ("max_pool_forward_naive", "max_pool_backward_naive")
SPATIAL = ("spatial_batchnorm_forward", "spatial_batchnorm_backward")
GROUPNORM = ("spatial_groupnorm_forward", "spatial_groupnorm_backward")


def _affine(rng, name, x_shape, M):
    D = int(np.prod(x_shape[1:]))
    return _layer(name, AFFINE, x=_normal(rng, *x_shape), w=_normal(rng, D, M), b=_normal(rng, M))


def _loss(rng, name, N, C):
    return Case(name, {"x": _normal(rng, N, C), "y": _labels(rng, N, C)}, functions=("softmax_loss", "svm_loss"))


def _norm(rng, name, functions, x, parameters, gamma_shape):
    return _layer(name, functions, x=x, gamma=_normal(rng, *gamma_shape, scale=0.5, shift=1.0),
                  beta=_normal(rng, *gamma_shape, scale=0.5), **parameters)


def _batchnorm(rng, name, x, **bn_param):
    return _norm(rng, name, BATCHNORM, x, {"bn_param": {"mode": "train", **bn_param}}, x.shape[1:])


def _dropout_case(rng, name, shape, p, mode="train", seed=None):
    return _layer(name, DROPOUT, x=_normal(rng, *shape),
                  dropout_param={"p": p, "mode": mode, "seed": int(rng.integers(1 << 16)) if seed is None else seed})


def _conv(rng, name, x_shape, w_shape, stride, pad):
    return _layer(name, CONV, x=_normal(rng, *x_shape), w=_normal(rng, *w_shape, scale=0.5),
                  b=_normal(rng, w_shape[0]), conv_param={"stride": stride, "pad": pad})


def _pool(rng, name, x_shape, height, width, stride):
    return _layer(name, POOL, x=_normal(rng, *x_shape),
                  pool_param={"pool_height": height, "pool_width": width, "stride": stride})


def _spatial(rng, name, x, **bn_param):
    return _norm(rng, name, SPATIAL, x, {"bn_param": {"mode": "train", **bn_param}}, (x.shape[1],))


def _groupnorm(rng, name, x, G):
    return _norm(rng, name, GROUPNORM, x, {"G": G, "gn_param": {}}, (1, x.shape[1], 1, 1))


def _tiny_feature(rng, shape, axis, scale=1e-2):
    """Normal inputs but for one feature (a column, a channel) of variance near batchnorm's eps."""
    x = _normal(rng, *shape, shift=2.0)
    index = [slice(None)] * len(shape)
    index[axis] = 0
    x[tuple(index)] = 0.5 + scale * rng.standard_normal(x[tuple(index)].shape)
    return x


def public_cases(rng):
    """The notebook's checks, one per layer, at smaller sizes."""
    return [
        _affine(rng, "affine", (10, 2, 3), 5),
        _layer("relu", RELU, x=_normal(rng, 4, 5)),
        _loss(rng, "loss", 8, 5),
        _batchnorm(rng, "batchnorm", _normal(rng, 6, 4, scale=2.0, shift=1.0)),
        _norm(rng, "layernorm", LAYERNORM, _normal(rng, 4, 5, scale=2.0), {"ln_param": {}}, (5,)),
        _dropout_case(rng, "dropout", (4, 5), 0.7, seed=123),
        _conv(rng, "conv", (2, 3, 4, 4), (2, 3, 3, 3), stride=1, pad=1),
        _pool(rng, "pool", (2, 2, 4, 4), 2, 2, stride=2),
        _spatial(rng, "spatial-batchnorm", _normal(rng, 2, 3, 3, 4, scale=2.0, shift=1.0)),
        _groupnorm(rng, "groupnorm", _normal(rng, 2, 4, 3, 3, scale=2.0), G=2),
    ]


def hidden_cases(rng):
    """What the notebook never tries: pad 0 and 2, stride 2, non-square inputs and filters; overlapping and
    non-square pooling windows; one group and a group per channel; a feature of tiny variance; a batch of one
    wherever the gradient is defined; test mode."""
    test_bn = {"mode": "test", "running_mean": _normal(rng, 4), "running_var": np.abs(_normal(rng, 4)) + 0.5}
    return [
        _affine(rng, "affine-N1", (1, 3), 4),
        _affine(rng, "affine-3d", (3, 2, 2), 3),
        _layer("relu-N1", RELU, x=_normal(rng, 1, 6)),
        _layer("relu-4d", RELU, x=_normal(rng, 2, 3, 2)),
        _loss(rng, "loss-N1", 1, 4),
        _loss(rng, "loss-wide", 5, 7),
        _batchnorm(rng, "batchnorm-tiny-variance", _tiny_feature(rng, (8, 3), axis=1)),
        _batchnorm(rng, "batchnorm-eps", _normal(rng, 5, 4, scale=3.0), eps=1e-3, momentum=0.5),
        Case("batchnorm-test-mode", {"x": _normal(rng, 3, 4), "gamma": _normal(rng, 4, shift=1.0),
                                     "beta": _normal(rng, 4), "bn_param": test_bn}, functions=("batchnorm_forward",)),
        _norm(rng, "layernorm-N1", LAYERNORM, _normal(rng, 1, 6), {"ln_param": {}}, (6,)),
        _norm(rng, "layernorm-tiny-variance", LAYERNORM, _tiny_feature(rng, (3, 5), axis=0), {"ln_param": {}}, (5,)),
        _dropout_case(rng, "dropout-p0.3", (3, 4), 0.3),
        _dropout_case(rng, "dropout-N1", (1, 6), 0.6),
        _dropout_case(rng, "dropout-test-mode", (3, 4), 0.5, mode="test"),
        _conv(rng, "conv-pad0-N1", (1, 2, 4, 5), (3, 2, 2, 3), stride=1, pad=0),
        _conv(rng, "conv-pad2-stride2", (2, 2, 3, 3), (2, 2, 3, 3), stride=2, pad=2),
        _conv(rng, "conv-stride2-non-square", (1, 2, 5, 7), (2, 2, 3, 3), stride=2, pad=1),
        _pool(rng, "pool-overlapping", (1, 2, 5, 5), 3, 3, stride=1),
        _pool(rng, "pool-overlapping-stride2", (1, 1, 7, 7), 3, 3, stride=2),
        _pool(rng, "pool-non-square", (2, 1, 4, 6), 2, 3, stride=1),
        _spatial(rng, "spatial-batchnorm-N1", _normal(rng, 1, 2, 3, 4, scale=2.0)),
        _spatial(rng, "spatial-batchnorm-tiny-variance", _tiny_feature(rng, (2, 3, 2, 3), axis=1)),
        _groupnorm(rng, "groupnorm-G1", _normal(rng, 2, 3, 2, 3, scale=2.0), G=1),
        _groupnorm(rng, "groupnorm-G=C-N1", _normal(rng, 1, 4, 3, 2, scale=2.0), G=4),
    ]


def square_cases(rng):
    """Every dimension equal, so a transposed weight or a sum over the wrong axis runs and is caught by value."""
    return [
        _affine(rng, "affine-square", (3, 3), 3),
        _loss(rng, "loss-square", 4, 4),
        _batchnorm(rng, "batchnorm-square", _normal(rng, 4, 4, scale=2.0)),
        _norm(rng, "layernorm-square", LAYERNORM, _normal(rng, 4, 4, scale=2.0), {"ln_param": {}}, (4,)),
        _conv(rng, "conv-square", (2, 2, 3, 3), (2, 2, 2, 2), stride=1, pad=1),
        _spatial(rng, "spatial-batchnorm-square", _normal(rng, 2, 2, 2, 2, scale=2.0)),
        _groupnorm(rng, "groupnorm-square", _normal(rng, 2, 2, 2, 2, scale=2.0), G=2),
    ]


def _pair(forward, backward, wrt, **options):
    return [Value(forward, output=0, conventions=options.pop("forward_conventions", ())),
            LayerBackward(backward, forward=forward, wrt=wrt, **options)]


SPEC = Spec(
    name="layers",
    title="Modular layers: forward and backward passes (CS231n style)",
    functions=[
        *_pair("affine_forward", "affine_backward", ("x", "w", "b")),
        *_pair("relu_forward", "relu_backward", ("x",)),
        Loss("softmax_loss", wrt="x"),
        Loss("svm_loss", wrt="x"),
        *_pair("batchnorm_forward", "batchnorm_backward", ("x", "gamma", "beta")),
        LayerBackward("batchnorm_backward_alt", forward="batchnorm_forward", wrt=("x", "gamma", "beta")),
        *_pair("layernorm_forward", "layernorm_backward", ("x", "gamma", "beta")),
        # p is the keep probability since 2018 and was the drop probability before: both are accepted, with
        # the mask drawn by np.random.rand or np.random.binomial. The backward is judged against the
        # student's own forward: the same seeded call gives the same mask.
        *_pair("dropout_forward", "dropout_backward", ("x",), own_forward=True,
               forward_conventions=("dropout_forward_drop", "dropout_forward_drop_below", "dropout_forward_binomial",
                                    "dropout_forward_drop_binomial")),
        *_pair("conv_forward_naive", "conv_backward_naive", ("x", "w", "b")),
        *_pair("max_pool_forward_naive", "max_pool_backward_naive", ("x",)),
        *_pair("spatial_batchnorm_forward", "spatial_batchnorm_backward", ("x", "gamma", "beta")),
        *_pair("spatial_groupnorm_forward", "spatial_groupnorm_backward", ("x", "gamma", "beta")),
    ],
    public_cases=public_cases,
    hidden_cases=hidden_cases,
    square_cases=square_cases,
    seed=231,
)
