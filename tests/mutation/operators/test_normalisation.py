"""The normalisation family on batch, layer, spatial and group norm written the ways students write them.

Every backward style is checked against a numerical VJP first. A dropped path must give the same dx
whichever style it was dropped from (what a student's bug is matched against), and N - 1 must give
exactly the unbiased variance.
"""
from __future__ import annotations

import numpy as np
import pytest

from operator_styles import changed_lines, compiled, differs, mutants, vjp

EPS = 1e-5

BN_STAGED = '''
def batchnorm_backward(dout, cache):
    x, x_hat, mu, var, gamma, eps = cache
    N = x.shape[0]
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    dx_hat = dout * gamma
    dvar = np.sum(dx_hat * (x - mu), axis=0) * -0.5 * (var + eps) ** -1.5
    dmu = np.sum(-dx_hat / np.sqrt(var + eps), axis=0) + dvar * np.mean(-2.0 * (x - mu), axis=0)
    dx = dx_hat / np.sqrt(var + eps) + dvar * 2.0 * (x - mu) / N + dmu / N
    return dx, dgamma, dbeta
'''

BN_COMPACT = '''
def batchnorm_backward(dout, cache):
    x_hat, gamma, istd = cache['x_hat'], cache['gamma'], cache['istd']
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx = gamma * istd / N * (N * dout - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta
'''

BN_MEANS = '''
def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std = cache
    dxhat = dout * gamma
    dx = inv_std * (dxhat - dxhat.mean(axis=0) - x_hat * (dxhat * x_hat).mean(axis=0))
    return dx, np.sum(dout * x_hat, axis=0), np.sum(dout, axis=0)
'''

SPATIAL_BN = '''
def batchnorm_backward(dout, cache):
    x_hat, gamma, std = cache
    N, C, H, W = dout.shape
    M = N * H * W
    dbeta = dout.sum(axis=(0, 2, 3))
    dgamma = (dout * x_hat).sum(axis=(0, 2, 3))
    g = gamma.reshape(1, C, 1, 1) / std
    dx = g / M * (M * dout - dbeta.reshape(1, C, 1, 1) - x_hat * dgamma.reshape(1, C, 1, 1))
    return dx, dgamma, dbeta
'''

LAYERNORM = '''
def batchnorm_backward(dout, cache):
    x, mean, var, gamma, eps = cache
    D = x.shape[1]
    std = np.sqrt(var + eps)
    x_hat = (x - mean) / std
    dx_hat = dout * gamma
    dx = (D * dx_hat - np.sum(dx_hat, axis=1, keepdims=True) - x_hat * np.sum(dx_hat * x_hat, axis=1, keepdims=True)) / (D * std)
    return dx, np.sum(dout * x_hat, axis=0), np.sum(dout, axis=0)
'''

GROUPNORM = '''
def batchnorm_backward(dout, cache):
    x, gamma, G, eps = cache
    N, C, H, W = x.shape
    xg = x.reshape(N, G, -1)
    mu = xg.mean(axis=2, keepdims=True)
    var = xg.var(axis=2, keepdims=True)
    x_hat = ((xg - mu) / np.sqrt(var + eps)).reshape(N, C, H, W)
    dbeta = np.sum(dout, axis=(0, 2, 3), keepdims=True)
    dgamma = np.sum(dout * x_hat, axis=(0, 2, 3), keepdims=True)
    dxg_hat = (dout * gamma).reshape(N, G, -1)
    xg_hat = x_hat.reshape(N, G, -1)
    M = xg.shape[2]
    dx_group = (M * dxg_hat - dxg_hat.sum(axis=2, keepdims=True) - xg_hat * (dxg_hat * xg_hat).sum(axis=2, keepdims=True)) / (M * np.sqrt(var + eps))
    dx = dx_group.reshape(N, C, H, W)
    return dx, dgamma, dbeta
'''


def statistics(x, axes):
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return mu, var, (x - mu) / np.sqrt(var + EPS)


def norm_forward(x, gamma, beta, *, axes, shape=None):
    """gamma * x_hat + beta, x_hat normalised over axes of x reshaped to shape (group norm's groups)."""
    grouped = x.reshape(shape) if shape else x
    _, _, x_hat = statistics(grouped, axes)
    return gamma * x_hat.reshape(x.shape) + beta


