"""``x[index]``, `set_subtensor` and `inc_subtensor`."""

from __future__ import annotations

import numpy as np

from croton.graph.basic import Variable
from croton.ops.elemwise import DimShuffle
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
            raise IndexError(
                f"index {item} is out of bounds for axis {axis} of {x} "
                f"(static shape {x.type.shape})"
            )
        return ("int", int(item)), 1
    if not isinstance(item, Variable):
        item = np.asarray(item)
        if item.dtype == object or item.dtype.kind not in "biu":
            raise IndexError(
                "only integers, slices, None, Ellipsis and integer or boolean arrays are "
                f"valid indices, got {item!r}"
            )
        item = constant(item)
    item = as_tensor_variable(item)
    if item.dtype == "bool":
        inputs.append(item)
        return ("mask",), item.ndim
    if not item.dtype.startswith(("int", "uint")):
        raise IndexError(
            f"index {item} has dtype {item.dtype}; indices must be integers or booleans"
        )
    inputs.append(item)
    if item.ndim == 0:
        return ("int", SYMBOLIC), 1
    return ("array",), 1


def _normalize(index, ndim):
    """``index`` as a tuple with array-likes converted and the ellipsis expanded."""
    if not isinstance(index, tuple):
        index = (index,)
    converted = []
    for item in index:
        if (
            item is None
            or item is Ellipsis
            or isinstance(item, (slice, Variable, int, np.integer, bool, np.bool_))
        ):
            converted.append(item)
        else:
            array = np.asarray(item)
            if array.size == 0 and array.dtype.kind == "f":  # NumPy reads [] as no integers
                array = array.astype("int64")
            converted.append(array)
    index = tuple(converted)
    ellipses = [i for i, item in enumerate(index) if item is Ellipsis]
    if len(ellipses) > 1:
        raise IndexError("an index can only have a single ellipsis")
    consumed = 0
    for item in index:
        if item is None or item is Ellipsis:
            continue
        if isinstance(item, (Variable, np.ndarray)) and item.dtype == "bool":
            consumed += item.ndim
        else:
            consumed += 1
    if ellipses:
        position = ellipses[0]
        fill = (slice(None),) * max(ndim - consumed, 0)
        index = index[:position] + fill + index[position + 1 :]
    return index


def _output_labels(spec, slots, rest: int) -> list:
    """Labels of the output axes of an index, in NumPy's order.

    ``slots`` has one entry per index item: ``"slice"``, ``"none"``, ``"int"`` or an
    advanced entry (``("adv", ndim)``). Each slice, None and trailing axis gets its own
    label; the advanced block gets one label per dimension of the broadcast indices.
    Adjacent advanced indices keep their place; separated ones go first.
    """
    advanced = [i for i, slot in enumerate(slots) if isinstance(slot, tuple)]
    has_array = bool(advanced)
    if has_array:
        advanced = [i for i, slot in enumerate(slots) if isinstance(slot, tuple) or slot == "int"]
    width = max((slot[1] for slot in slots if isinstance(slot, tuple)), default=0)
    block = [("adv", k) for k in range(width)]
    basics = []
    for i, slot in enumerate(slots):
        if slot in ("slice", "none"):
            basics.append((slot, i))
    trailing = [("rest", k) for k in range(rest)]
    if not has_array:
        return basics + trailing
    first, last = advanced[0], advanced[-1]
    if advanced == list(range(first, last + 1)):
        before = [b for b in basics if b[1] < first]
        after = [b for b in basics if b[1] > last]
        return before + block + after + trailing
    return block + basics + trailing


