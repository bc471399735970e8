"""Scalar ops as CUDA C++: the expression each op becomes inside a generated kernel.

The templates are the core's shared table (`croton.codegen.TEMPLATES`, C's spelling)
with CUDA's overrides (`SYNTAX`); the underscore helpers they call are device functions
of `PRELUDE`, with NumPy's semantics per dtype. Values live in typed locals: each
dtype's `value_type` (``float16`` values are ``float`` locals holding half-precision
values, rounded after every step as NumPy's float16 loops do; complex numbers are
CuPy's ``complex<float>``/``complex<double>``).

`scalar_expression` renders one step and converts its result to the step's dtype with
NumPy's casting semantics (integers wrap, floats to integers truncate, anything to
bool is ``!= 0``).
"""

from __future__ import annotations

import math

import numpy as np

from croton.codegen import ScalarSyntax

#: dtype name -> the C++ type of a local holding a value of it
_VALUE_TYPES = {
    "bool": "bool",
    "int8": "signed char",
    "int16": "short",
    "int32": "int",
    "int64": "long long",
    "uint8": "unsigned char",
    "uint16": "unsigned short",
    "uint32": "unsigned int",
    "uint64": "unsigned long long",
    "float16": "float",
    "float32": "float",
    "float64": "double",
    "complex64": "complex<float>",
    "complex128": "complex<double>",
}

#: the dtypes generated kernels take and return
SUPPORTED_DTYPES = tuple(_VALUE_TYPES)

#: signed integer ops that overflow: computed in unsigned arithmetic, which wraps
#: (signed overflow is undefined in C++; int8 and int16 promote to int and cannot)
_WRAPPING = {"add": "_wrapping_add", "sub": "_wrapping_sub", "mul": "_wrapping_mul"}

#: CUDA's spelling of the scalar ops: the shared C table with NumPy's semantics for
#: complex numbers (lexicographic order, NumPy's division and power), booleans and
#: integers where C's operators differ, and float16's tie rules
SYNTAX = ScalarSyntax(
    overrides={
        # CuPy's own headers define _floor_divide (rounding floats' quotient, not NumPy's)
        "int_div": "_numpy_floor_divide({0}, {1})",
        "reciprocal": "(1.0f / {0})",
    },
    kind_overrides={
        # a negative exponent sets the kernel's status (`STATUS`): NumPy raises for it
        ("pow", "i"): "_checked_power({0}, {1}, _croton_status)",
        ("invert", "b"): "(!{0})",
        ("abs", "u"): "{0}",
        ("floor", "b"): "{0}",
        ("floor", "i"): "{0}",
        ("floor", "u"): "{0}",
        ("ceil", "b"): "{0}",
        ("ceil", "i"): "{0}",
        ("ceil", "u"): "{0}",
        ("trunc", "b"): "{0}",
        ("trunc", "i"): "{0}",
        ("trunc", "u"): "{0}",
        ("isnan", "b"): "false",
        ("isnan", "i"): "false",
        ("isnan", "u"): "false",
        ("isinf", "b"): "false",
        ("isinf", "i"): "false",
        ("isinf", "u"): "false",
        ("lt", "c"): "_lt({0}, {1})",
        ("le", "c"): "_le({0}, {1})",
        ("gt", "c"): "_lt({1}, {0})",
        ("ge", "c"): "_le({1}, {0})",
        ("mul", "c"): "_complex_multiply({0}, {1})",
        ("sqr", "c"): "_complex_multiply({0}, {0})",
        ("true_div", "c"): "_complex_divide({0}, {1})",
        ("reciprocal", "c"): "_complex_reciprocal({0})",
        ("exp2", "c"): "_complex_exp2({0})",
        ("expm1", "c"): "_complex_expm1({0})",
        ("log1p", "c"): "_complex_log1p({0})",
        ("log2", "c"): "_complex_log2({0})",
        ("log10", "c"): "_complex_log10({0})",
    },
    dtype_overrides={
        **{
            (name, dtype): f"{helper}({{0}}, {{1}})"
            for name, helper in _WRAPPING.items()
            for dtype in ("int32", "int64")
        },
        **{(op, dtype): "_wrapping_neg({0})" for op in ("neg",) for dtype in ("int32", "int64")},
        **{("sqr", dtype): "_wrapping_mul({0}, {0})" for dtype in ("int32", "int64")},
        ("minimum", "float16"): "_minimum_first({0}, {1})",
        ("maximum", "float16"): "_maximum_first({0}, {1})",
        ("clip", "float16"): "_clip_first({0}, {1}, {2})",
    },
)


