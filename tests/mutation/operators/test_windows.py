"""The window family on conv and max-pool backward passes written the ways students write them.

Each style is checked against a numerical VJP first, so the mutants are mutants of correct code; then each
operator must fire on it and plant exactly its bug: the same values where the bug cannot show (pad > 0,
stride 1, windows that do not overlap), other values where it must.
"""
from __future__ import annotations

import numpy as np
import pytest

from operator_styles import changed_lines, compiled, differs, mutants, same, vjp

CONV_INLINE = '''
def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode='constant')
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    db = np.sum(dout, axis=(0, 2, 3))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    dw[f] += window * dout[n, f, i, j]
                    dx_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW] += w[f] * dout[n, f, i, j]
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, db
'''

CONV_STARTS = '''
def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    S = conv_param['stride']
    P = conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = dout.shape[2], dout.shape[3]
    xp = np.pad(x, ((0, 0), (0, 0), (P, P), (P, P)))
    dxp = np.zeros(xp.shape)
    dw = np.zeros(w.shape)
    db = np.zeros(b.shape)
    Hp, Wp = H + 2 * P, W + 2 * P
    for n in range(N):
        for i in range(Ho):
            h0 = i * S
            for j in range(Wo):
                w0 = j * S
                g = dout[n, :, i, j]
                dw += g[:, None, None, None] * xp[n, None, :, h0:h0 + HH, w0:w0 + WW]
                dxp[n, :, h0:h0 + HH, w0:w0 + WW] = dxp[n, :, h0:h0 + HH, w0:w0 + WW] + np.tensordot(g, w, axes=(0, 0))
                db += g
    dx = dxp[:, :, P:Hp - P, P:Wp - P]
    return dx, dw, db
'''

CONV_EINSUM = '''
def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride = conv_param['stride']
    pad = conv_param['pad']
    H, W = x.shape[2], x.shape[3]
    F, C, HH, WW = w.shape
    x_padded = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    dx_padded = np.zeros_like(x_padded)
    dw = np.zeros_like(w)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            hs, ws = stride * i, stride * j
            patch = x_padded[:, :, hs:hs + HH, ws:ws + WW]
            dw += np.einsum('nf,nchw->fchw', dout[:, :, i, j], patch)
            dx_padded[:, :, hs:hs + HH, ws:ws + WW] += np.einsum('nf,fchw->nchw', dout[:, :, i, j], w)
    dx = dx_padded[:, :, pad:H + pad, pad:W + pad]
    db = dout.sum(axis=(0, 2, 3))
    return dx, dw, db
'''

CONV_TAPS = '''
def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param['stride'], conv_param['pad']
    H, W = x.shape[2:]
    F, C, HH, WW = w.shape
    Ho, Wo = dout.shape[2:]
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    for a in range(HH):
        for c in range(WW):
            taps = x_pad[:, :, a:a + stride * Ho:stride, c:c + stride * Wo:stride]
            dw[:, :, a, c] = np.einsum('nfhw,nkhw->fk', dout, taps)
            dx_pad[:, :, a:a + stride * Ho:stride, c:c + stride * Wo:stride] += np.einsum('nfhw,fk->nkhw', dout, w[:, :, a, c])
    return dx_pad[:, :, pad:pad + H, pad:pad + W], dw, dout.sum(axis=(0, 2, 3))
'''

CONV_STYLES = {"inline": CONV_INLINE, "window-starts": CONV_STARTS, "einsum": CONV_EINSUM, "taps": CONV_TAPS}


