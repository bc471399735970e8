"""jax kernels for the scalar-op table (`croton.ops.scalar.SCALAR_OPS`).

Each kernel receives arrays already cast to the dtypes croton resolved for the op (as
numpy's ufunc loops would cast them) and must give numpy's values; the Elemwise rule
casts the result to the node's dtype. Where jax's own function differs from numpy on
some inputs (integer division by zero, the sign of zero, negative integer powers), the
kernel spells out numpy's rule.
"""

from __future__ import annotations

from croton_jax.checks import require
from croton_jax.lazy_jax import jnp, lax, special


def _is_integer(x) -> bool:
    return jnp.issubdtype(x.dtype, jnp.integer) or x.dtype == jnp.bool_


def _is_signed(x) -> bool:
    return jnp.issubdtype(x.dtype, jnp.signedinteger)


def _int_div(x, y):
    if _is_integer(x):
        # numpy: x // 0 == 0; lax.div truncates, so step down where the signs differ
        safe = jnp.where(y == 0, jnp.ones_like(y), y)
        quotient = lax.div(x, safe)
        if _is_signed(x):
            inexact = (lax.rem(x, safe) != 0) & ((x < 0) != (safe < 0))
            quotient = jnp.where(inexact, quotient - 1, quotient)
        return jnp.where(y == 0, jnp.zeros_like(quotient), quotient)
    return _float_divmod(x, y)[0]


def _mod(x, y):
    if _is_integer(x):
        safe = jnp.where(y == 0, jnp.ones_like(y), y)
        remainder = lax.rem(x, safe)
        if _is_signed(x):
            wrong_sign = (remainder != 0) & ((remainder < 0) != (safe < 0))
            remainder = jnp.where(wrong_sign, remainder + safe, remainder)
        return jnp.where(y == 0, jnp.zeros_like(remainder), remainder)
    return _float_divmod(x, y)[1]


def _minimum(a, b):
    """numpy.minimum: nan wins; of two equal values (0.0 and -0.0) numpy's float16 loop
    keeps the first, its other loops the second."""
    if jnp.iscomplexobj(a):
        return jnp.minimum(a, b)
    first = (a <= b) if a.dtype == jnp.float16 else (a < b)
    return jnp.where(a != a, a, jnp.where(first, a, b))


def _maximum(a, b):
    if jnp.iscomplexobj(a):
        return jnp.maximum(a, b)
    first = (a >= b) if a.dtype == jnp.float16 else (a > b)
    return jnp.where(a != a, a, jnp.where(first, a, b))


def _clip(x, lo, hi):
    """numpy.clip on arrays: minimum(maximum(x, lo), hi)."""
    return _minimum(_maximum(x, lo), hi)


def _float_divmod(a, b):
    """numpy's ``npy_divmod``: floor quotient and remainder with numpy's signs of zero."""
    fmod = lax.rem(a, b)
    div = (a - fmod) / b
    adjust = (fmod != 0) & ((b < 0) != (fmod < 0))
    mod = jnp.where(adjust, fmod + b, jnp.where(fmod != 0, fmod, jnp.copysign(0, b)))
    div = jnp.where(adjust, div - 1, div)
    floordiv = jnp.floor(div)
    floordiv = jnp.where(div - floordiv > 0.5, floordiv + 1, floordiv)
    floordiv = jnp.where(div != 0, floordiv, jnp.copysign(0, a / b))
    # b == 0: numpy gives a / b for the quotient and fmod (nan) for the remainder
    return jnp.where(b == 0, a / b, floordiv), jnp.where(b == 0, fmod, mod)


def _pow(x, y):
    if _is_integer(x) and _is_integer(y):
        require(y >= 0, ValueError, "Integers to negative integer powers are not allowed.")
        return _integer_power(x, y)
    result = jnp.power(x, y)
    if _numpy_uses_sqrt(x, y):
        # numpy takes sqrt for a scalar exponent of 0.5: sqrt(-0.0) is -0.0, sqrt(-inf) nan
        result = jnp.where(y == 0.5, jnp.sqrt(x), result)
    return result


def _numpy_uses_sqrt(x, y) -> bool:
    """Whether numpy's float32/float64 power loop sees the exponent as a scalar.

    numpy checks the exponent's stride in its inner loop, over the last axis: a 0-d
    exponent, or one of length 1 on the last axis where the base is longer, has stride 0.
    """
    if x.dtype not in (jnp.float32, jnp.float64):
        return False
    if y.ndim == 0:
        return True
    return y.shape[-1] == 1 and x.ndim > 0 and x.shape[-1] > 1


def _integer_power(x, y):
    """``x ** y`` by repeated squaring over every bit of ``y``, wrapping as numpy does.

    (``jnp.power`` looks at six bits only, so ``2 ** 64`` would not wrap to 0.)
    """
    result = jnp.ones_like(x)
    base = x
    exponent = y
    for _ in range(jnp.iinfo(y.dtype).bits):
        result = jnp.where((exponent & 1) == 1, result * base, result)
        base = base * base
        exponent = exponent >> 1
    return result


def _sign(x):
    if x.dtype == jnp.bool_:
        return x
    # numpy's sign of -0.0 is +0.0; jax keeps the zero's sign
    return jnp.where(x == 0, jnp.zeros_like(x), jnp.sign(x))


