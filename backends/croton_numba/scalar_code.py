"""Scalar ops as numba source: the expression each op becomes inside a fused loop.

`scalar_expression(name, args, in_dtypes, out_dtype)` returns Python source (valid in
numba's nopython mode) computing one element. Transcendental functions of float32 and
float64 call the branch-free polynomial versions of `croton_numba.mathlib` where it has
them (they inline and vectorize; numba's own ``np.exp`` is a scalar libm call), and
numpy's scalar functions otherwise.

Every expression is wrapped in a conversion to the step's dtype, which is also how
integer results wrap around as NumPy's do.
"""

from __future__ import annotations

import math

import numpy as np

#: op name -> template over ``{0}``, ``{1}``, ... (the arguments' source)
TEMPLATES: dict[str, str] = {
    "add": "({0} + {1})",
    "sub": "({0} - {1})",
    "mul": "({0} * {1})",
    "true_div": "({0} / {1})",
    "int_div": "_floor_divide({0}, {1})",
    "mod": "_remainder({0}, {1})",
    "pow": "_power({0}, {1})",
    "neg": "(-{0})",
    "abs": "abs({0})",
    "sign": "_sign({0})",
    "exp": "np.exp({0})",
    "exp2": "np.exp2({0})",
    "expm1": "np.expm1({0})",
    "log": "np.log({0})",
    "log2": "np.log2({0})",
    "log10": "np.log10({0})",
    "log1p": "np.log1p({0})",
    "sqrt": "np.sqrt({0})",
    "sqr": "({0} * {0})",
    "reciprocal": "(1.0 / {0})",
    "sin": "np.sin({0})",
    "cos": "np.cos({0})",
    "tan": "np.tan({0})",
    "arcsin": "np.arcsin({0})",
    "arccos": "np.arccos({0})",
    "arctan": "np.arctan({0})",
    "arctan2": "np.arctan2({0}, {1})",
    "sinh": "np.sinh({0})",
    "cosh": "np.cosh({0})",
    "tanh": "np.tanh({0})",
    "arcsinh": "np.arcsinh({0})",
    "arccosh": "np.arccosh({0})",
    "arctanh": "np.arctanh({0})",
    "sigmoid": "_sigmoid({0})",
    "softplus": "_softplus({0})",
    "erf": "math.erf({0})",
    "erfc": "math.erfc({0})",
    "floor": "np.floor({0})",
    "ceil": "np.ceil({0})",
    "round": "np.rint({0})",
    "round_half_away_from_zero": "_round_half_away({0})",
    "trunc": "np.trunc({0})",
    "clip": "_clip({0}, {1}, {2})",
    "minimum": "_minimum({0}, {1})",
    "maximum": "_maximum({0}, {1})",
    "lt": "({0} < {1})",
    "gt": "({0} > {1})",
    "le": "({0} <= {1})",
    "ge": "({0} >= {1})",
    "eq": "({0} == {1})",
    "neq": "({0} != {1})",
    "and": "({0} & {1})",
    "or": "({0} | {1})",
    "xor": "({0} ^ {1})",
    "invert": "(~{0})",
    "isnan": "np.isnan({0})",
    "isinf": "np.isinf({0})",
    "switch": "({1} if {0} else {2})",
    "identity": "{0}",
}

#: per-dtype overrides: (op name, kind) -> template
_KIND_OVERRIDES = {
    ("invert", "b"): "(not {0})",
    ("abs", "b"): "{0}",
    ("round", "i"): "{0}",
    ("round", "u"): "{0}",
    ("round_half_away_from_zero", "i"): "{0}",
    ("round_half_away_from_zero", "u"): "{0}",
    ("sign", "b"): "{0}",
    ("and", "b"): "({0} and {1})",
    ("or", "b"): "({0} or {1})",
    ("xor", "b"): "({0} != {1})",
    ("add", "b"): "({0} or {1})",
    ("mul", "b"): "({0} and {1})",
    ("maximum", "b"): "({0} or {1})",
    ("minimum", "b"): "({0} and {1})",
    ("sqr", "b"): "{0}",
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
    ("sinh", "c"): "_csinh({0})",
    ("cosh", "c"): "_ccosh({0})",
    ("tanh", "c"): "_ctanh({0})",
    ("arccosh", "c"): "_carccosh({0})",
}

#: per-dtype overrides: (op name, dtype) -> template (NumPy's float16 loops break ties
#: between 0.0 and -0.0 the other way round)
_DTYPE_OVERRIDES = {
    ("minimum", "float16"): "_minimum_first({0}, {1})",
    ("maximum", "float16"): "_maximum_first({0}, {1})",
    ("clip", "float16"): "_clip_first({0}, {1}, {2})",
}

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
    kind = np.dtype(compute).kind
    # half precision computes in single precision, as NumPy's float16 loops do
    function = mathlib.get((name, "float32" if compute == "float16" else compute))
    if function is not None:
        expression = f"{function}({', '.join(args)})"
    else:
        template = _DTYPE_OVERRIDES.get(
            (name, compute), _KIND_OVERRIDES.get((name, kind), TEMPLATES[name])
        )
        expression = template.format(*args)
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
