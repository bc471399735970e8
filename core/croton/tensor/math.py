"""Elementwise math and reductions with Theano's names.

Python numbers are *weak* (NumPy 2, NEP 50): ``x * 0.1`` keeps a float32 ``x`` float32.
"""

from __future__ import annotations

import builtins
import functools
import math

import numpy as np

from croton.graph.basic import Variable
from croton.ops.elemwise import Elemwise
from croton.ops.reduce import Argmax, Reduce, normalize_axes
from croton.ops.scalar import SCALAR_OPS, cast_op
from croton.tensor.variable import as_tensor_variable, constant

_PYTHON_SCALARS = (bool, int, float, complex)
_ELEMWISE_CACHE: dict = {}


def elemwise(name: str, *inputs):
    """Apply scalar op ``name`` elementwise; Python scalars among the inputs are weak."""
    scalar_op = SCALAR_OPS[name]
    return _apply(scalar_op, inputs)


def _apply(scalar_op, inputs):
    weak = [isinstance(x, _PYTHON_SCALARS) and not isinstance(x, np.generic) for x in inputs]
    if builtins.any(weak):
        if builtins.all(weak):
            inputs = [constant(x) for x in inputs]
        else:
            described = [
                type(x) if w else as_tensor_variable(x).dtype
                for x, w in zip(inputs, weak, strict=True)
            ]
            in_dtypes, _ = scalar_op.resolve(described)
            try:
                inputs = [
                    constant(np.asarray(x, dtype=d)) if w else x
                    for x, w, d in zip(inputs, weak, in_dtypes, strict=True)
                ]
            except OverflowError as err:
                settled = _settled_comparison(scalar_op.name, inputs, weak)
                if settled is not None:
                    return settled
                raise OverflowError(
                    f"{scalar_op.name}: a Python number does not fit the tensor's dtype: {err}"
                ) from None
    op = _ELEMWISE_CACHE.get(scalar_op)
    if op is None:
        op = _ELEMWISE_CACHE[scalar_op] = Elemwise(scalar_op)
    return op(*inputs)


# comparison: its result for every element of an integer tensor ``x`` in ``x OP n`` when
# the Python integer ``n`` is above the dtype's range, and when it is below
_BEYOND_RANGE = {
    "lt": (True, False),
    "le": (True, False),
    "gt": (False, True),
    "ge": (False, True),
    "eq": (False, False),
    "neq": (True, True),
}
_MIRRORED = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le", "eq": "eq", "neq": "neq"}


def _settled_comparison(name: str, inputs, weak):
    """An integer tensor compared with a Python integer outside its dtype's range: every
    element compares the same way (NumPy 2: ``uint8_array > -1`` is all True), so the
    result is a constant array of the tensor's shape. None for anything else."""
    if name not in _BEYOND_RANGE or len(inputs) != 2 or weak.count(True) != 1:
        return None
    number_first = weak[0]
    number, tensor = (inputs[0], inputs[1]) if number_first else (inputs[1], inputs[0])
    if type(number) is not int:
        return None
    tensor = as_tensor_variable(tensor)
    if tensor.dtype == "bool" or not np.issubdtype(tensor.dtype, np.integer):
        return None
    info = np.iinfo(tensor.dtype)
    if info.min <= number <= info.max:
        return None
    above, below = _BEYOND_RANGE[_MIRRORED[name] if number_first else name]
    from croton.tensor.shape import ones_like, zeros_like

    result = above if number > info.max else below
    return (ones_like if result else zeros_like)(tensor, dtype="bool")


def _unary(name):
    def f(x):
        return elemwise(name, x)

    f.__name__ = name
    f.__doc__ = f"Elementwise ``{name}``."
    return f


def _binary(name):
    def f(x, y):
        return elemwise(name, x, y)

    f.__name__ = name
    f.__doc__ = f"Elementwise ``{name}``, with broadcasting."
    return f


add = _binary("add")
sub = _binary("sub")
mul = _binary("mul")
true_div = _binary("true_div")
int_div = _binary("int_div")
mod = _binary("mod")
pow = _binary("pow")
arctan2 = _binary("arctan2")
minimum = _binary("minimum")
maximum = _binary("maximum")
lt = _binary("lt")
gt = _binary("gt")
le = _binary("le")
ge = _binary("ge")
eq = _binary("eq")
neq = _binary("neq")
and_ = _binary("and")
or_ = _binary("or")
xor = _binary("xor")
bitwise_and, bitwise_or, bitwise_xor = and_, or_, xor

