"""Scalar helpers the generated kernels call (``from croton_numba.prelude import *``).

They follow NumPy's semantics where Python's differ: integer division and remainder by
zero give 0, ``minimum``/``maximum``/``clip`` propagate nan, sigmoid and softplus do
not overflow.
"""

import numba
import numpy as np

__all__ = [
    "_clip",
    "_floor_divide",
    "_maximum",
    "_minimum",
    "_power",
    "_remainder",
    "_round_half_away",
    "_scalar_array",
    "_sigmoid",
    "_sign",
    "_softplus",
]


@numba.njit(cache=True, error_model="numpy")
def _floor_divide(a, b):
    return a // b


@numba.njit(cache=True, error_model="numpy")
def _remainder(a, b):
    return a % b


@numba.njit(cache=True, error_model="numpy")
def _power(a, b):
    return a**b


@numba.njit(cache=True)
def _sigmoid(x):
    if x >= 0:
        return 1.0 / (1.0 + np.exp(-x))
    e = np.exp(x)
    return e / (1.0 + e)


@numba.njit(cache=True)
def _softplus(x):
    if x > 0:
        return x + np.log1p(np.exp(-x))
    return np.log1p(np.exp(x))


@numba.njit(cache=True)
def _round_half_away(x):
    t = np.trunc(x)
    return t + np.sign(x) if abs(x - t) >= 0.5 else t


@numba.njit(cache=True)
def _minimum(a, b):
    # numpy.minimum: nan wins, and a tie (0.0 and -0.0) gives the second argument
    if a != a:
        return a
    return a if a < b else b


@numba.njit(cache=True)
def _maximum(a, b):
    if a != a:
        return a
    return a if a > b else b


@numba.njit(cache=True)
def _clip(x, lo, hi):
    # numpy.clip on arrays: minimum(maximum(x, lo), hi), with the tie and nan rules above
    return _minimum(_maximum(x, lo), hi)


@numba.njit(cache=True)
def _sign(x):
    # numpy.sign: nan stays nan, and both zeros give +0
    if x > 0:
        return 1
    if x < 0:
        return -1
    if x != x:
        return x
    return 0


@numba.njit(cache=True)
def _scalar_array(value, dtype):
    out = np.empty((), dtype=dtype)
    out[()] = value
    return out
