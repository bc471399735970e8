"""Products of float and complex matrices and vectors by BLAS, for the generated code.

numba's own ``np.dot`` compiles a chain of functions for each pair of operand layouts it
meets (C, F, strided), with ``np.empty`` and ``np.zeros`` beneath: about a second and a
half of the MLP training step's cold compile went there. Here each product is one small
function compiled once per dtype: the generated code hands it its operands typed as
"any layout" (`_layout_free`), it reads their strides at run time and calls the BLAS
routine SciPy exports through numba's own C helpers (``numba_xxgemm``, ``numba_xxgemv``,
``numba_xxdot``, which load SciPy's ``cython_blas`` at their first call). The machine code
names those helpers, not their addresses, so it stays valid in the disk cache.

BLAS reads a matrix in column-major order with a leading dimension. A C-ordered matrix
(or a row-major view with longer rows) is, read that way, its own transpose; an F-ordered
one is itself; any other (negative or element-skipping strides) is copied first.
"""

import llvmlite.ir as ir
import numba
from numba.core import cgutils, types
from numba.extending import intrinsic

from croton_numba.prelude import _empty

__all__ = ["_layout_free", "_matmul", "_matvec", "_vecdot"]

_KINDS = {types.float32: "s", types.float64: "d", types.complex64: "c", types.complex128: "z"}
_NO_TRANSPOSE, _TRANSPOSE = ord("n"), ord("t")


@intrinsic
def _layout_free(typingctx, array):
    """``array`` itself, typed as an array of any layout, so that the helpers below are
    compiled once per dtype rather than once per combination of operand layouts."""
    if not isinstance(array, types.Array):
        return None
    result = array.copy(layout="A")

    def codegen(context, builder, signature, args):
        context.nrt.incref(builder, signature.args[0], args[0])
        return args[0]

    return result(array), codegen


def _blas_call(name: str, parameters: list, arguments: tuple):
    """The typing of an ``@intrinsic`` calling numba's C helper ``numba_<name>`` with
    ``parameters``: ``"char"`` (an integer, passed as one byte), ``"int"``, ``"array"``
    (its data pointer), ``"one"``/``"zero"`` (a pointer to that scalar of the arrays'
    dtype). The helper's first argument, the BLAS kind, comes from the last array."""
    arrays = [a for a in arguments if isinstance(a, types.Array)]
    if not arrays or arrays[-1].dtype not in _KINDS:
        return None
    dtype = arrays[-1].dtype

    def codegen(context, builder, signature, args):
        char, status = ir.IntType(8), ir.IntType(32)
        intp = context.get_value_type(types.intp)
        pointer = ir.IntType(8).as_pointer()
        values, kinds = [char(ord(_KINDS[dtype]))], [char]
        given = iter(zip(signature.args, args))
        for parameter in parameters:
            if parameter in ("one", "zero"):
                constant = context.get_constant_generic(builder, dtype, int(parameter == "one"))
                values.append(
                    builder.bitcast(cgutils.alloca_once_value(builder, constant), pointer)
                )
                kinds.append(pointer)
                continue
            kind, value = next(given)
            if parameter == "array":
                data = context.make_array(kind)(context, builder, value).data
                values.append(builder.bitcast(data, pointer))
                kinds.append(pointer)
            else:
                value = context.cast(builder, value, kind, types.intp)
                values.append(builder.trunc(value, char) if parameter == "char" else value)
                kinds.append(char if parameter == "char" else intp)
        function = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(status, kinds), f"numba_{name}"
        )
        failed = builder.icmp_signed("!=", builder.call(function, values), status(0))
        with builder.if_then(failed, likely=False):
            context.call_conv.return_user_exc(
                builder, RuntimeError, (f"BLAS {name} could not be called (is SciPy installed?)",)
            )
        return context.get_dummy_value()

    return types.none(*arguments), codegen


@intrinsic
def _xxgemm(typingctx, transa, transb, m, n, k, a, lda, b, ldb, c, ldc):
    """``c = op(a) @ op(b)`` (column-major, ``m`` by ``n``, inner length ``k``)."""
    parameters = ["char", "char", "int", "int", "int", "one", "array", "int", "array", "int"]
    parameters += ["zero", "array", "int"]
    return _blas_call("xxgemm", parameters, (transa, transb, m, n, k, a, lda, b, ldb, c, ldc))