def getitem(x, index):
    """``x[index]`` with NumPy's rules.

    Parameters
    ----------
    x
        The tensor to index.
    index
        Slices (with constant or symbolic bounds), integers, None, Ellipsis, and integer
        or boolean arrays, alone or in a tuple.

    Returns
    -------
    TensorVariable
        A `Subtensor` node's output (a view for basic indices), followed by a
        `DimShuffle` where None adds axes.
    """
    x = as_tensor_variable(x)
    index = _normalize(index, x.ndim)
    spec, inputs, slots, kept_slots = [], [], [], []
    axis = 0
    for item in index:
        if item is None:
            slots.append("none")
            continue
        entry, width = _entry(item, x, axis, inputs)
        spec.append(entry)
        axis += width
        if entry[0] == "slice":
            slot = "slice"
        elif entry[0] == "int":
            slot = "int"
        else:
            slot = ("adv", inputs[-1].ndim if entry[0] == "array" else 1)
        slots.append(slot)
        kept_slots.append(slot)
    if axis > x.ndim:
        raise IndexError(
            f"too many indices for {x}: it has {x.ndim} dimensions, {axis} were indexed"
        )
    if not spec and "none" in slots:
        out = x
    else:
        out = Subtensor(spec)(x, *inputs)
    if "none" not in slots:
        return out
    rest = x.ndim - axis
    positions = [i for i, slot in enumerate(slots) if slot != "none"]
    relabel = {("slice", j): ("slice", positions[j]) for j in range(len(positions))}
    inner = [relabel.get(label, label) for label in _output_labels(spec, kept_slots, rest)]
    full = _output_labels(spec, slots, rest)
    pattern = ["x" if label[0] == "none" else inner.index(label) for label in full]
    return out.dimshuffle(pattern)


def _incsubtensor(x_indexed, y, set_instead_of_inc: bool, what: str):
    node = getattr(x_indexed, "owner", None)
    if node is not None and isinstance(node.op, DimShuffle) and not node.op.dropped:
        y = _undo_dimshuffle(node.op, as_tensor_variable(y))
        x_indexed = node.inputs[0]
        node = x_indexed.owner
        if node is None or not isinstance(node.op, Subtensor):
            return IncSubtensor((), set_instead_of_inc)(x_indexed, y)
    if node is None or not isinstance(node.op, Subtensor):
        raise TypeError(
            f"{what} needs an indexed variable such as x[1:3] or x[idx] as its first "
            f"argument, got {x_indexed}"
        )
    x, *index = node.inputs
    return IncSubtensor(node.op.spec, set_instead_of_inc)(x, y, *index)


def _undo_dimshuffle(op: DimShuffle, y):
    """``y``, given in the layout of ``op``'s output, moved to the layout of its input."""
    from croton.tensor.shape import addbroadcast

    ndim = len(op.new_order)
    if y.ndim > ndim:
        raise ValueError(f"the value {y} has {y.ndim} dimensions; the selection has {ndim}")
    y = y.dimshuffle(["x"] * (ndim - y.ndim) + list(range(y.ndim)))
    inserted = [i for i, d in enumerate(op.new_order) if d == "x"]
    y = addbroadcast(y, *inserted)
    return y.dimshuffle([op.new_order.index(axis) for axis in range(op.input_ndim)])


def set_subtensor(x_indexed, y):
    """A copy of ``x`` with the selection ``x_indexed = x[index]`` replaced by ``y``.

    Parameters
    ----------
    x_indexed
        An indexed tensor, ``x[index]``, with any index `getitem` takes.
    y
        The new values; broadcast to the selection's shape and cast to ``x``'s dtype.

    Returns
    -------
    TensorVariable
        The updated copy of ``x``. With repeated integer indices, the last value wins.
    """
    return _incsubtensor(x_indexed, y, True, "set_subtensor")


def inc_subtensor(x_indexed, y):
    """A copy of ``x`` with ``y`` added to the selection ``x_indexed = x[index]``.

    Parameters
    ----------
    x_indexed
        An indexed tensor, ``x[index]``, with any index `getitem` takes.
    y
        The increments; broadcast to the selection's shape and cast to ``x``'s dtype.

    Returns
    -------
    TensorVariable
        The updated copy of ``x``. Increments at repeated integer indices accumulate,
        as ``numpy.add.at``.
    """
    return _incsubtensor(x_indexed, y, False, "inc_subtensor")


