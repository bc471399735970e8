"""Scalar helpers the generated kernels call (``from croton_numba.prelude import *``).

They follow NumPy's semantics where Python's differ: integer division and remainder by
zero give 0, a signed integer to a negative integer power raises, ``minimum``/``maximum``/
``clip`` propagate nan, sigmoid and softplus do not overflow. Complex numbers order lexicographically (real part first) and divide
by NumPy's algorithm, so that infinities and nan come out as NumPy's do.

``_huge_pages`` advises the kernel to back a large new array with huge pages, as NumPy
does for its own arrays: a first write to an 80 MB array then takes a few dozen page
faults instead of twenty thousand, which made memory-bound loops 3-4x slower than
NumPy's on a virtual machine.
"""

import ctypes
import math
import sys

import llvmlite.ir
import numba
import numpy as np
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = [
    "_cclip",
    "_digamma",
    "_empty",
    "_erfcinv",
    "_erfinv",
    "_gammaln",
    "_trigamma",
    "_cdiv",
    "_cge",
    "_cgt",
    "_cle",
    "_clip",
    "_clt",
    "_cmaximum",
    "_finite_line",
    "_max_line",
    "_min_line",
    "_cminimum",
    "_carccosh",
    "_ccosh",
    "_cpow",
    "_csinh",
    "_ctanh",
    "_csign",
    "_float_to_half",
    "_floor_divide",
    "_half_to_float",
    "_half_value",
    "_huge_pages",
    "_maximum_first",
    "_minimum_first",
    "_clip_first",
    "_maximum",
    "_minimum",
    "_int_power",
    "_power",
    "_prod_block",
    "_remainder",
    "_round_half_away",
    "_scalar_array",
    "_sigmoid",
    "_sign",
    "_softplus",
    "_sum_block",
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


@numba.njit(cache=True, error_model="numpy")
def _int_power(a, b):
    # signed integers: numpy refuses negative exponents (numba would give 0)
    if b < 0:
        raise ValueError("Integers to negative integer powers are not allowed.")
    return a**b


# A reduction's block is summed here, apart from the loop computing its values: the
# ``reassoc`` flag lets LLVM add it in vector lanes (as NumPy's pairwise sum does), but
# it must not reach the prologue's math (mathlib's two-word arithmetic depends on the
# order of its operations). The flags stay on these instructions when LLVM inlines them.
@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _sum_block(buf, width, identity):
    """``identity + buf[0] + ... + buf[width - 1]``, in any order."""
    total = identity
    for j in range(width):
        total += buf[j]
    return total


def _number_extreme(name: str):
    """An intrinsic ``f(a, b)`` calling LLVM's ``llvm.<name>`` on two floats of one type
    (``maxnum``/``minnum``: the larger/smaller, whichever is a number)."""

    @intrinsic
    def extreme(typingctx, a, b):
        if a != b or a not in (numba.types.float32, numba.types.float64):
            return None

        def codegen(context, builder, signature, args):
            value = context.get_value_type(signature.return_type)
            bits = 64 if signature.return_type == numba.types.float64 else 32
            function = cgutils.get_or_insert_function(
                builder.module,
                llvmlite.ir.FunctionType(value, [value, value]),
                f"llvm.{name}.f{bits}",
            )
            return builder.call(function, args)

        return a(a, b), codegen

    return extreme


_maxnum = _number_extreme("maxnum")
_minnum = _number_extreme("minnum")


# The maximum (minimum) of a line of floats in vector lanes: LLVM vectorizes a maxnum
# reduction only when told that no value is nan and the sign of a zero does not matter.
# So these are called only on a line `_finite_line` found free of nan (and inf), and a
# zero result, whose sign they may get wrong, is found again in order by the caller.
@numba.njit(cache=True, error_model="numpy", fastmath={"nnan", "nsz"})
def _max_line(line, initial):
    """The largest of ``initial`` and a line of finite floats (a zero of either sign)."""
    result = initial
    for j in range(line.shape[0]):
        result = _maxnum(result, line[j])
    return result


@numba.njit(cache=True, error_model="numpy", fastmath={"nnan", "nsz"})
def _min_line(line, initial):
    """The smallest of ``initial`` and a line of finite floats (a zero of either sign)."""
    result = initial
    for j in range(line.shape[0]):
        result = _minnum(result, line[j])
    return result


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _finite_line(line):
    """Whether every float in a line is finite (``x - x`` is 0 for those, else nan),
    summed in vector lanes."""
    total = line.dtype.type(0)
    for j in range(line.shape[0]):
        total += line[j] - line[j]
    return total == 0


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _prod_block(buf, width, identity):
    """``identity * buf[0] * ... * buf[width - 1]``, in any order."""
    total = identity
    for j in range(width):
        total *= buf[j]
    return total


# -- the gamma family and the inverse error functions, in float64 (as SciPy's, which the
# reference backend calls; float32 and float16 arguments round the result once)


@numba.njit(cache=True, error_model="numpy")
def _gammaln(x):
    # (C's lgamma; SciPy gives -inf at -inf, where |gamma| has no limit)
    return math.lgamma(np.float64(x))


@numba.njit(cache=True, error_model="numpy")
def _reflection_angle(x):
    """``pi * r`` where ``r = x - round(x)``: ``tan`` and ``sin**2`` of it equal those
    of ``pi * x`` and lose nothing to the size of ``x``."""
    return math.pi * (x - np.round(x))


@numba.njit(cache=True, error_model="numpy")
def _digamma(x):
    """psi(x), the logarithmic derivative of gamma: the recurrence up to 10, then the
    asymptotic series; negative x by reflection. Poles: nan, and -inf/+inf at +0/-0."""
    x = np.float64(x)
    if x != x or x == -np.inf:
        return np.nan
    if x == np.inf:
        return np.inf
    if x == 0.0:
        return np.inf if math.copysign(1.0, x) < 0 else -np.inf
    result = 0.0
    if x < 0.0:
        if x == np.floor(x):
            return np.nan
        result = -math.pi / math.tan(_reflection_angle(x))  # psi(1 - x) - pi / tan(pi x)
        x = 1.0 - x
    while x < 10.0:
        result -= 1.0 / x
        x += 1.0
    f = 1.0 / (x * x)
    tail = f * (
        1 / 12
        - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f * (1 / 132 - f * (691 / 32760 - f / 12)))))
    )  # noqa: E501
    return result + math.log(x) - 0.5 / x - tail