neg = _unary("neg")
abs = _unary("abs")
sign = _unary("sign")
sgn = sign  # (Theano's name)
exp = _unary("exp")
exp2 = _unary("exp2")
expm1 = _unary("expm1")
log = _unary("log")
log2 = _unary("log2")
log10 = _unary("log10")
log1p = _unary("log1p")
sqrt = _unary("sqrt")
sqr = _unary("sqr")
square = sqr
reciprocal = _unary("reciprocal")
inv = reciprocal
sin = _unary("sin")
cos = _unary("cos")
tan = _unary("tan")
arcsin = _unary("arcsin")
arccos = _unary("arccos")
arctan = _unary("arctan")
sinh = _unary("sinh")
cosh = _unary("cosh")
tanh = _unary("tanh")
arcsinh = _unary("arcsinh")
arccosh = _unary("arccosh")
arctanh = _unary("arctanh")
sigmoid = _unary("sigmoid")
softplus = _unary("softplus")
erf = _unary("erf")
erfc = _unary("erfc")
erfinv = _unary("erfinv")
erfcinv = _unary("erfcinv")
gamma = _unary("gamma")
gammaln = _unary("gammaln")
psi = _unary("psi")
tri_gamma = _unary("tri_gamma")
floor = _unary("floor")
ceil = _unary("ceil")
trunc = _unary("trunc")
invert = _unary("invert")
isnan = _unary("isnan")
isinf = _unary("isinf")
abs_ = abs
true_divide = true_div
floor_div = int_div
divide = true_div
power = pow
expit = sigmoid
log1pexp = softplus
digamma = psi
equal, not_equal, less, greater, less_equal, greater_equal = eq, neq, lt, gt, le, ge


def round(x, mode: str | None = None):
    """Round to the nearest integer: ``"half_to_even"`` (NumPy's, the default) or
    ``"half_away_from_zero"``."""
    if mode in (None, "half_to_even"):
        return elemwise("round", x)
    if mode == "half_away_from_zero":
        return elemwise("round_half_away_from_zero", x)
    raise ValueError(f"round mode must be 'half_to_even' or 'half_away_from_zero', got {mode!r}")


def round_half_to_even(x):
    """`round` with ties to the even neighbour (NumPy's rounding)."""
    return round(x, "half_to_even")


def round_half_away_from_zero(x):
    """`round` with ties away from zero (C's ``round``)."""
    return round(x, "half_away_from_zero")


def iround(x, mode: str | None = None):
    """`round`, as int64 (Theano's ``iround``)."""
    return cast(round(x, mode), "int64")


def logical_not(x):
    """Elementwise boolean negation."""
    return eq(x, 0) if as_tensor_variable(x).dtype != "bool" else invert(x)


def clip(x, a_min, a_max):
    """Limit ``x`` to ``[a_min, a_max]``."""
    return elemwise("clip", x, a_min, a_max)


def switch(cond, ift, iff):
    """Elementwise ``ift if cond else iff`` (both branches are computed)."""
    cond = as_tensor_variable(cond)
    if cond.dtype != "bool":
        cond = neq(cond, 0)
    return elemwise("switch", cond, ift, iff)


where = switch


def cast(x, dtype):
    """``x`` converted to ``dtype`` (``"floatX"`` allowed)."""
    from croton.graph.type import normalize_dtype

    x = as_tensor_variable(x)
    dtype = normalize_dtype(dtype)
    if x.dtype == dtype:
        return x
    return _apply(cast_op(dtype), [x])


def identity(x, name: str | None = None):
    """A copy of ``x`` (Theano's ``tensor_copy``)."""
    out = elemwise("identity", x)
    out.name = name
    return out


tensor_copy = identity


# -- reductions ------------------------------------------------------------------------


def _keep(out, x, axes, keepdims):
    if not keepdims:
        return out
    pattern, j = [], 0
    for a in range(x.ndim):
        if a in axes:
            pattern.append("x")
        else:
            pattern.append(j)
            j += 1
    return out.dimshuffle(pattern)


def _reduce(kind, x, axis, keepdims, dtype=None):
    from croton.graph.type import normalize_dtype

    x = as_tensor_variable(x)
    axes = normalize_axes(axis, x.ndim)
    dtype = None if dtype is None else normalize_dtype(dtype)
    if not axes and (dtype is None or dtype == x.dtype) and kind in ("max", "min"):
        return x
    out = Reduce(kind, axes, dtype)(x)
    return _keep(out, x, axes, keepdims)