def take(a, indices, axis=None):
    """``numpy.take``: the elements of ``a`` at ``indices`` along ``axis``.

    Parameters
    ----------
    a
        The tensor.
    indices
        Integer indices (any shape).
    axis
        The axis; None takes from the flattened tensor.

    Returns
    -------
    TensorVariable
        ``a[..., indices, ...]`` with the index at ``axis``.
    """
    a = as_tensor_variable(a)
    if axis is None:
        return a.flatten()[indices]
    index = [slice(None)] * a.ndim
    index[axis] = indices
    return a[tuple(index)]


def diagonal(a, offset: int = 0, axis1: int = 0, axis2: int = 1):
    """``numpy.diagonal``: the elements ``a[..., i, i + offset]`` of the planes spanned by
    ``axis1`` and ``axis2``, along a new last axis (the other axes first, in order)."""
    from croton.tensor import math as tm
    from croton.tensor.shape import _axis, arange

    a = as_tensor_variable(a)
    if a.ndim < 2:
        raise ValueError(f"diagonal needs at least 2 dimensions, got {a} ({a.type})")
    first, second = _axis(axis1, a.ndim, "diagonal"), _axis(axis2, a.ndim, "diagonal")
    if first == second:
        raise ValueError("diagonal: axis1 and axis2 cannot be the same")
    if isinstance(offset, bool) or not isinstance(offset, (int, np.integer)):
        raise TypeError(f"diagonal: offset must be an int, got {offset!r}")
    offset = int(offset)
    rest = [d for d in range(a.ndim) if d not in (first, second)]
    planes = a.dimshuffle(rest + [first, second])
    rows, columns = a.shape[first], a.shape[second]
    if offset >= 0:
        length = tm.maximum(tm.minimum(rows, columns - offset), 0)
        start_row, start_column = 0, offset
    else:
        length = tm.maximum(tm.minimum(rows + offset, columns), 0)
        start_row, start_column = -offset, 0
    steps = arange(length)
    return planes[(Ellipsis, steps + start_row, steps + start_column)]


def diag(v, k: int = 0):
    """``numpy.diag``: a square matrix with the vector ``v`` on its ``k``-th diagonal, or
    the ``k``-th diagonal of the matrix ``v``."""
    from croton.tensor.shape import arange, zeros

    v = as_tensor_variable(v)
    if v.ndim == 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise ValueError(f"diag takes a vector or a matrix, got {v} ({v.type})")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"diag: k must be an int, got {k!r}")
    k = int(k)
    size = v.shape[0] + abs(k)
    steps = arange(v.shape[0])
    rows, columns = (steps, steps + k) if k >= 0 else (steps - k, steps)
    return set_subtensor(zeros((size, size), dtype=v.dtype)[rows, columns], v)


def trace(a, offset: int = 0, axis1: int = 0, axis2: int = 1):
    """``numpy.trace``: the sum of `diagonal` (of each plane, for more than 2 dimensions)."""
    return diagonal(a, offset, axis1, axis2).sum(axis=-1)


def flatnonzero(a):
    """``numpy.flatnonzero``: the int64 positions of the non-zero elements of the
    flattened ``a``."""
    from croton.tensor import math as tm
    from croton.tensor.shape import arange

    flat = as_tensor_variable(a).flatten()
    return arange(flat.shape[0])[tm.neq(flat, 0)]


def nonzero(a, return_matrix: bool = False):
    """``numpy.nonzero``: one int64 vector of coordinates per axis of ``a`` (a matrix of
    them, one row per axis, with ``return_matrix=True``, as Theano)."""
    from croton.tensor.shape import stack

    a = as_tensor_variable(a)
    if a.ndim == 0:
        raise ValueError("nonzero of a 0-d tensor is not defined; use a.flatten() first")
    positions = flatnonzero(a)
    coordinates, stride = [], None
    for d in reversed(range(a.ndim)):
        here = positions if stride is None else positions // stride
        coordinates.append(here % a.shape[d] if d > 0 else here)
        stride = a.shape[d] if stride is None else stride * a.shape[d]
    coordinates.reverse()
    return stack(coordinates) if return_matrix else tuple(coordinates)


def nonzero_values(a):
    """The non-zero elements of ``a``, flattened (Theano's ``nonzero_values``)."""
    return as_tensor_variable(a).nonzero_values()