@numba.njit(cache=True, error_model="numpy")
def _trigamma(x):
    """psi'(x): the recurrence up to 10, then the asymptotic series; negative x by
    reflection. inf at the poles (and at -inf), 0 at +inf, as SciPy's polygamma(1, x)."""
    x = np.float64(x)
    if x != x:
        return np.nan
    if x == np.inf:
        return 0.0
    if x == -np.inf or (x <= 0.0 and x == np.floor(x)):
        return np.inf
    result, sign = 0.0, 1.0
    if x < 0.0:
        s = math.sin(_reflection_angle(x))  # psi'(x) = pi**2 / sin(pi x)**2 - psi'(1 - x)
        result, sign = math.pi * math.pi / (s * s), -1.0
        x = 1.0 - x
    total = 0.0
    while x < 10.0:
        total += 1.0 / (x * x)
        x += 1.0
    f = 1.0 / (x * x)
    tail = (
        1 / 6
        - f * (1 / 30 - f * (1 / 42 - f * (1 / 30 - f * (5 / 66 - f * (691 / 2730 - f * 7 / 6)))))
    ) / (x * x * x)  # noqa: E501
    return result + sign * (total + 1.0 / x + 0.5 * f + tail)


@numba.njit(cache=True, error_model="numpy")
def _inverse_erf(a, c):
    """y >= 0 with erf(y) = a, given a in [0, 1] and c = 1 - a exactly (the tails are
    told by c): M. Giles's single-precision approximation ("Approximating the erfinv
    function", GPU Computing Gems, 2011) refined by Halley steps on erf or erfc."""
    if c == 0.0:
        return np.inf
    w = -math.log(c * (2.0 - c))
    if w < 5.0:
        w -= 2.5
        p = 2.81022636e-08
        p = 3.43273939e-07 + p * w
        p = -3.5233877e-06 + p * w
        p = -4.39150654e-06 + p * w
        p = 0.00021858087 + p * w
        p = -0.00125372503 + p * w
        p = -0.00417768164 + p * w
        p = 0.246640727 + p * w
        p = 1.50140941 + p * w
        y = p * a
    elif w < 16.0:  # (float32's range: 1 - a >= 2**-24)
        w = math.sqrt(w) - 3.0
        p = -0.000200214257
        p = 0.000100950558 + p * w
        p = 0.00134934322 + p * w
        p = -0.00367342844 + p * w
        p = 0.00573950773 + p * w
        p = -0.0076224613 + p * w
        p = 0.00943887047 + p * w
        p = 1.00167406 + p * w
        p = 2.83297682 + p * w
        y = p * a
    else:  # beyond it: erfc(y) ~ exp(-y**2) / (y sqrt(pi))
        t = -math.log(c)
        y = math.sqrt(t - 0.5 * math.log(math.pi * t))
    for _ in range(6):
        # f(y) = erf(y) - a, as c - erfc(y) where erf(y) is near 1
        f = math.erf(y) - a if a < 0.5 else c - math.erfc(y)
        derivative = 1.1283791670955126 * math.exp(-y * y)
        if derivative == 0.0:
            break
        step = f / (derivative + y * f)  # Halley: f'' = -2 y f'
        y -= step
        if abs(step) <= 1e-17 * y:
            break
    return y


