"""Scalar ops as numba source: the expression each op becomes inside a fused loop.

`scalar_expression(name, args, in_dtypes, out_dtype)` returns Python source (valid in
numba's nopython mode) computing one element. Transcendental functions of float32 and
float64 call the branch-free polynomial versions of `croton_numba.mathlib` where it has
them (they inline and vectorize; numba's own ``np.exp`` is a scalar libm call), and
numpy's scalar functions otherwise. The templates are the core's shared table
(`croton.codegen.TEMPLATES`) with Python's spelling where it differs from C's.

Every expression is wrapped in a conversion to the step's dtype, which is also how
integer results wrap around as NumPy's do.
"""

from __future__ import annotations

import math

import numpy as np

from croton.codegen import ScalarSyntax

#: the functions numba calls as numpy's (``np.exp``), by their names in numpy
_NUMPY_FUNCTIONS = (
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "sin", "cos", "tan",
    "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh", "tanh", "arcsinh", "arccosh",
    "arctanh", "floor", "ceil", "trunc", "isnan", "isinf",
)  # fmt: skip

#: Python's spelling of the scalar ops: the core's shared table (`croton.codegen`) with
#: numpy's functions, Python's conditional expression and logic on booleans, and helpers
#: for complex comparisons and NumPy's float16 ties between 0.0 and -0.0
SYNTAX = ScalarSyntax(
    overrides={
        **{
            name: f"np.{name}({{0}}, {{1}})" if name == "arctan2" else f"np.{name}({{0}})"
            for name in _NUMPY_FUNCTIONS
        },
        "round": "np.rint({0})",
        "erf": "math.erf({0})",
        "erfc": "math.erfc({0})",
        "gamma": "math.gamma(np.float64({0}))",
        "switch": "({1} if {0} else {2})",
    },
    kind_overrides={
        ("invert", "b"): "(not {0})",
        ("and", "b"): "({0} and {1})",
        ("or", "b"): "({0} or {1})",
        ("add", "b"): "({0} or {1})",
        ("mul", "b"): "({0} and {1})",
        ("maximum", "b"): "({0} or {1})",
        ("minimum", "b"): "({0} and {1})",
        ("lt", "c"): "_clt({0}, {1})",
        ("le", "c"): "_cle({0}, {1})",
        ("gt", "c"): "_cgt({0}, {1})",
        ("ge", "c"): "_cge({0}, {1})",
        ("minimum", "c"): "_cminimum({0}, {1})",
        ("maximum", "c"): "_cmaximum({0}, {1})",
        ("clip", "c"): "_cclip({0}, {1}, {2})",
        ("true_div", "c"): "_cdiv({0}, {1})",
        ("reciprocal", "c"): "_cdiv(1.0 + 0j, {0})",
        ("sign", "c"): "_csign({0})",
        ("pow", "c"): "_cpow({0}, {1})",
        ("pow", "i"): "_int_power({0}, {1})",
        ("sinh", "c"): "_csinh({0})",
        ("cosh", "c"): "_ccosh({0})",
        ("tanh", "c"): "_ctanh({0})",
        ("arccosh", "c"): "_carccosh({0})",
    },
    dtype_overrides={
        ("minimum", "float16"): "_minimum_first({0}, {1})",
        ("maximum", "float16"): "_maximum_first({0}, {1})",
        ("clip", "float16"): "_clip_first({0}, {1}, {2})",
    },
)

#: calls of the prelude's helpers that raise: a kernel making one keeps its loops serial,
#: because an exception raised inside a ``numba.prange`` loop comes out as a SystemError
RAISING_HELPERS = ("_int_power(",)

#: ops that call a `croton_numba.mathlib` function for float32/float64 arguments
MATHLIB_OPS = (
    "exp", "expm1", "log", "log1p", "log2", "log10", "exp2", "sin", "cos", "tanh",
    "sigmoid", "softplus", "erf", "erfc",
)  # fmt: skip


def numba_dtype(dtype: str) -> str:
    """The source naming ``dtype``'s storage in generated code (``np.float32``, ``np.bool_``).

    numba has no half-precision type: float16 arrays enter jitted code as their bits
    (``np.uint16``), and float16 values are float32 values rounded to half precision.
    """
    if dtype == "float16":
        return "np.uint16"
    return "np.bool_" if dtype == "bool" else f"np.{np.dtype(dtype).name}"


def literal(value, dtype: str) -> str:
    """Source for a scalar constant of ``dtype`` (nan and infinities included)."""
    kind = np.dtype(dtype).kind
    if dtype == "float16":
        return f"np.float32({_float(float(np.float16(value)))})"
    if kind == "b":
        return "True" if bool(value) else "False"
    if kind in "iu":
        return f"{numba_dtype(dtype)}({int(value)})"
    if kind == "c":
        value = complex(value)
        return f"{numba_dtype(dtype)}(complex({_float(value.real)}, {_float(value.imag)}))"
    return f"{numba_dtype(dtype)}({_float(float(value))})"


def _float(value: float) -> str:
    if math.isnan(value):
        return "np.nan"
    if math.isinf(value):
        return "np.inf" if value > 0 else "-np.inf"
    return repr(value)


def scalar_expression(name: str, args: list[str], in_dtypes, out_dtype: str, mathlib: dict) -> str:
    """Source computing scalar op ``name`` on ``args``, converted to ``out_dtype``.

    ``in_dtypes`` are the dtypes the op computes in (the arguments are converted to
    them first); ``mathlib`` maps ``(name, dtype)`` to the name of a polynomial function.
    """
    if name == "cast":
        return _convert(args[0], in_dtypes[0], out_dtype)
    # the arguments already hold values of in_dtypes (the caller converted them)
    compute = in_dtypes[-1]
    # half precision computes in single precision, as NumPy's float16 loops do
    function = mathlib.get((name, "float32" if compute == "float16" else compute))
    if function is not None:
        expression = f"{function}({', '.join(args)})"
    else:
        expression = SYNTAX.render(name, args, compute)
    return _convert(expression, None, out_dtype)


def _convert(expression: str, have: str | None, want: str) -> str:
    if have == want:
        return expression
    if want == "float16":
        return f"_half_value({expression})"
    if want == "bool":
        return f"({expression} != 0)"
    if np.dtype(want).kind == "u" and have is not None and np.dtype(have).kind == "f":
        # as numpy does: through a signed integer, so negative values wrap around
        return f"{numba_dtype(want)}(np.int64({expression}))"
    return f"{numba_dtype(want)}({expression})"
