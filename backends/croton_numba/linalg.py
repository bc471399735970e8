"""The numba backend's linear algebra: numba's ``np.linalg`` (LAPACK through SciPy) and
a triangular solve written as loops (numba has no ``solve_triangular``).

numba's ``np.linalg`` takes contiguous arrays, so each input is made contiguous first
(a copy only for a strided view, such as a transpose in a gradient).
"""

from __future__ import annotations

from croton.ops.linalg import Cholesky, Det, MatrixInverse, Solve, SolveTriangular
from croton_numba.lowering import _as_array, _function, lowers


@lowers(MatrixInverse)
def _inverse(op, node, name, context):
    return _function(name, ["x"], ["return np.linalg.inv(np.ascontiguousarray(x))"])


@lowers(Det)
def _det(op, node, name, context):
    value = _as_array("np.linalg.det(np.ascontiguousarray(x))", node.outputs[0].dtype)
    return _function(name, ["x"], [f"return {value}"])


@lowers(Cholesky)
def _cholesky(op, node, name, context):
    if op.lower:
        return _function(name, ["x"], ["return np.linalg.cholesky(np.ascontiguousarray(x))"])
    # x's upper triangle is the lower one of x.T; U = L.T, returned C-contiguous
    body = ["return np.ascontiguousarray(np.linalg.cholesky(np.ascontiguousarray(x.T)).T)"]
    return _function(name, ["x"], body)


@lowers(Solve)
def _solve(op, node, name, context):
    body = ["return np.linalg.solve(np.ascontiguousarray(a), np.ascontiguousarray(b))"]
    return _function(name, ["a", "b"], body)


@lowers(SolveTriangular)
def _solve_triangular(op, node, name, context):
    """Forward (lower) or back (upper) substitution, all right-hand sides at once."""
    b = node.inputs[1]
    rows = "range(n)" if op.lower else "range(n - 1, -1, -1)"
    known = "range(i)" if op.lower else "range(i + 1, n)"
    body = [
        "n = a.shape[0]",
        "if a.shape[1] != n:",
        "    raise ValueError('solve_triangular: a must be square')",
        "if b.shape[0] != n:",
        "    raise ValueError('solve_triangular: b needs one row per row of a')",
        "x = np.ascontiguousarray(b).copy()" if b.ndim == 2 else "x = b.copy().reshape((n, 1))",
        f"for i in {rows}:",
        "    d = a[i, i]",
        "    if d == 0:",
        "        raise np.linalg.LinAlgError('solve_triangular: a is singular (a zero on its diagonal)')",
        f"    for j in {known}:",
        "        f = a[i, j]",
        "        for c in range(x.shape[1]):",
        "            x[i, c] -= f * x[j, c]",
        "    for c in range(x.shape[1]):",
        "        x[i, c] /= d",
        "return x" if b.ndim == 2 else "return x.reshape(n)",
    ]
    return _function(name, ["a", "b"], body)