@numba.njit(cache=True, error_model="numpy")
def _erfinv(x):
    x = np.float64(x)
    if not -1.0 <= x <= 1.0:
        return np.nan
    if x == 0.0:
        return x
    a = abs(x)
    return math.copysign(_inverse_erf(a, 1.0 - a), x)


@numba.njit(cache=True, error_model="numpy")
def _erfcinv(x):
    x = np.float64(x)
    if not 0.0 <= x <= 2.0:
        return np.nan
    if x == 1.0:
        return 0.0
    if x < 1.0:
        return _inverse_erf(1.0 - x, x)
    return -_inverse_erf(x - 1.0, 2.0 - x)


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


@intrinsic
def _empty(typingctx, shape, dtype):
    """``np.empty(shape, dtype)``, a new C-ordered array, allocated in the caller's code.

    numba's ``np.empty`` is an overload that compiles a function of its own for each
    shape length and dtype it meets, a tenth of a second each in a cold compile; this
    emits numba's own allocation (negative lengths raise its ``ValueError``) inline."""
    from numba.core.typing.npydecl import parse_dtype, parse_shape
    from numba.np.arrayobj import _empty_nd_impl, _parse_empty_args

    element, ndim = parse_dtype(dtype), parse_shape(shape)
    if element is None or ndim is None:
        return None
    result = numba.types.Array(element, ndim, "C")

    def codegen(context, builder, signature, args):
        arrtype, shapes = _parse_empty_args(context, builder, signature, args)
        return _empty_nd_impl(context, builder, arrtype, shapes)._getvalue()

    return result(shape, dtype), codegen


@numba.njit(cache=True)
def _scalar_array(value, dtype):
    out = _empty((), dtype)
    out[()] = value
    return out


@numba.njit(cache=True)
def _clt(a, b):
    return a.real < b.real or (a.real == b.real and a.imag < b.imag)


@numba.njit(cache=True)
def _cle(a, b):
    return a.real < b.real or (a.real == b.real and a.imag <= b.imag)


@numba.njit(cache=True)
def _cgt(a, b):
    return _clt(b, a)


@numba.njit(cache=True)
def _cge(a, b):
    return _cle(b, a)


@numba.njit(cache=True)
def _cpick(a, b, take_a):
    # minimum/maximum of complex numbers: a nan wins, else the one the order picks
    if a != a:
        return a
    if b != b:
        return b
    return a if take_a else b


@numba.njit(cache=True)
def _cminimum(a, b):
    return _cpick(a, b, _clt(a, b))


@numba.njit(cache=True)
def _cmaximum(a, b):
    return _cpick(a, b, _cgt(a, b))


@numba.njit(cache=True)
def _cclip(x, lo, hi):
    return _cminimum(_cmaximum(x, lo), hi)