def _sigmoid(x):
    # the numpy backend's formula: exp(-log(1 + exp(-x))) keeps tiny values at large -x
    return jnp.exp(-jnp.logaddexp(0, -x))


def _softplus(x):
    return jnp.logaddexp(0, x)


def _through_float64(function):
    """``function`` evaluated in float64 and rounded back, as the numpy kernels do."""

    def kernel(x):
        return function(x.astype("float64")).astype(x.dtype)

    return kernel


def _digamma(x):
    # scipy's poles at 0: -inf at +0.0, +inf at -0.0 (jax gives nan)
    zero = jnp.where(jnp.signbit(x), jnp.inf, -jnp.inf)
    return jnp.where(x == 0, zero, special.digamma(x))


def _trigamma(x):
    """psi'(x) as the numba backend computes it (jax's polygamma(1, x) is off by 3e-8 at
    some negative x and underflows to 0 at 1e300): the recurrence up to 10, then the
    asymptotic series; negative x by reflection; inf at the poles and at -inf."""
    reflected = x < 0
    y = jnp.where(reflected, 1 - x, x)
    total = jnp.zeros_like(y)
    for _ in range(10):
        small = y < 10
        total = total + jnp.where(small, 1 / (y * y), 0.0)
        y = jnp.where(small, y + 1, y)
    f = 1 / (y * y)
    series = 1 / 6 - f * (
        1 / 30 - f * (1 / 42 - f * (1 / 30 - f * (5 / 66 - f * (691 / 2730 - f * 7 / 6))))
    )  # noqa: E501
    value = total + 1 / y + 0.5 * f + series / (y * y * y)
    s = jnp.sin(jnp.pi * (x - jnp.round(x)))
    value = jnp.where(reflected, jnp.pi * jnp.pi / (s * s) - value, value)
    pole = (x == -jnp.inf) | ((x <= 0) & (x == jnp.floor(x)))
    return jnp.where(pole, jnp.inf, jnp.where(x == jnp.inf, 0.0, value))


def _erfcinv(x):
    # erfcinv(x) = -ndtri(x / 2) / sqrt(2), +0.0 at 1
    return jnp.where(x == 1, 0.0, -special.ndtri(x / 2) * 0.7071067811865476)


def _integers_unchanged(function):
    """Rounding functions leave integer and boolean arrays as they are."""

    def kernel(x):
        return x if _is_integer(x) else function(x)

    return kernel


def _round_half_away_from_zero(x):
    if _is_integer(x):
        return x
    truncated = jnp.trunc(x)
    return jnp.where(jnp.abs(x - truncated) >= 0.5, truncated + jnp.sign(x), truncated)


def _reciprocal(x):
    return jnp.true_divide(1, x)


def _identity(x):
    return x


#: scalar op name -> jax function (``cast`` and composites are handled by the Elemwise rule)
SCALAR_KERNELS = {
    "add": jnp.add,
    "sub": jnp.subtract,
    "mul": jnp.multiply,
    "true_div": jnp.true_divide,
    "int_div": _int_div,
    "mod": _mod,
    "pow": _pow,
    "neg": jnp.negative,
    "abs": jnp.absolute,
    "sign": _sign,
    "exp": jnp.exp,
    "exp2": jnp.exp2,
    "expm1": jnp.expm1,
    "log": jnp.log,
    "log2": jnp.log2,
    "log10": jnp.log10,
    "log1p": jnp.log1p,
    "sqrt": jnp.sqrt,
    "sqr": jnp.square,
    "reciprocal": _reciprocal,
    "sin": jnp.sin,
    "cos": jnp.cos,
    "tan": jnp.tan,
    "arcsin": jnp.arcsin,
    "arccos": jnp.arccos,
    "arctan": jnp.arctan,
    "arctan2": jnp.arctan2,
    "sinh": jnp.sinh,
    "cosh": jnp.cosh,
    "tanh": jnp.tanh,
    "arcsinh": jnp.arcsinh,
    "arccosh": jnp.arccosh,
    "arctanh": jnp.arctanh,
    "sigmoid": _sigmoid,
    "softplus": _softplus,
    "erf": _through_float64(special.erf),
    "erfc": _through_float64(special.erfc),
    "erfinv": _through_float64(special.erfinv),
    "erfcinv": _through_float64(_erfcinv),
    "gamma": _through_float64(special.gamma),
    "gammaln": _through_float64(special.gammaln),
    "psi": _through_float64(_digamma),
    "tri_gamma": _through_float64(_trigamma),
    "floor": _integers_unchanged(jnp.floor),
    "ceil": _integers_unchanged(jnp.ceil),
    "round": _integers_unchanged(jnp.round),
    "round_half_away_from_zero": _round_half_away_from_zero,
    "trunc": _integers_unchanged(jnp.trunc),
    "clip": _clip,
    "minimum": _minimum,
    "maximum": _maximum,
    "lt": jnp.less,
    "gt": jnp.greater,
    "le": jnp.less_equal,
    "ge": jnp.greater_equal,
    "eq": jnp.equal,
    "neq": jnp.not_equal,
    "and": jnp.bitwise_and,
    "or": jnp.bitwise_or,
    "xor": jnp.bitwise_xor,
    "invert": jnp.invert,
    "isnan": jnp.isnan,
    "isinf": jnp.isinf,
    "switch": jnp.where,
    "identity": _identity,
}
