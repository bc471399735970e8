"""Elementwise operations and dimension shuffles."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from croton.graph.basic import Apply, Op
from croton.graph.type import TensorType
from croton.ops.scalar import ScalarOp


def broadcast_static_shape(
    shapes: Sequence[tuple], what: str | Callable[[], str] = "operands"
) -> tuple:
    """The static shape of equal-rank operands broadcast together.

    Lengths of 1 stretch; two different known lengths are an error; otherwise an
    unknown length stays unknown (and must match at run time). ``what`` names the
    operands in the error; a callable is called only then.
    """
    result = []
    for axis, lengths in enumerate(zip(*shapes, strict=True)):
        known = {s for s in lengths if s is not None and s != 1}
        if len(known) > 1:
            what = what() if callable(what) else what
            raise ValueError(
                f"{what} cannot broadcast: lengths {sorted(known)} along axis {axis} "
                f"(shapes {[tuple(s) for s in shapes]})"
            )
        if known:
            result.append(known.pop())
        elif all(s == 1 for s in lengths):
            result.append(1)
        else:
            result.append(None)
    return tuple(result)


class Elemwise(Op):
    """Apply a scalar op elementwise over equal-rank inputs, with broadcasting.

    Inputs of lower rank are aligned on the right by the tensor API (which inserts
    broadcastable dimensions on the left, as NumPy does) before the node is made.
    """

    __props__ = ("scalar_op",)

    def __init__(self, scalar_op: ScalarOp):
        self.scalar_op = scalar_op

    def __str__(self) -> str:
        return f"Elemwise{{{self.scalar_op}}}"

    def make_node(self, *inputs) -> Apply:
        from croton.tensor.variable import as_tensor_variable

        inputs = [as_tensor_variable(x) for x in inputs]
        ndim = max(x.ndim for x in inputs)
        inputs = [
            x if x.ndim == ndim else x.dimshuffle(("x",) * (ndim - x.ndim) + tuple(range(x.ndim)))
            for x in inputs
        ]
        in_dtypes, out_dtype = self.scalar_op.resolve([x.dtype for x in inputs])
        mismatched = [
            i for i, (x, d) in enumerate(zip(inputs, in_dtypes, strict=True)) if x.dtype != d
        ]
        if mismatched:
            from croton.tensor.math import cast

            inputs = [
                cast(x, d) if x.dtype != d else x for x, d in zip(inputs, in_dtypes, strict=True)
            ]
        # named lazily: the name of a large fused op is costly to format
        shape = broadcast_static_shape([x.type.shape for x in inputs], lambda: f"inputs of {self}")
        return Apply(self, inputs, [TensorType(out_dtype, shape=shape)()])

    def infer_shape(self, node, input_shapes):
        out_shape = []
        for axis, length in enumerate(node.outputs[0].type.shape):
            if length is not None:
                out_shape.append(length)
                continue
            # any input that is not broadcast along this axis gives the length
            candidates = [
                s[axis]
                for x, s in zip(node.inputs, input_shapes, strict=True)
                if x.type.shape[axis] != 1
            ]
            out_shape.append(candidates[0])
        return [tuple(out_shape)]

    def L_op(self, inputs, outputs, output_grads):
        (z,) = outputs
        (gz,) = output_grads
        if self.scalar_op.grad_rule is None or z.dtype.startswith(("int", "uint", "bool")):
            return [None] * len(inputs)
        grads = self.scalar_op.grad_rule(inputs, z, gz)
        return [
            None if g is None else sum_to_broadcast(g, x)
            for g, x in zip(grads, inputs, strict=True)
        ]


def sum_to_broadcast(g, x):
    """Reduce gradient ``g`` (of the broadcast output's shape) to the shape of input ``x``."""
    from croton.tensor.math import cast

    axes = [
        axis
        for axis in range(g.ndim)
        if axis < g.ndim - x.ndim
        or (x.type.shape[axis - (g.ndim - x.ndim)] == 1 and g.type.shape[axis] != 1)
    ]
    lead = g.ndim - x.ndim
    if axes:
        g = g.sum(axis=axes, keepdims=True)
        if lead:
            g = g.dimshuffle(tuple(range(lead, g.ndim)))
    if g.dtype != x.dtype and x.dtype.startswith(("float", "complex")):
        g = cast(g, x.dtype)
    return g


class DimShuffle(Op):
    """Reorder dimensions, insert broadcastable ones (``'x'``) and drop length-1 ones.

    ``DimShuffle(input_ndim, new_order)`` with ``new_order`` a tuple of input axes and
    ``'x'``; input axes left out must have static length 1. Theano's op of the same name.
    """

    __props__ = ("input_ndim", "new_order")
    view_map = {0: [0]}

    def __init__(self, input_ndim: int, new_order: Sequence):
        new_order = tuple("x" if d == "x" else int(d) for d in new_order)
        used = [d for d in new_order if d != "x"]
        if len(set(used)) != len(used) or any(not 0 <= d < input_ndim for d in used):
            raise ValueError(f"invalid dimshuffle pattern {new_order} for a {input_ndim}-d input")
        self.input_ndim = input_ndim
        self.new_order = new_order
        self.dropped = tuple(d for d in range(input_ndim) if d not in used)
        self.kept = tuple(used)

    def __str__(self) -> str:
        return f"DimShuffle{{{','.join(map(str, self.new_order))}}}"

    @property
    def is_transpose(self) -> bool:
        return "x" not in self.new_order and not self.dropped

    def view_steps(self) -> tuple[list[int] | None, tuple[int, ...] | None, tuple[int, ...]]:
        """The views a backend's kernel takes of the input, in order (geometry only).

        Returns
        -------
        kept
            Reshape to the lengths of these input axes, dropping the others (each of length
            1); None when nothing is dropped.
        permutation
            Then transpose by it; None when the kept axes are already in order.
        inserted
            Then insert length-1 axes at these positions (``numpy.expand_dims``).
        """
        kept_sorted = sorted(self.kept)
        permutation = tuple(kept_sorted.index(d) for d in self.kept)
        inserted = tuple(i for i, d in enumerate(self.new_order) if d == "x")
        identity = permutation == tuple(range(len(permutation)))
        return (kept_sorted if self.dropped else None, None if identity else permutation, inserted)

    def make_node(self, x) -> Apply:
        from croton.tensor.variable import as_tensor_variable

        x = as_tensor_variable(x)
        if x.ndim != self.input_ndim:
            raise TypeError(f"{self} expects a {self.input_ndim}-d input, got {x.ndim}-d {x}")
        for d in self.dropped:
            if x.type.shape[d] != 1:
                raise ValueError(
                    f"{self} drops axis {d} of {x}, whose static length is "
                    f"{x.type.shape[d]}, not 1. Only broadcastable axes can be dropped."
                )
        shape = tuple(1 if d == "x" else x.type.shape[d] for d in self.new_order)
        return Apply(self, [x], [TensorType(x.dtype, shape=shape)()])

    def infer_shape(self, node, input_shapes):
        (shape,) = input_shapes
        return [tuple(1 if d == "x" else shape[d] for d in self.new_order)]

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        (gz,) = output_grads
        # sum over inserted axes, then undo the permutation and re-insert dropped axes
        inserted = [i for i, d in enumerate(self.new_order) if d == "x"]
        g = gz.sum(axis=inserted, keepdims=True) if inserted else gz
        kept_positions = [i for i, d in enumerate(self.new_order) if d != "x"]
        g = g.dimshuffle(kept_positions) if inserted else g
        order = []
        for axis in range(self.input_ndim):
            order.append(self.kept.index(axis) if axis in self.kept else "x")
        return [g.dimshuffle(order)]


def runtime_broadcast_checks(input_types, ndim: int) -> list[tuple[int, list[int]]]:
    """``(axis, input positions)`` whose lengths a backend must compare when it runs.

    Only a static length of 1 broadcasts: where two inputs have an unknown length, or
    one unknown and one known length other than 1, the lengths must be equal.
    """
    checks = []
    for axis in range(ndim):
        lengths = [t.shape[axis] for t in input_types]
        involved = [i for i, s in enumerate(lengths) if s != 1]
        if any(lengths[i] is None for i in involved) and len(involved) > 1:
            checks.append((axis, involved))
    return checks


def check_runtime_lengths(checks, args) -> None:
    """Raise the ValueError every backend gives where `runtime_broadcast_checks` differ."""
    for axis, positions in checks:
        length = args[positions[0]].shape[axis]
        for i in positions[1:]:
            if args[i].shape[axis] != length:
                shapes = [tuple(a.shape) for a in args]
                raise ValueError(
                    f"input shapes {shapes} do not match along axis {axis}: lengths of unknown "
                    f"static size do not broadcast at run time. Declare the broadcasting axis "
                    f"(T.row, T.col, x.dimshuffle('x', 0), or T.addbroadcast)."
                )
