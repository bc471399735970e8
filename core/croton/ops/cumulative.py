"""`CumOp`: running sums and products along an axis (``numpy.cumsum``, ``numpy.cumprod``)."""

from __future__ import annotations

import numpy as np

from croton.graph.basic import Apply, Op
from croton.graph.type import TensorType

MODES = {"add": "cumsum", "mul": "cumprod"}


def cumulative_dtype(dtype: str) -> str:
    """NumPy's result dtype: integers and booleans accumulate in at least the platform
    integer (int8 -> int64, uint8 -> uint64), floats and complex keep theirs."""
    return np.cumsum(np.zeros(1, dtype=dtype)).dtype.name


class CumOp(Op):
    """The running sum (``mode="add"``) or product (``"mul"``) along ``axis`` (a
    non-negative int; `croton.tensor.extra_ops.cumsum` flattens for ``axis=None``)."""

    __props__ = ("axis", "mode")

    def __init__(self, axis: int, mode: str = "add"):
        if mode not in MODES:
            raise ValueError(f"CumOp mode must be 'add' or 'mul', got {mode!r}")
        self.axis = int(axis)
        self.mode = mode

    def __str__(self) -> str:
        return f"{MODES[self.mode].capitalize()}{{axis={self.axis}}}"

    def make_node(self, x) -> Apply:
        from croton.tensor.variable import as_tensor_variable

        x = as_tensor_variable(x)
        if not 0 <= self.axis < x.ndim:
            raise ValueError(
                f"{MODES[self.mode]}: axis {self.axis} is out of range for {x} with {x.ndim} "
                "dimensions"
            )
        out = TensorType(cumulative_dtype(x.dtype), shape=x.type.shape)
        return Apply(self, [x], [out()])

    def infer_shape(self, node, input_shapes):
        return list(input_shapes)

    def L_op(self, inputs, outputs, output_grads):
        from croton.tensor import math as tm

        (x,), (out,), (g,) = inputs, outputs, output_grads
        backwards = (slice(None),) * self.axis + (slice(None, None, -1),)
        if self.mode == "add":
            # each input element adds to every output at or after it
            grad = CumOp(self.axis, "add")(g[backwards])[backwards]
        else:  # d out[j] / d x[i] = out[j] / x[i] for j >= i (x[i] nonzero), as Theano
            grad = CumOp(self.axis, "add")((out * g)[backwards])[backwards] / x
        return [tm.cast(grad, x.dtype)]
