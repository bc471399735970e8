"""The table of scalar operations that `Elemwise` maps over arrays.

Each entry says everything about an elementwise operation that is not a kernel: its
arity, how its output dtype follows from the inputs (NumPy 2's rules, with Python
scalars weak), and its gradient. Backends map the names to kernels.

A gradient rule receives the tensor inputs, the output and the output gradient, and
returns one expression per input, or None where the gradient is zero.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np


class ScalarOp:
    """One elementwise operation.

    Parameters
    ----------
    name
        The name backends key their kernels on (``"add"``, ``"exp"``...).
    nin
        The number of inputs.
    dtype_rule
        A numpy ufunc whose type resolution croton follows, or a callable mapping input
        dtypes (or Python types, for weak scalars) to ``(input_dtypes, output_dtype)``.
    grad
        ``grad(inputs, output, output_grad) -> list`` or None for piecewise-constant ops.
    params
        Extra parameters that are part of the op's identity (``Cast``'s dtype).
    """

    __slots__ = ("name", "nin", "dtype_rule", "grad_rule", "params", "commutative", "associative")

    def __init__(
        self,
        name: str,
        nin: int,
        dtype_rule,
        grad: Callable | None,
        params: tuple = (),
        commutative: bool = False,
        associative: bool = False,
    ):
        self.name = name
        self.nin = nin
        self.dtype_rule = dtype_rule
        self.grad_rule = grad
        self.params = params
        self.commutative = commutative
        self.associative = associative

    def __eq__(self, other) -> bool:
        return isinstance(other, ScalarOp) and (self.name, self.params) == (
            other.name,
            other.params,
        )

    def __hash__(self) -> int:
        return hash((self.name, self.params))

    def __reduce__(self):
        if self.params:
            return (_parametrised, (self.name, self.params))
        return (_by_name, (self.name,))

    def __str__(self) -> str:
        return (
            self.name if not self.params else f"{self.name}{{{', '.join(map(str, self.params))}}}"
        )

    __repr__ = __str__

    def resolve(self, inputs: list) -> tuple[list[str], str]:
        """Input and output dtypes for inputs given as dtype names or Python types.

        A Python type (``int``, ``float``, ``complex``, ``bool``) stands for a weak scalar.
        """
        if len(inputs) != self.nin:
            raise TypeError(f"{self.name} takes {self.nin} inputs, got {len(inputs)}")
        rule = self.dtype_rule
        try:
            if isinstance(rule, np.ufunc):
                loop = rule.resolve_dtypes(
                    tuple(_as_dtype(i) for i in inputs) + (None,) * rule.nout
                )
                return [d.name for d in loop[: self.nin]], loop[self.nin].name
            return rule(inputs)
        except TypeError as err:
            names = ", ".join(i if isinstance(i, str) else f"python {i.__name__}" for i in inputs)
            raise TypeError(
                f"{self.name} is not defined for inputs of dtype ({names}): {err}"
            ) from None


def _as_dtype(i):
    # a Python bool is the lowest kind, so as a weak scalar it promotes like numpy.bool
    return np.dtype(i) if isinstance(i, str) or i is bool else i


def _promote(inputs) -> str:
    return np.result_type(*[_as_dtype(i) if isinstance(i, str) else i(0) for i in inputs]).name


def _float_rule(inputs):
    """Transcendental functions: NumPy's rule for ``exp`` (ints become floats)."""
    (dtype,) = np.exp.resolve_dtypes((_as_dtype(_promote(inputs)), None))[:1]
    return [dtype.name] * len(inputs), dtype.name


def _real_float_rule(inputs):
    """Like `_float_rule`, for functions defined on the real line only (sigmoid, erf)."""
    input_dtypes, dtype = _float_rule(inputs)
    if np.dtype(dtype).kind == "c":
        raise TypeError("defined for real numbers only")
    return input_dtypes, dtype


def _same_rule(inputs):
    dtype = _promote(inputs)
    return [dtype] * len(inputs), dtype


def _switch_rule(inputs):
    cond, *branches = inputs
    dtype = _promote(branches)
    return ["bool", dtype, dtype], dtype


def _reciprocal_rule(inputs):
    loop = np.true_divide.resolve_dtypes((int, _as_dtype(inputs[0]), None))
    return [loop[1].name], loop[2].name


def _round_rule(inputs):
    """``numpy.round``: integers keep their dtype, everything else follows ``rint``."""
    (dtype,) = inputs
    if isinstance(dtype, str) and np.dtype(dtype).kind in "iu":
        return [dtype], dtype
    loop = np.rint.resolve_dtypes((_as_dtype(dtype), None))
    return [loop[0].name], loop[1].name


def _round_away_rule(inputs):
    """`_round_rule` for real numbers only (it rounds through ``trunc``)."""
    input_dtypes, dtype = _round_rule(inputs)
    if np.dtype(dtype).kind == "c":
        raise TypeError("defined for real numbers only")
    return input_dtypes, dtype


