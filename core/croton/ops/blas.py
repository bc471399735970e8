"""Matrix products: `Dot` (Theano's rules for vectors and matrices) and `Matmul` (batched)."""

from __future__ import annotations

from croton.graph.basic import Apply, Op
from croton.graph.type import TensorType
from croton.ops.elemwise import broadcast_static_shape


def _promote(a, b):
    import numpy as np

    from croton.tensor.math import cast
    from croton.tensor.variable import as_tensor_variable

    a, b = as_tensor_variable(a), as_tensor_variable(b)
    dtype = np.result_type(a.dtype, b.dtype).name
    return (
        (a if a.dtype == dtype else cast(a, dtype)),
        (b if b.dtype == dtype else cast(b, dtype)),
        dtype,
    )


def _check_inner(a_len, b_len, a, b):
    if a_len is not None and b_len is not None and a_len != b_len:
        raise ValueError(
            f"dot: shapes {a.type.shape} and {b.type.shape} are not aligned ({a_len} != {b_len})"
        )


class Dot(Op):
    """``numpy.dot`` for inputs of at most two dimensions."""

    def make_node(self, a, b) -> Apply:
        a, b, dtype = _promote(a, b)
        if a.ndim > 2 or b.ndim > 2 or a.ndim == 0 or b.ndim == 0:
            raise TypeError(
                f"Dot takes 1-d or 2-d inputs, got {a.type} and {b.type}; use croton.tensor.dot"
            )
        _check_inner(a.type.shape[-1], b.type.shape[0], a, b)
        shape = a.type.shape[:-1] + b.type.shape[1:]
        return Apply(self, [a, b], [TensorType(dtype, shape=shape)()])

    def infer_shape(self, node, input_shapes):
        a_shape, b_shape = input_shapes
        return [tuple(a_shape[:-1]) + tuple(b_shape[1:])]

    def L_op(self, inputs, outputs, output_grads):
        from croton.tensor.blas import dot, outer

        a, b = inputs
        (gz,) = output_grads
        if a.ndim == 1 and b.ndim == 1:
            ga, gb = gz * b, gz * a
        elif a.ndim == 2 and b.ndim == 1:
            ga, gb = outer(gz, b), dot(a.T, gz)
        elif a.ndim == 1 and b.ndim == 2:
            ga, gb = dot(b, gz), outer(a, gz)
        else:
            ga, gb = dot(gz, b.T), dot(a.T, gz)
        return [_grad_for(ga, a), _grad_for(gb, b)]


def _grad_for(g, x):
    from croton.tensor.math import cast

    if not x.dtype.startswith(("float", "complex")):
        return None
    return g if g.dtype == x.dtype else cast(g, x.dtype)


def unchecked_batch_axes(a_type: TensorType, b_type: TensorType) -> list[int]:
    """The batch axes of a `Matmul` whose lengths must be compared at run time.

    Those where neither input is statically 1 and at least one length is unknown: they
    must be equal, since a length of unknown static size does not broadcast.
    """
    return [
        axis
        for axis in range(a_type.ndim - 2)
        if 1 not in (a_type.shape[axis], b_type.shape[axis])
        and None in (a_type.shape[axis], b_type.shape[axis])
    ]


def check_batch_axes(a_shape: tuple, b_shape: tuple, axes) -> None:
    """Refuse `Matmul` inputs whose batch ``axes`` (from `unchecked_batch_axes`) differ."""
    for axis in axes:
        if a_shape[axis] != b_shape[axis]:
            raise ValueError(
                f"matmul batch axes of shapes {a_shape} and {b_shape} do not match along "
                f"axis {axis}: lengths of unknown static size do not broadcast at run time. "
                "Declare the broadcasting axis (T.addbroadcast or dimshuffle('x', ...))."
            )


class Matmul(Op):
    """``numpy.matmul`` for inputs of equal rank >= 2, batch axes broadcasting."""

    def make_node(self, a, b) -> Apply:
        a, b, dtype = _promote(a, b)
        if a.ndim < 2 or a.ndim != b.ndim:
            raise TypeError(
                f"Matmul takes equal-rank inputs of rank >= 2, got {a.type} and {b.type}"
            )
        _check_inner(a.type.shape[-1], b.type.shape[-2], a, b)
        batch = broadcast_static_shape([a.type.shape[:-2], b.type.shape[:-2]], "matmul batch axes")
        shape = batch + (a.type.shape[-2], b.type.shape[-1])
        return Apply(self, [a, b], [TensorType(dtype, shape=shape)()])

    def infer_shape(self, node, input_shapes):
        a_shape, b_shape = input_shapes
        a, b = node.inputs
        batch = []
        for i in range(a.ndim - 2):
            batch.append(b_shape[i] if a.type.shape[i] == 1 else a_shape[i])
        return [tuple(batch) + (a_shape[-2], b_shape[-1])]

    def L_op(self, inputs, outputs, output_grads):
        from croton.ops.elemwise import sum_to_broadcast

        a, b = inputs
        (gz,) = output_grads
        ga = self(gz, b.swapaxes(-1, -2))
        gb = self(a.swapaxes(-1, -2), gz)
        return [_grad_for(sum_to_broadcast(ga, a), a), _grad_for(sum_to_broadcast(gb, b), b)]


class Gemm(Op):
    """``beta * C + alpha * dot(A, B)`` for matrices ``A``, ``B`` and scalars (one BLAS call).

    Made by the ``specialize`` pass from scale-and-add expressions around `Dot`.
    Inputs: ``C, alpha, A, B, beta``; ``C`` may broadcast.
    """

    def make_node(self, c, alpha, a, b, beta) -> Apply:
        from croton.tensor.variable import as_tensor_variable

        c, alpha, a, b, beta = (as_tensor_variable(v) for v in (c, alpha, a, b, beta))
        if a.ndim != 2 or b.ndim != 2 or c.ndim != 2 or alpha.ndim != 0 or beta.ndim != 0:
            raise TypeError(
                "Gemm takes matrices C, A, B and scalars alpha, beta; got "
                f"{[v.type for v in (c, alpha, a, b, beta)]}"
            )
        dtypes = {v.dtype for v in (c, alpha, a, b, beta)}
        if len(dtypes) != 1:
            raise TypeError(f"Gemm inputs must share one dtype, got {sorted(dtypes)}")
        _check_inner(a.type.shape[1], b.type.shape[0], a, b)
        shape = broadcast_static_shape(
            [c.type.shape, (a.type.shape[0], b.type.shape[1])], "Gemm's C and A @ B"
        )
        return Apply(self, [c, alpha, a, b, beta], [TensorType(c.dtype, shape=shape)()])

    def infer_shape(self, node, input_shapes):
        c_shape, _, a_shape, b_shape, _ = input_shapes
        return [(a_shape[0], b_shape[1])]

    def L_op(self, inputs, outputs, output_grads):
        from croton.ops.elemwise import sum_to_broadcast
        from croton.tensor.blas import dot
        from croton.tensor.math import sum as tsum

        c, alpha, a, b, beta = inputs
        (gz,) = output_grads
        return [
            sum_to_broadcast(gz * beta, c),
            tsum(gz * dot(a, b)),
            dot(gz, b.T) * alpha,
            dot(a.T, gz) * alpha,
            tsum(gz * c),
        ]
