"""`Sort` and `ArgSort`: ``numpy.sort`` and ``numpy.argsort`` along an axis."""

from __future__ import annotations

from croton.graph.basic import Apply, Op
from croton.graph.type import TensorType

#: numpy's sort kinds; "stable" and "mergesort" keep equal elements in order, the
#: others may order ties differently from one backend to another
KINDS = ("quicksort", "mergesort", "heapsort", "stable")


class _SortBase(Op):
    __props__ = ("axis", "kind")

    def __init__(self, axis: int, kind: str = "quicksort"):
        if kind not in KINDS:
            raise ValueError(f"sort kind must be one of {KINDS}, got {kind!r}")
        self.axis = int(axis)
        self.kind = kind

    def _checked(self, x):
        from croton.tensor.variable import as_tensor_variable

        x = as_tensor_variable(x)
        if not 0 <= self.axis < x.ndim:
            raise ValueError(f"{self}: axis {self.axis} is out of range for {x.ndim}-d {x}")
        if x.dtype.startswith("complex"):
            raise TypeError(f"{self}: complex numbers have no order ({x}, {x.type})")
        return x

    def infer_shape(self, node, input_shapes):
        return list(input_shapes)


class Sort(_SortBase):
    """The values of ``x`` sorted along ``axis``; nan sorts last, as in NumPy."""

    def make_node(self, x) -> Apply:
        x = self._checked(x)
        return Apply(self, [x], [x.type()])

    def L_op(self, inputs, outputs, output_grads):
        from croton.tensor import math as tm

        (x,), (g,) = inputs, output_grads
        # out[..., j] = x[..., order[..., j]]: each input takes the gradient of the place
        # it was sorted to, at the inverse permutation
        order = ArgSort(self.axis, "stable")(x)
        inverse = ArgSort(self.axis, "stable")(order)
        return [tm.cast(take_along_axis(g, inverse, self.axis), x.dtype)]


class ArgSort(_SortBase):
    """The indices that sort ``x`` along ``axis`` (int64)."""

    def make_node(self, x) -> Apply:
        x = self._checked(x)
        return Apply(self, [x], [TensorType("int64", shape=x.type.shape)()])

    def L_op(self, inputs, outputs, output_grads):
        return [None]

    def connection_pattern(self, node):
        return [[False]]


def take_along_axis(x, indices, axis: int):
    """``numpy.take_along_axis`` for ``indices`` of ``x``'s shape: along ``axis``, each
    line of ``x`` read at the positions in the same line of ``indices``.

    Written with one vector of flat positions (the axis moved last, each line's start
    added to its indices), so every backend indexes by a vector.
    """
    from croton.tensor.shape import arange

    order = [d for d in range(x.ndim) if d != axis] + [axis]
    back = [order.index(d) for d in range(x.ndim)]
    lines, within = x.dimshuffle(order), indices.dimshuffle(order)
    flat = arange(within.size).reshape(within.shape)
    starts = flat - flat % lines.shape[-1]  # (a line's length is not 0 where there are lines)
    picked = lines.flatten()[(starts + within).flatten()].reshape(within.shape)
    return picked.dimshuffle(back)
