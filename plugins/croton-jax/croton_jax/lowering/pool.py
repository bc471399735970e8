"""Pooling on jax: ``lax.reduce_window`` for max and sums, averages as sums over counts.

Shapes are static while jax traces, so the window geometry (padding, the divisor of
each window) is computed with numpy from `croton.ops.pool.window_bounds`. The gradients
are written out (one strided slice per cell of the window) rather than taken from jax's
own derivative of ``reduce_window``, which sends a tied maximum's gradient to a single
cell where croton's rule sends it to every tied cell.
"""

from __future__ import annotations

from croton.ops.pool import AveragePoolGrad, MaxPoolGrad, MaxPoolGradGrad, Pool
from croton.ops.pool import average_divisors as _counts
from croton.ops.pool import lowest as _lowest
from croton.ops.pool import padding_geometry as _geometry
from croton.ops.pool import unpadded as _unpadded
from croton.ops.pool import window_cells as _offsets
from croton_jax.lazy_jax import jnp, lax
from croton_jax.lowering.common import lowers, out_dtype


def _padded(x, axes, value):
    widths = [(0, 0)] * (x.ndim - 2) + [(before, after) for _, before, after in axes]
    if all(w == (0, 0) for w in widths):
        return x
    return jnp.pad(x, widths, constant_values=value)


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
