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

from croton.graph.basic import Apply, Op
from croton.graph.type import TensorType

SYMBOLIC = "in"


def spec_input_count(spec) -> int:
    """How many symbolic inputs an index spec reads."""
    count = 0
    for entry in spec:
        if entry[0] in ("array", "mask"):
            count += 1
        else:
            count += sum(1 for v in entry[1:] if v == SYMBOLIC)
    return count


def build_index(spec, inputs: Sequence) -> tuple:
    """The Python index tuple for ``spec`` given the index inputs' values."""
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


def _slice_length(entry, length):
    _, start, stop, step = entry
    if length is None or SYMBOLIC in (start, stop, step):
        return None
    return len(range(*slice(start, stop, step).indices(length)))


def indexed_shape(x_type: TensorType, spec, index_inputs) -> tuple:
    """The static shape of ``x[index]`` under NumPy's rules."""
    from croton.ops.elemwise import broadcast_static_shape

    axis = 0
    advanced = []  # static shapes of the advanced indices (ints count, as in NumPy)
    advanced_positions = []
    inputs = iter(index_inputs)
    result_slots = []  # either a length, or the marker "ADV" for the advanced block
    has_array = any(entry[0] in ("array", "mask") for entry in spec)
    for entry in spec:
        kind = entry[0]
        if kind == "slice":
            for v in entry[1:]:
                if v == SYMBOLIC:
                    next(inputs)
            result_slots.append(_slice_length(entry, x_type.shape[axis]))
            axis += 1
        elif kind == "int":
            if entry[1] == SYMBOLIC:
                next(inputs)
            if has_array:
                advanced.append(())
                advanced_positions.append(len(result_slots))
                result_slots.append("ADV")
            axis += 1
        elif kind == "array":
            index = next(inputs)
            advanced.append(index.type.shape)
            advanced_positions.append(len(result_slots))
            result_slots.append("ADV")
            axis += 1
        else:  # mask
            mask = next(inputs)
            for i, s in enumerate(mask.type.shape):
                want = x_type.shape[axis + i]
                if s is not None and want is not None and s != want:
                    raise IndexError(f"boolean index of shape {mask.type.shape} does not match axis {axis + i} of length {want}")
            advanced.append((None,))
            advanced_positions.append(len(result_slots))
            result_slots.append("ADV")
            axis += mask.ndim
    if axis > x_type.ndim:
        raise IndexError(f"too many indices for a {x_type.ndim}-d tensor: {axis} axes indexed")
    rest = list(x_type.shape[axis:])
    if not advanced:
        return tuple(s for s in result_slots) + tuple(rest)
    width = max(len(s) for s in advanced)
    padded = [(1,) * (width - len(s)) + tuple(s) for s in advanced]
    block = broadcast_static_shape(padded, "advanced indices") if padded else ()
    # NumPy: adjacent advanced indices keep their place; separated ones go first
    first, last = advanced_positions[0], advanced_positions[-1]
    adjacent = all(result_slots[i] == "ADV" for i in range(first, last + 1))
    basics = [s for s in result_slots if s != "ADV"]
    if adjacent:
        before = [s for s in result_slots[:first]]
        after = [s for s in result_slots[last + 1 :]]
        return tuple(before) + block + tuple(after) + tuple(rest)
    return block + tuple(basics) + tuple(rest)


def check_spec(spec, inputs) -> None:
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
            if wanted and index.dtype != "bool" or not wanted and not index.dtype.startswith(("int", "uint")):
                raise IndexError(f"an {entry[0]} index must be {'boolean' if wanted else 'integer'}, got {index.type}")
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
        from croton.tensor.shape import shape

        # lengths of slices and advanced results are computed by indexing the shape
        out = node.outputs[0]
        return [tuple(shape(out)[i] if s is None else s for i, s in enumerate(out.type.shape))]

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
        from croton.ops.elemwise import broadcast_static_shape
        from croton.tensor.math import cast
        from croton.tensor.variable import as_tensor_variable

        x = as_tensor_variable(x)
        y = as_tensor_variable(y)
        index_inputs = _index_inputs(self.spec, index_inputs)
        check_spec(self.spec, index_inputs)
        target = indexed_shape(x.type, self.spec, index_inputs)
        if y.ndim > len(target):
            raise ValueError(
                f"cannot {'set' if self.set_instead_of_inc else 'increment'} a {len(target)}-d "
                f"selection of {x} with {y.ndim}-d {y}"
            )
        padded = (1,) * (len(target) - y.ndim) + y.type.shape
        broadcast_static_shape([target, tuple(1 if p == 1 else p for p in padded)], "the value and the selection")
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
        gy = sum_to_broadcast(Subtensor(self.spec)(gz, *index), y)
        return [gx, gy] + [None] * len(index)

    def connection_pattern(self, node):
        return [[True], [True]] + [[False]] * (len(node.inputs) - 2)


def format_spec(spec) -> str:
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
