"""Branch-free scalar math for fused numba loops: exp, log, sin, erf and their kin.

numba lowers ``np.exp`` and friends to scalar libm calls, so a loop that uses them is not
vectorized (the PyPI llvmlite has no SVML). The functions here are plain arithmetic --
range reduction, a minimax polynomial, ``2**k`` assembled from exponent bits, LLVM
``select`` instead of branches -- so they inline into the caller's loop and LLVM
vectorizes the whole body. `MATH` maps ``(scalar op name, dtype)`` to the function a code
generator calls; each takes and returns one scalar of its dtype.

Special values follow numpy: nan propagates, ``+-inf`` and ``-0.0`` give numpy's results
(``sin``, ``expm1``, ``log1p``, ``tanh`` and ``erf`` of ``-0.0`` are ``-0.0``), results
overflow to ``inf`` and underflow to ``0``, logs of negatives are nan and ``log(0)`` is
``-inf``. Subnormal inputs are exact and subnormal results are produced, not flushed:
near the underflow edge the last scaling rounds once more, so a subnormal result may be
one subnormal step from numpy's. Nothing sets floating-point flags or warns.

Algorithms
----------
exp, expm1, exp2
    ``x = k ln2 + r``, ``|r| <= ln2/2``, ``k`` rounded by adding ``1.5 * 2**52`` (whose
    low bits then hold ``k``), ``ln2`` in two parts so ``k * ln2_hi`` is exact (Cody-Waite);
    ``e**r = 1 + r + r**2 q(r)``; ``2**k`` is applied as two factors, so results near
    overflow and in the subnormal range come out without a branch.
log, log1p, log2, log10
    ``x = 2**e m``, ``m`` in ``[sqrt(1/2), sqrt(2))`` from the bits (subnormals scaled by
    ``2**52`` first), ``log(m) = 2 atanh(s)``, ``s = f / (2 + f)``, ``f = m - 1``.
    log1p adds the rounding error of ``1 + x`` back as ``c / (1 + x)``; log2 and log10
    carry the result in two words until ``e`` is added.
sin, cos
    ``|x| * 2/pi`` modulo 4 with a table of ``frac(2**i * 2/pi)`` in three words, indexed
    by the exponent of ``x`` (Payne-Hanek as a gather), so every finite input is reduced
    as exactly as libm does it; the reduced argument stays in two words. float32 needs
    only five rows, picked with selects, and reduces in float64.
tanh, sigmoid, softplus
    ``t / (t + 2)`` with ``t = expm1(2|x|)``; ``1 / (1 + e)`` or ``e / (1 + e)`` with
    ``e = exp(-|x|)``; ``max(x, 0) + log1p(exp(-|x|))``.
erf, erfc
    ``x + x y(x**2)`` for small ``|x|``; above, ``erfc(x) = exp(-x**2) H(u) / (4 + |x|)``
    with every factor in two words (in float64, also for float32's erfc).

The polynomial coefficients are minimax fits (Remez exchange in mpmath, 60 digits) made
for this module, in the classic forms of Cephes and fdlibm; each set notes its fit.

Measured accuracy: max error in ulps against an extended-precision oracle (x87 long double,
mpmath for erf/erfc) over 400k log-uniform samples across every binade of each function's
range plus edges, hard cases for sin/cos (near multiples of pi/2 up to ``2**1023``), and for
float32 every value with ``|x|`` in ``[1/4, 8)`` (sin/cos: every value of 17 binades up to
``2**128``). numpy's own functions, measured the same way, are given for comparison.

==========  ================  ================
function    float64 (numpy)   float32 (numpy)
==========  ================  ================
exp         0.80 (0.72)       0.98 (2.35)
expm1       1.27 (0.52)       1.19 (2.46)
exp2        0.83 (0.73)       0.99 (2.36)
log         0.75 (0.53)       0.83 (2.79)
log1p       0.79 (0.61)       0.83 (1.78)
log2        0.61 (0.51)       1.05 (1.92)
log10       0.60 (0.56)       1.10 (2.12)
sin         0.88 (0.52)       0.50 (1.47)
cos         1.05 (7.95)       0.50 (1.43)
tanh        2.29 (1.16)       2.30 (1.36)
sigmoid     2.11              2.40
softplus    1.49              1.58
erf         0.83              1.32
erfc        3.04              1.17
==========  ================  ================

Loop form
---------
Call these from a loop LLVM vectorizes, and read the assembly to be sure. With numba 0.68
(LLVM 22) ``for i in prange(n): out[i] = exp64(x[i])`` in a ``parallel=True`` function
vectorizes for every function here (``vgatherqpd`` for float64 sin/cos). A plain serial
``for i in range(n)`` loop does for most but not for float64 erf and erfc (LLVM: "loop
not vectorized: Loop contains an unsupported switch" -- numba's range loop is not rotated
into a vectorizable form when the body is that large), so generate the prange form. LLVM
prefers 256-bit ``ymm`` vectors on AVX-512 CPUs; every function here marks the LLVM
function it is inlined into for 512-bit vectors (`_wide_vectors`), which made exp64 1.5x
faster (``zmm`` arithmetic; the same as starting numba with ``NUMBA_CPU_FEATURES`` set to
the host's features plus ``-prefer-256-bit``, without changing anything else in the
process).

The caller's fast-math flags apply to the inlined bodies. ``contract``, ``arcp`` and
``afn`` are harmless; ``nsz`` may lose the sign of a zero result; ``reassoc`` breaks the
rounding tricks (``(v + 1.5 * 2**52) - 1.5 * 2**52``, the compensated sums) and
``nnan``/``ninf`` break the special values: never use those three. Divisions are emitted
as plain ``fdiv``, so the caller's ``error_model`` does not matter. The functions assume
hardware FMA (``llvm.fma``), which every x86-64-v3 and AArch64 CPU has.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["MATH"]

# --------------------------------------------------------------------------- LLVM primitives


def _llvm_float(numba_type):
    return ir.DoubleType() if numba_type == types.float64 else ir.FloatType()


@intrinsic
def _bits(typingctx, x):
    """The bits of a float as int64 (a float32's 32 bits, sign-extended)."""
    if x not in (types.float32, types.float64):
        return None

    def codegen(context, builder, signature, args):
        width = 64 if x == types.float64 else 32
        as_int = builder.bitcast(args[0], ir.IntType(width))
        return as_int if width == 64 else builder.sext(as_int, ir.IntType(64))

    return types.int64(x), codegen


@intrinsic
def _float64_from_bits(typingctx, i):
    """The float64 whose bits are the int64 ``i``."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@intrinsic
def _float32_from_bits(typingctx, i):
    """The float32 whose bits are the low 32 bits of the int64 ``i``."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(builder.trunc(args[0], ir.IntType(32)), ir.FloatType())

    return types.float32(types.int64), codegen


def _float_intrinsic(name, arity):
    def typer(typingctx, *args):
        if len(args) != arity or args[0] not in (types.float32, types.float64):
            return None
        if any(a != args[0] for a in args):
            return None

        def codegen(context, builder, signature, llargs):
            llty = _llvm_float(args[0])
            suffix = "f64" if args[0] == types.float64 else "f32"
            fnty = ir.FunctionType(llty, [llty] * arity)
            fn = cgutils.get_or_insert_function(builder.module, fnty, f"llvm.{name}.{suffix}")
            return builder.call(fn, llargs)

        return args[0](*args), codegen

    return typer


@intrinsic
def _fma(typingctx, a, b, c):
    """``a * b + c`` rounded once."""
    return _float_intrinsic("fma", 3)(typingctx, a, b, c)


@intrinsic
def _copysign(typingctx, a, b):
    """``|a|`` with the sign of ``b``."""
    return _float_intrinsic("copysign", 2)(typingctx, a, b)


@intrinsic
def _div(typingctx, a, b):
    """``a / b`` as IEEE division, whatever the caller's error model."""
    if a not in (types.float32, types.float64) or b != a:
        return None

    def codegen(context, builder, signature, args):
        return builder.fdiv(args[0], args[1])

    return a(a, b), codegen


@intrinsic
def _select(typingctx, condition, if_true, if_false):
    """``if_true if condition else if_false`` as one LLVM ``select`` (no branch to
    flatten, whatever the optimizer's mood)."""
    if not isinstance(condition, types.Boolean):
        return None
    result = typingctx.unify_types(if_true, if_false)
    if result is None:
        return None

    def codegen(context, builder, signature, args):
        a = context.cast(builder, args[1], if_true, result)
        b = context.cast(builder, args[2], if_false, result)
        return builder.select(args[0], a, b)

    return result(condition, if_true, if_false), codegen


@intrinsic
def _wide_vectors(typingctx):
    """Let LLVM vectorize the function this is inlined into with 512-bit registers.

    On AVX-512 CPUs LLVM prefers 256-bit vectors (a frequency precaution of older Intel
    parts); loops of polynomial math are compute-bound and ran 1.5x faster with ``zmm``
    registers (exp64 over 4e6 float64, one and two threads). The function attribute
    ``"prefer-vector-width"="512"`` asks for that in the one function that holds the
    math -- a segment, or the outlined body of a ``prange`` loop -- and nowhere else;
    on CPUs without AVX-512 it changes nothing. llvmlite's attribute set knows no
    ``"key"="value"`` attributes, so the text goes in past its check; LLVM's parser
    accepts it as written.
    """

    def codegen(context, builder, signature, args):
        set.add(builder.function.attributes, '"prefer-vector-width"="512"')
        return context.get_dummy_value()

    return types.none(), codegen


@njit(inline="always")
def _horner(x, coefficients):
    """``sum(c[i] * x**i)`` by Horner's rule with FMA (the tuple loop unrolls).

    Every function of this module evaluates a polynomial through here, so this is
    where the loop around it is marked for wide vectors.
    """
    _wide_vectors()
    n = len(coefficients)
    acc = coefficients[n - 1]
    for i in range(n - 2, -1, -1):
        acc = _fma(acc, x, coefficients[i])
    return acc


@njit(inline="always")
def _two_sum(a, b):
    """``s + e == a + b`` exactly, ``s = fl(a + b)`` (Knuth)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


# --------------------------------------------------------------------------- constants

_F = np.float32
_INF = np.inf
_NAN = np.nan
_SHIFTER = 6755399441055744.0  # 1.5 * 2**52: x + it rounds x to an integer, kept in low bits
_SHIFTER_BITS = int(np.float64(_SHIFTER).view(np.int64))
_TWO52 = 4503599627370496.0
_MIN_NORMAL = 2.2250738585072014e-308
_SQRT_HALF_BITS = 0x3FE6A09E667F3BCD
_LOG2E = 1.4426950408889634
_LN2 = 0.6931471805599453
_LN2_TAIL = 2.3190468138462996e-17  # ln2 - _LN2
_LN2_HI = 0.6931471803691238  # 32 significant bits: k * _LN2_HI is exact for |k| < 2**21
_LN2_LO = 1.9082149292705877e-10
_LOG2E_LO = 2.0355273740931033e-17
_INV_LN10 = 0.4342944819032518
_INV_LN10_LO = 1.098319650216765e-17
_LOG10_2_HI = 0.3010299955494702  # 32 significant bits
_LOG10_2_LO = 1.1451100898021838e-10
_PIO2_HI = 1.5707963267948966
_PIO2_LO = 6.123233995736766e-17
_PIO4 = 0.7853981633974483

_SHIFTER32 = _F(12582912.0)  # 1.5 * 2**23
_SHIFTER32_BITS = int(_SHIFTER32.view(np.int32))
_TWO23 = _F(8388608.0)
_MIN_NORMAL32 = _F(1.1754943508222875e-38)
_SQRT_HALF_BITS32 = 0x3F3504F3
_LOG2E32 = _F(1.4426950408889634)
_LN2_32 = _F(0.6931471805599453)
_LN2_HI32 = _F(0.693359375)  # 9 significant bits
_LN2_LO32 = _F(-0.00021219444170128554)
_INV_LN10_32 = _F(0.4342944819032518)
_LOG10_2_HI32 = _F(0.301025390625)
_LOG10_2_LO32 = _F(4.605039066518657e-06)
_INF32 = _F(np.inf)
_NAN32 = _F(np.nan)
_ZERO32, _HALF32, _ONE32, _TWO32 = _F(0.0), _F(0.5), _F(1.0), _F(2.0)

# Minimax polynomials (coefficients in ascending order); error is the fit's max error.
# q(r) = (e**r - 1 - r) / r**2, |r| <= 0.3467: degree 10, abs error 1.4e-18
_EXP_Q = (0.5, 0.1666666666666667, 0.041666666666666685, 0.008333333333326119, 0.0013888888888874365, 0.0001984126987487564, 2.480158734741653e-05, 2.755725533069352e-06, 2.755725283724978e-07, 2.5105245844564595e-08, 2.0921614962075725e-09)  # fmt: skip
# degree 5, abs error 1.4e-9
_EXP_Q32 = tuple(_F(c) for c in (0.5, 0.1666666716337204, 0.041666463017463684, 0.00833328627049923, 0.0013933675363659859, 0.00019907622481696308))  # fmt: skip
# P(z) = (2 atanh(s) - 2 s) / (s z), z = s**2 <= 0.02944: degree 7, abs error 2.1e-18
_LOG_P = (0.6666666666666666, 0.40000000000000885, 0.28571428570798263, 0.22222222392813043, 0.18181795532625006, 0.15386245100023996, 0.13268638796152304, 0.13087939707082283)  # fmt: skip
# degree 3, abs error 1.1e-9
_LOG_P32 = tuple(_F(c) for c in (0.6666666865348816, 0.4000012278556824, 0.2855073809623718, 0.23332375288009644))  # fmt: skip
# S(z) = (sin(r) - r) / r**3, z = r**2 <= 0.64: degree 6, abs error 1.5e-20
_SIN_S = (-0.16666666666666666, 0.008333333333333331, -0.00019841269841264103, 2.7557319218604493e-06, -2.5052105981928664e-08, 1.6058492636992279e-10, -7.584441064370196e-13)  # fmt: skip
# C(z) = (cos(r) - 1 + z/2) / z**2: degree 6, abs error 8.3e-22
_COS_C = (0.041666666666666664, -0.0013888888888888887, 2.480158730158411e-05, -2.755731922099425e-07, 2.0876755651763536e-09, -1.1470439209637817e-11, 4.744617326587471e-14)  # fmt: skip
# the same for float32 results (evaluated in float64): degree 3, abs errors 3.3e-11, 2.7e-12
_SIN_S32 = (-0.16666666663416546, 0.00833333170660195, -0.0001983999738989319, 2.723853610284676e-06)  # fmt: skip
_COS_C32 = (0.04166666666395426, -0.0013888887531490117, 2.480052571316959e-05, -2.729144299889601e-07)  # fmt: skip
# y(z) = erf(t) / t - 1, z = t**2 <= 1: degree 12, abs error 1.3e-19
_ERF_Y = (0.1283791670955126, -0.3761263890318375, 0.11283791670954885, -0.02686617064507787, 0.005223977624828394, -0.0008548326981423854, 0.00012055331132907628, -1.4925595771306719e-05, 1.6461008467805596e-06, -1.63503961546437e-07, 1.4660328488810042e-08, -1.1374955602640097e-09, 5.960686270120729e-11)  # fmt: skip
# degree 6, abs error 1.2e-9
_ERF_Y32 = tuple(_F(c) for c in (0.12837916612625122, -0.3761262595653534, 0.11283600330352783, -0.026854444295167923, 0.005189535673707724, -0.0008020842215046287, 7.889122935011983e-05))  # fmt: skip
# H(u) = erfc(t) exp(t**2) / w, w = 1 / (4 + t) = (1 + u) / 8, t in [0.5, 28]:
# degree 20, relative error 2.5e-18 (its constant term in two words, _ERFC_H holding the
# rest over u); for erf32, t in [0.5, 10.1]: degree 9, 6.5e-9
_ERFC_H0, _ERFC_H0_LO = 1.095995661000491, 6.033801663287384e-17  # its constant term
_ERFC_H = (0.976548729080882, 0.773208702265236, 0.5408538313132352, 0.3308515878780833, 0.174010937239942, 0.07638151490751226, 0.026370053339984486, 0.006112055678973795, 0.0002809588706288835, -0.0004550528605049458, -0.00017681285777899363, -3.6343361474207437e-06, 1.886105791098407e-05, 4.691887700581897e-06, -1.4246306482845676e-06, -8.413425841872075e-07, 7.616468255424981e-08, 1.1845797849569923e-07, -1.342541107617673e-09, -1.17832210758228e-08)  # fmt: skip
_ERFC_H32 = tuple(_F(c) for c in (1.0959956645965576, 0.9765486717224121, 0.7732077836990356, 0.54085773229599, 0.33087271451950073, 0.17394772171974182, 0.07623425871133804, 0.026799235492944717, 0.0063437712378799915, -0.0007815114804543555))  # fmt: skip


def _two_over_pi_table(rows: int = 970, bits: int = 1400, window: int = 256) -> np.ndarray:
    """Row ``i``: ``frac(2**i * 2/pi)`` as three float64 words (about 160 bits).

    ``x * 2/pi`` modulo 4 only needs the bits of ``2/pi`` below ``2**-i`` once ``x`` has
    exponent ``54 + i`` (the ones above contribute multiples of 4); the row is scaled by
    ``2**i`` so its words stay normal. ``pi`` comes from Machin's formula in integers.
    Each row's words are split off the first ``window`` bits of its fraction (all
    ``bits`` of it took three times as long, at every import); the test suite checks
    that the table equals the one split off all bits.
    """
    one = 1 << bits

    def arctan_inverse(m):  # atan(1/m) * one
        total = power = one // m
        n = 1
        while power:
            power //= m * m
            total += (-1) ** n * (power // (2 * n + 1))
            n += 1
        return total

    pi = 4 * (4 * arctan_inverse(5) - arctan_inverse(239))
    two_over_pi = (2 * one * one) // pi  # 2/pi * 2**bits
    scale = 1 << window
    table = np.empty((rows, 3))
    for i in range(rows):
        # the fraction rest / scale, in integers
        rest = ((two_over_pi << i) >> (bits - window)) & (scale - 1)
        for j in range(3):
            word = rest / scale  # (an int by an int rounds correctly)
            table[i, j] = word
            numerator, denominator = word.as_integer_ratio()  # a power of two
            rest -= numerator * (scale // denominator)  # exact: the word has < window bits
    return table


_TWO_OVER_PI = _two_over_pi_table()
_TABLE_LAST = _TWO_OVER_PI.shape[0] - 1
# float32: rows 0, 24, ..., 96 and the scales 2**-row that go with them
_TWO_OVER_PI_CHUNKS = tuple(tuple(float(w) for w in _TWO_OVER_PI[24 * j]) for j in range(5))
_CHUNK_SCALES = tuple(2.0 ** (-24 * j) for j in range(5))

# --------------------------------------------------------------------------- float64


@njit(inline="always")
def _scale(p, k):
    """``p * 2**k`` for ``|k| <= 2100``, as two exact factors (one rounding if subnormal)."""
    half = k >> 1
    p = p * _float64_from_bits((half + 1023) << 52)
    return p * _float64_from_bits((k - half + 1023) << 52)


@njit(inline="always")
def _exp_reduce(x):
    """``x = k ln2 + r + r_lo``, ``|r| <= ln2/2``: ``(k, r, r_lo)``; ``|x| < 2**50``."""
    t = _fma(x, _LOG2E, _SHIFTER)
    kf = t - _SHIFTER
    r_hi = _fma(-kf, _LN2_HI, x)  # exact
    r = _fma(-kf, _LN2_LO, r_hi)
    return _bits(t) - _SHIFTER_BITS, r, _fma(-kf, _LN2_LO, r_hi - r)


@njit(inline="always")
def exp64(x):
    """``exp(x)`` for float64."""
    xc = _select(x > -750.0, x, -750.0)  # nan -> -750, fixed below
    xc = _select(xc < 710.0, xc, 710.0)
    k, r, r_lo = _exp_reduce(xc)
    p = 1.0 + (r + _fma(r * r, _horner(r, _EXP_Q), r_lo))
    result = _scale(p, k)
    return _select(x != x, x, result)


@njit(inline="always")
def expm1_64(x):
    """``exp(x) - 1`` for float64."""
    xc = _select(x > -60.0, x, -60.0)
    xc = _select(xc < 710.0, xc, 710.0)
    k, r, r_lo = _exp_reduce(xc)
    half_scale = _float64_from_bits((k + 1022) << 52)  # 2**(k-1), normal for k in [-60, 1024]
    # 2**k (1 + r + r**2 q) - 1, the big terms first
    small = _fma(r * r, _horner(r, _EXP_Q), r_lo)
    result = _fma(small, half_scale, _fma(r, half_scale, half_scale - 0.5))
    result = result * 2.0
    return _select(not (abs(x) >= 2.0**-54), x, result)  # tiny, zeros and nan: x


@njit(inline="always")
def exp2_64(x):
    """``2**x`` for float64."""
    xc = _select(x > -1080.0, x, -1080.0)
    xc = _select(xc < 1030.0, xc, 1030.0)
    t = xc + _SHIFTER
    r = xc - (t - _SHIFTER)
    y = r * _LN2
    y_lo = _fma(r, _LN2, -y) + r * _LN2_TAIL
    p = 1.0 + (y + _fma(y * y, _horner(y, _EXP_Q), y_lo))
    result = _scale(p, _bits(t) - _SHIFTER_BITS)
    return _select(x != x, x, result)


@njit(inline="always")
def _log_parts(x):
    """``x = 2**e (1 + f)``, ``1 + f`` in ``[sqrt(1/2), sqrt(2))``, ``x > 0``:
    ``(e, hi, lo)`` with ``log(1 + f) ~= hi + lo`` (``hi = f - f**2/2`` rounded)."""
    subnormal = x < _MIN_NORMAL
    xs = _select(subnormal, x * _TWO52, x)
    e = (_bits(xs) - _SQRT_HALF_BITS) >> 52
    f = _float64_from_bits(_bits(xs) - (e << 52)) - 1.0
    ef = float(e) - _select(subnormal, 52.0, 0.0)
    s = _div(f, 2.0 + f)
    z = s * s
    hfsq = 0.5 * f * f
    hi = f - hfsq
    lo = ((f - hi) - hfsq) + s * (hfsq + z * _horner(z, _LOG_P))
    return ef, hi, lo


@njit(inline="always")
def _log_specials(x, result):
    result = _select(x < 0.0, _NAN, result)
    result = _select(x == 0.0, -_INF, result)
    return _select(not (x < _INF), x, result)  # +inf and nan


@njit(inline="always")
def log64(x):
    """Natural logarithm for float64."""
    ef, hi, lo = _log_parts(x)
    result = _fma(ef, _LN2_HI, hi + _fma(ef, _LN2_LO, lo))
    return _log_specials(x, result)


@njit(inline="always")
def log1p64(x):
    """``log(1 + x)`` for float64."""
    u = 1.0 + x
    c = x - (u - 1.0)  # the rounding error of u, exactly
    ef, hi, lo = _log_parts(u)
    result = _fma(ef, _LN2_HI, hi + _fma(ef, _LN2_LO, lo + _div(c, u)))
    result = _select(x < -1.0, _NAN, result)
    result = _select(x == -1.0, -_INF, result)
    result = _select(x == 0.0, x, result)
    return _select(not (x < _INF), x, result)


@njit(inline="always")
def log2_64(x):
    """Base-2 logarithm for float64 (exact at powers of two)."""
    ef, hi, lo = _log_parts(x)
    y = hi * _LOG2E
    y_lo = _fma(hi, _LOG2E, -y) + _fma(hi, _LOG2E_LO, lo * _LOG2E)
    t = ef + y
    result = t + (((ef - t) + y) + y_lo)
    return _log_specials(x, result)


@njit(inline="always")
def log10_64(x):
    """Base-10 logarithm for float64."""
    ef, hi, lo = _log_parts(x)
    y = hi * _INV_LN10
    y_lo = _fma(hi, _INV_LN10, -y) + _fma(hi, _INV_LN10_LO, lo * _INV_LN10)
    e_hi = ef * _LOG10_2_HI
    t = e_hi + y
    result = t + (((e_hi - t) + y) + _fma(ef, _LOG10_2_LO, y_lo))
    return _log_specials(x, result)


@njit(inline="always")
def _reduce_half_pi(a):
    """``a = (4 j + n) pi/2 + rh + rl`` for finite ``a >= 0``: ``(n, rh, rl)``."""
    row = (_bits(a) >> 52) - 1077
    row = _select(row > 0, row, 0)
    row = _select(row < _TABLE_LAST, row, _TABLE_LAST)
    xs = a * _float64_from_bits((1023 - row) << 52)  # exact; below 2**55
    f0 = _TWO_OVER_PI[row, 0]
    f1 = _TWO_OVER_PI[row, 1]
    p0 = xs * f0
    p0_lo = _fma(xs, f0, -p0)
    p1 = xs * f1
    p1_lo = _fma(xs, f1, -p1)
    p2 = xs * _TWO_OVER_PI[row, 2]
    quarter = p0 * 0.25
    rounded = _select(quarter >= _TWO52, quarter, (quarter + _TWO52) - _TWO52)
    s1, e1 = _two_sum(_fma(rounded, -4.0, p0), p1)  # p0 modulo 4 is exact
    s2, e2 = _two_sum(s1, p0_lo)
    t = s2 + _SHIFTER
    fh, fl = _two_sum(s2 - (t - _SHIFTER), ((e1 + e2) + p1_lo) + p2)
    rh = fh * _PIO2_HI
    rl = _fma(fh, _PIO2_HI, -rh) + _fma(fh, _PIO2_LO, fl * _PIO2_HI)
    small = a < _PIO4
    n = _select(small, 0, (_bits(t) - _SHIFTER_BITS) & 3)
    return n, _select(small, a, rh), _select(small, 0.0, rl)


@njit(inline="always")
def _sin_kernel(rh, rl):
    z = rh * rh
    return rh + _fma(rh * z, _horner(z, _SIN_S), rl * (1.0 - 0.5 * z))


@njit(inline="always")
def _cos_kernel(rh, rl):
    z = rh * rh
    hz = 0.5 * z
    w = 1.0 - hz
    return w + (((1.0 - w) - hz) + _fma(z * z, _horner(z, _COS_C), -rh * rl))


@njit(inline="always")
def sin64(x):
    """Sine for float64, accurate for every finite ``x``."""
    a = abs(x)
    n, rh, rl = _reduce_half_pi(a)
    s = _sin_kernel(rh, rl)
    c = _cos_kernel(rh, rl)
    v = _select(n & 1 != 0, c, s)
    v = _select(n & 2 != 0, -v, v)
    result = v * _copysign(1.0, x)
    return _select(not (a < _INF), x - x, result)


@njit(inline="always")
def cos64(x):
    """Cosine for float64, accurate for every finite ``x``."""
    a = abs(x)
    n, rh, rl = _reduce_half_pi(a)
    s = _sin_kernel(rh, rl)
    c = _cos_kernel(rh, rl)
    v = _select(n & 1 != 0, s, c)
    v = _select((n + 1) & 2 != 0, -v, v)
    return _select(not (a < _INF), x - x, v)


@njit(inline="always")
def tanh64(x):
    """Hyperbolic tangent for float64."""
    a = abs(x)
    a = _select(a > 20.0, 20.0, a)  # tanh(20) rounds to 1
    t = expm1_64(2.0 * a)
    return _copysign(_div(t, t + 2.0), x)


@njit(inline="always")
def sigmoid64(x):
    """``1 / (1 + exp(-x))`` for float64, accurate in both tails."""
    e = exp64(-abs(x))
    return _div(_select(x >= 0.0, 1.0, e), 1.0 + e)


@njit(inline="always")
def softplus64(x):
    """``log(1 + exp(x))`` for float64, without overflow."""
    return _select(x > 0.0, x, 0.0) + log1p64(exp64(-abs(x)))


@njit(inline="always")
def _erfc_tail(b):
    """``erfc(b)`` for ``b`` in ``[0.5, 28]``: ``exp(-b**2) H(u) / (4 + b)``.

    Every factor is carried in two words up to one final rounding; ``H`` is steep in
    ``w = 1 / (4 + b)``, so ``w`` enters its argument in two words as well.
    """
    b_sq = b * b
    k, r, r_lo = _exp_reduce(-b_sq)
    small = _fma(r * r, _horner(r, _EXP_Q), r_lo)
    v = r + small
    s = 1.0 + v
    s_lo = ((1.0 - s) + v) + ((r - v) + small)  # exp(-b_sq) = 2**k (s + s_lo)
    s_lo = _fma(s, -_fma(b, b, -b_sq), s_lo)  # exp(-b**2) = exp(-b_sq) (1 - (b**2 - b_sq))
    den, den_lo = _two_sum(4.0, b)
    w = _div(1.0, den)
    u = _fma(w - 0.125, 8.0, 8.0 * w * (_fma(-w, den, 1.0) - w * den_lo))
    m = _div(_ERFC_H0 + _fma(u, _horner(u, _ERFC_H), _ERFC_H0_LO), den)
    return _scale(_fma(s, m, m * (s_lo - s * den_lo * w)), k)


@njit(inline="always")
def erf64(x):
    """Error function for float64."""
    a = abs(x)
    near = _fma(a, _horner(a * a, _ERF_Y), a)
    far = 1.0 - _erfc_tail(_select(a > 6.0, 6.0, a))  # erf(6) rounds to 1; nan stays
    return _copysign(_select(a < 1.0, near, far), x)


@njit(inline="always")
def erfc64(x):
    """Complementary error function for float64, accurate in the right tail."""
    a = abs(x)
    erf_near = _fma(a, _horner(a * a, _ERF_Y), a)
    tail = _erfc_tail(_select(a > 28.0, 28.0, a))  # erfc(28) underflows; nan stays
    near = a < 0.5
    positive = _select(near, 1.0 - erf_near, tail)
    negative = _select(near, 1.0 + erf_near, 2.0 - tail)
    return _select(x >= 0.0, positive, negative)


# --------------------------------------------------------------------------- float32


@njit(inline="always")
def _scale32(p, k):
    half = k >> 1
    p = p * _float32_from_bits((half + 127) << 23)
    return p * _float32_from_bits((k - half + 127) << 23)


@njit(inline="always")
def _exp_reduce32(x):
    t = _fma(x, _LOG2E32, _SHIFTER32)
    kf = t - _SHIFTER32
    r = _fma(-kf, _LN2_HI32, x)
    return kf, _bits(t) - _SHIFTER32_BITS, _fma(-kf, _LN2_LO32, r)


@njit(inline="always")
def exp32(x):
    """``exp(x)`` for float32."""
    xc = _select(x > _F(-104.0), x, _F(-104.0))
    xc = _select(xc < _F(89.0), xc, _F(89.0))
    kf, k, r = _exp_reduce32(xc)
    p = _ONE32 + _fma(r * r, _horner(r, _EXP_Q32), r)
    result = _scale32(p, k)
    return _select(x != x, x, result)


@njit(inline="always")
def expm1_32(x):
    """``exp(x) - 1`` for float32."""
    xc = _select(x > _F(-20.0), x, _F(-20.0))
    xc = _select(xc < _F(89.0), xc, _F(89.0))
    kf, k, r = _exp_reduce32(xc)
    half_scale = _float32_from_bits((k + 126) << 23)
    result = _fma(
        r * r * _horner(r, _EXP_Q32), half_scale, _fma(r, half_scale, half_scale - _HALF32)
    )
    result = result * _TWO32
    return _select(not (abs(x) >= _F(2.0**-25)), x, result)


@njit(inline="always")
def exp2_32(x):
    """``2**x`` for float32."""
    xc = _select(x > _F(-152.0), x, _F(-152.0))
    xc = _select(xc < _F(130.0), xc, _F(130.0))
    t = xc + _SHIFTER32
    y = (xc - (t - _SHIFTER32)) * _LN2_32
    p = _ONE32 + _fma(y * y, _horner(y, _EXP_Q32), y)
    result = _scale32(p, _bits(t) - _SHIFTER32_BITS)
    return _select(x != x, x, result)


@njit(inline="always")
def _log_parts32(x):
    subnormal = x < _MIN_NORMAL32
    xs = _select(subnormal, x * _TWO23, x)
    e = (_bits(xs) - _SQRT_HALF_BITS32) >> 23
    f = _float32_from_bits(_bits(xs) - (e << 23)) - _ONE32
    ef = _F(e) - _select(subnormal, _F(23.0), _ZERO32)
    s = _div(f, _TWO32 + f)
    z = s * s
    hfsq = _HALF32 * f * f
    hi = f - hfsq
    lo = ((f - hi) - hfsq) + s * (hfsq + z * _horner(z, _LOG_P32))
    return ef, hi, lo


@njit(inline="always")
def _log_specials32(x, result):
    result = _select(x < _ZERO32, _NAN32, result)
    result = _select(x == _ZERO32, -_INF32, result)
    return _select(not (x < _INF32), x, result)


@njit(inline="always")
def log32(x):
    """Natural logarithm for float32."""
    ef, hi, lo = _log_parts32(x)
    return _log_specials32(x, _fma(ef, _LN2_HI32, hi + _fma(ef, _LN2_LO32, lo)))


@njit(inline="always")
def log1p32(x):
    """``log(1 + x)`` for float32."""
    u = _ONE32 + x
    c = x - (u - _ONE32)
    ef, hi, lo = _log_parts32(u)
    result = _fma(ef, _LN2_HI32, hi + _fma(ef, _LN2_LO32, lo + _div(c, u)))
    result = _select(x < -_ONE32, _NAN32, result)
    result = _select(x == -_ONE32, -_INF32, result)
    result = _select(x == _ZERO32, x, result)
    return _select(not (x < _INF32), x, result)


@njit(inline="always")
def log2_32(x):
    """Base-2 logarithm for float32 (exact at powers of two)."""
    ef, hi, lo = _log_parts32(x)
    return _log_specials32(x, ef + _fma(hi, _LOG2E32, lo * _LOG2E32))


@njit(inline="always")
def log10_32(x):
    """Base-10 logarithm for float32."""
    ef, hi, lo = _log_parts32(x)
    y = _fma(hi, _INV_LN10_32, _fma(ef, _LOG10_2_LO32, lo * _INV_LN10_32))
    return _log_specials32(x, _fma(ef, _LOG10_2_HI32, y))


@njit(inline="always")
def _reduce_half_pi32(a):
    """``a = (4 j + n) pi/2 + r`` for a float32 ``a >= 0`` held in float64: ``(n, r)``.

    A float32 has 24 bits, so five fixed rows of the table, picked with selects by the
    exponent, do what a gather does for float64 (gathers are slow on CPUs with the
    Downfall mitigation).
    """
    row = (_bits(a) >> 52) - 1048  # exponent - 25
    scale = 1.0
    c0, c1, c2 = _TWO_OVER_PI_CHUNKS[0]
    for j in range(1, len(_TWO_OVER_PI_CHUNKS)):
        take = row >= 24 * j
        scale = _select(take, _CHUNK_SCALES[j], scale)
        c0 = _select(take, _TWO_OVER_PI_CHUNKS[j][0], c0)
        c1 = _select(take, _TWO_OVER_PI_CHUNKS[j][1], c1)
        c2 = _select(take, _TWO_OVER_PI_CHUNKS[j][2], c2)
    xs = a * scale  # exact; below 2**49
    p0 = xs * c0
    p0_lo = _fma(xs, c0, -p0)
    p1 = xs * c1
    quadrants = _fma((p0 * 0.25 + _SHIFTER) - _SHIFTER, -4.0, p0)  # p0 modulo 4
    t = ((quadrants + p0_lo) + p1) + _SHIFTER
    f = (((quadrants - (t - _SHIFTER)) + p0_lo) + p1) + (_fma(xs, c1, -p1) + xs * c2)
    small = a < _PIO4
    n = _select(small, 0, (_bits(t) - _SHIFTER_BITS) & 3)
    return n, _select(small, a, f * _PIO2_HI)


@njit(inline="always")
def sin32(x):
    """Sine for float32 (reduced and evaluated in float64)."""
    a = abs(np.float64(x))
    n, r = _reduce_half_pi32(a)
    z = r * r
    s = _fma(r * z, _horner(z, _SIN_S32), r)
    c = _fma(z, _fma(z, _horner(z, _COS_C32), -0.5), 1.0)
    v = _select(n & 1 != 0, c, s)
    v = _select(n & 2 != 0, -v, v)
    result = _F(v) * _copysign(_ONE32, x)
    return _select(not (a < _INF), x - x, result)


@njit(inline="always")
def cos32(x):
    """Cosine for float32 (reduced and evaluated in float64)."""
    a = abs(np.float64(x))
    n, r = _reduce_half_pi32(a)
    z = r * r
    s = _fma(r * z, _horner(z, _SIN_S32), r)
    c = _fma(z, _fma(z, _horner(z, _COS_C32), -0.5), 1.0)
    v = _select(n & 1 != 0, s, c)
    v = _select((n + 1) & 2 != 0, -v, v)
    return _select(not (a < _INF), x - x, _F(v))


@njit(inline="always")
def tanh32(x):
    """Hyperbolic tangent for float32."""
    a = abs(x)
    a = _select(a > _F(10.0), _F(10.0), a)
    t = expm1_32(_TWO32 * a)
    return _copysign(_div(t, t + _TWO32), x)


@njit(inline="always")
def sigmoid32(x):
    """``1 / (1 + exp(-x))`` for float32."""
    e = exp32(-abs(x))
    return _div(_select(x >= _ZERO32, _ONE32, e), _ONE32 + e)


@njit(inline="always")
def softplus32(x):
    """``log(1 + exp(x))`` for float32."""
    return _select(x > _ZERO32, x, _ZERO32) + log1p32(exp32(-abs(x)))


@njit(inline="always")
def _erfc_tail32(a, e):
    """``erfc(a)`` for ``a`` in ``[1, 4.5]`` given ``e = exp(-a**2)``, in float32."""
    den, den_lo = _two_sum(_F(4.0), a)
    w = _div(_ONE32, den)
    w_lo = w * (_fma(-w, den, _ONE32) - w * den_lo)
    return e * w * _horner(_fma(w - _F(0.125), _F(8.0), _F(8.0) * w_lo), _ERFC_H32)


@njit(inline="always")
def erf32(x):
    """Error function for float32."""
    a = abs(x)
    near = _fma(a, _horner(a * a, _ERF_Y32), a)
    b = _select(a > _F(4.5), _F(4.5), a)
    far = _ONE32 - _erfc_tail32(b, exp32(-b * b))
    return _copysign(_select(a < _ONE32, near, far), x)


@njit(inline="always")
def erfc32(x):
    """Complementary error function for float32 (the tail in float64: in float32 its three
    roundings and exp's add up to 5 ulps)."""
    a = abs(x)
    erf_near = _fma(a, _horner(a * a, _ERF_Y32), a)
    tail = _erfc_tail(np.float64(_select(a > _F(10.1), _F(10.1), a)))
    near = a < _HALF32
    positive = _select(near, _ONE32 - erf_near, _F(tail))
    negative = _select(near, _ONE32 + erf_near, _F(2.0 - tail))
    return _select(x >= _ZERO32, positive, negative)


#: (scalar op name, dtype) -> the jitted scalar function; call it inside a numba loop
MATH = {
    ("exp", "float64"): exp64,
    ("expm1", "float64"): expm1_64,
    ("exp2", "float64"): exp2_64,
    ("log", "float64"): log64,
    ("log1p", "float64"): log1p64,
    ("log2", "float64"): log2_64,
    ("log10", "float64"): log10_64,
    ("sin", "float64"): sin64,
    ("cos", "float64"): cos64,
    ("tanh", "float64"): tanh64,
    ("sigmoid", "float64"): sigmoid64,
    ("softplus", "float64"): softplus64,
    ("erf", "float64"): erf64,
    ("erfc", "float64"): erfc64,
    ("exp", "float32"): exp32,
    ("expm1", "float32"): expm1_32,
    ("exp2", "float32"): exp2_32,
    ("log", "float32"): log32,
    ("log1p", "float32"): log1p32,
    ("log2", "float32"): log2_32,
    ("log10", "float32"): log10_32,
    ("sin", "float32"): sin32,
    ("cos", "float32"): cos32,
    ("tanh", "float32"): tanh32,
    ("sigmoid", "float32"): sigmoid32,
    ("softplus", "float32"): softplus32,
    ("erf", "float32"): erf32,
    ("erfc", "float32"): erfc32,
}