@intrinsic
def _xxgemv(typingctx, trans, m, n, a, lda, x, y):
    """``y = op(a) @ x`` (``a`` column-major, ``m`` by ``n``; unit increments)."""
    parameters = ["char", "int", "int", "one", "array", "int", "array", "zero", "array"]
    return _blas_call("xxgemv", parameters, (trans, m, n, a, lda, x, y))


@intrinsic
def _xxdot(typingctx, conjugate, n, a, b, out):
    """``out[()] = a @ b`` (unit increments)."""
    return _blas_call(
        "xxdot", ["char", "int", "array", "array", "array"], (conjugate, n, a, b, out)
    )


@numba.njit(cache=True)
def _rows_leading(rows, columns, down, across, size):
    """The leading dimension (in elements) of a matrix whose rows lie ``down`` bytes
    apart and whose elements ``across`` bytes apart, if it is row-major; else 0."""
    if columns > 1 and across != size:
        return 0
    if rows == 1:
        return max(columns, 1)
    if down % size == 0 and down >= max(columns, 1) * size:
        return down // size
    return 0


@numba.njit(cache=True)
def _column_major(x):
    """``(matrix, transpose, leading)``: how BLAS reads the 2-d ``x`` in column-major order,
    as its transpose (a row-major ``x``: ``_NO_TRANSPOSE`` gives ``x.T``) or as itself
    (a column-major ``x``, a row-major ``x.T``: ``_TRANSPOSE`` gives ``x``); a C-ordered
    copy where the strides allow neither."""
    rows, columns = x.shape
    down, across = x.strides
    leading = _rows_leading(rows, columns, down, across, x.itemsize)
    if leading:
        return _layout_free(x), _NO_TRANSPOSE, leading
    leading = _rows_leading(columns, rows, across, down, x.itemsize)
    if leading:
        return _layout_free(x), _TRANSPOSE, leading
    copy = _empty((rows, columns), x.dtype)
    for i in range(rows):
        for j in range(columns):
            copy[i, j] = x[i, j]
    return _layout_free(copy), _NO_TRANSPOSE, max(columns, 1)


@numba.njit(cache=True)
def _contiguous(v):
    """The 1-d ``v`` if its elements are adjacent, else a copy that is."""
    if v.shape[0] <= 1 or v.strides[0] == v.itemsize:
        return _layout_free(v)
    copy = _empty(v.shape[0], v.dtype)
    for i in range(v.shape[0]):
        copy[i] = v[i]
    return _layout_free(copy)


@numba.njit(cache=True)
def _matmul(x, y):
    """``x @ y`` of two matrices of one dtype, a new C-ordered matrix."""
    m, k = x.shape
    if y.shape[0] != k:
        raise ValueError("dot: shapes are not aligned")
    n = y.shape[1]
    out = _empty((m, n), x.dtype)
    if m == 0 or n == 0 or k == 0:
        for i in range(m):
            for j in range(n):
                out[i, j] = 0
        return out
    # out read in column-major order is out.T = y.T @ x.T
    a, transpose_a, lda = _column_major(y)
    b, transpose_b, ldb = _column_major(x)
    _xxgemm(transpose_a, transpose_b, n, m, k, a, lda, b, ldb, out, n)
    return out


@numba.njit(cache=True)
def _matvec(x, v):
    """``x @ v`` of a matrix and a vector of one dtype (``v @ y`` is ``_matvec(y.T, v)``)."""
    m, k = x.shape
    if v.shape[0] != k:
        raise ValueError("dot: shapes are not aligned")
    out = _empty(m, x.dtype)
    if m == 0 or k == 0:
        out[:] = 0
        return out
    a, transpose, lda = _column_major(x)
    if transpose == _NO_TRANSPOSE:  # BLAS holds x.T, k by m
        _xxgemv(_TRANSPOSE, k, m, a, lda, _contiguous(v), out)
    else:  # BLAS holds x, m by k
        _xxgemv(_NO_TRANSPOSE, m, k, a, lda, _contiguous(v), out)
    return out


@numba.njit(cache=True)
def _vecdot(u, v):
    """``u @ v`` of two vectors of one dtype, a 0-d array."""
    if v.shape[0] != u.shape[0]:
        raise ValueError("dot: shapes are not aligned")
    out = _empty((), u.dtype)
    if u.shape[0] == 0:
        out[()] = 0
        return out
    _xxdot(0, u.shape[0], _contiguous(u), _contiguous(v), out)
    return out