#: the local a kernel's statements set to nonzero where NumPy would raise (a signed
#: integer to a negative power); `ERROR` is the one-element array it is reported in
STATUS = "_croton_status"
ERROR = "_croton_error"
#: NumPy's error for what sets the status
ERROR_MESSAGE = "Integers to negative integer powers are not allowed."


def sets_status(statements) -> bool:
    """Whether generated ``statements`` (or an expression) can set `STATUS`."""
    return any(
        STATUS in line for line in ([statements] if isinstance(statements, str) else statements)
    )


def check_dtype(dtype: str, what: str = "dtype") -> str:
    """``dtype``'s name if generated kernels support it; a ValueError naming ``what`` if not."""
    name = np.dtype(dtype).name
    if name not in _VALUE_TYPES:
        raise ValueError(
            f"{what} {name!r} has no CUDA type in the cupy backend; supported: "
            f"{', '.join(SUPPORTED_DTYPES)}. Cast to one of them first."
        )
    return name


def ctype(dtype: str) -> str:
    """``dtype`` as CuPy spells it in a kernel's parameter list (``float32``, ``bool``).

    CuPy's ``ElementwiseKernel``/``ReductionKernel`` read NumPy's dtype names there as
    concrete types, which keeps generated kernels free of type placeholders.
    """
    return check_dtype(dtype)


def value_type(dtype: str) -> str:
    """The C++ type of a local holding a value of ``dtype`` (``float16`` -> ``float``)."""
    return _VALUE_TYPES[check_dtype(dtype)]


def storage_type(dtype: str) -> str:
    """The C++ type of ``dtype``'s array elements (CuPy's ``float16`` for half precision)."""
    name = check_dtype(dtype)
    return "float16" if name == "float16" else _VALUE_TYPES[name]


def uses_half(dtypes) -> bool:
    """Whether a kernel over ``dtypes`` needs CuPy's ``float16`` header."""
    return any(np.dtype(d).name == "float16" for d in dtypes)


def preamble(dtypes) -> str:
    """The device helpers for a kernel whose values have ``dtypes``."""
    header = '#include "cupy/float16.cuh"\n' if uses_half(dtypes) else ""
    return header + PRELUDE + (HALF_PRELUDE if header else "")


def read(name: str, dtype: str) -> str:
    """The value of array element ``name`` (of ``dtype``) as a `value_type` value."""
    return f"float({name})" if np.dtype(dtype).name == "float16" else name


def store(expression: str, dtype: str) -> str:
    """``expression`` (a `value_type` value of ``dtype``) as an array element of ``dtype``."""
    return f"float16({expression})" if np.dtype(dtype).name == "float16" else expression


# -- literals ------------------------------------------------------------------------------


def _real_literal(value: float, dtype: str) -> str:
    single = dtype in ("float16", "float32", "complex64")
    if math.isnan(value):
        return "_nan_float()" if single else "_nan_double()"
    if math.isinf(value):
        text = "_inf_float()" if single else "_inf_double()"
        return text if value > 0 else f"(-{text})"
    if single:
        return f"{float(np.float32(value))!r}f"
    return repr(float(value))


