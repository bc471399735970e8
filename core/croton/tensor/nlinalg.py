"""Theano's ``tensor.nlinalg``: the inverse and determinant of a square matrix, products
of several matrices, integer powers (see `croton.ops.linalg`)."""

from __future__ import annotations

import functools
import operator

import numpy as np

from croton.ops.linalg import Det, MatrixInverse
from croton.tensor.blas import kron
from croton.tensor.subtensor import trace

__all__ = [
    "det",
    "inv",
    "kron",
    "matrix_dot",
    "matrix_inverse",
    "matrix_power",
    "norm",
    "trace",
]


def matrix_inverse(x):
    """``numpy.linalg.inv``: the inverse of the square matrix ``x``."""
    return MatrixInverse()(x)


inv = matrix_inverse


def det(x):
    """``numpy.linalg.det``: the determinant of the square matrix ``x`` (0-d)."""
    return Det()(x)


def matrix_dot(*matrices):
    """The product of ``matrices`` in order (Theano's ``matrix_dot``)."""
    from croton.tensor.blas import dot

    if not matrices:
        raise TypeError("matrix_dot takes at least one matrix")
    return functools.reduce(dot, matrices)


def matrix_power(x, n: int):
    """``numpy.linalg.matrix_power``: ``x`` multiplied by itself ``n`` times (the
    identity for 0, powers of the inverse for negative ``n``), by repeated squaring."""
    from croton.tensor.blas import dot
    from croton.tensor.shape import eye
    from croton.tensor.variable import as_tensor_variable

    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"matrix_power: the exponent must be an integer, got {n!r}") from None
    x = as_tensor_variable(x)
    if x.ndim != 2:
        raise TypeError(f"matrix_power: x must be a matrix (2-d), got {x.type} ({x})")
    if n == 0:
        return eye(x.shape[0], dtype=x.dtype)
    if n < 0:
        x, n = matrix_inverse(x), -n
    result, square = None, x
    while True:
        if n & 1:
            result = square if result is None else dot(result, square)
        n >>= 1
        if not n:
            return result
        square = dot(square, square)


def norm(x, ord=None, axis=None, keepdims: bool = False):
    """``numpy.linalg.norm`` of real tensors: vector norms (``ord`` None or 2, 1, inf,
    -inf, 0 or any other number) over one axis or the flattened input, and matrix norms
    (``ord`` None or "fro", 1, -1, inf, -inf) over two axes or of a matrix. The matrix
    norms made of singular values (2, -2, "nuc") are not provided."""
    from croton.tensor import math as tm
    from croton.tensor.variable import as_tensor_variable

    x = as_tensor_variable(x)
    if x.dtype.startswith("complex"):
        raise TypeError("norm: complex tensors are not supported")
    if not x.dtype.startswith("float"):
        x = tm.cast(x, "float64")
    if axis is None:
        axes = tuple(range(x.ndim)) if (ord is None or x.ndim != 2) else (0, 1)
        if ord is None:
            return tm.sqrt(tm.sum(x * x, axis=axes, keepdims=keepdims))
        if x.ndim == 1:
            axes = (0,)
    else:
        axes = (int(axis),) if np.ndim(axis) == 0 else tuple(int(a) for a in axis)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes[0], keepdims)
    if len(axes) == 2:
        return _matrix_norm(x, ord, axes, keepdims)
    raise ValueError(f"norm: axis must name one or two axes, got {axis!r}")


def _vector_norm(x, ord, axis, keepdims):
    from croton.tensor import math as tm

    size = abs(x)
    if ord is None or ord == 2:
        return tm.sqrt(tm.sum(x * x, axis=axis, keepdims=keepdims))
    if ord == np.inf:
        return tm.max(size, axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return tm.min(size, axis=axis, keepdims=keepdims)
    if ord == 0:
        return tm.cast(tm.sum(tm.neq(x, 0), axis=axis, keepdims=keepdims), x.dtype)
    if ord == 1:
        return tm.sum(size, axis=axis, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"norm: invalid norm order {ord!r} for vectors")
    return tm.sum(size**ord, axis=axis, keepdims=keepdims) ** (1.0 / ord)


def _matrix_norm(x, ord, axes, keepdims):
    from croton.tensor import math as tm

    rows, columns = (a % x.ndim for a in axes)
    if rows == columns:
        raise ValueError("norm: the two axes must differ")
    if ord is None or ord == "fro":
        return tm.sqrt(tm.sum(x * x, axis=(rows, columns), keepdims=keepdims))
    if ord in (1, -1, np.inf, -np.inf):
        summed, other = (rows, columns) if ord in (1, -1) else (columns, rows)
        sums = tm.sum(abs(x), axis=summed, keepdims=True)
        pick = tm.max if ord in (1, np.inf) else tm.min
        result = pick(sums, axis=other, keepdims=True)
        if not keepdims:
            result = result.dimshuffle(*[d for d in range(x.ndim) if d not in (rows, columns)])
        return result
    raise NotImplementedError(
        f"norm: the matrix norm of order {ord!r} needs singular values, which croton does "
        "not compute; use 'fro', 1, -1, inf or -inf"
    )
