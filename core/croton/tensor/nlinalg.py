"""Theano's ``tensor.nlinalg``: the inverse and determinant of a square matrix, products
of several matrices, integer powers (see `croton.ops.linalg`)."""

from __future__ import annotations

import functools
import operator

from croton.ops.linalg import Det, MatrixInverse
from croton.tensor.subtensor import trace

__all__ = ["det", "inv", "matrix_dot", "matrix_inverse", "matrix_power", "trace"]


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
