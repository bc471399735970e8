"""Theano's ``tensor.slinalg``: the Cholesky factor and linear solves, general and
triangular (see `croton.ops.linalg`)."""

from __future__ import annotations

from croton.ops.linalg import Cholesky, Solve, SolveTriangular

__all__ = [
    "cholesky",
    "solve",
    "solve_lower_triangular",
    "solve_triangular",
    "solve_upper_triangular",
]


def cholesky(x, lower: bool = True):
    """The Cholesky factor of the symmetric positive-definite ``x``: lower triangular
    ``L`` with ``x = L @ L.T``, or (``lower=False``) upper ``U = L.T``. Only the triangle
    named by ``lower`` is read, as in ``scipy.linalg.cholesky``."""
    return Cholesky(lower)(x)


def solve(a, b):
    """``numpy.linalg.solve``: ``x`` with ``a @ x = b``; ``b`` is a vector or a matrix
    of right-hand sides."""
    return Solve()(a, b)


def solve_triangular(a, b, lower: bool = False):
    """``scipy.linalg.solve_triangular(a, b, lower=lower)``: a solve reading only the
    lower (``lower``) or upper triangle of ``a``."""
    return SolveTriangular(lower)(a, b)


def solve_lower_triangular(a, b):
    return SolveTriangular(lower=True)(a, b)


def solve_upper_triangular(a, b):
    return SolveTriangular(lower=False)(a, b)
