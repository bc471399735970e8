"""Linear algebra of square matrices (Theano's ``nlinalg`` and ``slinalg``).

`MatrixInverse`, `Det`, `Cholesky`, `Solve` and `SolveTriangular` take matrices (2-d;
``b`` of a solve may be a vector). Integer and boolean inputs compute in float64, as
NumPy's ``linalg`` does; float32 stays float32. Half precision and complex matrices are
refused when the graph is built, naming the input.
"""

from __future__ import annotations

from croton.graph.basic import Apply, Op
from croton.graph.type import TensorType


def _float(x, what: str, name: str):
    """``x`` as a float32 or float64 tensor (integers and booleans in float64)."""
    from croton.tensor.math import cast
    from croton.tensor.variable import as_tensor_variable

    x = as_tensor_variable(x)
    if x.dtype in ("float16",) or x.dtype.startswith("complex"):
        raise TypeError(
            f"{what}: {name} is {x.type}; {x.dtype} matrices are not supported "
            "(cast it to float32 or float64)"
        )
    return x if x.dtype in ("float32", "float64") else cast(x, "float64")


def _square(x, what: str, name: str = "the matrix"):
    x = _float(x, what, name)
    if x.ndim != 2:
        raise TypeError(f"{what}: {name} must be a matrix (2-d), got {x.type} ({x})")
    rows, columns = x.type.shape
    if rows is not None and columns is not None and rows != columns:
        raise ValueError(f"{what}: {name} must be square, got shape {x.type.shape} ({x})")
    return x


def _with_right_side(a, b, what: str):
    """``a`` square and ``b`` (a vector or a matrix of right-hand sides) in one dtype."""
    from croton.ops.blas import _promote

    a, b = _square(a, what), _float(b, what, "b")
    if b.ndim not in (1, 2):
        raise TypeError(f"{what}: b must be a vector or a matrix, got {b.type} ({b})")
    n, m = a.type.shape[0], b.type.shape[0]
    if n is not None and m is not None and n != m:
        raise ValueError(
            f"{what}: a is {a.type.shape} and b {b.type.shape}; b needs one row per row of a"
        )
    a, b, _ = _promote(a, b)
    return a, b


class _SquareToSquare(Op):
    """An op taking a square matrix to one of its shape and dtype."""

    what = ""  # (the function's name, for errors)

    def make_node(self, x) -> Apply:
        x = _square(x, self.what)
        return Apply(self, [x], [x.type()])

    def infer_shape(self, node, input_shapes):
        return list(input_shapes)


class MatrixInverse(_SquareToSquare):
    """``numpy.linalg.inv`` of a square matrix; a singular one raises ``LinAlgError``
    (numpy and numba backends)."""

    what = "matrix_inverse"

    def L_op(self, inputs, outputs, output_grads):
        from croton.tensor.blas import dot

        (inverse,), (g,) = outputs, output_grads
        # d(X^-1) = -X^-1 dX X^-1
        return [-dot(dot(inverse.T, g), inverse.T)]


class Det(Op):
    """``numpy.linalg.det``: the determinant of a square matrix (a 0-d tensor)."""

    def make_node(self, x) -> Apply:
        x = _square(x, "det")
        return Apply(self, [x], [TensorType(x.dtype, shape=())()])

    def infer_shape(self, node, input_shapes):
        return [()]

    def L_op(self, inputs, outputs, output_grads):
        (x,), (d,), (g,) = inputs, outputs, output_grads
        return [g * d * MatrixInverse()(x).T]


class Cholesky(_SquareToSquare):
    """The Cholesky factor of a symmetric positive-definite matrix: ``L`` with
    ``x = L @ L.T`` (``lower``), else ``U = L.T``.

    Only the triangle named by ``lower`` is read, as in SciPy and LAPACK. A matrix that
    is not positive definite raises ``LinAlgError`` on the numpy and numba backends; CuPy
    and JAX give nan there, as those libraries do.
    """

    __props__ = ("lower",)
    what = "cholesky"

    def __init__(self, lower: bool = True):
        self.lower = bool(lower)

    def L_op(self, inputs, outputs, output_grads):
        (factor,), (g,) = outputs, output_grads
        if self.lower:
            return [_cholesky_grad(factor, g)]
        # U = L.T with L the factor of x.T (whose lower triangle is x's upper one)
        return [_cholesky_grad(factor.T, g.T).T]


def _cholesky_grad(L, gL):
    """The gradient of ``x`` (its lower triangle, which alone is read) given the factor
    ``L`` and the gradient ``gL`` of it (I. Murray, "Differentiation of the Cholesky
    decomposition", 2016: ``S = L^-T Phi(L^T gL) L^-1``, folded onto the lower
    triangle)."""
    from croton.tensor.blas import dot
    from croton.tensor.shape import tril
    from croton.tensor.subtensor import diag

    def phi(m):  # the lower triangle, its diagonal halved
        return tril(m) - 0.5 * diag(diag(m))

    inner = phi(dot(L.T, gL))
    # L^-T inner L^-1: two solves with the upper triangular L^T
    right = SolveTriangular(lower=False)(L.T, inner.T).T  # inner L^-1
    s = SolveTriangular(lower=False)(L.T, right)
    return tril(s + s.T) - diag(diag(s))


class _Solve(Op):
    """``x`` with ``a @ x = b`` for a square ``a`` and ``b`` a vector or a matrix of
    right-hand sides; its gradients are solves with ``a.T``."""

    what = ""  # (the function's name, for errors)

    def make_node(self, a, b) -> Apply:
        a, b = _with_right_side(a, b, self.what)
        shape = (a.type.shape[1],) + b.type.shape[1:]
        return Apply(self, [a, b], [TensorType(a.dtype, shape=shape)()])

    def infer_shape(self, node, input_shapes):
        a_shape, b_shape = input_shapes
        return [(a_shape[1],) + tuple(b_shape[1:])]

    def L_op(self, inputs, outputs, output_grads):
        from croton.tensor.blas import dot, outer

        (a, _), (x,), (g,) = inputs, outputs, output_grads
        gb = self._transposed()(a.T, g)
        ga = -(outer(gb, x) if gb.ndim == 1 else dot(gb, x.T))
        return [self._read_part(ga), gb]

    def _transposed(self) -> _Solve:
        """The op solving with ``a.T``."""
        raise NotImplementedError

    def _read_part(self, ga):
        """``ga`` where ``a`` is read (zero elsewhere)."""
        return ga


class Solve(_Solve):
    """``numpy.linalg.solve(a, b)``: ``x`` with ``a @ x = b``, for ``b`` a vector or a
    matrix of right-hand sides; a singular ``a`` raises ``LinAlgError`` (numpy and numba
    backends)."""

    what = "solve"

    def _transposed(self) -> _Solve:
        return Solve()


class SolveTriangular(_Solve):
    """``scipy.linalg.solve_triangular(a, b, lower)``: ``x`` with ``a @ x = b`` reading
    only the lower (``lower``) or upper triangle of ``a``. A zero on the diagonal raises
    ``LinAlgError`` (numpy and numba backends)."""

    __props__ = ("lower",)
    what = "solve_triangular"

    def __init__(self, lower: bool = False):
        self.lower = bool(lower)

    def _transposed(self) -> _Solve:
        return SolveTriangular(lower=not self.lower)

    def _read_part(self, ga):
        from croton.tensor.shape import tril, triu

        return tril(ga) if self.lower else triu(ga)