def literal(value, dtype: str) -> str:
    """Source for a scalar constant of ``dtype`` (nan, infinities and -0.0 exact)."""
    dtype = check_dtype(dtype)
    kind = np.dtype(dtype).kind
    if kind == "b":
        return "true" if bool(value) else "false"
    if kind in "iu":
        value = int(value)
        info = np.iinfo(dtype)
        if not info.min <= value <= info.max:
            raise ValueError(f"literal {value} does not fit in {dtype}")
        if kind == "u":
            return f"(({value_type(dtype)}){value}ULL)"
        if value == info.min and dtype == "int64":
            return "(-9223372036854775807LL - 1)"
        return f"(({value_type(dtype)}){value}LL)"
    if kind == "c":
        value = complex(value)
        return (
            f"{value_type(dtype)}({_real_literal(value.real, dtype)}, "
            f"{_real_literal(value.imag, dtype)})"
        )
    if dtype == "float16":
        return _real_literal(float(np.float16(value)), dtype)
    return _real_literal(float(value), dtype)


# -- conversions ---------------------------------------------------------------------------


def _real_part(expression: str, have: str) -> tuple[str, str]:
    """A complex expression's real part (NumPy drops the imaginary part, with a warning)."""
    if np.dtype(have).kind == "c":
        return f"({expression}).real()", "float32" if have == "complex64" else "float64"
    return expression, have


def convert(expression: str, have: str, want: str) -> str:
    """``expression``, a value of dtype ``have``, as a ``want`` value (NumPy's casting).

    The expression's C++ type may be wider than ``have`` (C promotes ``int8 + int8`` to
    ``int``): the conversion always names ``want``'s type, so integers wrap as NumPy's
    do. Floats convert to integers by truncation; values out of range and nan give what
    NumPy gives on x86-64 (the smallest integer, through ``int32`` for narrower types and
    ``int64`` for unsigned ones).
    """
    have, want = check_dtype(have), check_dtype(want)
    have_kind, want_kind = np.dtype(have).kind, np.dtype(want).kind
    target = value_type(want)
    if want_kind == "c":
        if have_kind == "c":
            return f"{target}({expression})"
        part = "float" if want == "complex64" else "double"
        return f"{target}(static_cast<{part}>({expression}))"
    if want_kind == "b":
        if have_kind == "c":
            return f"_nonzero({expression})"
        return f"static_cast<bool>({expression})"
    expression, have = _real_part(expression, have)
    have_kind = np.dtype(have).kind
    if want == "float16":
        through = "double" if have in ("float64",) or have_kind in "iub" else "float"
        return f"_to_half(static_cast<{through}>({expression}))"
    if want_kind in "iu" and have_kind == "f":
        if want == "int64":
            return f"_float_to_int64({expression})"
        if want == "uint64":
            return f"_float_to_uint64({expression})"
        if want == "uint32":
            return f"static_cast<unsigned int>(_float_to_int64({expression}))"
        return f"static_cast<{target}>(_float_to_int32({expression}))"
    return f"static_cast<{target}>({expression})"


def scalar_expression(
    name: str, args: list[str], in_dtypes, out_dtype: str, result_dtype=None
) -> str:
    """Source computing scalar op ``name`` on ``args``, converted to ``out_dtype``.

    ``args`` hold `value_type` values of ``in_dtypes`` (the dtypes the op computes in);
    ``result_dtype`` is the dtype of the op's own result (``out_dtype`` by default).
    """
    if name == "cast":
        return convert(args[0], in_dtypes[0], out_dtype)
    compute = check_dtype(in_dtypes[-1])
    expression = SYNTAX.render(name, args, compute)
    return convert(expression, result_dtype or out_dtype, out_dtype)


def program_statements(program, inputs: list[str], input_dtypes) -> tuple[list[str], str]:
    """Statements computing a `Composite` program on the locals ``inputs``; and its result.

    Each step becomes one typed local ``s<j>``; arguments are the program's inputs,
    earlier steps or literals.
    """
    statements, steps = [], []
    for j, (scalar_op, args, dtype) in enumerate(program):
        sources, arg_dtypes = [], []
        for ref in args:
            if ref[0] == "input":
                sources.append(inputs[ref[1]])
                arg_dtypes.append(input_dtypes[ref[1]])
            elif ref[0] == "step":
                sources.append(steps[ref[1]])
                arg_dtypes.append(program[ref[1]][2])
            else:
                sources.append(literal(ref[1], ref[2]))
                arg_dtypes.append(ref[2])
        statements.append(
            f"const {value_type(dtype)} s{j} = "
            f"{step_expression(scalar_op, sources, arg_dtypes, dtype)};"
        )
        steps.append(f"s{j}")
    return statements, steps[-1]


