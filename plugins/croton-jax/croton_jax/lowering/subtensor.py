"""Rules for indexing: `Subtensor` (``x[index]``) and `IncSubtensor` (``.at[index]``).

Differences from jax's own indexing, and what the rules do about them:

- jax clamps an out-of-bounds index (and drops an out-of-bounds update); numpy raises
  IndexError, so every integer index is checked (`croton_jax.checks`).
- Slice bounds and boolean masks give the output shape, so their values must be known
  while tracing (``concrete_inputs``); a mask computed from data makes the node run
  eagerly, outside jit.
- With repeated integer indices a set keeps numpy's last write, which jax's scatter does
  not promise; increments at repeated indices accumulate, as ``numpy.add.at``.
"""

from __future__ import annotations

import math

import numpy as np

from croton.ops.subtensor import (
    SYMBOLIC,
    IncSubtensor,
    Subtensor,
    check_mask_shape,
    check_no_runtime_broadcast,
)
from croton_jax.checks import require
from croton_jax.lazy_jax import jax, jnp
from croton_jax.lowering.common import concrete, lowers, needs_concrete, within


def _concrete_positions(spec) -> list[int]:
    """Node input positions (1 + index input) of slice bounds and masks."""
    positions, k = [], 1
    for entry in spec:
        if entry[0] == "slice":
            for bound in entry[1:]:
                if bound == SYMBOLIC:
                    positions.append(k)
                    k += 1
        elif entry[0] == "int":
            k += entry[1] == SYMBOLIC
        else:
            if entry[0] == "mask":
                positions.append(k)
            k += 1
    return positions


def _check_in_bounds(index, length: int, axis: int) -> None:
    require(
        within(index, length),
        IndexError,
        f"index out of bounds for axis {axis} with size {length}",
    )


def build_index(spec, x_shape, inputs) -> tuple:
    """The index for ``spec`` and the index values, each integer checked against bounds."""
    values = iter(inputs)
    index = []
    axis = 0
    for entry in spec:
        kind = entry[0]
        if kind == "slice":
            bounds = [
                int(concrete(next(values), "a slice bound")) if b == SYMBOLIC else b
                for b in entry[1:]
            ]
            index.append(slice(*bounds))
            axis += 1
        elif kind == "int":
            position = next(values) if entry[1] == SYMBOLIC else entry[1]
            _check_axis(axis, x_shape)
            _check_in_bounds(position, x_shape[axis], axis)
            index.append(position)
            axis += 1
        elif kind == "array":
            array = next(values)
            _check_axis(axis, x_shape)
            _check_in_bounds(array, x_shape[axis], axis)
            index.append(array)
            axis += 1
        else:
            mask = concrete(next(values), "a boolean mask").astype(bool)
            _check_axis(axis + mask.ndim - 1, x_shape)
            check_mask_shape(mask.shape, x_shape, axis)
            index.extend(np.nonzero(mask))
            axis += mask.ndim
    return tuple(index)


def _check_axis(axis: int, x_shape) -> None:
    if axis >= len(x_shape):
        raise IndexError(
            f"too many indices for array: array is {len(x_shape)}-dimensional, "
            f"but {axis + 1} were indexed"
        )


@lowers(Subtensor)
def _subtensor(op, node):
    spec = op.spec

    def kernel(x, *index):
        x = jnp.asarray(x)  # a constant arrives as a numpy array (and the index may be traced)
        return x[build_index(spec, x.shape, index)]

    return needs_concrete(kernel, _concrete_positions(spec))


@lowers(IncSubtensor)
def _incsubtensor(op, node):
    spec = op.spec
    set_values = op.set_instead_of_inc
    repeats_possible = any(entry[0] == "array" for entry in spec)
    y_type = node.inputs[1].type
    unknown_axes = [axis for axis, length in enumerate(y_type.shape) if length is None]

    def kernel(x, y, *index):
        x = jnp.asarray(x)  # a constant arrives as a numpy array
        where = build_index(spec, x.shape, index)
        selected = jax.eval_shape(lambda: jnp.zeros(x.shape, dtype="bool")[where]).shape
        if unknown_axes and any(y.shape[axis] == 1 for axis in unknown_axes):
            check_no_runtime_broadcast(selected, y.shape, unknown_axes)
        if set_values:
            if repeats_possible:
                y = _last_writes(x.shape, where, jnp.broadcast_to(y, selected))
            return x.at[where].set(y)
        if x.dtype == jnp.bool_:  # numpy adds booleans with a logical or
            return x.at[where].max(y)
        return x.at[where].add(y)

    return needs_concrete(kernel, [1 + p for p in _concrete_positions(spec)])


def _last_writes(x_shape, where, values):
    """``values`` with each element replaced by the one written last to the same place.

    numpy assigns the selection in order, so at a repeated index the last value stays;
    jax's scatter may apply repeats in any order. After this every write to one place
    carries the same value, so the order no longer matters.
    """
    selected = values.shape
    ids = jnp.arange(math.prod(selected), dtype="int64").reshape(selected)
    last = jnp.full(x_shape, -1, dtype="int64").at[where].max(ids)
    return values.reshape(-1)[last[where].reshape(-1)].reshape(selected)
