"""im2col and col2im as the course's helpers lay them out: rows (C, field_height, field_width), columns
(out_height, out_width, N) with N varying fastest."""
import numpy as np
from numpy.lib.stride_tricks import as_strided


def _out_size(size, field, padding, stride):
    if (size + 2 * padding - field) % stride != 0:
        raise ValueError(f"a field of {field} with stride {stride} and padding {padding} does not tile {size}")
    return (size + 2 * padding - field) // stride + 1


def get_im2col_indices(x_shape, field_height, field_width, padding=1, stride=1):
    """(k, i, j): the channel, row and column of the padded input that each entry of the columns reads."""
    N, C, H, W = x_shape
    out_height = _out_size(H, field_height, padding, stride)
    out_width = _out_size(W, field_width, padding, stride)
    channel, row, column = np.meshgrid(np.arange(C), np.arange(field_height), np.arange(field_width), indexing="ij")
    out_row, out_column = np.meshgrid(np.arange(out_height), np.arange(out_width), indexing="ij")
    i = row.reshape(-1, 1) + stride * out_row.reshape(1, -1)
    j = column.reshape(-1, 1) + stride * out_column.reshape(1, -1)
    return channel.reshape(-1, 1), i, j


def im2col_indices(x, field_height, field_width, padding=1, stride=1):
    """Every field of x (N, C, H, W) as a column: (C * field_height * field_width, out_height * out_width * N)."""
    N, C, H, W = x.shape
    out_height = _out_size(H, field_height, padding, stride)
    out_width = _out_size(W, field_width, padding, stride)
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), mode="constant")
    n, c, h, w = padded.strides
    fields = as_strided(padded, (N, C, out_height, out_width, field_height, field_width),
                        (n, c, h * stride, w * stride, h, w), writeable=False)
    return fields.transpose(1, 4, 5, 2, 3, 0).reshape(C * field_height * field_width, -1)


def col2im_indices(cols, x_shape, field_height=3, field_width=3, padding=1, stride=1):
    """The adjoint of im2col_indices: each column added back into the field it came from (overlaps add up)."""
    N, C, H, W = x_shape
    out_height = _out_size(H, field_height, padding, stride)
    out_width = _out_size(W, field_width, padding, stride)
    fields = cols.reshape(C, field_height, field_width, out_height, out_width, N).transpose(5, 0, 3, 4, 1, 2)
    padded = np.zeros((N, C, H + 2 * padding, W + 2 * padding), dtype=cols.dtype)
    for i in range(field_height):
        for j in range(field_width):
            padded[:, :, i:i + stride * out_height:stride, j:j + stride * out_width:stride] += fields[..., i, j]
    return padded[:, :, padding:padding + H, padding:padding + W]
