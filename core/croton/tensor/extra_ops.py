"""Functions of Theano's ``theano.tensor.extra_ops`` that croton provides."""

from __future__ import annotations

from croton.tensor.shape import arange, repeat, zeros
from croton.tensor.subtensor import set_subtensor
from croton.tensor.variable import as_tensor_variable

__all__ = ["argsort", "cumprod", "cumsum", "diff", "repeat", "sort", "to_one_hot"]


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