def _cast_rule(dtype):
    def rule(inputs):
        return [_promote(inputs)], dtype

    return rule


# -- gradient rules, in terms of croton.tensor expressions -------------------------------


def _t():
    import croton.tensor.math as tm

    return tm


def _zero(inputs, output, g):
    return [None] * len(inputs)


def _add(inputs, z, g):
    return [g] * len(inputs)


def _sub(inputs, z, g):
    return [g, -g]


def _mul(inputs, z, g):
    x, y = inputs
    return [g * y, g * x]


def _true_div(inputs, z, g):
    x, y = inputs
    return [g / y, -g * z / y]


def _mod(inputs, z, g):
    x, y = inputs
    return [g, -g * _t().int_div(x, y)]


def _pow(inputs, z, g):
    tm = _t()
    x, y = inputs
    gx = g * y * x ** (y - 1)
    # d(x**y)/dy = x**y log(x), taken as 0 at x == 0 (where x**y is 0 for y > 0)
    gy = tm.switch(tm.eq(x, 0), 0, g * z * tm.log(tm.switch(tm.eq(x, 0), 1, x)))
    return [gx, gy]


def _arctan2(inputs, z, g):
    y, x = inputs
    denominator = x * x + y * y
    return [g * x / denominator, -g * y / denominator]


def _clip(inputs, z, g):
    tm = _t()
    x, low, high = inputs
    inside = tm.and_(tm.ge(x, low), tm.le(x, high))
    return [
        tm.switch(inside, g, 0),
        tm.switch(tm.lt(x, low), g, 0),
        tm.switch(tm.gt(x, high), g, 0),
    ]


def _extremum(inputs, z, g):
    tm = _t()
    x, y = inputs
    return [tm.switch(tm.eq(z, x), g, 0), tm.switch(tm.eq(z, y), g, 0)]


def _switch(inputs, z, g):
    tm = _t()
    cond, a, b = inputs
    return [None, tm.switch(cond, g, 0), tm.switch(cond, 0, g)]


def _cast(inputs, z, g):
    (x,) = inputs
    return [_t().cast(g, x.dtype)]


def _unary(derivative: Callable) -> Callable:
    """A rule for f(x) from ``derivative(x, z)``, the derivative at x with z = f(x)."""

    def rule(inputs, z, g):
        return [g * derivative(inputs[0], z)]

    return rule


def _gradient_not_implemented(name: str, derivative: str) -> Callable:
    def rule(inputs, z, g):
        raise NotImplementedError(
            f"the gradient of {name} ({derivative}) is not implemented; pass its input "
            f"in grad(..., consider_constant=[...]) or write the gradient by hand"
        )

    return rule


#: scalar ops whose gradient raises (their derivative is not a scalar op)
GRADIENT_NOT_IMPLEMENTED = ("tri_gamma",)

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2.0

