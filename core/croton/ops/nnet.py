"""Softmax, log-softmax and softmax cross-entropy (numerically stable kernels in the backends)."""

from __future__ import annotations

from croton.graph.basic import Apply, Op
from croton.graph.type import TensorType


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


def check_target_classes(low: int, high: int, classes: int) -> None:
    """Refuse `CrossEntropySoftmax` targets outside ``-classes..classes-1``.

    ``low`` and ``high`` are the smallest and largest target (host values; a backend
    checks only non-empty targets).
    """
    if low < -classes or high >= classes:
        raise IndexError(f"target classes {low}..{high} out of range for {classes} classes")


class CrossEntropySoftmax(Op):
    """``-log(softmax(x)[i, y[i]])`` per row: softmax and cross-entropy in one op.

    Made by the ``stabilize`` pass from ``categorical_crossentropy(softmax(x), y)``
    with integer targets. It never forms a probability that could underflow, and its
    gradient ``softmax(x) - one_hot(y)`` is stable too.
    """

    def make_node(self, x, y) -> Apply:
        from croton.tensor.variable import as_tensor_variable

        x, y = as_tensor_variable(x), as_tensor_variable(y)
        if x.ndim != 2 or y.ndim != 1 or not y.dtype.startswith(("int", "uint")):
            raise TypeError(
                "CrossEntropySoftmax takes a matrix of logits and integer targets, "
                f"got {x.type}, {y.type}"
            )
        if not x.dtype.startswith("float"):
            raise TypeError(f"CrossEntropySoftmax needs floating-point logits, got {x.dtype}")
        return Apply(self, [x, y], [TensorType(x.dtype, shape=(x.type.shape[0],))()])

    def infer_shape(self, node, input_shapes):
        return [(input_shapes[0][0],)]

    def L_op(self, inputs, outputs, output_grads):
        from croton.tensor.shape import arange, zeros_like
        from croton.tensor.subtensor import inc_subtensor

        x, y = inputs
        (gz,) = output_grads
        one_hot = inc_subtensor(zeros_like(x)[arange(x.shape[0]), y], 1)
        return [(Softmax(1)(x) - one_hot) * gz.dimshuffle(0, "x"), None]

    def connection_pattern(self, node):
        return [[True], [False]]