def flat_case(seed=0):
    rng = np.random.default_rng(seed)
    x = 3 * rng.standard_normal((6, 5)) + 1
    x[:, 2] *= 1e-3  # a feature of tiny variance, as the hidden cases have
    return x, rng.standard_normal(5), rng.standard_normal(5), rng.standard_normal((6, 5))


def image_case(seed=1):
    rng = np.random.default_rng(seed)
    x = 2 * rng.standard_normal((3, 4, 2, 3)) - 1
    return x, rng.standard_normal((1, 4, 1, 1)), rng.standard_normal((1, 4, 1, 1)), rng.standard_normal(x.shape)


def bn_cache(style, x, gamma):
    mu, var, x_hat = statistics(x, 0)
    mu, var = mu[0], var[0]
    if style is BN_STAGED:
        return (x, x_hat, mu, var, gamma, EPS)
    if style is BN_COMPACT:
        return {"x_hat": x_hat, "gamma": gamma, "istd": 1 / np.sqrt(var + EPS)}
    return (x_hat, gamma, 1 / np.sqrt(var + EPS))


# (style, arguments of its backward, the forward it is the VJP of, the axes dgamma sums over)
def styled(style):
    if style in (BN_STAGED, BN_COMPACT, BN_MEANS):
        x, gamma, beta, dout = flat_case()
        return (dout, bn_cache(style, x, gamma)), x, gamma, beta, dict(axes=0)
    if style is LAYERNORM:
        x, gamma, beta, dout = flat_case()
        mu, var, _ = statistics(x, 1)
        return (dout, (x, mu, var, gamma, EPS)), x, gamma, beta, dict(axes=1)
    x, gamma, beta, dout = image_case()
    if style is SPATIAL_BN:
        _, var, x_hat = statistics(x, (0, 2, 3))
        return (dout, (x_hat, gamma.ravel(), np.sqrt(var + EPS))), x, gamma, beta, dict(axes=(0, 2, 3))
    return (dout, (x, gamma, 2, EPS)), x, gamma, beta, dict(axes=2, shape=(3, 2, -1))


STYLES = {"staged": BN_STAGED, "compact": BN_COMPACT, "means": BN_MEANS, "spatial": SPATIAL_BN,
          "layernorm": LAYERNORM, "groupnorm": GROUPNORM}


