"""The course's fast convolution and pooling layers, written with im2col (no compiled extension needed)."""
import numpy as np

from cs231n.im2col import col2im_indices, im2col_indices


def conv_forward_im2col(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, field_height, field_width = w.shape
    cols = im2col_indices(x, field_height, field_width, padding=pad, stride=stride)
    out_height, out_width = (H + 2 * pad - field_height) // stride + 1, (W + 2 * pad - field_width) // stride + 1
    out = (w.reshape(F, -1) @ cols + b.reshape(-1, 1)).reshape(F, out_height, out_width, N).transpose(3, 0, 1, 2)
    return out, (x, w, b, conv_param, cols)


def conv_backward_im2col(dout, cache):
    x, w, b, conv_param, cols = cache
    F, _, field_height, field_width = w.shape
    flat = dout.transpose(1, 2, 3, 0).reshape(F, -1)
    dx = col2im_indices(w.reshape(F, -1).T @ flat, x.shape, field_height, field_width,
                        padding=conv_param["pad"], stride=conv_param["stride"])
    return dx, (flat @ cols.T).reshape(w.shape), dout.sum(axis=(0, 2, 3))


conv_forward_fast, conv_backward_fast = conv_forward_im2col, conv_backward_im2col
conv_forward_strides, conv_backward_strides = conv_forward_im2col, conv_backward_im2col


def max_pool_forward_im2col(x, pool_param):
    N, C, H, W = x.shape
    height, width, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    cols = im2col_indices(x.reshape(N * C, 1, H, W), height, width, padding=0, stride=stride)
    at = np.argmax(cols, axis=0)
    out_height, out_width = (H - height) // stride + 1, (W - width) // stride + 1
    out = cols[at, np.arange(cols.shape[1])].reshape(out_height, out_width, N, C).transpose(2, 3, 0, 1)
    return out, (x, pool_param, cols.shape, at)


def max_pool_backward_im2col(dout, cache):
    x, pool_param, shape, at = cache
    N, C, H, W = x.shape
    dcols = np.zeros(shape, dtype=dout.dtype)
    dcols[at, np.arange(shape[1])] = dout.transpose(2, 3, 0, 1).reshape(-1)
    dx = col2im_indices(dcols, (N * C, 1, H, W), pool_param["pool_height"], pool_param["pool_width"],
                        padding=0, stride=pool_param["stride"])
    return dx.reshape(x.shape)


max_pool_forward_fast, max_pool_backward_fast = max_pool_forward_im2col, max_pool_backward_im2col
max_pool_forward_reshape, max_pool_backward_reshape = max_pool_forward_im2col, max_pool_backward_im2col