_u = _unary
_TABLE = [
    # name, nin, dtype rule, gradient, flags
    ("add", 2, np.add, _add, "ca"),
    ("sub", 2, np.subtract, _sub, ""),
    ("mul", 2, np.multiply, _mul, "ca"),
    ("true_div", 2, np.true_divide, _true_div, ""),
    ("int_div", 2, np.floor_divide, _zero, ""),
    ("mod", 2, np.remainder, _mod, ""),
    ("pow", 2, np.power, _pow, ""),
    ("neg", 1, np.negative, _u(lambda x, z: -1), ""),
    ("abs", 1, np.absolute, _u(lambda x, z: _t().sign(x)), ""),
    ("sign", 1, np.sign, _zero, ""),
    ("exp", 1, np.exp, _u(lambda x, z: z), ""),
    ("exp2", 1, np.exp2, _u(lambda x, z: z * _LN2), ""),
    ("expm1", 1, np.expm1, _u(lambda x, z: z + 1), ""),
    ("log", 1, np.log, _u(lambda x, z: 1 / x), ""),
    ("log2", 1, np.log2, _u(lambda x, z: 1 / (x * _LN2)), ""),
    ("log10", 1, np.log10, _u(lambda x, z: 1 / (x * _LN10)), ""),
    ("log1p", 1, np.log1p, _u(lambda x, z: 1 / (1 + x)), ""),
    ("sqrt", 1, np.sqrt, _u(lambda x, z: 0.5 / z), ""),
    ("sqr", 1, np.square, _u(lambda x, z: 2 * x), ""),
    ("reciprocal", 1, _reciprocal_rule, _u(lambda x, z: -z * z), ""),
    ("sin", 1, np.sin, _u(lambda x, z: _t().cos(x)), ""),
    ("cos", 1, np.cos, _u(lambda x, z: -_t().sin(x)), ""),
    ("tan", 1, np.tan, _u(lambda x, z: 1 + z * z), ""),
    ("arcsin", 1, np.arcsin, _u(lambda x, z: 1 / _t().sqrt(1 - x * x)), ""),
    ("arccos", 1, np.arccos, _u(lambda x, z: -1 / _t().sqrt(1 - x * x)), ""),
    ("arctan", 1, np.arctan, _u(lambda x, z: 1 / (1 + x * x)), ""),
    ("arctan2", 2, np.arctan2, _arctan2, ""),
    ("sinh", 1, np.sinh, _u(lambda x, z: _t().cosh(x)), ""),
    ("cosh", 1, np.cosh, _u(lambda x, z: _t().sinh(x)), ""),
    ("tanh", 1, np.tanh, _u(lambda x, z: 1 - z * z), ""),
    ("arcsinh", 1, np.arcsinh, _u(lambda x, z: 1 / _t().sqrt(x * x + 1)), ""),
    ("arccosh", 1, np.arccosh, _u(lambda x, z: 1 / _t().sqrt(x * x - 1)), ""),
    ("arctanh", 1, np.arctanh, _u(lambda x, z: 1 / (1 - x * x)), ""),
    ("sigmoid", 1, _real_float_rule, _u(lambda x, z: z * _t().sigmoid(-x)), ""),
    ("softplus", 1, _real_float_rule, _u(lambda x, z: _t().sigmoid(x)), ""),
    ("erf", 1, _real_float_rule, _u(lambda x, z: _TWO_OVER_SQRT_PI * _t().exp(-x * x)), ""),
    ("erfc", 1, _real_float_rule, _u(lambda x, z: -_TWO_OVER_SQRT_PI * _t().exp(-x * x)), ""),
    ("gamma", 1, _real_float_rule, _u(lambda x, z: z * _t().psi(x)), ""),
    ("gammaln", 1, _real_float_rule, _u(lambda x, z: _t().psi(x)), ""),
    ("psi", 1, _real_float_rule, _u(lambda x, z: _t().tri_gamma(x)), ""),
    (
        "tri_gamma",
        1,
        _real_float_rule,
        _gradient_not_implemented("tri_gamma", "polygamma(2, x)"),
        "",
    ),
    ("erfinv", 1, _real_float_rule, _u(lambda x, z: _SQRT_PI_OVER_TWO * _t().exp(z * z)), ""),
    ("erfcinv", 1, _real_float_rule, _u(lambda x, z: -_SQRT_PI_OVER_TWO * _t().exp(z * z)), ""),
    ("floor", 1, np.floor, _zero, ""),
    ("ceil", 1, np.ceil, _zero, ""),
    ("round", 1, _round_rule, _zero, ""),
    ("round_half_away_from_zero", 1, _round_away_rule, _zero, ""),
    ("trunc", 1, np.trunc, _zero, ""),
    ("clip", 3, _same_rule, _clip, ""),
    ("minimum", 2, np.minimum, _extremum, "ca"),
    ("maximum", 2, np.maximum, _extremum, "ca"),
    ("lt", 2, np.less, _zero, ""),
    ("gt", 2, np.greater, _zero, ""),
    ("le", 2, np.less_equal, _zero, ""),
    ("ge", 2, np.greater_equal, _zero, ""),
    ("eq", 2, np.equal, _zero, "c"),
    ("neq", 2, np.not_equal, _zero, "c"),
    ("and", 2, np.bitwise_and, _zero, "ca"),
    ("or", 2, np.bitwise_or, _zero, "ca"),
    ("xor", 2, np.bitwise_xor, _zero, "ca"),
    ("invert", 1, np.invert, _zero, ""),
    ("isnan", 1, np.isnan, _zero, ""),
    ("isinf", 1, np.isinf, _zero, ""),
    ("switch", 3, _switch_rule, _switch, ""),
    ("identity", 1, _same_rule, _add, ""),
]

#: every scalar op by name; ``cast`` is parametrised and made by `cast_op`
SCALAR_OPS: dict[str, ScalarOp] = {
    name: ScalarOp(
        name,
        nin,
        rule,
        None if grad is _zero else grad,
        commutative="c" in flags,
        associative="a" in flags,
    )
    for name, nin, rule, grad, flags in _TABLE
}


def cast_op(dtype: str) -> ScalarOp:
    """The scalar op converting to ``dtype``."""
    return ScalarOp("cast", 1, _cast_rule(dtype), _cast, params=(dtype,))


def _by_name(name: str) -> ScalarOp:
    return SCALAR_OPS[name]


def _parametrised(name: str, params: tuple) -> ScalarOp:
    if name == "cast":
        return cast_op(*params)
    raise ValueError(f"unknown parametrised scalar op {name!r}")


#: all scalar op names a backend must lower, ``cast`` included
SCALAR_OP_NAMES = tuple(SCALAR_OPS) + ("cast",)