def sum(x, axis=None, dtype=None, keepdims: bool = False, acc_dtype=None):
    """Sum over ``axis`` (all axes by default)."""
    return _reduce("sum", x, axis, keepdims, dtype)


def prod(x, axis=None, dtype=None, keepdims: bool = False, acc_dtype=None):
    """Product over ``axis``."""
    return _reduce("prod", x, axis, keepdims, dtype)


def max(x, axis=None, keepdims: bool = False):
    """Largest element over ``axis``."""
    return _reduce("max", x, axis, keepdims)


def min(x, axis=None, keepdims: bool = False):
    """Smallest element over ``axis``."""
    return _reduce("min", x, axis, keepdims)


def all(x, axis=None, keepdims: bool = False):
    """True where every element over ``axis`` is non-zero."""
    return _reduce("all", x, axis, keepdims)


def any(x, axis=None, keepdims: bool = False):
    """True where some element over ``axis`` is non-zero."""
    return _reduce("any", x, axis, keepdims)


def _count(x, axes):
    from croton.tensor.shape import shape

    n = 1
    for a in axes:
        n = n * shape(x)[a]
    return n


def mean(x, axis=None, dtype=None, keepdims: bool = False, acc_dtype=None):
    """Arithmetic mean over ``axis``; integers average as float64, as in NumPy.

    float16 data is summed in float32 (NumPy does the same), unless ``acc_dtype`` says
    otherwise.
    """
    x = as_tensor_variable(x)
    axes = normalize_axes(axis, x.ndim)
    if dtype is None:
        dtype = x.dtype if x.dtype.startswith(("float", "complex")) else "float64"
    accumulate = acc_dtype or ("float32" if dtype == "float16" else dtype)
    total = sum(cast(x, accumulate), axis=axes, keepdims=keepdims)
    return cast(total / cast(_count(x, axes), accumulate), dtype)


def var(x, axis=None, ddof: int = 0, keepdims: bool = False, corrected: bool = False):
    """Variance over ``axis`` (``ddof`` as in NumPy; ``corrected=True`` means ddof=1)."""
    x = as_tensor_variable(x)
    axes = normalize_axes(axis, x.ndim)
    ddof = 1 if corrected else ddof
    dtype = x.dtype if x.dtype.startswith("float") else "float64"
    centred = cast(x, dtype) - mean(x, axis=axes, keepdims=True)
    total = sum(sqr(centred), axis=axes, keepdims=keepdims)
    count = cast(_count(x, axes), dtype)
    return cast(total / (count - ddof), dtype)


def std(x, axis=None, ddof: int = 0, keepdims: bool = False, corrected: bool = False):
    """Standard deviation over ``axis``."""
    return sqrt(var(x, axis=axis, ddof=ddof, keepdims=keepdims, corrected=corrected))


def logsumexp(x, axis=None, keepdims: bool = False):
    """``log(sum(exp(x), axis))``, computed without overflow; integers give float64."""
    x = as_tensor_variable(x)
    if not x.dtype.startswith(("float", "complex")):
        x = cast(x, "float64")
    axes = normalize_axes(axis, x.ndim)
    peak = max(x, axis=axes, keepdims=True)
    # an infinite peak would give inf - inf = nan; shift by 0 there instead
    shift = switch(isinf(peak), 0, peak)
    result = log(sum(exp(x - shift), axis=axes, keepdims=True)) + shift
    if keepdims:
        return result
    return result.dimshuffle([a for a in range(x.ndim) if a not in axes])


def argmax(x, axis=None, keepdims: bool = False):
    """Index of the largest element along ``axis`` (flattened when None)."""
    return _arg("max", x, axis, keepdims)


def argmin(x, axis=None, keepdims: bool = False):
    """Index of the smallest element along ``axis`` (flattened when None)."""
    return _arg("min", x, axis, keepdims)


def _arg(kind, x, axis, keepdims):
    """``Argmax`` over one axis or the flattened input; over several axes (Theano allows
    it) the position within those axes flattened together, in their order in ``x``."""
    x = as_tensor_variable(x)
    axes = tuple(range(x.ndim)) if axis is None else tuple(sorted(normalize_axes(axis, x.ndim)))
    if len(axes) > 1 and len(axes) < x.ndim:
        kept = [d for d in range(x.ndim) if d not in axes]
        joined = x.dimshuffle(kept + list(axes)).reshape([x.shape[d] for d in kept] + [-1])
        out = Argmax(kind, len(kept))(joined)
    else:
        out = Argmax(kind, axes[0] if len(axes) == 1 and x.ndim > 1 else None)(x)
    if keepdims:
        out = _keep(out, x, axes, True)
    return out


