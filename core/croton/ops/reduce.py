"""Reductions over axes: sum, prod, max, min, all, any, and argmax/argmin."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from croton.graph.basic import Apply, Op
from croton.graph.type import TensorType

REDUCE_KINDS = ("sum", "prod", "max", "min", "all", "any")


def normalize_axes(axis, ndim: int) -> tuple[int, ...]:
    """Sorted non-negative axes; None means all of them."""
    if axis is None:
        return tuple(range(ndim))
    axes = [axis] if isinstance(axis, (int, np.integer)) else list(axis)
    result = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < max(ndim, 1) or (ndim == 0 and a not in (0, -1)):
            raise ValueError(f"axis {a} is out of bounds for a {ndim}-d tensor")
        result.append(a % ndim if ndim else 0)
    if len(set(result)) != len(result):
        raise ValueError(f"repeated axis in {axis}")
    return tuple(sorted(result)) if ndim else ()


def accumulator_dtype(kind: str, dtype: str) -> str:
    """NumPy's result dtype for a reduction of ``kind`` over ``dtype`` data."""
    if kind in ("all", "any"):
        return "bool"
    if kind in ("sum", "prod"):
        if dtype == "bool" or dtype.startswith("int"):
            return "int64"
        if dtype.startswith("uint"):
            return "uint64"
    return dtype


class Reduce(Op):
    """Reduce ``axis`` of the input with one of `REDUCE_KINDS`; the axes are dropped.

    ``dtype`` is the output dtype (NumPy's accumulator rule by default). With a
    ``prologue`` (a `Composite` scalar op, set by fusion) the inputs are the prologue's
    and the reduction runs over ``Elemwise(prologue)(*inputs)`` in the same pass.
    """

    __props__ = ("kind", "axis", "dtype", "prologue")

    def __init__(self, kind: str, axis: Sequence[int], dtype: str | None = None, prologue=None):
        if kind not in REDUCE_KINDS:
            raise ValueError(f"unknown reduction {kind!r}; expected one of {REDUCE_KINDS}")
        self.kind = kind
        self.axis = tuple(axis)
        self.dtype = dtype
        self.prologue = prologue

    def __str__(self) -> str:
        if self.prologue is not None:
            return f"Reduce{{{self.kind}, axis={self.axis}, {self.prologue}}}"
        return f"Reduce{{{self.kind}, axis={self.axis}}}"

    def _mapped(self, inputs) -> Apply:
        """The elementwise node the prologue stands for (not part of any graph)."""
        from croton.ops.elemwise import Elemwise

        return Elemwise(self.prologue).make_node(*inputs)

    def make_node(self, *inputs) -> Apply:
        from croton.tensor.variable import as_tensor_variable

        if self.prologue is None:
            (x,) = [as_tensor_variable(v) for v in inputs]
            inputs = [x]
        else:
            mapped = self._mapped(inputs)
            inputs, x = mapped.inputs, mapped.outputs[0]
        if any(a >= x.ndim for a in self.axis):
            raise ValueError(f"{self}: axis out of bounds for {x} with {x.ndim} dimensions")
        dtype = self.dtype or accumulator_dtype(self.kind, x.dtype)
        shape = tuple(s for i, s in enumerate(x.type.shape) if i not in self.axis)
        return Apply(self, list(inputs), [TensorType(dtype, shape=shape)()])

    def infer_shape(self, node, input_shapes):
        if self.prologue is None:
            (shape,) = input_shapes
        else:
            # make_node already matched the inputs to the prologue, so this adds no casts
            mapped = self._mapped(node.inputs)
            (shape,) = mapped.op.infer_shape(mapped, input_shapes)
        return [tuple(s for i, s in enumerate(shape) if i not in self.axis)]

    def L_op(self, inputs, outputs, output_grads):
        from croton.tensor import math as tm
        from croton.tensor.shape import alloc

        if self.prologue is not None:
            from croton.autodiff import Lop

            unfused = Reduce(self.kind, self.axis, self.dtype)(self._mapped(inputs).outputs[0])
            return Lop(unfused, list(inputs), output_grads[0])
        (x,) = inputs
        (z,) = outputs
        (gz,) = output_grads
        if self.kind in ("all", "any") or not x.dtype.startswith(("float", "complex")):
            return [None]
        # put the reduced axes back as broadcastable ones
        pattern, j = [], 0
        for axis in range(x.ndim):
            if axis in self.axis:
                pattern.append("x")
            else:
                pattern.append(j)
                j += 1
        gz_b = gz.dimshuffle(pattern)
        z_b = z.dimshuffle(pattern)
        if self.kind == "sum":
            return [tm.cast(alloc(gz_b, *[x.shape[i] for i in range(x.ndim)]), x.dtype)]
        if self.kind in ("max", "min"):
            return [tm.cast(gz_b * tm.eq(x, z_b), x.dtype)]
        # prod: P / x, with zeros handled: one zero gets the product of the others
        is_zero = tm.eq(x, 0)
        zeros = tm.sum(is_zero, axis=self.axis, keepdims=True)
        nonzero_prod = tm.prod(tm.switch(is_zero, 1, x), axis=self.axis, keepdims=True)
        no_zero = gz_b * z_b / tm.switch(is_zero, 1, x)
        one_zero = tm.switch(is_zero, gz_b * nonzero_prod, 0)
        grad = tm.switch(tm.eq(zeros, 0), no_zero, tm.switch(tm.eq(zeros, 1), one_zero, 0))
        return [tm.cast(grad, x.dtype)]


class Argmax(Op):
    """The index of the largest (``kind="max"``) or smallest element along one axis.

    ``axis=None`` searches the flattened input, as ``numpy.argmax``.
    """

    __props__ = ("kind", "axis")

    def __init__(self, kind: str, axis: int | None):
        if kind not in ("max", "min"):
            raise ValueError(f"Argmax kind must be 'max' or 'min', got {kind!r}")
        self.kind = kind
        self.axis = axis

    def __str__(self) -> str:
        return f"Arg{self.kind}{{axis={self.axis}}}"

    def make_node(self, x) -> Apply:
        from croton.tensor.variable import as_tensor_variable

        x = as_tensor_variable(x)
        if self.axis is None:
            shape = ()
        else:
            shape = tuple(s for i, s in enumerate(x.type.shape) if i != self.axis)
        return Apply(self, [x], [TensorType("int64", shape=shape)()])

    def infer_shape(self, node, input_shapes):
        (shape,) = input_shapes
        if self.axis is None:
            return [()]
        return [tuple(s for i, s in enumerate(shape) if i != self.axis)]

    def L_op(self, inputs, outputs, output_grads):
        return [None]
