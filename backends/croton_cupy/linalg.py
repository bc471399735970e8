"""The CuPy backend's linear algebra: ``cupy.linalg`` (cuSOLVER) and the triangular
solve of ``cupyx.scipy.linalg`` (cuBLAS).

CuPy raises nothing for a singular or non-positive-definite matrix (unless asked to
with ``cupyx.errstate(linalg="raise")``): its results hold inf or nan there, where the
numpy and numba backends raise ``LinAlgError``.
"""

from __future__ import annotations

import numpy as np

from croton.ops.linalg import Cholesky, Det, MatrixInverse, Solve, SolveTriangular
from croton_cupy import runtime
from croton_cupy.lowering import lowers


@lowers(MatrixInverse)
def _inverse(op, node):
    cupy = runtime.load_cupy()
    return lambda x: cupy.linalg.inv(x)


@lowers(Det)
def _det(op, node):
    cupy = runtime.load_cupy()
    dtype = np.dtype(node.outputs[0].type.dtype)
    return lambda x: cupy.linalg.det(x).astype(dtype, copy=False)


@lowers(Cholesky)
def _cholesky(op, node):
    """The factor of the symmetric matrix made of the triangle that SciPy reads (so that
    whichever triangle cuSOLVER reads, the other one does not count)."""
    cupy = runtime.load_cupy()
    lower = op.lower

    def kernel(x):
        if not lower:
            x = x.T
        factor = cupy.linalg.cholesky(cupy.tril(x) + cupy.tril(x, -1).T)
        return factor if lower else cupy.ascontiguousarray(factor.T)

    return kernel


@lowers(Solve)
def _solve(op, node):
    cupy = runtime.load_cupy()
    return lambda a, b: cupy.linalg.solve(a, b)


@lowers(SolveTriangular)
def _solve_triangular(op, node):
    lower = op.lower

    def kernel(a, b):
        from cupyx.scipy import linalg  # (loads cuBLAS: when a call runs, not at lowering)

        return linalg.solve_triangular(a, b, lower=lower)

    return kernel
