"""The linear algebra functions under PyTensor's and NumPy's names (``T.linalg.inv``,
``T.linalg.solve``, ...): those of `croton.tensor.nlinalg` and `croton.tensor.slinalg`."""

from __future__ import annotations

from croton.tensor.nlinalg import det, inv, kron, matrix_dot, matrix_power, norm, trace
from croton.tensor.slinalg import cholesky, solve, solve_triangular

__all__ = [
    "cholesky",
    "det",
    "inv",
    "kron",
    "matrix_dot",
    "matrix_power",
    "norm",
    "solve",
    "solve_triangular",
    "trace",
]