def max_and_argmax(x, axis=None):
    """The pair ``(max(x, axis), argmax(x, axis))``."""
    return max(x, axis), argmax(x, axis)


# -- composed of the operations above (NumPy's and PyTensor's names) ------------------


def _floating(x):
    """``x`` converted as NumPy's transcendental functions convert it (int8 to float16,
    larger integers to float64)."""
    x = as_tensor_variable(x)
    (dtype,) = np.exp.resolve_dtypes((np.dtype(x.dtype), None))[1:]
    return x if dtype.name == x.dtype else cast(x, dtype.name)


def _scaled(x, factor: float):
    """``x * factor`` in NumPy's float type for ``x`` (float16 computes in float32 and
    rounds once, as NumPy's half-precision loops do)."""
    x = _floating(x)
    if x.dtype == "float16":
        return cast(cast(x, "float32") * factor, "float16")
    return x * factor


def deg2rad(x):
    """Degrees to radians, as ``numpy.deg2rad``."""
    return _scaled(x, np.pi / 180)


def rad2deg(x):
    """Radians to degrees, as ``numpy.rad2deg``."""
    return _scaled(x, 180 / np.pi)


def isfinite(x):
    """True where ``x`` is neither infinite nor nan."""
    return logical_not(or_(isnan(x), isinf(x)))


def isposinf(x):
    """True where ``x`` is positive infinity."""
    return and_(isinf(x), gt(x, 0))


def isneginf(x):
    """True where ``x`` is negative infinity."""
    return and_(isinf(x), lt(x, 0))


def isclose(a, b, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False):
    """``numpy.isclose``: ``|a - b| <= atol + rtol * |b|`` where ``b`` is finite, and
    equal values (infinities included); nan is close to nan only with ``equal_nan``."""
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    b = cast(b, np.result_type(np.dtype(b.dtype), 1.0).name)
    close = and_(le(abs(a - b), atol + rtol * abs(b)), isfinite(b))
    result = or_(close, eq(a, b))
    return or_(result, and_(isnan(a), isnan(b))) if equal_nan else result


def allclose(a, b, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False):
    """True (a boolean scalar) where every element pair is `isclose`."""
    return all(isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def ptp(x, axis=None, keepdims: bool = False):
    """The range ``max - min`` over ``axis`` (``numpy.ptp``)."""
    return max(x, axis=axis, keepdims=keepdims) - min(x, axis=axis, keepdims=keepdims)


def largest(*args):
    """The elementwise maximum of all the arguments."""
    if not args:
        raise TypeError("largest: give at least one tensor")
    return functools.reduce(maximum, args)


def smallest(*args):
    """The elementwise minimum of all the arguments."""
    if not args:
        raise TypeError("smallest: give at least one tensor")
    return functools.reduce(minimum, args)


def logaddexp(a, b):
    """``log(exp(a) + exp(b))`` without overflow, as ``numpy.logaddexp``."""
    a, b = _floating(a), _floating(b)
    general = maximum(a, b) + log1p(exp(-abs(a - b)))
    # equal arguments (two infinities of a sign among them): a + log(2)
    return switch(eq(a, b), a + math.log(2.0), general)


def log1mexp(x):
    """``log(1 - exp(x))`` for ``x <= 0``, accurate on both sides of ``log(1/2)``."""
    x = _floating(x)
    return switch(lt(x, math.log(0.5)), log1p(-exp(x)), log(-expm1(x)))


def ceil_intdiv(a, b):
    """``ceil(a / b)`` for integers, without going through floats (Theano's)."""
    quotient = int_div(a, b)
    return quotient + cast(neq(mod(a, b), 0), quotient.dtype)


def nan_to_num(x, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None):
    """``numpy.nan_to_num``: nan, positive and negative infinity replaced by ``nan``,
    ``posinf`` and ``neginf`` (the dtype's largest and smallest finite values by
    default). Integers and booleans are returned as they are."""
    x = as_tensor_variable(x)
    if x.dtype.startswith("complex"):
        raise TypeError("nan_to_num: complex x is not supported; apply it to x's real part")
    if not x.dtype.startswith("float"):
        return x
    finfo = np.finfo(x.dtype)
    posinf = float(finfo.max) if posinf is None else posinf
    neginf = float(finfo.min) if neginf is None else neginf
    return switch(isnan(x), nan, switch(isposinf(x), posinf, switch(isneginf(x), neginf, x)))


def is_variable(x) -> bool:
    """True if ``x`` is a symbolic variable (not a plain number or array)."""
    return isinstance(x, Variable)


def cross(a, b, axis: int = -1):
    """``numpy.cross`` of 3-vectors along ``axis`` (of both inputs, after broadcasting)."""
    from croton.tensor.shape import stack

    a, b = as_tensor_variable(a), as_tensor_variable(b)
    for name, x in (("a", a), ("b", b)):
        length = x.type.shape[axis] if x.ndim else None
        if x.ndim == 0 or (length is not None and length != 3):
            raise ValueError(f"cross: {name} must have 3 components along axis {axis} ({x.type})")
    a, b = a.swapaxes(axis, -1), b.swapaxes(axis, -1)
    a0, a1, a2 = (a[..., k] for k in range(3))
    b0, b1, b2 = (b[..., k] for k in range(3))
    c = stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)
    return c.swapaxes(-1, axis)


