"""``x[index]``, `set_subtensor` and `inc_subtensor`."""

from __future__ import annotations

import numpy as np

from croton.graph.basic import Variable
from croton.ops.subtensor import SYMBOLIC, IncSubtensor, Subtensor
from croton.tensor.variable import as_tensor_variable, constant


def _entry(item, x, axis, inputs):
    """Append the spec entry for one index item (and its symbolic inputs)."""
    if isinstance(item, slice):
        bounds = []
        for b in (item.start, item.stop, item.step):
            if b is None or isinstance(b, (int, np.integer)) and not isinstance(b, bool):
                bounds.append(None if b is None else int(b))
            else:
                bounds.append(SYMBOLIC)
                inputs.append(b)
        if bounds[2] == 0:
            raise ValueError("slice step cannot be zero")
        return ("slice", *bounds), 1
    if isinstance(item, (bool, np.bool_)):
        raise IndexError("a scalar boolean index is not supported; use a boolean array")
    if isinstance(item, (int, np.integer)):
        length = x.type.shape[axis] if axis < x.ndim else None
        if axis >= x.ndim or length is not None and not -length <= item < length:
            raise IndexError(f"index {item} is out of bounds for axis {axis} of {x} (static shape {x.type.shape})")
        return ("int", int(item)), 1
    if not isinstance(item, Variable):
        item = np.asarray(item)
        if item.dtype == object or item.dtype.kind not in "biu":
            raise IndexError(f"only integers, slices, None, Ellipsis and integer or boolean arrays are valid indices, got {item!r}")
        item = constant(item)
    item = as_tensor_variable(item)
    if item.dtype == "bool":
        inputs.append(item)
        return ("mask",), item.ndim
    if not item.dtype.startswith(("int", "uint")):
        raise IndexError(f"index {item} has dtype {item.dtype}; indices must be integers or booleans")
    inputs.append(item)
    if item.ndim == 0:
        return ("int", SYMBOLIC), 1
    return ("array",), 1


def _normalize(index, ndim):
    if not isinstance(index, tuple):
        index = (index,)
    if sum(1 for i in index if i is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis")
    consumed = 0
    for item in index:
        if item is None or item is Ellipsis:
            continue
        if isinstance(item, Variable) and item.dtype == "bool":
            consumed += item.ndim
        elif isinstance(item, np.ndarray) and item.dtype == bool:
            consumed += item.ndim
        else:
            consumed += 1
    if Ellipsis in [i for i in index if not isinstance(i, (Variable, np.ndarray))]:
        position = next(i for i, v in enumerate(index) if v is Ellipsis)
        fill = (slice(None),) * max(ndim - consumed, 0)
        index = index[:position] + fill + index[position + 1 :]
    return index


def getitem(x, index):
    """``x[index]`` with NumPy's rules: slices, ints, None, Ellipsis, int and bool arrays."""
    x = as_tensor_variable(x)
    index = _normalize(index, x.ndim)
    spec, inputs, new_axes = [], [], []
    axis = out_axis = 0
    for item in index:
        if item is None:
            new_axes.append(out_axis)
            out_axis += 1
            continue
        entry, width = _entry(item, x, axis, inputs)
        spec.append(entry)
        axis += width
        out_axis += 0 if entry[0] == "int" else 1
    if axis > x.ndim:
        raise IndexError(f"too many indices for {x}: it has {x.ndim} dimensions, {axis} were indexed")
    advanced = any(e[0] in ("array", "mask") for e in spec)
    if new_axes and advanced:
        raise IndexError("None (newaxis) together with array indices is not supported; use dimshuffle")
    out = Subtensor(spec)(x, *inputs) if spec else x
    if new_axes:
        pattern, j = [], 0
        for position in range(out.ndim + len(new_axes)):
            if position in new_axes:
                pattern.append("x")
            else:
                pattern.append(j)
                j += 1
        out = out.dimshuffle(pattern)
    return out


def _incsubtensor(x_indexed, y, set_instead_of_inc: bool, what: str):
    node = getattr(x_indexed, "owner", None)
    if node is None or not isinstance(node.op, Subtensor):
        raise TypeError(
            f"{what} needs an indexed variable such as x[1:3] or x[idx] as its first "
            f"argument, got {x_indexed}"
        )
    x, *index = node.inputs
    return IncSubtensor(node.op.spec, set_instead_of_inc)(x, y, *index)


def set_subtensor(x_indexed, y):
    """A copy of ``x`` with the selection ``x_indexed = x[index]`` replaced by ``y``."""
    return _incsubtensor(x_indexed, y, True, "set_subtensor")


def inc_subtensor(x_indexed, y):
    """A copy of ``x`` with ``y`` added to the selection ``x[index]``.

    With integer-array indices, repeated indices accumulate.
    """
    return _incsubtensor(x_indexed, y, False, "inc_subtensor")


def take(a, indices, axis=None):
    """``numpy.take``: elements of ``a`` at ``indices`` along ``axis``."""
    a = as_tensor_variable(a)
    if axis is None:
        return a.flatten()[indices]
    index = [slice(None)] * a.ndim
    index[axis] = indices
    return a[tuple(index)]
