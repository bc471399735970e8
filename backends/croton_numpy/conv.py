"""The numpy backend's convolution kernels: im2col as a strided view, products by BLAS.

Every kernel reduces the three ops to cross-correlation of the zero-padded input:
``out[b, f, y, x] = sum(w[f, c, i, j] * xp[b, c, y*sh + i*dh, x*sw + j*dw])`` within a
group, the filters flipped first when ``filter_flip`` is set.
"""

from __future__ import annotations

import numpy as np

from croton.ops.conv import (
    Conv2d,
    Conv2dGradInputs,
    Conv2dGradWeights,
    check_group_split,
    check_groups,
    check_output_grad,
    output_spatial_shape,
    paddings,
)
from croton_numpy.lowering import lowers


def _windows(xp, op, kernel_shape, out_shape):
    """A view ``(batch, groups, channels per group, out rows, out columns, k rows, k columns)``."""
    b, c, _, _ = xp.shape
    g = op.num_groups
    s0, s1, s2, s3 = xp.strides
    (sh, sw), (dh, dw) = op.subsample, op.filter_dilation
    shape = (b, g, c // g, *out_shape, *kernel_shape)
    strides = (s0, s1 * (c // g), s1, s2 * sh, s3 * sw, s2 * dh, s3 * dw)
    return np.lib.stride_tricks.as_strided(xp, shape, strides, writeable=False)


def _padded(x, pads):
    if pads == (0, 0):
        return x
    (ph, pw) = pads
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))


def _grouped_filters(w, op):
    """``(groups, filters per group, channels per group, k rows, k columns)``, flipped when
    the op convolves."""
    if op.filter_flip:
        w = w[:, :, ::-1, ::-1]
    f = w.shape[0]
    return w.reshape(op.num_groups, f // op.num_groups, *w.shape[1:])


@lowers(Conv2d)
def _conv2d(op, node):
    dtype = np.dtype(node.outputs[0].dtype)

    def kernel(x, w):
        check_groups(op, x.shape[1], w.shape)
        kernel_shape = w.shape[2:]
        out_shape = output_spatial_shape(op, x.shape[2:], kernel_shape)
        windows = _windows(_padded(x, paddings(op, kernel_shape)), op, kernel_shape, out_shape)
        wg = _grouped_filters(w, op)
        # (b, g, c, y, x, i, j) . (g, f, c, i, j) -> (g, b, y, x, f)
        out = np.stack(
            [
                np.tensordot(windows[:, k], wg[k], axes=([1, 4, 5], [1, 2, 3]))
                for k in range(op.num_groups)
            ],
            axis=0,
        )
        out = out.transpose(1, 0, 4, 2, 3).reshape(x.shape[0], w.shape[0], *out_shape)
        return np.ascontiguousarray(out, dtype=dtype)

    return kernel


@lowers(Conv2dGradInputs)
def _conv2d_grad_inputs(op, node):
    dtype = np.dtype(node.outputs[0].dtype)

    def kernel(w, gz, shape):
        rows, columns = (int(s) for s in shape)
        b, f = gz.shape[:2]
        g = op.num_groups
        c = w.shape[1] * g
        kernel_shape = w.shape[2:]
        check_groups(op, c, w.shape)
        out_shape = output_spatial_shape(op, (rows, columns), kernel_shape)
        check_output_grad(gz.shape, (b, w.shape[0], *out_shape))
        ph, pw = paddings(op, kernel_shape)
        (sh, sw), (dh, dw) = op.subsample, op.filter_dilation
        wg = _grouped_filters(w, op)
        gzg = gz.reshape(b, g, f // g, *out_shape)
        # per group: (b, f, y, x) . (f, c, i, j) -> (b, y, x, c, i, j)
        columns_grad = np.stack(
            [np.tensordot(gzg[:, k], wg[k], axes=([1], [0])) for k in range(g)], axis=1
        )  # (b, g, y, x, c, i, j)
        padded = np.zeros((b, g, c // g, rows + 2 * ph, columns + 2 * pw), dtype=gz.dtype)
        oh, ow = out_shape
        for i in range(kernel_shape[0]):
            for j in range(kernel_shape[1]):
                target = padded[
                    :,
                    :,
                    :,
                    i * dh : i * dh + sh * (oh - 1) + 1 : sh,
                    j * dw : j * dw + sw * (ow - 1) + 1 : sw,
                ]
                target += columns_grad[..., i, j].transpose(0, 1, 4, 2, 3)
        result = padded[:, :, :, ph : ph + rows, pw : pw + columns]
        return np.ascontiguousarray(result.reshape(b, c, rows, columns), dtype=dtype)

    return kernel


@lowers(Conv2dGradWeights)
def _conv2d_grad_weights(op, node):
    dtype = np.dtype(node.outputs[0].dtype)

    def kernel(x, gz, shape):
        kernel_shape = tuple(int(s) for s in shape)
        b, c = x.shape[:2]
        f = gz.shape[1]
        g = op.num_groups
        check_group_split(op, c, f)
        out_shape = output_spatial_shape(op, x.shape[2:], kernel_shape)
        check_output_grad(gz.shape, (b, f, *out_shape))
        windows = _windows(_padded(x, paddings(op, kernel_shape)), op, kernel_shape, out_shape)
        gzg = gz.reshape(b, g, f // g, *out_shape)
        # per group: (b, f, y, x) . (b, c, y, x, i, j) -> (f, c, i, j)
        result = np.concatenate(
            [np.tensordot(gzg[:, k], windows[:, k], axes=([0, 2, 3], [0, 2, 3])) for k in range(g)],
            axis=0,
        )
        if op.filter_flip:
            result = result[:, :, ::-1, ::-1]
        return np.ascontiguousarray(result, dtype=dtype)

    return kernel
