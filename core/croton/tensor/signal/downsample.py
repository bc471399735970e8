"""Theano's older pooling module (``theano.tensor.signal.downsample``), kept for the
code that still imports it; `croton.tensor.signal.pool.pool_2d` is the function."""

from __future__ import annotations

from croton.tensor.signal.pool import pool_2d


def max_pool_2d(input, ds, ignore_border=None, st=None, padding=(0, 0), mode="max"):
    """``pool_2d`` under its old name and argument names: window ``ds``, stride ``st``.

    Examples
    --------
    >>> import numpy as np, croton, croton.tensor as T
    >>> x = T.dmatrix("x")
    >>> f = croton.function([x], max_pool_2d(x, (2, 2), ignore_border=True))
    >>> f(np.arange(16.0).reshape(4, 4))
    array([[ 5.,  7.],
           [13., 15.]])
    """
    return pool_2d(input, ws=ds, ignore_border=ignore_border, stride=st, pad=padding, mode=mode)


__all__ = ["max_pool_2d"]
