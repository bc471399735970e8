"""Rules for linear algebra: ``jnp.linalg`` and ``jax.scipy.linalg``.

jax raises nothing for a singular or non-positive-definite matrix: its results hold
inf or nan there (the numpy and numba backends raise ``LinAlgError``).
"""

from __future__ import annotations

from croton.ops.linalg import Cholesky, Det, MatrixInverse, Solve, SolveTriangular
from croton_jax.lazy_jax import jnp, scipy_linalg
from croton_jax.lowering.common import lowers, out_dtype


@lowers(MatrixInverse)
def _inverse(op, node):
    return lambda x: jnp.linalg.inv(x)


@lowers(Det)
def _det(op, node):
    dtype = out_dtype(node)
    return lambda x: jnp.linalg.det(x).astype(dtype)


@lowers(Cholesky)
def _cholesky(op, node):
    # (jax would average x with its transpose; SciPy and LAPACK read one triangle)
    if op.lower:
        return lambda x: jnp.linalg.cholesky(x, symmetrize_input=False)
    return lambda x: jnp.linalg.cholesky(x.T, symmetrize_input=False).T


@lowers(Solve)
def _solve(op, node):
    return lambda a, b: jnp.linalg.solve(a, b)


@lowers(SolveTriangular)
def _solve_triangular(op, node):
    lower = op.lower
    return lambda a, b: scipy_linalg.solve_triangular(a, b, lower=lower)