def median(x, axis=None, keepdims: bool = False):
    """``numpy.median``: the middle value (the mean of the two middle ones for an even
    count) along ``axis`` (all axes for None); nan wherever a nan is among the values."""
    from croton.tensor.extra_ops import sort

    x = as_tensor_variable(x)
    lines = x.flatten() if axis is None else x.swapaxes(axis, -1)
    ordered = sort(lines, axis=-1)  # (nan last)
    n = ordered.shape[-1]
    low, high, last = ordered[..., (n - 1) // 2], ordered[..., n // 2], ordered[..., -1]
    if not x.dtype.startswith("float"):
        low, high = cast(low, "float64"), cast(high, "float64")
    result = switch(isnan(last), last, (low + high) / 2)
    if keepdims:
        from croton.tensor.shape import expand_dims

        result = expand_dims(result, tuple(range(x.ndim)) if axis is None else axis)
    return result


def cov(m, y=None, rowvar: bool = True, bias: bool = False, ddof=None):
    """``numpy.cov``: the covariance matrix of the variables in the rows of ``m`` (the
    columns with ``rowvar=False``), and of ``y``'s after them; 0-d for one variable.
    In float64, as NumPy's."""
    from croton.tensor.blas import dot
    from croton.tensor.shape import concatenate

    m = as_tensor_variable(m)
    if not 1 <= m.ndim <= 2:
        raise ValueError(f"cov: m must be a vector or a matrix, got {m.type}")
    single = m.ndim <= 1 and y is None
    x = m.dimshuffle("x", 0) if m.ndim == 1 else (m if rowvar else m.T)
    if y is not None:
        y = as_tensor_variable(y)
        y = y.dimshuffle("x", 0) if y.ndim == 1 else (y if rowvar else y.T)
        x = concatenate([x, y], axis=0)
    if x.dtype != "float64":
        x = cast(x, "float64")
    ddof = (0 if bias else 1) if ddof is None else ddof
    centred = x - x.mean(axis=1, keepdims=True)
    c = dot(centred, centred.T) / cast(x.shape[1] - ddof, "float64")
    return c[0, 0] if single else c


def corrcoef(x, y=None, rowvar: bool = True):
    """``numpy.corrcoef``: the correlation coefficients, the covariances divided by the
    products of the standard deviations (clipped to [-1, 1])."""
    from croton.tensor.blas import outer
    from croton.tensor.subtensor import diag

    c = cov(x, y, rowvar)
    if c.ndim == 0:
        return c / c
    deviations = sqrt(diag(c))
    return clip(c / outer(deviations, deviations), -1, 1)


__all__ = [
    name
    for name, value in list(globals().items())
    if callable(value)
    and getattr(value, "__module__", None) == __name__
    and not name.startswith("_")
] + [
    "abs_",
    "sgn",
    "bitwise_and",
    "bitwise_or",
    "bitwise_xor",
    "square",
    "inv",
    "true_divide",
    "floor_div",
    "divide",
    "where",
    "tensor_copy",
    "power",
    "expit",
    "log1pexp",
    "digamma",
    "equal",
    "not_equal",
    "less",
    "greater",
    "less_equal",
    "greater_equal",
]
