"""Scalar ops as source text: the one template table code-generating backends share.

A backend that generates code (the numba backend writes Python, the CuPy backend CUDA
C++) renders each scalar op of a fused loop from a template over ``{0}``, ``{1}``, ...
(the arguments' source). `TEMPLATES` spells every op the way C does; where a language
spells an op differently, its `ScalarSyntax` overrides that entry, for every dtype, for
a dtype kind (``"b"``, ``"c"``...) or for one dtype.

Names that start with an underscore (``_floor_divide``, ``_sigmoid``...) are helper
functions each backend defines in its own prelude, with NumPy's semantics.
"""

from __future__ import annotations

import numpy as np

#: op name -> template, as C spells it; languages override what they spell differently
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
    "exp": "exp({0})",
    "exp2": "exp2({0})",
    "expm1": "expm1({0})",
    "log": "log({0})",
    "log2": "log2({0})",
    "log10": "log10({0})",
    "log1p": "log1p({0})",
    "sqrt": "sqrt({0})",
    "sqr": "({0} * {0})",
    "reciprocal": "(1.0 / {0})",
    "sin": "sin({0})",
    "cos": "cos({0})",
    "tan": "tan({0})",
    "arcsin": "asin({0})",
    "arccos": "acos({0})",
    "arctan": "atan({0})",
    "arctan2": "atan2({0}, {1})",
    "sinh": "sinh({0})",
    "cosh": "cosh({0})",
    "tanh": "tanh({0})",
    "arcsinh": "asinh({0})",
    "arccosh": "acosh({0})",
    "arctanh": "atanh({0})",
    "sigmoid": "_sigmoid({0})",
    "softplus": "_softplus({0})",
    "erf": "erf({0})",
    "erfc": "erfc({0})",
    "erfinv": "_erfinv({0})",
    "erfcinv": "_erfcinv({0})",
    "gamma": "tgamma({0})",
    "gammaln": "_gammaln({0})",
    "psi": "_digamma({0})",
    "tri_gamma": "_trigamma({0})",
    "floor": "floor({0})",
    "ceil": "ceil({0})",
    "round": "rint({0})",
    "round_half_away_from_zero": "_round_half_away({0})",
    "trunc": "trunc({0})",
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
    "isnan": "isnan({0})",
    "isinf": "isinf({0})",
    "switch": "({0} ? {1} : {2})",
    "identity": "{0}",
}

#: the same for every language: booleans and ops whose value is their argument's
_COMMON_KIND_TEMPLATES = {
    ("abs", "b"): "{0}",
    ("round", "i"): "{0}",
    ("round", "u"): "{0}",
    ("round_half_away_from_zero", "i"): "{0}",
    ("round_half_away_from_zero", "u"): "{0}",
    ("sign", "b"): "{0}",
    ("sqr", "b"): "{0}",
    ("xor", "b"): "({0} != {1})",
}


class ScalarSyntax:
    """One language's spelling of the scalar ops: `TEMPLATES` and its overrides.

    Parameters
    ----------
    overrides
        ``{op name: template}`` for every dtype.
    kind_overrides
        ``{(op name, dtype kind): template}``.
    dtype_overrides
        ``{(op name, dtype name): template}``; the most specific entry wins.
    """

    def __init__(
        self,
        overrides: dict[str, str] | None = None,
        kind_overrides: dict[tuple[str, str], str] | None = None,
        dtype_overrides: dict[tuple[str, str], str] | None = None,
    ):
        self.overrides = {**TEMPLATES, **(overrides or {})}
        self.kind_overrides = {**_COMMON_KIND_TEMPLATES, **(kind_overrides or {})}
        self.dtype_overrides = dict(dtype_overrides or {})

    def template(self, name: str, dtype: str) -> str:
        """The template of scalar op ``name`` computing in ``dtype``."""
        found = self.dtype_overrides.get((name, dtype))
        if found is None:
            found = self.kind_overrides.get((name, np.dtype(dtype).kind))
        if found is None:
            found = self.overrides[name]
        return found

    def render(self, name: str, args: list[str], dtype: str) -> str:
        """Source computing op ``name`` on ``args`` (already of ``dtype``)."""
        return self.template(name, dtype).format(*args)

    def __contains__(self, name: str) -> bool:
        return name in self.overrides