def step_expression(scalar_op, sources: list[str], arg_dtypes, out_dtype: str) -> str:
    """Source of one scalar op on ``sources`` (values of ``arg_dtypes``), as ``out_dtype``.

    Arguments whose dtype differs from what the op computes in are converted first.
    """
    if scalar_op.name == "cast":
        return convert(sources[0], arg_dtypes[0], out_dtype)
    in_dtypes, result = scalar_op.resolve(list(arg_dtypes))
    sources = [
        s if have == want else convert(s, have, want)
        for s, have, want in zip(sources, arg_dtypes, in_dtypes, strict=True)
    ]
    return scalar_expression(scalar_op.name, sources, in_dtypes, out_dtype, result)


# -- the device helpers --------------------------------------------------------------------

#: device functions the templates call, with NumPy's semantics; integer versions are
#: templates, float and double overloads (a non-template exact match wins), complex
#: versions templates over ``complex<T>`` (more specialised than plain ``T``)
PRELUDE = r"""
// croton: scalar helpers with NumPy's semantics
__device__ __forceinline__ float _nan_float() { return __int_as_float(0x7fc00000); }
__device__ __forceinline__ double _nan_double() { return __longlong_as_double(0x7ff8000000000000LL); }
__device__ __forceinline__ float _inf_float() { return __int_as_float(0x7f800000); }
__device__ __forceinline__ double _inf_double() { return __longlong_as_double(0x7ff0000000000000LL); }
template <typename T> __device__ __forceinline__ T _nan_of(T) { return T(_nan_double()); }

// signed overflow is undefined in C++: int32/int64 arithmetic wraps through unsigned
template <typename T> __device__ __forceinline__ T _wrapping_add(T a, T b) {
  return T((unsigned long long)a + (unsigned long long)b);
}
template <typename T> __device__ __forceinline__ T _wrapping_sub(T a, T b) {
  return T((unsigned long long)a - (unsigned long long)b);
}
template <typename T> __device__ __forceinline__ T _wrapping_mul(T a, T b) {
  return T((unsigned long long)a * (unsigned long long)b);
}
template <typename T> __device__ __forceinline__ T _wrapping_neg(T a) {
  return T(0ULL - (unsigned long long)a);
}

// floats to integers: truncation; nan and values out of range give the smallest integer
__device__ __forceinline__ long long _float_to_int64(double x) {
  if (!(x >= -9223372036854775808.0 && x < 9223372036854775808.0)) return (-9223372036854775807LL - 1);
  return (long long)x;
}
__device__ __forceinline__ int _float_to_int32(double x) {
  if (!(x > -2147483649.0 && x < 2147483648.0)) return (-2147483647 - 1);
  return (int)x;
}
__device__ __forceinline__ unsigned long long _float_to_uint64(double x) {
  if (x >= 9223372036854775808.0) {
    if (x >= 18446744073709551616.0) return 0ULL;
    return (unsigned long long)(long long)(x - 9223372036854775808.0) + 9223372036854775808ULL;
  }
  return (unsigned long long)_float_to_int64(x);
}

template <typename T> __device__ __forceinline__ bool _nonzero(T x) { return x != T(0); }
template <typename T> __device__ __forceinline__ bool _nonzero(complex<T> z) {
  return z.real() != T(0) || z.imag() != T(0);
}

// integer floor division and remainder: a zero divisor gives 0, MIN // -1 wraps
template <typename T> __device__ __forceinline__ T _numpy_floor_divide(T a, T b) {
  if (b == T(0)) return T(0);
  if (T(-1) < T(0) && b == T(-1)) return T(0ULL - (unsigned long long)a);
  T q = a / b;
  if ((a % b != T(0)) && ((a < T(0)) != (b < T(0)))) q = q - T(1);
  return q;
}
template <typename T> __device__ __forceinline__ T _remainder(T a, T b) {
  if (b == T(0)) return T(0);
  if (T(-1) < T(0) && b == T(-1)) return T(0);
  T r = a % b;
  if (r != T(0) && ((r < T(0)) != (b < T(0)))) r = r + b;
  return r;
}
// NumPy's float divmod (npy_divmod): the quotient rounded down, the remainder with b's sign
template <typename F> __device__ __forceinline__ F _float_divmod(F a, F b, F* modulus) {
  F mod = fmod(a, b);
  if (b == F(0)) { *modulus = mod; return a / b; }
  F div = (a - mod) / b;
  if (mod != F(0)) {
    if ((b < F(0)) != (mod < F(0))) { mod += b; div -= F(1); }
  } else {
    mod = copysign(F(0), b);
  }
  F floordiv;
  if (div != F(0)) {
    floordiv = floor(div);
    if (div - floordiv > F(0.5)) floordiv += F(1);
  } else {
    floordiv = copysign(F(0), a / b);
  }
  *modulus = mod;
  return floordiv;
}
__device__ __forceinline__ float _numpy_floor_divide(float a, float b) { float m; return _float_divmod(a, b, &m); }
__device__ __forceinline__ double _numpy_floor_divide(double a, double b) { double m; return _float_divmod(a, b, &m); }
__device__ __forceinline__ float _remainder(float a, float b) {
  float m; if (b == 0.0f) return fmodf(a, b); _float_divmod(a, b, &m); return m;
}
__device__ __forceinline__ double _remainder(double a, double b) {
  double m; if (b == 0.0) return fmod(a, b); _float_divmod(a, b, &m); return m;
}

// complex arithmetic as NumPy's (naive product, Smith's division)
template <typename T> __device__ __forceinline__ complex<T> _complex_multiply(complex<T> a, complex<T> b) {
  return complex<T>(a.real() * b.real() - a.imag() * b.imag(), a.real() * b.imag() + a.imag() * b.real());
}
template <typename T> __device__ complex<T> _complex_divide(complex<T> a, complex<T> b) {
  T ar = a.real(), ai = a.imag(), br = b.real(), bi = b.imag();
  T abs_br = fabs(br), abs_bi = fabs(bi);
  if (abs_br >= abs_bi) {
    if (abs_br == T(0) && abs_bi == T(0)) return complex<T>(ar / abs_br, ai / abs_br);
    T rat = bi / br, scl = T(1) / (br + bi * rat);
    return complex<T>((ar + ai * rat) * scl, (ai - ar * rat) * scl);
  }
  T rat = br / bi, scl = T(1) / (bi + br * rat);
  return complex<T>((ar * rat + ai) * scl, (ai * rat - ar) * scl);
}
template <typename T> __device__ __forceinline__ complex<T> _complex_reciprocal(complex<T> z) {
  return _complex_divide(complex<T>(T(1), T(0)), z);
}
template <typename T> __device__ __forceinline__ complex<T> _complex_exp2(complex<T> z) {
  const T ln2 = T(0.6931471805599453);
  return exp(complex<T>(z.real() * ln2, z.imag() * ln2));
}
template <typename T> __device__ __forceinline__ complex<T> _complex_expm1(complex<T> z) {
  T a = sin(z.imag() / T(2));
  return complex<T>(expm1(z.real()) * cos(z.imag()) - T(2) * a * a, exp(z.real()) * sin(z.imag()));
}
// NumPy scales the natural logarithm by log2(e) (log10(e)); thrust divides by log(2)
template <typename T> __device__ __forceinline__ complex<T> _complex_log2(complex<T> z) {
  const complex<T> y = log(z);
  const T scale = T(1.4426950408889634);
  return complex<T>(y.real() * scale, y.imag() * scale);
}
template <typename T> __device__ __forceinline__ complex<T> _complex_log10(complex<T> z) {
  const complex<T> y = log(z);
  const T scale = T(0.4342944819032518);
  return complex<T>(y.real() * scale, y.imag() * scale);
}
template <typename T> __device__ __forceinline__ complex<T> _complex_log1p(complex<T> z) {
  T re = z.real() + T(1);
  return complex<T>(log(hypot(re, z.imag())), atan2(z.imag(), re));
}

// power: integers by squaring (wrapping; a negative exponent gives 0 and, for signed
// integers, sets the kernel's status, so that the host raises NumPy's error), floats as
// C's pow, complex numbers as NumPy's (exact small integer exponents)
template <typename T> __device__ T _power(T a, T b) {
  if (b < T(0)) return T(0);
  unsigned long long base = (unsigned long long)a, result = 1ULL, e = (unsigned long long)b;
  while (e) {
    if (e & 1ULL) result *= base;
    base *= base;
    e >>= 1;
  }
  return T(result);
}
template <typename T> __device__ __forceinline__ T _checked_power(T a, T b, int& status) {
  if (b < T(0)) status = 1;
  return _power(a, b);
}
__device__ __forceinline__ float _power(float a, float b) { return powf(a, b); }
__device__ __forceinline__ double _power(double a, double b) { return pow(a, b); }
template <typename T> __device__ complex<T> _power(complex<T> a, complex<T> b) {
  T br = b.real(), bi = b.imag();
  if (br == T(0) && bi == T(0)) return complex<T>(T(1), T(0));
  if (a.real() == T(0) && a.imag() == T(0)) {
    if (br > T(0) && bi == T(0)) return complex<T>(T(0), T(0));
    return complex<T>(_nan_of(br), _nan_of(br));
  }
  if (bi == T(0) && br == floor(br) && br > T(-100) && br < T(100)) {
    int n = (int)br;
    if (n == 1) return a;
    if (n == 2) return _complex_multiply(a, a);
    if (n == 3) return _complex_multiply(a, _complex_multiply(a, a));
    unsigned int m = n < 0 ? -n : n, mask = 1;
    complex<T> result(T(1), T(0)), power = a;
    while (true) {
      if (m & mask) result = _complex_multiply(result, power);
      mask <<= 1;
      if (m < mask) break;
      power = _complex_multiply(power, power);
    }
    if (br < T(0)) return _complex_divide(complex<T>(T(1), T(0)), result);
    return result;
  }
  return exp(b * log(a));
}

// sign: nan stays nan, both zeros give +0, complex numbers z / |z|
template <typename T> __device__ __forceinline__ T _sign(T x) { return T((x > T(0)) - (x < T(0))); }
__device__ __forceinline__ float _sign(float x) {
  return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : (x != x ? x : 0.0f));
}
__device__ __forceinline__ double _sign(double x) {
  return x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : (x != x ? x : 0.0));
}
template <typename T> __device__ complex<T> _sign(complex<T> z) {
  T re = z.real(), im = z.imag(), size = hypot(re, im);
  if (size == T(0)) return complex<T>(T(0), T(0));
  if (isinf(size)) {
    if (isinf(re) && isinf(im)) return complex<T>(_nan_of(re), _nan_of(re));
    if (isinf(re)) return complex<T>(_sign(re), T(0));
    return complex<T>(T(0), _sign(im));
  }
  if (size != size) return complex<T>(_nan_of(re), _nan_of(re));
  return complex<T>(re / size, im / size);
}

// sigmoid and softplus without overflow
template <typename F> __device__ __forceinline__ F _sigmoid(F x) {
  if (x >= F(0)) return F(1) / (F(1) + exp(-x));
  F e = exp(x);
  return e / (F(1) + e);
}
template <typename F> __device__ __forceinline__ F _softplus(F x) {
  if (x > F(0)) return x + log1p(exp(-x));
  return log1p(exp(x));
}
// the gamma family (in double, as the reference's SciPy computes them) and the inverse
// error functions (CUDA's); poles and infinities as in croton_numba.prelude
__device__ __forceinline__ float _erfinv(float x) { return erfinvf(x); }
__device__ __forceinline__ double _erfinv(double x) { return erfinv(x); }
__device__ __forceinline__ float _erfcinv(float x) { return erfcinvf(x); }
__device__ __forceinline__ double _erfcinv(double x) { return erfcinv(x); }
template <typename F> __device__ __forceinline__ F _gammaln(F x) { return F(lgamma(double(x))); }
#define _PI_DOUBLE 3.141592653589793
__device__ double _digamma_double(double x) {
  if (x != x || x == -_inf_double()) return _nan_double();
  if (x == _inf_double()) return _inf_double();
  if (x == 0.0) return signbit(x) ? _inf_double() : -_inf_double();
  double result = 0.0;
  if (x < 0.0) {
    if (x == floor(x)) return _nan_double();
    result = -_PI_DOUBLE / tan(_PI_DOUBLE * (x - rint(x)));  // psi(1 - x) - pi / tan(pi x)
    x = 1.0 - x;
  }
  for (; x < 10.0; x += 1.0) result -= 1.0 / x;
  double f = 1.0 / (x * x);
  double tail = f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f * (1.0 / 132
                - f * (691.0 / 32760 - f / 12))))));
  return result + log(x) - 0.5 / x - tail;
}
__device__ double _trigamma_double(double x) {
  if (x != x) return _nan_double();
  if (x == _inf_double()) return 0.0;
  if (x == -_inf_double() || (x <= 0.0 && x == floor(x))) return _inf_double();
  double result = 0.0, sign = 1.0;
  if (x < 0.0) {  // psi'(x) = pi**2 / sin(pi x)**2 - psi'(1 - x)
    double s = sin(_PI_DOUBLE * (x - rint(x)));
    result = _PI_DOUBLE * _PI_DOUBLE / (s * s);
    sign = -1.0;
    x = 1.0 - x;
  }
  double total = 0.0;
  for (; x < 10.0; x += 1.0) total += 1.0 / (x * x);
  double f = 1.0 / (x * x);
  double tail = (1.0 / 6 - f * (1.0 / 30 - f * (1.0 / 42 - f * (1.0 / 30 - f * (5.0 / 66
                - f * (691.0 / 2730 - f * 7.0 / 6)))))) / (x * x * x);
  return result + sign * (total + 1.0 / x + 0.5 * f + tail);
}
template <typename F> __device__ __forceinline__ F _digamma(F x) { return F(_digamma_double(double(x))); }
template <typename F> __device__ __forceinline__ F _trigamma(F x) { return F(_trigamma_double(double(x))); }
template <typename F> __device__ __forceinline__ F _round_half_away(F x) {
  F t = trunc(x);
  return fabs(x - t) >= F(0.5) ? t + copysign(F(1), x) : t;
}

// minimum and maximum: nan wins; a tie (0.0 and -0.0) gives the second argument, or the
// first for float16 (NumPy's half-precision loops); complex numbers order lexicographically
template <typename T> __device__ __forceinline__ T _minimum(T a, T b) { return (a != a) ? a : (a < b ? a : b); }
template <typename T> __device__ __forceinline__ T _maximum(T a, T b) { return (a != a) ? a : (a > b ? a : b); }
template <typename T> __device__ __forceinline__ T _minimum_first(T a, T b) { return (a <= b || a != a) ? a : b; }
template <typename T> __device__ __forceinline__ T _maximum_first(T a, T b) { return (a >= b || a != a) ? a : b; }
template <typename T> __device__ __forceinline__ bool _lt(complex<T> a, complex<T> b) {
  return a.real() < b.real() || (a.real() == b.real() && a.imag() < b.imag());
}
template <typename T> __device__ __forceinline__ bool _le(complex<T> a, complex<T> b) {
  return a.real() < b.real() || (a.real() == b.real() && a.imag() <= b.imag());
}
template <typename T> __device__ __forceinline__ complex<T> _minimum(complex<T> a, complex<T> b) {
  if (isnan(a)) return a;
  if (isnan(b)) return b;
  return _lt(a, b) ? a : b;
}
template <typename T> __device__ __forceinline__ complex<T> _maximum(complex<T> a, complex<T> b) {
  if (isnan(a)) return a;
  if (isnan(b)) return b;
  return _lt(b, a) ? a : b;
}
template <typename T> __device__ __forceinline__ T _clip(T x, T lo, T hi) { return _minimum(_maximum(x, lo), hi); }
template <typename T> __device__ __forceinline__ T _clip_first(T x, T lo, T hi) {
  return _minimum_first(_maximum_first(x, lo), hi);
}
"""

