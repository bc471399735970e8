"""Rules for the ops that make, reshape, join and split arrays.

Output shapes must be known while jax traces, so the inputs that give a shape (a new
shape, split sizes, arange bounds, repeat counts) are ``concrete_inputs``: the planner
makes sure their values are known then (see `croton_jax.program`).
"""

from __future__ import annotations

import math

import numpy as np

from croton.ops.cumulative import CumOp
from croton.ops.shape import (
    Alloc,
    ARange,
    Eye,
    Join,
    Repeat,
    Reshape,
    Shape,
    SpecifyShape,
    Split,
    check_alloc_value,
    check_arange_step,
    check_specified_shape,
    check_split_sizes,
)
from croton.ops.sort import ArgSort, Sort
from croton_jax.lazy_jax import jnp, lax
from croton_jax.lowering.common import (
    concrete,
    lowers,
    needs_concrete,
    out_dtype,
    single_output,
)


@lowers(Shape)
def _shape(op, node):
    def kernel(x):
        return np.asarray(x.shape, dtype="int64")

    kernel.gives_concrete = True
    return kernel


def resolve_shape(size: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    """``shape`` with its -1 entry filled in for ``size`` elements, or numpy's ValueError."""
    if shape.count(-1) > 1:
        raise ValueError("can only specify one unknown dimension")
    if any(s < -1 for s in shape):
        raise ValueError("negative dimensions not allowed")
    known = math.prod(s for s in shape if s != -1)
    if -1 in shape:
        if known == 0 or size % known:
            raise ValueError(f"cannot reshape array of size {size} into shape {shape}")
        return tuple(size // known if s == -1 else s for s in shape)
    if known != size:
        raise ValueError(f"cannot reshape array of size {size} into shape {shape}")
    return shape


@lowers(Reshape)
def _reshape(op, node):
    def kernel(x, shape):
        new_shape = tuple(int(s) for s in concrete(shape, "a new shape").tolist())
        return jnp.reshape(x, resolve_shape(math.prod(x.shape), new_shape))

    return needs_concrete(kernel, [1])


@lowers(SpecifyShape)
def _specify_shape(op, node):
    expected = op.shape

    def kernel(x):
        check_specified_shape(expected, x.shape)
        return x

    return kernel


def _check_dimensions(shape) -> None:
    if any(s < 0 for s in shape):
        raise ValueError("negative dimensions are not allowed")


@lowers(Alloc)
def _alloc(op, node):
    dtype = out_dtype(node)
    unknown = [i for i, s in enumerate(node.inputs[0].type.shape) if s is None]

    def kernel(value, *shape):
        shape = tuple(int(concrete(s, "an Alloc shape entry")) for s in shape)
        _check_dimensions(shape)
        check_alloc_value(shape, value.shape, unknown)
        return jnp.broadcast_to(jnp.asarray(value, dtype=dtype), shape)

    return needs_concrete(kernel, range(1, len(node.inputs)))


@lowers(Join)
def _join(op, node):
    axis = op.axis

    def kernel(*tensors):
        first = tensors[0].shape
        for t in tensors[1:]:
            if any(a != b for i, (a, b) in enumerate(zip(first, t.shape)) if i != axis):
                raise ValueError(
                    "all the input array dimensions except for the concatenation axis must "
                    f"match exactly, but the shapes are {[tuple(t.shape) for t in tensors]}"
                )
        return jnp.concatenate(tensors, axis=axis)

    return kernel


@lowers(Split)
def _split(op, node):
    axis, n = op.axis, op.n_splits

    def kernel(x, sizes):
        sizes = concrete(sizes, "split sizes")
        check_split_sizes(sizes, x.shape[axis], n)
        boundaries = [int(b) for b in np.cumsum(sizes)[:-1]]
        return tuple(jnp.split(x, boundaries, axis=axis))

    return single_output(needs_concrete(kernel, [1]), node)


@lowers(ARange)
def _arange(op, node):
    dtype = out_dtype(node)

    def kernel(start, stop, step):
        start, stop, step = (concrete(v, "an arange bound").item() for v in (start, stop, step))
        check_arange_step(step)
        if dtype.kind in "iu" and all(isinstance(v, int) for v in (start, stop, step)):
            length = len(range(start, stop, step))
            return (start + step * lax.iota("int64", length)).astype(dtype)
        # numpy's own fill rule for other cases, computed once as a constant
        return jnp.asarray(np.arange(start, stop, step, dtype=dtype))

    return needs_concrete(kernel, [0, 1, 2])


@lowers(Eye)
def _eye(op, node):
    dtype = out_dtype(node)

    def kernel(n, m, k):
        n, m = (int(concrete(v, "an eye size")) for v in (n, m))
        _check_dimensions((n, m))
        rows = lax.broadcasted_iota("int64", (n, m), 0)
        columns = lax.broadcasted_iota("int64", (n, m), 1)
        return (columns - rows == k).astype(dtype)

    return needs_concrete(kernel, [0, 1])


@lowers(CumOp)
def _cumulative(op, node):
    accumulate = jnp.cumsum if op.mode == "add" else jnp.cumprod
    axis, dtype = op.axis, out_dtype(node)

    def kernel(x):
        return accumulate(x, axis=axis, dtype=dtype)

    return kernel


@lowers(Sort, ArgSort)
def _sort(op, node):
    """jax sorts stably: every kind gives the stable order."""
    axis = op.axis
    if isinstance(op, Sort):
        return lambda x: jnp.sort(x, axis=axis, stable=True)
    return lambda x: jnp.argsort(x, axis=axis, stable=True).astype(np.int64)


@lowers(Repeat)
def _repeat(op, node):
    axis = op.axis

    def kernel(x, repeats):
        repeats = concrete(repeats, "repeat counts")
        if (repeats < 0).any():
            raise ValueError("repeats may not contain negative values.")
        if repeats.ndim == 1 and len(repeats) not in (1, x.shape[axis]):
            raise ValueError(
                f"operands could not be broadcast together with shape ({x.shape[axis]},) "
                f"({len(repeats)},)"
            )
        counts = np.broadcast_to(repeats, (x.shape[axis],))
        return jnp.repeat(x, counts, axis=axis, total_repeat_length=int(counts.sum()))

    return needs_concrete(kernel, [1])
