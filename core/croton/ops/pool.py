"""Pooling over the last two axes (``pool_2d``) and its gradients.

Window size, stride and padding are integer parameters of the ops. Every backend reads
the window geometry from `pooled_length` and `window_bounds` here, so they agree on
where windows start and which cells each one covers.

Padding is never a value: padded cells are left out of a window (``max``, ``sum``,
``average_exc_pad``), or counted only in the divisor (``average_inc_pad``).
"""

from __future__ import annotations

import numpy as np

from croton.graph.basic import Apply, Op
from croton.graph.type import TensorType

MODES = ("max", "sum", "average_inc_pad", "average_exc_pad")


def pooled_length(length, ws: int, stride: int, pad: int, ignore_border: bool):
    """The number of windows along an axis of ``length`` cells (Theano's rule).

    With ``ignore_border`` only whole windows of the padded axis count; without it a last,
    partial window covers the cells a whole one would leave out. An empty axis has no
    windows. ``length`` may be an int or a symbolic int64 scalar.
    """
    if isinstance(length, (int, np.integer)):
        return _pooled_int(int(length), ws, stride, pad, ignore_border)
    from croton.tensor import math as tm

    padded = length + 2 * pad
    if ignore_border:
        if ws == stride:
            return padded // stride
        return tm.maximum((padded - ws) // stride + 1, 0)
    if stride >= ws:
        return (padded - 1) // stride + 1
    return tm.minimum(tm.maximum((padded - 1 - ws + stride) // stride, 0) + 1, padded)


def _pooled_int(length: int, ws: int, stride: int, pad: int, ignore_border: bool) -> int:
    padded = length + 2 * pad
    if ignore_border:
        if ws == stride:
            return padded // stride
        return max((padded - ws) // stride + 1, 0)
    if stride >= ws:
        return (padded - 1) // stride + 1
    return min(max((padded - 1 - ws + stride) // stride, 0) + 1, padded)


def window_bounds(index: int, length: int, ws: int, stride: int, pad: int, mode: str):
    """``(first, stop, count)`` of window ``index`` along an axis of ``length`` cells.

    ``first:stop`` are the input cells the window covers (padding excluded); ``count``
    is the window's share of the divisor of an average: with ``average_inc_pad`` the
    padded cells it covers are counted too (but not what lies past the padded axis, the
    part of a partial border window that exists nowhere).
    """
    start = index * stride - pad
    first, stop = max(start, 0), min(start + ws, length)
    if mode == "average_inc_pad":
        return first, stop, min(start + ws, length + pad) - start
    return first, stop, stop - first


def lowest(dtype):
    """The value no cell of ``dtype`` is below: what max pooling pads with."""
    dtype = np.dtype(dtype)
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def padding_geometry(op, shape):
    """Per pooled axis of an input of ``shape``: ``(windows, cells before, cells after)``
    of a padded copy holding exactly the cells the windows span (the padding, plus what
    a partial border window reaches past it)."""
    axes = []
    for a, (length, windows) in enumerate(zip(shape[-2:], op.out_lengths(*shape[-2:]))):
        span = (windows - 1) * op.stride[a] + op.ws[a] if windows else 0
        axes.append((windows, op.pad[a], max(span - length - op.pad[a], 0)))
    return axes


def average_divisors(op, shape, dtype) -> np.ndarray:
    """The divisor of each window of an average over an input of ``shape``: the rows
    times the columns it counts."""
    rows, columns = (
        np.array(
            [
                window_bounds(i, shape[a - 2], op.ws[a], op.stride[a], op.pad[a], op.mode)[2]
                for i in range(n)
            ],
            dtype=dtype,
        )
        for a, n in enumerate(op.out_lengths(shape[-2], shape[-1]))
    )
    return np.multiply.outer(rows, columns)


def window_cells(op, axes):
    """For each cell ``(i, j)`` of the window: the strided slices of the padded input
    (``axes`` from `padding_geometry`) holding that cell of every window."""
    (n_rows, _, _), (n_columns, _, _) = axes
    (s0, s1), (w0, w1) = op.stride, op.ws
    for i in range(w0):
        for j in range(w1):
            yield (
                Ellipsis,
                slice(i, i + (n_rows - 1) * s0 + 1, s0),
                slice(j, j + (n_columns - 1) * s1 + 1, s1),
            )


def unpadded(padded, axes, shape):
    """The cells of the input of ``shape`` in its padded copy."""
    (_, r, _), (_, c, _) = axes
    return padded[..., r : r + shape[-2], c : c + shape[-1]]


def _int_pair(value, what: str) -> tuple[int, int]:
    """``value`` (two ints, or a constant tensor holding them) as a tuple of ints."""
    from croton.graph.basic import Constant, Variable

    if isinstance(value, Constant):
        value = value.data
    elif isinstance(value, Variable):
        raise TypeError(
            f"pool_2d: {what} must be known when the graph is built (two ints or a constant), "
            f"got the symbolic {value}; pass Python ints"
        )
    array = np.asarray(value)
    if array.shape != (2,) or array.dtype.kind not in "iu":
        raise TypeError(f"pool_2d: {what} must be two ints (rows, columns), got {value!r}")
    return int(array[0]), int(array[1])


class _PoolBase(Op):
    """What the pooling ops share: their parameters, checked once."""

    __props__ = ("ws", "stride", "pad", "ignore_border", "mode")

    def __init__(self, ws, ignore_border: bool = True, stride=None, pad=(0, 0), mode="max"):
        ws = _int_pair(ws, "ws")
        stride = ws if stride is None else _int_pair(stride, "stride")
        pad = (0, 0) if pad is None else _int_pair(pad, "pad")
        if min(ws) < 1:
            raise ValueError(f"pool_2d: the window size ws must be positive, got {ws}")
        if min(stride) < 1:
            raise ValueError(f"pool_2d: the stride must be positive, got {stride}")
        if min(pad) < 0:
            raise ValueError(f"pool_2d: the padding pad must not be negative, got {pad}")
        if not isinstance(ignore_border, (bool, int)):
            raise TypeError(f"pool_2d: ignore_border must be True or False, got {ignore_border!r}")
        if pad != (0, 0) and not ignore_border:
            raise NotImplementedError(
                f"pool_2d: padding (pad={pad}) works only with ignore_border=True"
            )
        if pad[0] >= ws[0] or pad[1] >= ws[1]:
            raise NotImplementedError(
                f"pool_2d: padding must be smaller than the window on each axis, got pad={pad} "
                f"for ws={ws}"
            )
        if mode not in MODES:
            raise ValueError(f"pool_2d: mode must be one of {', '.join(MODES)}; got {mode!r}")
        self.ws, self.stride, self.pad = ws, stride, pad
        self.ignore_border = bool(ignore_border)
        self.mode = mode

    def out_lengths(self, rows, columns):
        """The pooled lengths of an image of ``rows`` by ``columns`` (ints or symbols)."""
        return tuple(
            pooled_length(n, self.ws[a], self.stride[a], self.pad[a], self.ignore_border)
            for a, n in enumerate((rows, columns))
        )

    def out_type(self, x) -> TensorType:
        rows, columns = x.type.shape[-2:]
        lengths = [
            None
            if n is None
            else _pooled_int(n, self.ws[a], self.stride[a], self.pad[a], self.ignore_border)
            for a, n in enumerate((rows, columns))
        ]
        return TensorType(x.dtype, shape=(*x.type.shape[:-2], *lengths))

    def pooled_shape(self, shape):
        """The output shape for an input of ``shape`` (symbolic or int lengths)."""
        return (*shape[:-2], *self.out_lengths(shape[-2], shape[-1]))

    def _other(self, cls, **changes):
        params = {name: getattr(self, name) for name in self.__props__}
        params.update(changes)
        return cls(**params)


def _images(x, who: str):
    from croton.tensor.variable import as_tensor_variable

    x = as_tensor_variable(x)
    if x.ndim < 2:
        raise TypeError(f"{who} pools the last two axes of images; got {x.type} with {x.ndim} axes")
    if not x.dtype.startswith(("float", "int", "uint")):
        raise TypeError(f"{who} takes integer or floating-point images, got {x.dtype}")
    return x


class Pool(_PoolBase):
    """The max, sum or average of each window over the last two axes of ``x``.

    Parameters
    ----------
    ws
        Window size ``(rows, columns)``.
    ignore_border
        Leave out partial windows at the bottom and right border (True), or pool them
        too (False).
    stride
        Distance between windows, ``ws`` when None.
    pad
        Cells added on both sides of each axis; they never take part in a max or a sum,
        and are counted in the divisor of ``average_inc_pad`` only.
    mode
        ``'max'``, ``'sum'``, ``'average_inc_pad'`` or ``'average_exc_pad'``.
    """

    def make_node(self, x) -> Apply:
        from croton.tensor.math import cast

        x = _images(x, "Pool")
        if self.mode.startswith("average") and not x.dtype.startswith("float"):
            x = cast(x, "float64")
        return Apply(self, [x], [self.out_type(x)()])

    def infer_shape(self, node, input_shapes):
        return [self.pooled_shape(input_shapes[0])]

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        (gz,) = output_grads
        if self.mode == "max":
            return [self._other(MaxPoolGrad)(x, outputs[0], gz)]
        return [self._other(AveragePoolGrad)(x, gz)]


class MaxPoolGrad(_PoolBase):
    """The gradient of max pooling: ``MaxPoolGrad(x, maxout, gz)``, shaped like ``x``.

    Each window passes its output gradient to every cell of the window that equals the
    window's maximum: with ties, each of the tied cells receives the whole gradient
    (Theano's rule). Overlapping windows add up.
    """

    def __init__(self, ws, ignore_border: bool = True, stride=None, pad=(0, 0), mode="max"):
        if mode != "max":
            raise ValueError(f"MaxPoolGrad is the gradient of mode 'max', got mode={mode!r}")
        super().__init__(ws, ignore_border, stride, pad, mode)

    def make_node(self, x, maxout, gz) -> Apply:
        from croton.tensor.math import cast

        x = _images(x, "MaxPoolGrad")
        maxout = _images(maxout, "MaxPoolGrad")
        gz = _images(gz, "MaxPoolGrad")
        if not (x.ndim == maxout.ndim == gz.ndim) or maxout.dtype != x.dtype:
            raise TypeError(
                f"MaxPoolGrad takes x, its max pool and the gradient of that pool, of one rank "
                f"(and x and the pool of one dtype); got {x.type}, {maxout.type}, {gz.type}"
            )
        if gz.dtype != x.dtype and x.dtype.startswith("float"):
            gz = cast(gz, x.dtype)
        dtype = x.dtype if x.dtype.startswith("float") else gz.dtype
        return Apply(self, [x, maxout, gz], [TensorType(dtype, shape=x.type.shape)()])

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        x, maxout, _ = inputs
        (ggx,) = output_grads
        # linear in gz; x and maxout only pick the cells (piecewise constant)
        return [None, None, self._other(MaxPoolGradGrad)(x, maxout, ggx)]


class MaxPoolGradGrad(_PoolBase):
    """``MaxPoolGradGrad(x, maxout, ggx)``: per window, the sum of ``ggx`` over the cells
    equal to the window's maximum; the adjoint of `MaxPoolGrad` in its gradient, shaped
    like ``maxout``. It makes second derivatives of max pooling possible."""

    def __init__(self, ws, ignore_border: bool = True, stride=None, pad=(0, 0), mode="max"):
        if mode != "max":
            raise ValueError(f"MaxPoolGradGrad belongs to mode 'max', got mode={mode!r}")
        super().__init__(ws, ignore_border, stride, pad, mode)

    def make_node(self, x, maxout, ggx) -> Apply:
        from croton.tensor.math import cast

        x, maxout, ggx = (_images(v, "MaxPoolGradGrad") for v in (x, maxout, ggx))
        if not (x.ndim == maxout.ndim == ggx.ndim) or maxout.dtype != x.dtype:
            raise TypeError(
                f"MaxPoolGradGrad takes x, its max pool and a tensor shaped like x; got "
                f"{x.type}, {maxout.type}, {ggx.type}"
            )
        if ggx.dtype != x.dtype and x.dtype.startswith("float"):
            ggx = cast(ggx, x.dtype)
        dtype = x.dtype if x.dtype.startswith("float") else ggx.dtype
        return Apply(self, [x, maxout, ggx], [TensorType(dtype, shape=maxout.type.shape)()])

    def infer_shape(self, node, input_shapes):
        return [input_shapes[1]]

    def L_op(self, inputs, outputs, output_grads):
        x, maxout, _ = inputs
        (g,) = output_grads
        return [None, None, self._other(MaxPoolGrad)(x, maxout, g)]


class AveragePoolGrad(_PoolBase):
    """The gradient of sum and average pooling: ``AveragePoolGrad(x, gz)``, shaped like
    ``x``: each window spreads its output gradient over its cells (divided by the
    window's count for the averages)."""

    def __init__(self, ws, ignore_border: bool = True, stride=None, pad=(0, 0), mode="sum"):
        if mode == "max":
            raise ValueError("AveragePoolGrad is the gradient of sum and average pooling, not max")
        super().__init__(ws, ignore_border, stride, pad, mode)

    def make_node(self, x, gz) -> Apply:
        from croton.tensor.math import cast

        x = _images(x, "AveragePoolGrad")
        gz = _images(gz, "AveragePoolGrad")
        if x.ndim != gz.ndim:
            raise TypeError(
                f"AveragePoolGrad takes x and the gradient of its pool, of one rank; got "
                f"{x.type}, {gz.type}"
            )
        dtype = x.dtype if x.dtype.startswith("float") else "float64"
        if gz.dtype != dtype:
            gz = cast(gz, dtype)
        return Apply(self, [x, gz], [TensorType(dtype, shape=x.type.shape)()])

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        (ggx,) = output_grads
        # the adjoint of a linear map's adjoint is the map: pool the incoming gradient
        return [None, self._other(Pool)(ggx)]

    def connection_pattern(self, node):
        return [[False], [True]]
