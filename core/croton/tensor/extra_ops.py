"""Functions of Theano's ``theano.tensor.extra_ops`` that croton provides."""

from __future__ import annotations

from croton.tensor.shape import arange, repeat, zeros
from croton.tensor.subtensor import set_subtensor
from croton.tensor.variable import as_tensor_variable

__all__ = [
    "argsort",
    "bartlett",
    "compress",
    "cumprod",
    "cumsum",
    "diff",
    "fill_diagonal",
    "fill_diagonal_offset",
    "geomspace",
    "linspace",
    "logspace",
    "repeat",
    "sort",
    "to_one_hot",
]


def to_one_hot(y, nb_class, dtype=None):
    """The one-hot encoding of a vector of class indices, one row per element of ``y``.

    Parameters
    ----------
    y
        An integer vector of class indices in ``[0, nb_class)``. As in NumPy indexing, a
        negative index counts from the end, and an index ``>= nb_class`` is an error
        when the function runs.
    nb_class
        The number of classes: an int or an integer scalar tensor.
    dtype
        The dtype of the result; ``config.floatX`` by default.

    Returns
    -------
    TensorVariable
        A matrix of shape ``(y.shape[0], nb_class)`` whose row ``i`` is 1 in column
        ``y[i]`` and 0 elsewhere. It has no gradient with respect to ``y``.
    """
    y = as_tensor_variable(y)
    if y.ndim != 1 or not y.dtype.startswith(("int", "uint")):
        raise TypeError(
            f"to_one_hot: y must be an integer vector of class indices, got {y.type}; "
            f"flatten it or cast it with T.cast(y, 'int64')"
        )
    if isinstance(nb_class, bool) or (isinstance(nb_class, int) and nb_class < 0):
        raise ValueError(f"to_one_hot: nb_class must be a non-negative int, got {nb_class!r}")
    rows = y.shape[0]
    encoded = zeros((rows, nb_class), dtype=dtype)
    return set_subtensor(encoded[arange(rows), y], 1)


def _along_axis(make_op, x, axis, name: str):
    """``make_op(axis)`` applied along ``axis`` of ``x`` (negative counts from the end),
    or along the flattened ``x`` when ``axis`` is None, as NumPy's functions do."""
    from croton.tensor.shape import _axis

    x = as_tensor_variable(x)
    if axis is None:
        return make_op(0)(x.flatten())
    return make_op(_axis(axis, x.ndim, name))(x)


def cumsum(x, axis=None):
    """The running sum along ``axis`` (of the flattened ``x`` when None), as
    ``numpy.cumsum``: integers accumulate in int64 (uint64 when unsigned)."""
    from croton.ops.cumulative import CumOp

    return _along_axis(lambda a: CumOp(a, "add"), x, axis, "cumsum")


def cumprod(x, axis=None):
    """The running product along ``axis`` (of the flattened ``x`` when None), as
    ``numpy.cumprod``. Its gradient divides by ``x``, so it is not defined where ``x``
    is 0 (as in Theano)."""
    from croton.ops.cumulative import CumOp

    return _along_axis(lambda a: CumOp(a, "mul"), x, axis, "cumprod")


def diff(x, n: int = 1, axis: int = -1):
    """``numpy.diff``: the ``n``-th differences along ``axis`` (for booleans, whether
    neighbours differ)."""
    from croton.tensor.math import neq
    from croton.tensor.shape import _axis

    x = as_tensor_variable(x)
    axis = _axis(axis, x.ndim, "diff")
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"diff: n must be a non-negative int, got {n!r}")
    for _ in range(n):
        later = tuple(slice(1, None) if a == axis else slice(None) for a in range(x.ndim))
        earlier = tuple(slice(None, -1) if a == axis else slice(None) for a in range(x.ndim))
        x = neq(x[later], x[earlier]) if x.dtype == "bool" else x[later] - x[earlier]
    return x


def sort(a, axis=-1, kind: str = "quicksort", order=None):
    """``numpy.sort``: ``a`` sorted along ``axis`` (the last by default; the flattened
    array when None). nan sorts last. The gradient follows each element to where it
    was sorted."""
    from croton.ops.sort import Sort

    _no_order("sort", order)
    return _along_axis(lambda axis: Sort(axis, kind), a, axis, "sort")


def argsort(a, axis=-1, kind: str = "quicksort", order=None):
    """``numpy.argsort``: the int64 indices that sort ``a`` along ``axis``. Equal
    elements keep their order with ``kind="stable"`` (or ``"mergesort"``); with the
    other kinds backends may order ties differently."""
    from croton.ops.sort import ArgSort

    _no_order("argsort", order)
    return _along_axis(lambda axis: ArgSort(axis, kind), a, axis, "argsort")


def _no_order(name: str, order) -> None:
    if order is not None:
        raise ValueError(f"{name}: order (for structured arrays) is not supported")


def _sample_count(num, name: str) -> int:
    import operator

    try:
        num = operator.index(num)
    except TypeError:
        raise TypeError(f"{name}: num must be a Python integer, got {num!r}") from None
    if num < 0:
        raise ValueError(f"{name}: num must not be negative, got {num}")
    return num