@pytest.mark.parametrize("style", STYLES.values(), ids=STYLES.keys())
def test_every_normalisation_style_is_a_correct_backward_pass(style):
    arguments, x, gamma, beta, layout = styled(style)
    dx, dgamma, dbeta = compiled(style, "batchnorm_backward")(*arguments)
    inputs = {"x": x.copy(), "gamma": gamma.copy(), "beta": beta.copy()}
    forward = lambda x, gamma, beta: norm_forward(x, gamma, beta, **layout)  # noqa: E731
    dout = arguments[0]
    np.testing.assert_allclose(dx, vjp(forward, inputs, "x", dout), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(np.reshape(dgamma, gamma.shape), vjp(forward, inputs, "gamma", dout), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(np.reshape(dbeta, beta.shape), vjp(forward, inputs, "beta", dout), rtol=1e-6, atol=1e-8)


def without_path(path, dxhat, x_hat, istd, axes):
    """dx with the mean path or the variance path left out, from its definition."""
    mean = lambda value: value.mean(axis=axes, keepdims=True)  # noqa: E731
    if path == "mean":
        return istd * (dxhat - x_hat * mean(dxhat * x_hat))
    return istd * (dxhat - mean(dxhat))


@pytest.mark.parametrize("path", ["mean", "variance"])
@pytest.mark.parametrize("style", STYLES.values(), ids=STYLES.keys())
def test_a_dropped_path_gives_the_same_dx_whichever_style_it_was_dropped_from(style, path):
    found = mutants(style, f"norm-drop-{path}-path")
    assert len(found) == 1
    assert all(line.startswith(("dx =", "dx_group =")) for line in changed_lines(style, found[0]))
    arguments, x, gamma, beta, layout = styled(style)
    dx = compiled(found[0], "batchnorm_backward")(*arguments)[0]
    assert differs(compiled(found[0], "batchnorm_backward"), compiled(style, "batchnorm_backward"), *arguments)
    grouped = x.reshape(layout["shape"]) if "shape" in layout else x
    _, var, x_hat = statistics(grouped, layout["axes"])
    dxhat = (arguments[0] * gamma).reshape(grouped.shape)
    expected = without_path(path, dxhat, x_hat, 1 / np.sqrt(var + EPS), layout["axes"]).reshape(x.shape)
    np.testing.assert_allclose(dx, expected, rtol=1e-9, atol=1e-12)


def test_dmu_without_its_variance_term_is_not_a_path_dropped():
    """dvar * mean(-2 (x - mu)) is zero: the operator leaves dmu alone and drops terms of dx only."""
    assert all("dmu = " not in line for source in mutants(BN_STAGED, "norm-drop-variance-path")
               for line in changed_lines(BN_STAGED, source))


VARIANCES = {
    "np.var": "def normalise(x):\n    mu = np.mean(x, axis=0)\n    var = np.var(x, axis=0)\n"
              "    return (x - mu) / np.sqrt(var + 1e-5)\n",
    "method-var": "def normalise(x):\n    return (x - x.mean(axis=1, keepdims=True)) / np.sqrt(x.var(axis=1, keepdims=True) + 1e-5)\n",
    "sum-over-N": "def normalise(x):\n    N = x.shape[0]\n    mu = np.sum(x, axis=0) / N\n"
                  "    var = np.sum((x - mu) ** 2, axis=0) / N\n    return (x - mu) / np.sqrt(var + 1e-5)\n",
    "staged": "def normalise(x):\n    N, D = x.shape\n    mu = 1.0 / N * np.sum(x, axis=0)\n    xmu = x - mu\n"
              "    sq = xmu ** 2\n    var = 1.0 / N * np.sum(sq, axis=0)\n    sqrtvar = np.sqrt(var + 1e-5)\n"
              "    return xmu / sqrtvar\n",
    "mean-of-squares": "def normalise(x):\n    sample_mean = x.mean(axis=0)\n"
                       "    sample_var = ((x - sample_mean) ** 2).mean(axis=0)\n"
                       "    return (x - sample_mean) / np.sqrt(sample_var + 1e-5)\n",
}


@pytest.mark.parametrize("source", VARIANCES.values(), ids=VARIANCES.keys())
def test_the_variance_over_n_minus_1_is_exactly_the_unbiased_one(source):
    found = mutants(source, "norm-variance-unbiased")
    assert len(found) == 1
    x = np.random.default_rng(2).standard_normal((7, 4))
    axis = 1 if "axis=1" in source else 0
    mu = x.mean(axis=axis, keepdims=True)
    np.testing.assert_allclose(compiled(source, "normalise")(x), (x - mu) / np.sqrt(x.var(axis=axis, keepdims=True) + 1e-5))
    np.testing.assert_allclose(compiled(found[0], "normalise")(x),
                               (x - mu) / np.sqrt(x.var(axis=axis, ddof=1, keepdims=True) + 1e-5), rtol=1e-12)


def test_the_group_norm_backward_that_recomputes_its_variance_gets_n_minus_1_there():
    found = mutants(GROUPNORM, "norm-variance-unbiased")
    assert [line for source in found for line in changed_lines(GROUPNORM, source)] == \
        ["var = xg.var(axis=2, keepdims=True, ddof=1)"]


def test_a_running_variance_and_the_variances_gradient_are_left_alone():
    source = ("def f(x, bn_param, dout):\n    running_var = 0.9 * bn_param['running_var'] + 0.1 * np.mean(x ** 2, axis=0)\n"
              "    dvar = np.sum(dout * x, axis=0) / x.shape[0]\n    return running_var, dvar\n")
    assert mutants(source, "norm-variance-unbiased") == []


@pytest.mark.parametrize(("style", "count"), [(SPATIAL_BN, 8), (GROUPNORM, 8), (BN_STAGED, 0), (LAYERNORM, 0)],
                         ids=["spatial", "groupnorm", "batchnorm", "layernorm"])
def test_dgamma_and_dbeta_over_wrong_axes_are_caught_in_spatial_and_group_norm(style, count):
    found = mutants(style, "norm-parameter-axes")
    assert len(found) == count
    arguments = styled(style)[0]
    reference = compiled(style, "batchnorm_backward")
    for source in found:
        assert differs(compiled(source, "batchnorm_backward"), reference, *arguments)
