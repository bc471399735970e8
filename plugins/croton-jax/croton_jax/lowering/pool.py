"""Pooling on jax: ``lax.reduce_window`` for max and sums, averages as sums over counts.

Shapes are static while jax traces, so the window geometry (padding, the divisor of
each window) is computed with numpy from `croton.ops.pool.window_bounds`. The gradients
are written out (one strided slice per cell of the window) rather than taken from jax's
own derivative of ``reduce_window``, which sends a tied maximum's gradient to a single
cell where croton's rule sends it to every tied cell.
"""

from __future__ import annotations

import numpy as np

from croton.ops.pool import AveragePoolGrad, MaxPoolGrad, MaxPoolGradGrad, Pool, window_bounds
from croton_jax.lazy_jax import jnp, lax
from croton_jax.lowering.common import lowers, out_dtype


def _geometry(op, shape):
    """Per pooled axis: ``(windows, cells before, cells after)`` padding the image to
    exactly the cells its windows span."""
    axes = []
    for a, (length, windows) in enumerate(zip(shape[-2:], op.out_lengths(*shape[-2:]))):
        span = (windows - 1) * op.stride[a] + op.ws[a] if windows else 0
        axes.append((windows, op.pad[a], max(span - length - op.pad[a], 0)))
    return axes


def _lowest(dtype):
    dtype = np.dtype(dtype)
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _counts(op, shape, dtype) -> np.ndarray:
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


def _padded(x, axes, value):
    widths = [(0, 0)] * (x.ndim - 2) + [(before, after) for _, before, after in axes]
    if all(w == (0, 0) for w in widths):
        return x
    return jnp.pad(x, widths, constant_values=value)


def _offsets(op, axes):
    """For each cell of the window, the strided slices holding that cell of every window."""
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
    dtype = out_dtype(node)

    def kernel(x):
        axes = _geometry(op, x.shape)
        out_shape = (*x.shape[:-2], axes[0][0], axes[1][0])
        if 0 in out_shape:
            return jnp.zeros(out_shape, dtype=dtype)
        lead = (1,) * (x.ndim - 2)
        window = (*lead, *op.ws)
        strides = (*lead, *op.stride)
        padding = [(0, 0)] * (x.ndim - 2) + [(before, after) for _, before, after in axes]
        if op.mode == "max":
            init = jnp.asarray(_lowest(x.dtype), dtype=x.dtype)
            return lax.reduce_window(x, init, lax.max, window, strides, padding).astype(dtype)
        wide = x.astype(dtype)
        total = lax.reduce_window(wide, jnp.zeros((), dtype), lax.add, window, strides, padding)
        if op.mode == "sum":
            return total
        return (total / _counts(op, x.shape, dtype)).astype(dtype)

    return kernel


@lowers(MaxPoolGrad)
def _max_pool_grad(op, node):
    dtype = out_dtype(node)

    def kernel(x, maxout, gz):
        axes = _geometry(op, x.shape)
        if 0 in maxout.shape:
            return jnp.zeros(x.shape, dtype=dtype)
        padded = _padded(x, axes, _lowest(x.dtype))
        grads = jnp.zeros(padded.shape, dtype=dtype)
        gz = gz.astype(dtype)
        for cells in _offsets(op, axes):
            grads = grads.at[cells].add(jnp.where(padded[cells] == maxout, gz, 0))
        return _unpadded(grads, axes, x.shape)

    return kernel


@lowers(MaxPoolGradGrad)
def _max_pool_grad_grad(op, node):
    dtype = out_dtype(node)

    def kernel(x, maxout, ggx):
        axes = _geometry(op, x.shape)
        out = jnp.zeros(maxout.shape, dtype=dtype)
        if 0 in maxout.shape:
            return out
        padded = _padded(x, axes, _lowest(x.dtype))
        spread = _padded(ggx.astype(dtype), axes, 0)
        for cells in _offsets(op, axes):
            out = out + jnp.where(padded[cells] == maxout, spread[cells], 0)
        return out

    return kernel


@lowers(AveragePoolGrad)
def _average_pool_grad(op, node):
    dtype = out_dtype(node)

    def kernel(x, gz):
        axes = _geometry(op, x.shape)
        if 0 in gz.shape[-2:] or 0 in x.shape:
            return jnp.zeros(x.shape, dtype=dtype)
        gz = gz.astype(dtype)
        share = gz if op.mode == "sum" else gz / _counts(op, x.shape, dtype)
        share = jnp.broadcast_to(share, (*x.shape[:-2], *gz.shape[-2:]))
        padded_shape = (*x.shape[:-2], *(n + b + a for n, (_, b, a) in zip(x.shape[-2:], axes)))
        grads = jnp.zeros(padded_shape, dtype=dtype)
        for cells in _offsets(op, axes):
            grads = grads.at[cells].add(share)
        return _unpadded(grads, axes, x.shape)

    return kernel
