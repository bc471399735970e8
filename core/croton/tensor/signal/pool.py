"""Pooling with Theano's names (``croton.tensor.signal.pool``)."""

from __future__ import annotations

import warnings

from croton.ops.pool import AveragePoolGrad, MaxPoolGrad, MaxPoolGradGrad, Pool
from croton.tensor.variable import as_tensor_variable

__all__ = ["pool_2d", "Pool", "MaxPoolGrad", "MaxPoolGradGrad", "AveragePoolGrad"]


def _deprecated(old: str, new: str, old_value, new_value, unset=(None,)):
    """The value of a renamed parameter: ``new``, or ``old`` with a DeprecationWarning."""
    if old_value is None:
        return new_value
    if not any(new_value == u for u in unset):
        raise ValueError(
            f"pool_2d: got both {new}={new_value!r} and its deprecated name {old}={old_value!r}; "
            f"pass only {new}"
        )
    warnings.warn(
        f"pool_2d: the parameter {old!r} is deprecated; use {new!r} instead",
        DeprecationWarning,
        stacklevel=3,
    )
    return old_value


def pool_2d(
    input,
    ws=None,
    ignore_border: bool | None = None,
    stride=None,
    pad=(0, 0),
    mode: str = "max",
    ds=None,
    st=None,
    padding=None,
):
    """Pool each window of the last two axes of ``input`` to one value.

    Parameters
    ----------
    input : tensor with two or more axes
        Images: pooling runs over the last two axes, separately for every index of
        the axes before them (batch, channels, ...).
    ws : tuple of two ints
        Window size ``(rows, columns)``; ``(2, 2)`` halves each image axis.
    ignore_border : bool, optional
        True (the default when None): windows that would reach past the bottom or right
        border are left out, so a 5x5 image with ``ws=(2, 2)`` pools to 2x2. False: such
        partial windows are pooled too (3x3 here).
    stride : tuple of two ints, optional
        Distance between the starts of neighbouring windows; ``ws`` when None
        (windows that do not overlap).
    pad : tuple of two ints
        ``(pad_rows, pad_columns)`` cells added before and after each axis. Needs
        ``ignore_border=True`` and must be smaller than ``ws``. Padded cells never win a
        max and add nothing to a sum.
    mode : {'max', 'sum', 'average_inc_pad', 'average_exc_pad'}
        What each window gives: its maximum, its sum, or its average, dividing by the
        window size including padded cells (``average_inc_pad``) or by the number of
        input cells it covers (``average_exc_pad``). Averages of integers are float64.
    ds, st, padding
        Deprecated names of ``ws``, ``stride`` and ``pad`` (with a DeprecationWarning).

    Returns
    -------
    tensor
        ``input``'s leading axes followed by the pooled rows and columns, with
        ``input``'s dtype (float64 for averages of integers).

    Notes
    -----
    Theano 1.0 warned when ``ignore_border`` was not given and then used False;
    croton uses True, the default Theano announced (and cuDNN's behaviour). Pass it
    explicitly in code that must give the same shapes on both.

    The gradient of max pooling goes to every cell of a window that equals the
    window's maximum (all of them when several tie), as in Theano. Gradients of any
    order are available in every mode.

    Examples
    --------
    >>> import numpy as np
    >>> import croton
    >>> import croton.tensor as T
    >>> from croton.tensor.signal.pool import pool_2d
    >>> x = T.dmatrix("x")
    >>> f = croton.function([x], pool_2d(x, ws=(2, 2), ignore_border=True))
    >>> f(np.arange(16.0).reshape(4, 4))
    array([[ 5.,  7.],
           [13., 15.]])
    """
    ws = _deprecated("ds", "ws", ds, ws)
    stride = _deprecated("st", "stride", st, stride)
    pad = _deprecated("padding", "pad", padding, pad, unset=(None, (0, 0), [0, 0]))
    if ws is None:
        raise ValueError("pool_2d: give the window size ws, e.g. ws=(2, 2)")
    input = as_tensor_variable(input)
    if input.ndim < 2:
        raise TypeError(
            f"pool_2d pools the last two axes of its input, which has {input.ndim}: {input.type}"
        )
    if ignore_border is None:
        ignore_border = True
    return Pool(ws, ignore_border=ignore_border, stride=stride, pad=pad, mode=mode)(input)
