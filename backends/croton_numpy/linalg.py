"""The numpy backend's linear algebra: ``numpy.linalg`` and SciPy's triangular solve."""

from __future__ import annotations

import numpy as np

from croton.ops.linalg import Cholesky, Det, MatrixInverse, Solve, SolveTriangular
from croton_numpy.lowering import _out_dtype, lowers


@lowers(MatrixInverse)
def _inverse(op, node):
    return lambda x: np.linalg.inv(x)


@lowers(Det)
def _det(op, node):
    dtype = _out_dtype(node)
    return lambda x: np.asarray(np.linalg.det(x), dtype=dtype)


@lowers(Cholesky)
def _cholesky(op, node):
    if op.lower:
        return lambda x: np.linalg.cholesky(x)
    return lambda x: np.ascontiguousarray(np.linalg.cholesky(x.T).T)  # (x's upper triangle)


@lowers(Solve)
def _solve(op, node):
    return lambda a, b: np.linalg.solve(a, b)


@lowers(SolveTriangular)
def _solve_triangular(op, node):
    from scipy.linalg import solve_triangular

    lower = op.lower
    # (no check for nan and inf, as in the other solves: they reach the result)
    return lambda a, b: solve_triangular(a, b, lower=lower, check_finite=False)