@numba.njit(cache=True, error_model="numpy")
def _cdiv(a, b):
    # NumPy's complex division (Smith's method, and a complex inf or nan for 0 / 0)
    ar, ai, br, bi = a.real, a.imag, b.real, b.imag
    abs_br, abs_bi = abs(br), abs(bi)
    if abs_br >= abs_bi:
        if abs_br == 0 and abs_bi == 0:
            return complex(ar / abs_br, ai / abs_br)
        rat = bi / br
        scl = 1.0 / (br + bi * rat)
        return complex((ar + ai * rat) * scl, (ai - ar * rat) * scl)
    rat = br / bi
    scl = 1.0 / (bi + br * rat)
    return complex((ar * rat + ai) * scl, (ai * rat - ar) * scl)


@numba.njit(cache=True, error_model="numpy")
def _csign(z):
    # z / |z| as NumPy computes it: an infinite part gives its direction
    re, im = z.real, z.imag
    size = np.hypot(re, im)
    if size == 0:
        return complex(0.0, 0.0)
    if np.isinf(size):
        if np.isinf(re) and np.isinf(im):
            return complex(np.nan, np.nan)
        if np.isinf(re):
            return complex(np.sign(re), 0.0)
        return complex(0.0, np.sign(im))
    if size != size:
        return complex(np.nan, np.nan)
    return complex(re / size, im / size)


@numba.njit(cache=True, error_model="numpy")
def _cmul(a, b):
    return complex(a.real * b.real - a.imag * b.imag, a.real * b.imag + a.imag * b.real)


@numba.njit(cache=True, error_model="numpy")
def _cpow(a, b):
    # NumPy's complex power: exact cases, then small integer exponents by squaring
    br, bi = b.real, b.imag
    if br == 0 and bi == 0:
        return complex(1.0, 0.0)
    if a.real == 0 and a.imag == 0:
        if br > 0 and bi == 0:
            return complex(0.0, 0.0)
        return complex(np.nan, np.nan)
    if bi == 0 and br == np.floor(br) and -100 < br < 100:
        n = int(br)
        if n == 1:
            return a
        if n == 2:
            return _cmul(a, a)
        if n == 3:
            return _cmul(a, _cmul(a, a))
        n = abs(n)
        mask = 1
        result = complex(1.0, 0.0)
        power = a
        while True:
            if n & mask:
                result = _cmul(result, power)
            mask <<= 1
            if n < mask:
                break
            power = _cmul(power, power)
        if br < 0:
            return _cdiv(complex(1.0, 0.0), result)
        return result
    return np.exp(_cmul(b, np.log(a)))  # as C's cpow: infinities give C99's results


# On the real axis the hyperbolic functions keep the imaginary zero (C99 Annex G, as
# NumPy's do); numba's formulas give nan there for infinite arguments.


@numba.njit(cache=True, error_model="numpy")
def _csinh(z):
    if z.imag == 0:
        return complex(np.sinh(z.real), z.imag)
    return np.sinh(z)


@numba.njit(cache=True, error_model="numpy")
def _ccosh(z):
    if z.imag == 0:
        x = z.real
        return complex(np.cosh(x), 0.0 * z.imag if x != x else np.copysign(0.0, x) * z.imag)
    return np.cosh(z)


@numba.njit(cache=True, error_model="numpy")
def _ctanh(z):
    if z.imag == 0:
        return complex(np.tanh(z.real), z.imag)
    return np.tanh(z)


@numba.njit(cache=True, error_model="numpy")
def _carccosh(z):
    if z.imag == 0 and np.isinf(z.real):
        return complex(np.inf, np.copysign(0.0 if z.real > 0 else np.pi, z.imag))
    return np.arccosh(z)


# Half precision: numba has no float16 type, so float16 arrays are passed as their bits
# (uint16) and their values computed as float32 rounded to half precision after every
# operation, as NumPy's float16 loops do.