def _float_result(dtype, *values):
    """The dtype of evenly spaced samples: ``dtype`` if given, else float32 where the
    ends with a dtype of their own (tensors, NumPy scalars; not Python numbers) are all
    float32, else float64."""
    import numpy as np

    if dtype is not None:
        return np.dtype(dtype).name
    typed = [np.dtype(v.dtype).name for v in values if hasattr(v, "dtype")]
    return "float32" if typed and set(typed) == {"float32"} else "float64"


def linspace(start, stop, num: int = 50, endpoint: bool = True, dtype=None):
    """``numpy.linspace``: ``num`` evenly spaced samples from ``start`` to ``stop``
    (the last one ``stop`` itself with ``endpoint``). ``start`` and ``stop`` may be
    scalar tensors; ``num`` is a Python integer."""
    from croton.tensor.math import cast

    num = _sample_count(num, "linspace")
    result = _float_result(dtype, start, stop)
    start, stop = (
        cast(as_tensor_variable(start), "float64"),
        cast(as_tensor_variable(stop), "float64"),
    )
    if start.ndim or stop.ndim:
        raise TypeError("linspace: start and stop must be scalars")
    divisions = (num - 1 if endpoint else num) or 1
    samples = arange(num, dtype="float64") * ((stop - start) / divisions) + start
    if endpoint and num > 1:
        samples = set_subtensor(samples[-1], stop)
    return cast(samples, result)


def logspace(start, stop, num: int = 50, endpoint: bool = True, base=10.0, dtype=None):
    """``numpy.logspace``: ``base`` to the powers ``linspace(start, stop, num)``."""
    from croton.tensor.math import cast

    result = _float_result(dtype, start, stop)
    exponents = linspace(start, stop, num, endpoint, dtype="float64")
    return cast(as_tensor_variable(base) ** exponents, result)


def geomspace(start, stop, num: int = 50, endpoint: bool = True, dtype=None):
    """``numpy.geomspace``: ``num`` samples from ``start`` to ``stop`` in a geometric
    progression, both ends exact; both must have the same sign and not be zero (zero
    gives nan or infinities rather than NumPy's error)."""
    from croton.tensor import math as tm

    result = _float_result(dtype, start, stop)
    start = tm.cast(as_tensor_variable(start), "float64")
    stop = tm.cast(as_tensor_variable(stop), "float64")
    sign = tm.sgn(start)
    logs = linspace(tm.log(abs(start)), tm.log(abs(stop)), num, endpoint, dtype="float64")
    samples = sign * tm.exp(logs)
    if num > 0:
        samples = set_subtensor(samples[0], start)
    if endpoint and num > 1:
        samples = set_subtensor(samples[-1], stop)
    return tm.cast(samples, result)


def bartlett(M):
    """``numpy.bartlett``: the triangular window of ``M`` points (an int or an integer
    scalar tensor), float64; empty for ``M < 1``."""
    from croton.tensor import math as tm

    M = as_tensor_variable(M)
    if M.ndim != 0 or not M.dtype.startswith(("int", "uint")):
        raise TypeError(f"bartlett: M must be an integer scalar, got {M.type}")
    n = tm.cast(arange(1 - M, M, 2), "float64")
    span = tm.cast(tm.maximum(M - 1, 1), "float64")  # (M = 1: the single point 1)
    return tm.switch(n <= 0, 1 + n / span, 1 - n / span)


def fill_diagonal(a, val):
    """``a`` (a matrix) with its main diagonal set to the scalar ``val`` (Theano's
    ``fill_diagonal``; NumPy's fills in place)."""
    return fill_diagonal_offset(a, val, 0)


def fill_diagonal_offset(a, val, offset: int):
    """``a`` (a matrix) with diagonal ``offset`` (above the main one for positive
    offsets, below for negative) set to the scalar ``val``."""
    from croton.tensor import math as tm

    a, val = as_tensor_variable(a), as_tensor_variable(val)
    if a.ndim != 2:
        raise TypeError(f"fill_diagonal: a must be a matrix, got {a.type} ({a})")
    if val.ndim != 0:
        raise TypeError(f"fill_diagonal: val must be a scalar, got {val.type} ({val})")
    offset = int(offset)
    rows, columns = (0, offset) if offset >= 0 else (-offset, 0)
    length = tm.maximum(tm.minimum(a.shape[0] - rows, a.shape[1] - columns), 0)
    steps = arange(length)
    return set_subtensor(a[steps + rows, steps + columns], tm.cast(val, a.dtype))


def compress(condition, a, axis=None):
    """``numpy.compress``: the slices of ``a`` along ``axis`` (of the flattened ``a``
    for None) where the boolean vector ``condition`` is true."""
    from croton.tensor.math import neq
    from croton.tensor.subtensor import flatnonzero

    condition, a = as_tensor_variable(condition), as_tensor_variable(a)
    if condition.ndim != 1:
        raise TypeError(f"compress: condition must be a vector, got {condition.type}")
    where = flatnonzero(condition if condition.dtype == "bool" else neq(condition, 0))
    if axis is None:
        return a.flatten()[where]
    return a.take(where, axis=axis)
