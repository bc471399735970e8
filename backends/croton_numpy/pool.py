"""The numpy backend's pooling kernels: windows as strided views of a padded copy.

Padding takes the value that leaves a window's result unchanged (``-inf`` or the
integer minimum for max, 0 for sums), so windows need no clipping; averages divide by a
count per window computed from `croton.ops.pool.window_bounds`.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from croton.ops.pool import AveragePoolGrad, MaxPoolGrad, MaxPoolGradGrad, Pool
from croton.ops.pool import average_divisors as _counts
from croton.ops.pool import lowest as _lowest
from croton.ops.pool import padding_geometry as _geometry
from croton.ops.pool import unpadded as _unpadded
from croton.ops.pool import window_cells as _offsets
from croton_numpy.lowering import _out_dtype, lowers


def _padded(x, axes, value):
    widths = [(0, 0)] * (x.ndim - 2) + [(before, after) for _, before, after in axes]
    if all(w == (0, 0) for w in widths):
        return x
    return np.pad(x, widths, constant_values=value)


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
