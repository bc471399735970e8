"""Softmax and log-softmax along any axis (numerically stable kernels in the backends)."""

from __future__ import annotations

from croton.graph.basic import Apply, Op


class _SoftmaxBase(Op):
    __props__ = ("axis",)

    def __init__(self, axis: int):
        self.axis = axis

    def make_node(self, x) -> Apply:
        from croton.tensor.math import cast
        from croton.tensor.variable import as_tensor_variable

        x = as_tensor_variable(x)
        if not -x.ndim <= self.axis < max(x.ndim, 1) or x.ndim == 0:
            raise ValueError(
                f"{type(self).__name__}: axis {self.axis} is out of range for {x.type}"
            )
        if not x.dtype.startswith("float"):
            x = cast(x, "float64")
        return Apply(self, [x], [x.type()])

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]


class Softmax(_SoftmaxBase):
    """``exp(x) / sum(exp(x), axis)``, computed stably."""

    def L_op(self, inputs, outputs, output_grads):
        (sm,) = outputs
        (gz,) = output_grads
        return [(gz - (gz * sm).sum(axis=self.axis, keepdims=True)) * sm]


class LogSoftmax(_SoftmaxBase):
    """``x - logsumexp(x, axis)``, computed stably."""

    def L_op(self, inputs, outputs, output_grads):
        from croton.tensor.math import exp

        (lsm,) = outputs
        (gz,) = output_grads
        return [gz - exp(lsm) * gz.sum(axis=self.axis, keepdims=True)]
