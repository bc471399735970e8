"""Functions of Theano's ``theano.tensor.extra_ops`` that croton provides."""

from __future__ import annotations

import numpy as np

from croton.tensor.shape import arange, repeat, zeros
from croton.tensor.subtensor import set_subtensor
from croton.tensor.variable import as_tensor_variable

__all__ = ["cumprod", "cumsum", "repeat", "to_one_hot"]


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


def _cumulative(x, axis, mode: str):
    from croton.ops.cumulative import MODES, CumOp
    from croton.tensor.shape import _axis

    x = as_tensor_variable(x)
    if axis is None:
        return CumOp(0, mode)(x.flatten())
    if x.ndim == 0:
        raise np.exceptions.AxisError(f"{MODES[mode]}: axis {axis} is out of bounds for a scalar")
    return CumOp(_axis(axis, x.ndim, MODES[mode]), mode)(x)


def cumsum(x, axis=None):
    """The running sum along ``axis`` (of the flattened ``x`` when None), as
    ``numpy.cumsum``: integers accumulate in int64 (uint64 when unsigned)."""
    return _cumulative(x, axis, "add")


def cumprod(x, axis=None):
    """The running product along ``axis`` (of the flattened ``x`` when None), as
    ``numpy.cumprod``. Its gradient divides by ``x``, so it is not defined where ``x``
    is 0 (as in Theano)."""
    return _cumulative(x, axis, "mul")
