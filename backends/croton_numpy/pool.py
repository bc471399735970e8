"""The numpy backend's pooling kernels: windows as strided views of a padded copy.

Padding takes the value that leaves a window's result unchanged (``-inf`` or the
integer minimum for max, 0 for sums), so windows need no clipping; averages divide by a
count per window computed from `croton.ops.pool.window_bounds`.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from croton.ops.pool import AveragePoolGrad, MaxPoolGrad, MaxPoolGradGrad, Pool, window_bounds
from croton_numpy.lowering import _out_dtype, lowers


def _lowest(dtype: np.dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _geometry(op, shape):
    """Per pooled axis: ``(windows, cells before, cells after)`` of the padded copy.

    The padded axis holds exactly the cells the windows span: the padding, plus what a
    partial border window reaches past it.
    """
    axes = []
    lengths = op.out_lengths(shape[-2], shape[-1])
    for a, (length, windows) in enumerate(zip(shape[-2:], lengths)):
        span = (windows - 1) * op.stride[a] + op.ws[a] if windows else 0
        axes.append((windows, op.pad[a], max(span - length - op.pad[a], 0)))
    return axes


def _padded(x, axes, value):
    widths = [(0, 0)] * (x.ndim - 2) + [(before, after) for _, before, after in axes]
    if all(w == (0, 0) for w in widths):
        return x
    return np.pad(x, widths, constant_values=value)


def _counts(op, shape, dtype) -> np.ndarray:
    """The divisor of each window of an average: rows times columns it counts."""
    rows, columns = (
        np.array(
            [
                window_bounds(i, shape[a - 2], op.ws[a], op.stride[a], op.pad[a], op.mode)[2]
                for i in range(n)
            ],
            dtype=dtype,
        )
        for a, n in enumerate(op.out_lengths(shape[-2], shape[-1]))
    )
    return np.multiply.outer(rows, columns)


def _offsets(op, axes):
    """For each cell ``(i, j)`` of the window: the strided slices of the padded image
    holding that cell of every window."""
    (n_rows, _, _), (n_columns, _, _) = axes
    (s0, s1), (w0, w1) = op.stride, op.ws
    for i in range(w0):
        for j in range(w1):
            yield (
                Ellipsis,
                slice(i, i + (n_rows - 1) * s0 + 1, s0),
                slice(j, j + (n_columns - 1) * s1 + 1, s1),
            )


def _unpadded(padded, axes, shape):
    (_, r, _), (_, c, _) = axes
    return padded[..., r : r + shape[-2], c : c + shape[-1]]


@lowers(Pool)
def _pool(op, node):
    dtype = _out_dtype(node)
    mode = op.mode

    def kernel(x):
        axes = _geometry(op, x.shape)
        out_shape = (*x.shape[:-2], axes[0][0], axes[1][0])
        if 0 in out_shape:
            return np.zeros(out_shape, dtype=dtype)
        padded = _padded(x, axes, _lowest(x.dtype) if mode == "max" else 0)
        windows = sliding_window_view(padded, op.ws, axis=(-2, -1))
        windows = windows[..., :: op.stride[0], :: op.stride[1], :, :]
        windows = windows[..., : axes[0][0], : axes[1][0], :, :]
        if mode == "max":
            return np.max(windows, axis=(-2, -1)).astype(dtype, copy=False)
        total = np.sum(windows, axis=(-2, -1), dtype=dtype)
        if mode == "sum":
            return total
        return (total / _counts(op, x.shape, dtype)).astype(dtype, copy=False)

    return kernel


@lowers(MaxPoolGrad)
def _max_pool_grad(op, node):
    dtype = _out_dtype(node)

    def kernel(x, maxout, gz):
        axes = _geometry(op, x.shape)
        if 0 in maxout.shape:
            return np.zeros(x.shape, dtype=dtype)
        padded = _padded(x, axes, _lowest(x.dtype))
        grads = np.zeros(padded.shape, dtype=dtype)
        for cells in _offsets(op, axes):
            grads[cells] += np.where(padded[cells] == maxout, gz, 0).astype(dtype, copy=False)
        return np.ascontiguousarray(_unpadded(grads, axes, x.shape))

    return kernel


@lowers(MaxPoolGradGrad)
def _max_pool_grad_grad(op, node):
    dtype = _out_dtype(node)

    def kernel(x, maxout, ggx):
        axes = _geometry(op, x.shape)
        out = np.zeros(maxout.shape, dtype=dtype)
        if 0 in maxout.shape:
            return out
        padded = _padded(x, axes, _lowest(x.dtype))
        spread = _padded(ggx, axes, 0)
        for cells in _offsets(op, axes):
            out += np.where(padded[cells] == maxout, spread[cells], 0).astype(dtype, copy=False)
        return out

    return kernel


@lowers(AveragePoolGrad)
def _average_pool_grad(op, node):
    dtype = _out_dtype(node)

    def kernel(x, gz):
        axes = _geometry(op, x.shape)
        if 0 in gz.shape[-2:] or 0 in x.shape:
            return np.zeros(x.shape, dtype=dtype)
        share = gz if op.mode == "sum" else gz / _counts(op, x.shape, dtype)
        share = np.broadcast_to(share.astype(dtype, copy=False), (*x.shape[:-2], *gz.shape[-2:]))
        padded_shape = (*x.shape[:-2], *(n + b + a for n, (_, b, a) in zip(x.shape[-2:], axes)))
        grads = np.zeros(padded_shape, dtype=dtype)
        for cells in _offsets(op, axes):
            grads[cells] += share
        return np.ascontiguousarray(_unpadded(grads, axes, x.shape))

    return kernel