#: rounding to half precision, for kernels with float16 values
HALF_PRELUDE = r"""
__device__ __forceinline__ float _to_half(float x) { return float(float16(x)); }
__device__ __forceinline__ float _to_half(double x) { return float(float16(x)); }
"""

#: (value, index) pairs for argmax and argmin: nan wins, ties and nans go to the first
#: index, complex numbers order lexicographically (NumPy's rules); index -1 is empty
INDEXED_PRELUDE = r"""
template <typename T> struct _croton_indexed {
  T value;
  long long index;
  __device__ _croton_indexed() : value(), index(-1) {}
  __device__ _croton_indexed(T v, long long i) : value(v), index(i) {}
};
template <typename T> __device__ __forceinline__ bool _is_nan_value(T x) { return x != x; }
template <typename T> __device__ __forceinline__ bool _is_nan_value(complex<T> x) { return isnan(x); }
template <typename T> __device__ __forceinline__ bool _greater(T a, T b) { return a > b; }
template <typename T> __device__ __forceinline__ bool _greater(complex<T> a, complex<T> b) { return _lt(b, a); }
template <typename T>
__device__ __forceinline__ _croton_indexed<T> _arg_extreme(
    const _croton_indexed<T>& a, const _croton_indexed<T>& b, bool largest) {
  if (a.index < 0) return b;
  if (b.index < 0) return a;
  bool a_nan = _is_nan_value(a.value), b_nan = _is_nan_value(b.value);
  if (a_nan || b_nan) {
    if (a_nan && b_nan) return a.index < b.index ? a : b;
    return a_nan ? a : b;
  }
  if (largest ? _greater(a.value, b.value) : _greater(b.value, a.value)) return a;
  if (largest ? _greater(b.value, a.value) : _greater(a.value, b.value)) return b;
  return a.index < b.index ? a : b;
}
template <typename T>
__device__ __forceinline__ _croton_indexed<T> _argmax_pair(const _croton_indexed<T>& a, const _croton_indexed<T>& b) {
  return _arg_extreme(a, b, true);
}
template <typename T>
__device__ __forceinline__ _croton_indexed<T> _argmin_pair(const _croton_indexed<T>& a, const _croton_indexed<T>& b) {
  return _arg_extreme(a, b, false);
}
"""


def assignment(target: str, expression: str, have: str, dtype: str) -> str:
    """The assignment (no semicolon: CuPy wraps a reduction's in parentheses) storing ``expression`` (a `value_type` value of dtype ``have``, already
    converted) into element ``target`` of ``dtype``.

    The conversion follows `convert`; a float16 element rounds on its own.
    """
    value = expression if have == dtype else convert(expression, have, dtype)
    if dtype == "float16" and _whole_call(value, "_to_half"):
        value = value[len("_to_half(") : -1]
    return f"{target} = {store(value, dtype)}"


def _whole_call(expression: str, function: str) -> bool:
    """Whether ``expression`` is one call of ``function`` (not ``f(a) + f(b)``)."""
    if not (expression.startswith(function + "(") and expression.endswith(")")):
        return False
    depth = 0
    for position, character in enumerate(expression):
        depth += {"(": 1, ")": -1}.get(character, 0)
        if depth == 0 and position > len(function):
            return position == len(expression) - 1
    return False