def conv_forward(x, w, b, *, stride, pad):
    F, _, HH, WW = w.shape
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    H_out = (padded.shape[2] - HH) // stride + 1
    W_out = (padded.shape[3] - WW) // stride + 1
    out = np.empty((x.shape[0], F, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            patch = padded[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out


def conv_case(*, stride, pad, filter_size=(3, 2), size=(5, 6), seed=0):
    """(dout, cache) of a conv layer; filter_size (HH, WW) and size (H, W) non-square, as hidden cases are."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 3, *size))
    w = rng.standard_normal((4, 3, *filter_size))
    b = rng.standard_normal(4)
    out = conv_forward(x, w, b, stride=stride, pad=pad)
    return rng.standard_normal(out.shape), (x, w, b, {"stride": stride, "pad": pad})


@pytest.mark.parametrize("style", CONV_STYLES.values(), ids=CONV_STYLES.keys())
@pytest.mark.parametrize(("stride", "pad"), [(1, 1), (2, 0), (2, 2)])
def test_every_conv_style_is_a_correct_backward_pass(style, stride, pad):
    dout, cache = conv_case(stride=stride, pad=pad)
    x, w, b, conv_param = cache
    dx, dw, db = compiled(style, "conv_backward_naive")(dout, cache)
    inputs = {"x": x.copy(), "w": w.copy(), "b": b.copy()}
    forward = lambda x, w, b: conv_forward(x, w, b, stride=stride, pad=pad)  # noqa: E731
    for got, wrt in ((dx, "x"), (dw, "w"), (db, "b")):
        np.testing.assert_allclose(got, vjp(forward, inputs, wrt, dout), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("style", CONV_STYLES.values(), ids=CONV_STYLES.keys())
def test_unpad_crops_with_minus_pad_which_is_empty_only_when_pad_is_zero(style):
    found = mutants(style, "window-unpad-negative")
    assert len(found) == 1
    assert any(":-P" in line or ":-pad" in line for line in changed_lines(style, found[0]))
    reference, mutant = compiled(style, "conv_backward_naive"), compiled(found[0], "conv_backward_naive")
    assert same(mutant(*conv_case(stride=1, pad=1)), reference(*conv_case(stride=1, pad=1)))
    assert differs(mutant, reference, *conv_case(stride=2, pad=0))
    assert mutant(*conv_case(stride=2, pad=0))[0].size == 0


@pytest.mark.parametrize(("style", "sites"), [(CONV_INLINE, 2), (CONV_STARTS, 2), (CONV_EINSUM, 1), (CONV_TAPS, 2)],
                         ids=CONV_STYLES.keys())
def test_ignoring_the_stride_changes_nothing_at_stride_1_and_is_caught_at_stride_2(style, sites):
    found = mutants(style, "window-ignore-stride")
    assert len(found) == sites
    reference = compiled(style, "conv_backward_naive")
    for source in found:
        mutant = compiled(source, "conv_backward_naive")
        assert same(mutant(*conv_case(stride=1, pad=1)), reference(*conv_case(stride=1, pad=1)))
        assert differs(mutant, reference, *conv_case(stride=2, pad=1))


# The inline style scatters one filter at a time, so = loses the other filters' share even where windows
# do not overlap; the others sum over the filters in one statement (the taps' windows overlap only where
# the output's windows do).
@pytest.mark.parametrize(("style", "overlap_only"), [(CONV_INLINE, False), (CONV_STARTS, True), (CONV_EINSUM, True),
                                                     (CONV_TAPS, True)], ids=CONV_STYLES.keys())
def test_assigning_instead_of_accumulating_dx_shows_where_windows_overlap(style, overlap_only):
    found = mutants(style, "window-assign-not-accumulate")
    assert len(found) == 1
    assert all(line.startswith(("dx_pad", "dxp", "dx_padded")) and "+=" not in line
               for line in changed_lines(style, found[0]))
    reference, mutant = compiled(style, "conv_backward_naive"), compiled(found[0], "conv_backward_naive")
    apart = conv_case(stride=2, pad=0, filter_size=(2, 2), size=(4, 6))
    assert same(mutant(*apart), reference(*apart)) is overlap_only
    assert differs(mutant, reference, *conv_case(stride=1, pad=1))


POOL_MASK = '''
def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    ph, pw, stride = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    N, C, H, W = x.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    window = x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw]
                    mask = window == np.max(window)
                    dx[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw] += mask * dout[n, c, i, j]
    return dx
'''

POOL_ARGMAX = '''
def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    ph = pool_param['pool_height']
    pw = pool_param['pool_width']
    stride = pool_param['stride']
    N, C, Ho, Wo = dout.shape
    dx = np.zeros(x.shape)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    hs = i * stride
                    ws = j * stride
                    window = x[n, c, hs:hs + ph, ws:ws + pw]
                    r, s = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, hs + r, ws + s] += dout[n, c, i, j]
    return dx
'''

POOL_BLOCKS = '''
def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    S = pool_param['stride']
    ph, pw = pool_param['pool_height'], pool_param['pool_width']
    dx = np.zeros_like(x)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            hs, ws = i * S, j * S
            block = x[:, :, hs:hs + ph, ws:ws + pw]
            block_max = block.max(axis=(2, 3), keepdims=True)
            dx[:, :, hs:hs + ph, ws:ws + pw] += (block == block_max) * dout[:, :, i:i + 1, j:j + 1]
    return dx
'''

POOL_ADD_AT = '''
def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    ph, pw, stride = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    N, C, Ho, Wo = dout.shape
    n, c, i, j = np.indices(dout.shape)
    rows = i[..., None, None] * stride + np.arange(ph)[:, None]
    columns = j[..., None, None] * stride + np.arange(pw)
    windows = x[n[..., None, None], c[..., None, None], rows, columns].reshape(N, C, Ho, Wo, -1)
    at = windows.argmax(axis=-1)
    dx = np.zeros_like(x)
    np.add.at(dx, (n, c, i * stride + at // pw, j * stride + at % pw), dout)
    return dx
'''

POOL_STYLES = {"mask": POOL_MASK, "argmax": POOL_ARGMAX, "blocks": POOL_BLOCKS, "add-at": POOL_ADD_AT}


def pool_forward(x, *, ph, pw, stride):
    H_out, W_out = (x.shape[2] - ph) // stride + 1, (x.shape[3] - pw) // stride + 1
    out = np.empty((*x.shape[:2], H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = x[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw].max(axis=(2, 3))
    return out


def pool_case(*, ph, pw, stride, size=(6, 7), seed=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 3, *size))
    out = pool_forward(x, ph=ph, pw=pw, stride=stride)
    return rng.standard_normal(out.shape), (x, {"pool_height": ph, "pool_width": pw, "stride": stride})


OVERLAPPING = dict(ph=3, pw=2, stride=1)
APART = dict(ph=2, pw=3, stride=3, size=(6, 9))


@pytest.mark.parametrize("style", POOL_STYLES.values(), ids=POOL_STYLES.keys())
@pytest.mark.parametrize("shape", [OVERLAPPING, APART], ids=["overlapping", "apart"])
def test_every_pooling_style_is_a_correct_backward_pass(style, shape):
    dout, (x, pool_param) = pool_case(**shape)
    dx = compiled(style, "max_pool_backward_naive")(dout, (x, pool_param))
    forward = lambda x: pool_forward(x, ph=shape["ph"], pw=shape["pw"], stride=shape["stride"])  # noqa: E731
    np.testing.assert_allclose(dx, vjp(forward, {"x": x.copy()}, "x", dout), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("style", POOL_STYLES.values(), ids=POOL_STYLES.keys())
def test_pooling_that_assigns_into_overlapping_windows_is_caught_only_there(style):
    found = mutants(style, "window-assign-not-accumulate")
    assert len(found) == 1
    reference, mutant = compiled(style, "max_pool_backward_naive"), compiled(found[0], "max_pool_backward_naive")
    assert same(mutant(*pool_case(**APART)), reference(*pool_case(**APART)))
    assert differs(mutant, reference, *pool_case(**OVERLAPPING))


@pytest.mark.parametrize(("style", "sites"), [(POOL_MASK, 2), (POOL_ARGMAX, 2), (POOL_BLOCKS, 1), (POOL_ADD_AT, 3)],
                         ids=POOL_STYLES.keys())
def test_pooling_that_ignores_the_stride_is_caught_at_stride_3(style, sites):
    found = mutants(style, "window-ignore-stride")
    assert len(found) == sites
    reference = compiled(style, "max_pool_backward_naive")
    for source in found:
        assert differs(compiled(source, "max_pool_backward_naive"), reference, *pool_case(**APART))


def every_position(dout, x, *, ph, pw, stride, **_):
    """The gradient a max pool would have if every position of a window were its maximum."""
    dx = np.zeros_like(x)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            dx[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw] += dout[:, :, i:i + 1, j:j + 1]
    return dx


@pytest.mark.parametrize("style", POOL_STYLES.values(), ids=POOL_STYLES.keys())
@pytest.mark.parametrize("shape", [OVERLAPPING, APART], ids=["overlapping", "apart"])
def test_the_gradient_routed_to_every_position_of_the_window_is_that_gradient(style, shape):
    """Whether the window's maximum is a mask or an argmax, the mutant is the every-position gradient itself."""
    found = mutants(style, "pool-route-every-position")
    assert len(found) == 1
    dout, (x, pool_param) = pool_case(**shape)
    got = compiled(found[0], "max_pool_backward_naive")(dout, (x, pool_param))
    np.testing.assert_allclose(got, every_position(dout, x, **shape), rtol=1e-12)


def test_an_argmax_that_is_no_windows_maximum_is_left_alone():
    assert mutants("def predict(self, X):\n    return np.argmax(X @ self.W, axis=1)\n", "pool-route-every-position") == []


def test_the_first_maximum_only_is_the_same_gradient_where_no_window_has_a_tie():
    """Ties have probability 0 in screened cases (the numerical gradient splits at a tie): an equivalent mutant."""
    found = mutants(POOL_MASK, "pool-route-first-max")
    assert len(found) == 1 and "np.argmax(window)" in found[0]
    mutant, reference = compiled(found[0], "max_pool_backward_naive"), compiled(POOL_MASK, "max_pool_backward_naive")
    assert same(mutant(*pool_case(**OVERLAPPING)), reference(*pool_case(**OVERLAPPING)))
    dout, (x, pool_param) = pool_case(**APART)
    x[:, :, 0, 1] = x[:, :, 0, 0] = np.abs(x).max() + 1  # a tie for the maximum in the first window
    assert differs(mutant, reference, dout, (x, pool_param))


def test_the_first_maximum_of_a_whole_block_is_caught():
    found = mutants(POOL_BLOCKS, "pool-route-first-max")
    assert len(found) == 1
    assert differs(compiled(found[0], "max_pool_backward_naive"), compiled(POOL_BLOCKS, "max_pool_backward_naive"),
                   *pool_case(**APART))