@numba.njit(cache=True)
def _half_value(x):
    """``x`` rounded to the nearest float16 value (ties to even), as a float32."""
    v = np.float64(x)
    if v != v or v == 0 or np.isinf(v):
        return np.float32(v)
    a = abs(v)
    if a >= 65520.0:  # past the largest half (65504) by half a step: infinity
        return np.float32(np.copysign(np.inf, v))
    if a < 6.103515625e-05:  # subnormal halves: multiples of 2**-24
        step = 5.960464477539063e-08
    else:
        exponent = math.frexp(a)[1]  # a = m * 2**exponent, 0.5 <= m < 1
        step = math.ldexp(1.0, exponent - 11)
    return np.float32(np.copysign(np.rint(a / step) * step, v))


@numba.njit(cache=True)
def _half_to_float(bits):
    """The float32 value of a float16 given by its bits."""
    h = np.int64(bits)
    sign = -1.0 if h & 0x8000 else 1.0
    exponent = (h >> 10) & 0x1F
    mantissa = h & 0x3FF
    if exponent == 0:
        return np.float32(sign * mantissa * 5.960464477539063e-08)
    if exponent == 31:
        return np.float32(sign * np.inf if mantissa == 0 else np.nan)
    return np.float32(sign * math.ldexp(1024.0 + mantissa, exponent - 25))


@numba.njit(cache=True)
def _float_to_half(x):
    """The bits of the float16 nearest to ``x``."""
    v = np.float64(_half_value(x))
    if v != v:
        return np.uint16(0x7E00)
    sign = 0x8000 if np.copysign(1.0, v) < 0 else 0
    a = abs(v)
    if np.isinf(a):
        return np.uint16(sign | 0x7C00)
    if a < 6.103515625e-05:
        return np.uint16(sign | np.int64(a / 5.960464477539063e-08))
    m, exponent = math.frexp(a)
    return np.uint16(sign | ((exponent + 14) << 10) | (np.int64(m * 2048.0) - 1024))


@numba.njit(cache=True)
def _minimum_first(a, b):
    # numpy.minimum on float16: nan wins, and a tie gives the first argument
    return a if (a <= b or a != a) else b


@numba.njit(cache=True)
def _maximum_first(a, b):
    return a if (a >= b or a != a) else b


@numba.njit(cache=True)
def _clip_first(x, lo, hi):
    return _minimum_first(_maximum_first(x, lo), hi)


#: NumPy's threshold for huge pages (``numpy/_core/src/multiarray/alloc.c``), and the
#: advice (``MADV_HUGEPAGE`` on Linux)
_HUGE_PAGE_BYTES = 1 << 22
_MADV_HUGEPAGE = 14


def _madvise_address() -> int | None:
    """The C library's ``madvise``, where the kernel takes huge-page advice (Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.cast(ctypes.CDLL(None).madvise, ctypes.c_void_p).value
    except (AttributeError, OSError):
        return None


_MADVISE = _madvise_address()
if _MADVISE is not None:
    # the generated code calls it by name: the symbol, not its address, is in the
    # machine code, so the disk cache stays valid in other processes
    import llvmlite.binding

    llvmlite.binding.add_symbol("madvise", _MADVISE)


@intrinsic
def _madvise(typingctx, start, length):
    def codegen(context, builder, signature, args):
        pointer = llvmlite.ir.IntType(8).as_pointer()
        int32, int64 = llvmlite.ir.IntType(32), llvmlite.ir.IntType(64)
        kind = llvmlite.ir.FunctionType(int32, [pointer, int64, int32])
        madvise = cgutils.get_or_insert_function(builder.module, kind, "madvise")
        address = builder.inttoptr(args[0], pointer)
        builder.call(madvise, [address, args[1], int32(_MADV_HUGEPAGE)])
        return context.get_dummy_value()

    return numba.types.void(numba.types.int64, numba.types.int64), codegen


if _MADVISE is not None:

    @numba.njit(cache=True)
    def _huge_pages(address, nbytes):
        """Advise huge pages for the whole pages of a new array of ``nbytes`` at
        ``address`` (``a.ctypes.data``) that is not yet written, if it is large."""
        if nbytes >= _HUGE_PAGE_BYTES:
            start = (np.int64(address) + 4095) & ~np.int64(4095)
            end = (np.int64(address) + nbytes) & ~np.int64(4095)
            if end > start:
                _madvise(start, end - start)

else:

    @numba.njit(cache=True)
    def _huge_pages(address, nbytes):
        """Nothing to advise on this platform."""
