"""Indexing: basic (slices, integers) and advanced (integer arrays, boolean masks).

An index is described by a *spec*, a tuple with one entry per indexed axis group:

- ``("slice", start, stop, step)``: each bound is None (absent), an int (fixed), or
  ``"in"`` (read from the next symbolic input);
- ``("int", value)``: a fixed int, or ``"in"``;
- ``("array",)``: an integer array, read from the next input;
- ``("mask",)``: a boolean array, read from the next input; it indexes as many axes as
  it has dimensions.

Fixed values live in the spec, so the static output shape is known when possible.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from croton.graph.basic import Apply, Op
from croton.graph.type import TensorType
from croton.ops.shape import static_value, stretched_axis

SYMBOLIC = "in"


def spec_input_count(spec) -> int:
    """How many symbolic inputs an index spec reads.

    Parameters
    ----------
    spec
        An index spec (see the module docstring).

    Returns
    -------
    int
        The number of index inputs a `Subtensor` with this spec takes.
    """
    count = 0
    for entry in spec:
        if entry[0] in ("array", "mask"):
            count += 1
        else:
            count += sum(1 for v in entry[1:] if v == SYMBOLIC)
    return count


def build_index(spec, inputs: Sequence) -> tuple:
    """The Python index tuple for ``spec`` given the index inputs' values.

    Parameters
    ----------
    spec
        An index spec (see the module docstring).
    inputs
        The values of the symbolic index inputs, in order.

    Returns
    -------
    tuple
        An index for a NumPy array: slices, ints and arrays.
    """
    values = iter(inputs)
    index = []
    for entry in spec:
        kind = entry[0]
        if kind == "slice":
            bounds = [next(values) if v == SYMBOLIC else v for v in entry[1:]]
            index.append(slice(*[None if b is None else int(b) for b in bounds]))
        elif kind == "int":
            index.append(int(next(values)) if entry[1] == SYMBOLIC else entry[1])
        else:
            index.append(next(values))
    return tuple(index)


def _index_result_shape(spec, x_shape, index_items, lengths) -> tuple:
    """The shape of ``x[index]`` under NumPy's rules, in the terms ``lengths`` computes in.

    ``index_items`` are the index inputs (or their shapes, as ``lengths`` wants them);
    ``lengths`` gives the length of a slice, the shape of an integer array or boolean
    mask, and how advanced shapes broadcast, either statically or as graphs.
    """
    axis = 0
    advanced = []  # shapes of the advanced indices (integers count, as in NumPy)
    advanced_positions = []
    items = iter(index_items)
    result_slots = []  # either a length, or the marker "ADV" for the advanced block
    has_array = any(entry[0] in ("array", "mask") for entry in spec)
    for entry in spec:
        kind = entry[0]
        if kind == "slice":
            bounds = [next(items) if v == SYMBOLIC else v for v in entry[1:]]
            result_slots.append(lengths.slice_length(bounds, x_shape[axis]))
            axis += 1
        elif kind == "int":
            if entry[1] == SYMBOLIC:
                next(items)
            if has_array:
                advanced.append(())
                advanced_positions.append(len(result_slots))
                result_slots.append("ADV")
            axis += 1
        else:
            item = next(items)
            if kind == "array":
                advanced.append(lengths.array_shape(item))
                axis += 1
            else:
                advanced.append(lengths.mask_shape(item, x_shape, axis))
                axis += len(lengths.array_shape(item))
            advanced_positions.append(len(result_slots))
            result_slots.append("ADV")
    if axis > len(x_shape):
        raise IndexError(f"too many indices for a {len(x_shape)}-d tensor: {axis} axes indexed")
    rest = tuple(x_shape[axis:])
    if not advanced:
        return tuple(result_slots) + rest
    block = lengths.broadcast(advanced)
    # NumPy: adjacent advanced indices keep their place; separated ones go first
    first, last = advanced_positions[0], advanced_positions[-1]
    if all(result_slots[i] == "ADV" for i in range(first, last + 1)):
        return tuple(result_slots[:first]) + block + tuple(result_slots[last + 1 :]) + rest
    return block + tuple(s for s in result_slots if s != "ADV") + rest


class _StaticLengths:
    """Static lengths: ints where the graph fixes them, else None."""

    @staticmethod
    def slice_length(bounds, length):
        if length is None or any(not (b is None or isinstance(b, int)) for b in bounds):
            return None
        return len(range(*slice(*bounds).indices(length)))

    @staticmethod
    def array_shape(index):
        return index.type.shape

    @staticmethod
    def mask_shape(mask, x_shape, axis):
        for i, s in enumerate(mask.type.shape):
            want = x_shape[axis + i]
            if s is not None and want is not None and s != want:
                raise IndexError(
                    f"boolean index of shape {mask.type.shape} does not match axis "
                    f"{axis + i} of length {want}"
                )
        value = static_value(mask)
        return (None,) if value is None else (int(np.count_nonzero(value)),)

    @staticmethod
    def broadcast(shapes):
        from croton.ops.elemwise import broadcast_static_shape

        width = max(len(s) for s in shapes)
        padded = [(1,) * (width - len(s)) + tuple(s) for s in shapes]
        return broadcast_static_shape(padded, "advanced indices")


class _SymbolicLengths:
    """Lengths as int64 scalar graphs, from the input shapes (for `infer_shape`)."""

    def __init__(self, index_shapes):
        self.index_shapes = index_shapes

    @staticmethod
    def slice_length(bounds, length):
        from croton.tensor import math as tm

        start, stop, step = bounds
        step = 1 if step is None else step
        if isinstance(step, int):
            return _slice_length_for_sign(start, stop, step, length, step > 0)
        forward = _slice_length_for_sign(start, stop, step, length, True)
        backward = _slice_length_for_sign(start, stop, step, length, False)
        return tm.switch(tm.gt(step, 0), forward, backward)

    def array_shape(self, index):
        return self.index_shapes[index]

    def mask_shape(self, mask, x_shape, axis):
        from croton.tensor import math as tm

        return (tm.sum(mask, dtype="int64"),)

    @staticmethod
    def broadcast(shapes):
        from croton.tensor import math as tm

        width = max(len(s) for s in shapes)
        padded = [(1,) * (width - len(s)) + tuple(s) for s in shapes]
        block = []
        for lengths in zip(*padded, strict=True):
            result = 1
            for length in lengths:  # the broadcast length is any length other than 1
                if _is_one(length):
                    continue
                result = length if _is_one(result) else tm.switch(tm.eq(result, 1), length, result)
            block.append(result)
        return tuple(block)


def _is_one(length) -> bool:
    return isinstance(length, (int, np.integer)) and length == 1


def _slice_length_for_sign(start, stop, step, length, forward: bool):
    """``len(range(*slice(start, stop, step).indices(length)))`` as a graph."""
    from croton.tensor import math as tm

    lower, upper = (0, length) if forward else (-1, length - 1)

    def bound(value, default):
        if value is None:
            return default
        if isinstance(value, int):
            shifted = value + length if value < 0 else value
        else:
            shifted = tm.switch(tm.lt(value, 0), value + length, value)
        return tm.minimum(tm.maximum(shifted, lower), upper)

    if forward:
        first, last = bound(start, lower), bound(stop, upper)
        distance, stride = last - first, step
    else:
        first, last = bound(start, upper), bound(stop, lower)
        distance, stride = first - last, -step
    return tm.cast(tm.maximum((distance + stride - 1) // stride, 0), "int64")


def indexed_shape(x_type: TensorType, spec, index_inputs) -> tuple:
    """The static shape of ``x[index]`` under NumPy's rules.

    Parameters
    ----------
    x_type
        The type of the indexed tensor.
    spec
        An index spec (see the module docstring).
    index_inputs
        The symbolic index inputs.

    Returns
    -------
    tuple
        Ints where the graph fixes the length, None elsewhere.

    Raises
    ------
    IndexError
        For too many indices, or a boolean mask whose static shape does not match.
    """
    return _index_result_shape(spec, x_type.shape, index_inputs, _StaticLengths)


def check_spec(spec, inputs) -> None:
    """Raise ValueError unless ``spec`` is well formed and reads exactly ``inputs``.

    Parameters
    ----------
    spec
        An index spec (see the module docstring).
    inputs
        The symbolic index inputs given with it.
    """
    for entry, kind in ((e, e[0]) for e in spec):
        if kind not in ("slice", "int", "array", "mask"):
            raise ValueError(f"bad index entry {entry!r}")
    expected = spec_input_count(spec)
    if expected != len(inputs):
        raise ValueError(f"index spec {spec} reads {expected} inputs, got {len(inputs)}")


def _index_inputs(spec, inputs):
    from croton.ops.shape import _int_scalar
    from croton.tensor.variable import as_tensor_variable

    converted = []
    values = iter(inputs)
    for entry in spec:
        if entry[0] in ("array", "mask"):
            index = as_tensor_variable(next(values))
            wanted = "bool" if entry[0] == "mask" else None
            if (
                wanted
                and index.dtype != "bool"
                or not wanted
                and not index.dtype.startswith(("int", "uint"))
            ):
                raise IndexError(
                    f"an {entry[0]} index must be {'boolean' if wanted else 'integer'}, "
                    f"got {index.type}"
                )
            converted.append(index)
        else:
            for v in entry[1:]:
                if v == SYMBOLIC:
                    converted.append(_int_scalar(next(values), "a slice bound or integer index"))
    return converted


class Subtensor(Op):
    """``x[index]`` for an index spec (see the module docstring)."""

    __props__ = ("spec",)

    def __init__(self, spec):
        self.spec = tuple(tuple(e) for e in spec)

    def __str__(self) -> str:
        return f"Subtensor{{{format_spec(self.spec)}}}"

    @property
    def is_advanced(self) -> bool:
        return any(e[0] in ("array", "mask") for e in self.spec)

    @property
    def view_map(self) -> dict:
        """Basic indexing returns a view of the input; advanced indexing copies."""
        return {} if self.is_advanced else {0: [0]}

    def make_node(self, x, *index_inputs) -> Apply:
        from croton.tensor.variable import as_tensor_variable

        x = as_tensor_variable(x)
        index_inputs = _index_inputs(self.spec, index_inputs)
        check_spec(self.spec, index_inputs)
        shape = indexed_shape(x.type, self.spec, index_inputs)
        return Apply(self, [x, *index_inputs], [TensorType(x.dtype, shape=shape)()])

    def infer_shape(self, node, input_shapes):
        x_shape, *index_shapes = input_shapes
        index = node.inputs[1:]
        lengths = _SymbolicLengths(dict(zip(index, index_shapes, strict=True)))
        inferred = _index_result_shape(self.spec, tuple(x_shape), index, lengths)
        static = node.outputs[0].type.shape
        return [tuple(s if s is not None else n for s, n in zip(static, inferred, strict=True))]

    def L_op(self, inputs, outputs, output_grads):
        from croton.tensor.shape import zeros_like

        x, *index = inputs
        (gz,) = output_grads
        if not x.dtype.startswith(("float", "complex")):
            return [None] * len(inputs)
        g = IncSubtensor(self.spec, set_instead_of_inc=False)(zeros_like(x), gz, *index)
        return [g] + [None] * len(index)

    def connection_pattern(self, node):
        return [[True]] + [[False]] * (len(node.inputs) - 1)


def check_mask_shape(mask_shape: tuple, x_shape: tuple, axis: int) -> None:
    """Refuse a boolean mask whose lengths differ from those of the axes it indexes.

    The mask covers the axes of ``x_shape`` from ``axis`` on; the error is NumPy's, for the
    backends whose indexing does not check (CuPy's, jax's).
    """
    for i, length in enumerate(mask_shape):
        if length != x_shape[axis + i]:
            raise IndexError(
                f"boolean index did not match indexed array along axis {axis + i}; "
                f"size of axis is {x_shape[axis + i]} but size of corresponding boolean "
                f"axis is {length}"
            )


def check_no_runtime_broadcast(selected: tuple, value: tuple, unknown_axes) -> None:
    """Refuse a value whose axis of unknown static length would stretch at run time.

    The run-time check of every backend's `IncSubtensor` rule: ``selected`` is the shape of
    the selection, ``value`` the shape of the value put into it, and ``unknown_axes`` the
    value's axes without a static length.
    """
    axis = stretched_axis(selected, value, unknown_axes)
    if axis is not None:
        raise ValueError(
            f"cannot put a value of shape {value} into a selection of shape {selected}: "
            f"axis {axis} of the value has unknown static length and does not match. "
            f"Declare it broadcastable (T.addbroadcast) if it should stretch."
        )


class IncSubtensor(Op):
    """A copy of ``x`` with ``x[index]`` set to, or incremented by, ``y``.

    Increments at repeated integer-array indices accumulate (``numpy.add.at``).
    """

    __props__ = ("spec", "set_instead_of_inc")

    def __init__(self, spec, set_instead_of_inc: bool = False):
        self.spec = tuple(tuple(e) for e in spec)
        self.set_instead_of_inc = set_instead_of_inc

    def __str__(self) -> str:
        verb = "Set" if self.set_instead_of_inc else "Inc"
        return f"{verb}Subtensor{{{format_spec(self.spec)}}}"

    @property
    def is_advanced(self) -> bool:
        return any(e[0] in ("array", "mask") for e in self.spec)

    def make_node(self, x, y, *index_inputs) -> Apply:
        from croton.tensor.math import cast
        from croton.tensor.variable import as_tensor_variable

        x = as_tensor_variable(x)
        y = as_tensor_variable(y)
        index_inputs = _index_inputs(self.spec, index_inputs)
        check_spec(self.spec, index_inputs)
        target = indexed_shape(x.type, self.spec, index_inputs)
        extra = y.ndim - len(target)
        if extra > 0 and all(length == 1 for length in y.type.shape[:extra]):
            y = y.dimshuffle(list(range(extra, y.ndim)))  # leading length-1 axes, as NumPy
        if y.ndim > len(target):
            raise ValueError(
                f"cannot {'set' if self.set_instead_of_inc else 'increment'} a {len(target)}-d "
                f"selection of {x} with {y.ndim}-d {y}"
            )
        padded = (1,) * (len(target) - y.ndim) + y.type.shape
        for axis, (want, have) in enumerate(zip(target, padded, strict=True)):
            if None not in (want, have) and have not in (1, want):
                raise ValueError(
                    f"cannot {'set' if self.set_instead_of_inc else 'increment'} a selection "
                    f"of static shape {target} of {x} with {y} of static shape "
                    f"{y.type.shape}: lengths {have} and {want} differ on axis {axis}"
                )
        if y.dtype != x.dtype:
            y = cast(y, x.dtype)
        return Apply(self, [x, y, *index_inputs], [TensorType(x.dtype, shape=x.type.shape)()])

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        from croton.ops.elemwise import sum_to_broadcast
        from croton.tensor.shape import zeros_like

        x, y, *index = inputs
        (gz,) = output_grads
        if self.set_instead_of_inc:
            gx = IncSubtensor(self.spec, set_instead_of_inc=True)(gz, zeros_like(y), *index)
        else:
            gx = gz
        selected = Subtensor(self.spec)(gz, *index)
        if self.set_instead_of_inc and any(entry[0] == "array" for entry in self.spec):
            selected = selected * self._written_last(x, index, selected)
        gy = sum_to_broadcast(selected, y)
        return [gx, gy] + [None] * len(index)

    def _written_last(self, x, index, selected):
        """True where an element of the selection is the one that lands in ``x``.

        With repeated integer indices, several elements of ``y`` are set at one place of
        ``x``, and only the one written last reaches the output; the others get no gradient.
        """
        from croton.tensor.math import eq
        from croton.tensor.shape import alloc, arange, shape

        selection_shape = shape(selected)
        ids = arange(selected.size).reshape(selection_shape, ndim=selected.ndim)
        blank = alloc(np.asarray(-1, dtype="int64"), *[x.shape[i] for i in range(x.ndim)])
        marker = IncSubtensor(self.spec, set_instead_of_inc=True)(blank, ids, *index)
        return eq(Subtensor(self.spec)(marker, *index), ids)

    def connection_pattern(self, node):
        return [[True], [True]] + [[False]] * (len(node.inputs) - 2)


def format_spec(spec) -> str:
    """The index ``spec`` as Python would write it, ``?`` for a symbolic value.

    Parameters
    ----------
    spec
        An index spec (see the module docstring).

    Returns
    -------
    str
        E.g. ``"1:?, array"``.
    """
    parts = []
    for entry in spec:
        if entry[0] == "slice":
            bounds = ["" if v is None else ("?" if v == SYMBOLIC else str(v)) for v in entry[1:]]
            text = ":".join(bounds[:2]) + (f":{bounds[2]}" if bounds[2] else "")
            parts.append(text)
        elif entry[0] == "int":
            parts.append("?" if entry[1] == SYMBOLIC else str(entry[1]))
        else:
            parts.append(entry[0])
    return ", ".join(parts)
