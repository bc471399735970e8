"""Numpy kernels for the scalar-op table (`croton.ops.scalar.SCALAR_OPS`)."""

from __future__ import annotations

import math

import numpy as np


def _sigmoid(x):
    # exp(-log(1 + exp(-x))) neither overflows nor loses the tiny values at large -x
    return np.exp(-np.logaddexp(0, -x))


def _softplus(x):
    return np.logaddexp(0, x)


_erf = np.frompyfunc(math.erf, 1, 1)
_erfc = np.frompyfunc(math.erfc, 1, 1)


def _erf_kernel(x):
    return np.asarray(_erf(np.asarray(x, dtype="float64")), dtype=x.dtype)


def _erfc_kernel(x):
    return np.asarray(_erfc(np.asarray(x, dtype="float64")), dtype=x.dtype)


def _special(name: str, *leading):
    """A function of ``scipy.special`` (imported at its first call), in the input's
    float dtype (SciPy computes float16 in float32, and some functions in float64)."""

    def kernel(x):
        import scipy.special

        with np.errstate(all="ignore"):
            result = getattr(scipy.special, name)(*leading, x)
        return np.asarray(result, dtype=x.dtype)

    return kernel


def _gammaln(x):
    # scipy.special.gammaln(-inf) is -inf; C's lgamma (and so every other backend) +inf
    result = _special("gammaln")(x)
    result[np.isneginf(x)] = np.inf
    return result


def _erfinv(x):
    # (SciPy gives +0.0 for -0.0; the inverse of an odd function keeps the sign)
    result = _special("erfinv")(x)
    return np.where(x == 0, x, result)


def _erfcinv(x):
    result = _special("erfcinv")(x)
    result[x == 1] = 0.0  # (SciPy gives -0.0)
    return result


def _round_half_away_from_zero(x):
    if x.dtype.kind in "biu":
        return x.copy()
    truncated = np.trunc(x)
    return np.where(np.abs(x - truncated) >= 0.5, truncated + np.sign(x), truncated)


def _reciprocal(x):
    return np.true_divide(1, x)


#: scalar op name -> numpy function (``cast`` is handled by the Elemwise rule)
SCALAR_KERNELS = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "true_div": np.true_divide,
    "int_div": np.floor_divide,
    "mod": np.remainder,
    "pow": np.power,
    "neg": np.negative,
    "abs": np.absolute,
    "sign": np.sign,
    "exp": np.exp,
    "exp2": np.exp2,
    "expm1": np.expm1,
    "log": np.log,
    "log2": np.log2,
    "log10": np.log10,
    "log1p": np.log1p,
    "sqrt": np.sqrt,
    "sqr": np.square,
    "reciprocal": _reciprocal,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "arcsin": np.arcsin,
    "arccos": np.arccos,
    "arctan": np.arctan,
    "arctan2": np.arctan2,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "tanh": np.tanh,
    "arcsinh": np.arcsinh,
    "arccosh": np.arccosh,
    "arctanh": np.arctanh,
    "sigmoid": _sigmoid,
    "softplus": _softplus,
    "erf": _erf_kernel,
    "erfc": _erfc_kernel,
    "erfinv": _erfinv,
    "erfcinv": _erfcinv,
    "gamma": _special("gamma"),
    "gammaln": _gammaln,
    "psi": _special("psi"),
    "tri_gamma": _special("polygamma", 1),
    "floor": np.floor,
    "ceil": np.ceil,
    "round": np.round,
    "round_half_away_from_zero": _round_half_away_from_zero,
    "trunc": np.trunc,
    "clip": np.clip,
    "minimum": np.minimum,
    "maximum": np.maximum,
    "lt": np.less,
    "gt": np.greater,
    "le": np.less_equal,
    "ge": np.greater_equal,
    "eq": np.equal,
    "neq": np.not_equal,
    "and": np.bitwise_and,
    "or": np.bitwise_or,
    "xor": np.bitwise_xor,
    "invert": np.invert,
    "isnan": np.isnan,
    "isinf": np.isinf,
    "switch": np.where,
    "identity": np.copy,
}
