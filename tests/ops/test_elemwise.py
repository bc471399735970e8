"""`Elemwise` over every scalar op, compiled on the numpy backend and checked against numpy."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
import scipy.special

import croton
import croton.tensor as T
from croton.gradient import verify_grad
from croton.graph.type import TensorType
from croton.ops.elemwise import DimShuffle, Elemwise
from croton.ops.scalar import GRADIENT_NOT_IMPLEMENTED, SCALAR_OP_NAMES, SCALAR_OPS, cast_op

_erf = np.vectorize(math.erf, otypes=["float64"])
_erfc = np.vectorize(math.erfc, otypes=["float64"])


def _as_float(x):
    """``x`` in the dtype numpy's ``exp`` gives for it."""
    return x.astype(np.exp(np.zeros((), x.dtype)).dtype)


def _like_exp(x, values):
    """``values`` in the dtype numpy's ``exp`` gives for ``x`` (the rule of non-numpy functions)."""
    return np.asarray(values).astype(np.exp(np.zeros((), x.dtype)).dtype)


def _round_half_away(x):
    if x.dtype.kind in "iu":
        return x.copy()
    x = x.astype(np.rint(np.zeros((), x.dtype)).dtype)
    return np.copysign(np.floor(np.abs(x) + 0.5), x)


#: croton function, numpy reference, domain of the test data
UNARY = {
    "neg": (T.neg, np.negative, "real"),
    "abs": (T.abs, np.absolute, "real"),
    "sign": (T.sign, np.sign, "real"),
    "exp": (T.exp, np.exp, "real"),
    "exp2": (T.exp2, np.exp2, "real"),
    "expm1": (T.expm1, np.expm1, "real"),
    "log": (T.log, np.log, "positive"),
    "log2": (T.log2, np.log2, "positive"),
    "log10": (T.log10, np.log10, "positive"),
    "log1p": (T.log1p, np.log1p, "positive"),
    "sqrt": (T.sqrt, np.sqrt, "positive"),
    "sqr": (T.sqr, np.square, "real"),
    "reciprocal": (T.reciprocal, lambda x: 1 / x, "positive"),
    "sin": (T.sin, np.sin, "real"),
    "cos": (T.cos, np.cos, "real"),
    "tan": (T.tan, np.tan, "unit"),
    "arcsin": (T.arcsin, np.arcsin, "unit"),
    "arccos": (T.arccos, np.arccos, "unit"),
    "arctan": (T.arctan, np.arctan, "real"),
    "sinh": (T.sinh, np.sinh, "real"),
    "cosh": (T.cosh, np.cosh, "real"),
    "tanh": (T.tanh, np.tanh, "real"),
    "arcsinh": (T.arcsinh, np.arcsinh, "real"),
    "arccosh": (T.arccosh, np.arccosh, "above_one"),
    "arctanh": (T.arctanh, np.arctanh, "open_unit"),
    "sigmoid": (T.nnet.sigmoid, lambda x: 1 / (1 + np.exp(-_as_float(x))), "real"),
    "softplus": (T.nnet.softplus, lambda x: np.log1p(np.exp(_as_float(x))), "real"),
    "erf": (T.erf, lambda x: _like_exp(x, _erf(x)), "real"),
    "erfc": (T.erfc, lambda x: _like_exp(x, _erfc(x)), "real"),
    # (SciPy's values, but gammaln(-inf) = +inf as C's lgamma, erfinv(-0.0) = -0.0 and
    # erfcinv(1) = +0.0)
    "erfinv": (
        T.erfinv,
        lambda x: _like_exp(x, np.where(x == 0, x, scipy.special.erfinv(x))),
        "unit",
    ),
    "erfcinv": (
        T.erfcinv,
        lambda x: _like_exp(x, np.where(x == 1, 0.0, scipy.special.erfcinv(x))),
        "erfc_range",
    ),
    "gamma": (T.gamma, lambda x: _like_exp(x, scipy.special.gamma(x)), "real"),
    "gammaln": (
        T.gammaln,
        lambda x: _like_exp(x, np.where(np.isneginf(x), np.inf, scipy.special.gammaln(x))),
        "real",
    ),
    "psi": (T.psi, lambda x: _like_exp(x, scipy.special.psi(x)), "real"),
    "tri_gamma": (T.tri_gamma, lambda x: _like_exp(x, scipy.special.polygamma(1, x)), "real"),
    "floor": (T.floor, np.floor, "real"),
    "ceil": (T.ceil, np.ceil, "real"),
    "round": (T.round, np.round, "halves"),
    "round_half_away_from_zero": (
        lambda x: T.round(x, "half_away_from_zero"),
        _round_half_away,
        "halves",
    ),
    "trunc": (T.trunc, np.trunc, "real"),
    "invert": (T.invert, np.invert, "real"),
    "isnan": (T.isnan, np.isnan, "real"),
    "isinf": (T.isinf, np.isinf, "real"),
    "identity": (T.identity, np.copy, "real"),
}

#: croton function, numpy reference, domain of the first and of the second input
BINARY = {
    "add": (T.add, np.add, "real", "real"),
    "sub": (T.sub, np.subtract, "real", "real"),
    "mul": (T.mul, np.multiply, "real", "real"),
    "true_div": (T.true_div, np.true_divide, "real", "nonzero"),
    "int_div": (T.int_div, np.floor_divide, "real", "nonzero"),
    "mod": (T.mod, np.remainder, "real", "nonzero"),
    "pow": (T.pow, np.power, "positive", "small"),
    "arctan2": (T.arctan2, np.arctan2, "real", "real"),
    "minimum": (T.minimum, np.minimum, "real", "real"),
    "maximum": (T.maximum, np.maximum, "real", "real"),
    "lt": (T.lt, np.less, "real", "real"),
    "gt": (T.gt, np.greater, "real", "real"),
    "le": (T.le, np.less_equal, "real", "real"),
    "ge": (T.ge, np.greater_equal, "real", "real"),
    "eq": (T.eq, np.equal, "small", "small"),
    "neq": (T.neq, np.not_equal, "small", "small"),
    "and": (T.and_, np.bitwise_and, "real", "real"),
    "or": (T.or_, np.bitwise_or, "real", "real"),
    "xor": (T.xor, np.bitwise_xor, "real", "real"),
}

TERNARY = {
    "clip": (T.clip, np.clip),
    "switch": (T.switch, np.where),
}

DTYPES = ["float32", "float64", "int32", "int8", "bool"]
BINARY_DTYPES = [
    ("float32", "float32"),
    ("float64", "float32"),
    ("int32", "float32"),
    ("int8", "int32"),
    ("int8", "int8"),
    ("int32", "float64"),
    ("bool", "bool"),
    ("bool", "float32"),
    ("int8", "bool"),
]

#: static shapes a (3, 4) matrix is combined with, and data shapes for them
PARTNERS = {
    "matrix": ((None, None), (3, 4)),
    "row": ((1, None), (1, 4)),
    "col": ((None, 1), (3, 1)),
    "scalar": ((), ()),
    "vector": ((None,), (4,)),
}

SPECIALS = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1.5, -2.5, 0.5]


def sample(domain: str, shape, dtype: str, rng) -> np.ndarray:
    """Test data of ``dtype`` in the domain a function is defined on."""
    low, high = {
        "real": (-3, 3),
        "positive": (0.5, 4),
        "nonzero": (0.5, 4),
        "small": (0, 3),
        "unit": (-0.9, 0.9),
        "open_unit": (-0.9, 0.9),
        "above_one": (1.2, 4),
        "halves": (-4, 4),
        "erfc_range": (0.1, 1.9),
    }[domain]
    if dtype == "bool":
        return rng.integers(0, 2, size=shape).astype(bool)
    if dtype.startswith("int"):
        if domain == "open_unit":
            return np.zeros(shape, dtype)
        low = 1 if domain in ("nonzero", "positive") else math.ceil(low)
        high = 2 if domain == "above_one" else math.floor(high)
        values = rng.integers(low, high + 1, size=shape)
        if domain == "nonzero":
            values = values * rng.choice([-1, 1], size=shape)
        return values.astype(dtype)
    if domain == "halves":
        return (rng.integers(-8, 9, size=shape) / 2).astype(dtype)
    values = rng.uniform(low, high, size=shape)
    if domain == "nonzero":
        values = values * rng.choice([-1, 1], size=shape)
    return values.astype(dtype)


def numpy_reference(function, *arrays):
    """``function(*arrays)`` as an array, or the TypeError numpy raises."""
    with np.errstate(all="ignore"):
        return np.asarray(function(*arrays))


def tolerance(dtype: np.dtype) -> dict:
    return {
        "float16": {"rtol": 2e-3, "atol": 2e-3},
        "float32": {"rtol": 2e-5, "atol": 1e-6},
    }.get(np.dtype(dtype).name, {"rtol": 1e-12, "atol": 1e-14})


def assert_matches(got, want) -> None:
    """``got`` equals ``want`` in type, dtype, shape, value, nan/inf and sign of zero."""
    want = np.asarray(want)
    assert isinstance(got, np.ndarray), type(got)
    assert got.dtype == want.dtype, f"dtype {got.dtype}, numpy gives {want.dtype}"
    assert got.shape == want.shape, f"shape {got.shape}, numpy gives {want.shape}"
    if want.dtype.kind in "fc":
        np.testing.assert_allclose(got, want, equal_nan=True, **tolerance(want.dtype))
        zeros = want == 0
        np.testing.assert_array_equal(np.signbit(got[zeros]), np.signbit(want[zeros]))
    else:
        np.testing.assert_array_equal(got, want)


def run(function, arrays, shapes=None):
    """Compile ``function`` over inputs typed like ``arrays`` and call it on them.

    The graph is compiled with the default rewrites and without any (so the op's own
    kernel runs); both must give the same result.
    """
    shapes = shapes or [(None,) * np.ndim(a) for a in arrays]
    variables = [
        TensorType(np.asarray(a).dtype.name, shape=s)(f"x{i}")
        for i, (a, s) in enumerate(zip(arrays, shapes, strict=True))
    ]
    with np.errstate(all="ignore"):
        output = function(*variables)
        rewritten = croton.function(variables, output, backend="numpy")(*arrays)
        unrewritten = croton.function(variables, output, backend="numpy", mode="NONE")(*arrays)
    assert_matches(unrewritten, rewritten)
    return rewritten


def check_against_numpy(function, reference, arrays, shapes=None) -> None:
    """Compare croton and numpy; where numpy has no loop for the dtypes, croton must refuse too."""
    try:
        want = numpy_reference(reference, *arrays)
    except TypeError:
        with pytest.raises(TypeError):
            run(function, arrays, shapes)
        return
    assert_matches(run(function, arrays, shapes), want)


def test_every_scalar_op_is_covered():
    covered = set(UNARY) | set(BINARY) | set(TERNARY) | {"cast"}
    assert covered == set(SCALAR_OP_NAMES)


# -- values and dtypes -----------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_matches_numpy(name, dtype):
    function, reference, domain = UNARY[name]
    x = sample(domain, (3, 4), dtype, np.random.default_rng(0))
    check_against_numpy(function, reference, [x])


@pytest.mark.parametrize("dtypes", BINARY_DTYPES, ids="-".join)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_matches_numpy(name, dtypes):
    function, reference, first, second = BINARY[name]
    rng = np.random.default_rng(1)
    x = sample(first, (3, 4), dtypes[0], rng)
    y = sample(second, (3, 4), dtypes[1], rng)
    check_against_numpy(function, reference, [x, y])


@pytest.mark.parametrize("partner", sorted(PARTNERS))
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_broadcasts_like_numpy(name, partner):
    function, reference, first, second = BINARY[name]
    dtype = "int32" if name in ("and", "or", "xor") else "float64"
    rng = np.random.default_rng(2)
    static, shape = PARTNERS[partner]
    x = sample(first, (3, 4), dtype, rng)
    y = sample(second, shape, dtype, rng)
    check_against_numpy(function, reference, [x, y], [(None, None), static])
    check_against_numpy(
        lambda a, b: function(b, a), lambda a, b: reference(b, a), [x, y], [(None, None), static]
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_special_values(name, dtype):
    function, reference, *_ = BINARY[name]
    values = np.array(SPECIALS, dtype=dtype)
    check_against_numpy(
        function, reference, [values[:, None], values[None, :]], [(None, 1), (1, None)]
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_special_values(name, dtype):
    function, reference, _ = UNARY[name]
    check_against_numpy(function, reference, [np.array(SPECIALS, dtype=dtype)])


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_zero_size_and_non_contiguous(name):
    function, reference, domain = UNARY[name]
    dtype = "int32" if name == "invert" else "float64"
    rng = np.random.default_rng(3)
    check_against_numpy(function, reference, [np.zeros((0, 3), dtype)])
    base = sample(domain, (4, 6), dtype, rng)
    check_against_numpy(function, reference, [base.T])
    check_against_numpy(function, reference, [base[::2, 1::2]])


@pytest.mark.parametrize("dtype", ["float64", "int32"])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_of_0d_input(name, dtype):
    function, reference, domain = UNARY[name]
    x = sample(domain, (), dtype, np.random.default_rng(9))
    check_against_numpy(function, reference, [x])


@pytest.mark.parametrize("dtype", ["float32", "int8"])
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_of_0d_inputs(name, dtype):
    function, reference, first, second = BINARY[name]
    rng = np.random.default_rng(10)
    x, y = sample(first, (), dtype, rng), sample(second, (), dtype, rng)
    check_against_numpy(function, reference, [x, y])
    check_against_numpy(function, reference, [x, sample(second, (3,), dtype, rng)])


def test_ternary_of_0d_inputs():
    x, low, high = np.float32(0.7), np.float32(0.0), np.float32(0.5)
    check_against_numpy(T.clip, np.clip, [np.asarray(x), np.asarray(low), np.asarray(high)])
    check_against_numpy(
        T.switch, np.where, [np.asarray(True), np.asarray(x), np.asarray(2, "int8")]
    )


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_zero_size_and_non_contiguous(name):
    function, reference, first, second = BINARY[name]
    dtype = "int32" if name in ("and", "or", "xor") else "float32"
    rng = np.random.default_rng(4)
    check_against_numpy(
        function,
        reference,
        [np.zeros((0, 3), dtype), np.ones((1, 3), dtype)],
        [(None, None), (1, None)],
    )
    check_against_numpy(function, reference, [np.zeros((0, 3), dtype), np.zeros((0, 3), dtype)])
    x = sample(first, (6, 4), dtype, rng)
    y = sample(second, (8, 6), dtype, rng)
    check_against_numpy(function, reference, [x.T, y[::2, :]])
    check_against_numpy(function, reference, [x[::2], y[1::2, ::2].T])


@pytest.mark.parametrize(
    "dtypes",
    [
        ("float64", "float64", "float64"),
        ("float32", "float32", "float32"),
        ("int32", "int8", "int32"),
        ("int8", "float32", "float32"),
    ],
    ids="-".join,
)
def test_clip_matches_numpy(dtypes):
    rng = np.random.default_rng(5)
    x = sample("real", (3, 4), dtypes[0], rng)
    low = np.asarray(-1, dtypes[1])
    high = sample("small", (4,), dtypes[2], rng) + np.asarray(1, dtypes[2])
    check_against_numpy(T.clip, np.clip, [x, low, high])
    specials = np.array(SPECIALS, "float64")
    check_against_numpy(T.clip, np.clip, [specials, np.float64(-1.0), np.float64(1.0)])


@pytest.mark.parametrize(
    "dtypes",
    [
        ("float64", "float64"),
        ("float32", "int8"),
        ("int32", "int8"),
        ("bool", "bool"),
        ("int8", "float32"),
    ],
    ids="-".join,
)
def test_switch_matches_numpy(dtypes):
    rng = np.random.default_rng(6)
    condition = rng.integers(0, 2, size=(3, 4)).astype(bool)
    a = sample("real", (3, 4), dtypes[0], rng)
    b = sample("real", (4,), dtypes[1], rng)
    check_against_numpy(T.switch, np.where, [condition, a, b])
    check_against_numpy(
        T.switch, np.where, [condition[:, :1], a, b], [(None, 1), (None, None), (None,)]
    )


def test_switch_accepts_a_numeric_condition():
    condition = np.array([0.0, 2.0, -1.0, np.nan])
    got = run(lambda c: T.switch(c, 1.0, -1.0), [condition])
    assert_matches(got, np.where(condition, 1.0, -1.0))


@pytest.mark.parametrize(
    "source, target",
    [
        ("float64", "float32"),
        ("float32", "float64"),
        ("float64", "int32"),
        ("float32", "int8"),
        ("int32", "float32"),
        ("int8", "int64"),
        ("int32", "bool"),
        ("float64", "bool"),
        ("bool", "float64"),
        ("bool", "int8"),
        ("float32", "float16"),
    ],
)
def test_cast_matches_astype(source, target):
    rng = np.random.default_rng(7)
    x = sample("real", (3, 4), source, rng)
    assert_matches(run(lambda v: T.cast(v, target), [x]), x.astype(target))
    assert_matches(run(lambda v: T.cast(v, target), [x.T]), x.T.astype(target))
    assert_matches(
        run(lambda v: T.cast(v, target), [np.zeros((0, 2), source)]), np.zeros((0, 2), target)
    )
    assert_matches(run(lambda v: T.cast(v, target), [x[0, 0].copy()]), x[0, 0].astype(target))


def test_cast_special_values_and_same_dtype():
    values = np.array(SPECIALS, "float64")
    assert_matches(run(lambda v: T.cast(v, "float32"), [values]), values.astype("float32"))
    x = T.fvector()
    assert T.cast(x, "float32") is x
    assert T.cast(x, "floatX").dtype == croton.config.floatX


# -- NEP 50: Python scalars are weak -----------------------------------------------------


WEAK_CASES = [
    ("float32", T.mul, np.multiply, 0.1),
    ("float32", T.add, np.add, 1),
    ("float32", T.true_div, np.true_divide, 3),
    ("float16", T.add, np.add, 1.5),
    ("int32", T.add, np.add, 1.5),
    ("int32", T.mul, np.multiply, 2),
    ("int32", T.true_div, np.true_divide, 2),
    ("int8", T.add, np.add, 1),
    ("int8", T.add, np.add, 1.5),
    ("int8", T.pow, np.power, 2),
    ("int8", T.maximum, np.maximum, 3),
    ("bool", T.add, np.add, 1),
    ("bool", T.add, np.add, 1.5),
    ("bool", T.mul, np.multiply, True),
    ("float64", T.sub, np.subtract, 1),
    ("int32", T.lt, np.less, 1.5),
    ("float32", T.arctan2, np.arctan2, 1),
    ("float32", T.minimum, np.minimum, -1e40),
]


@pytest.mark.parametrize("dtype, function, reference, scalar", WEAK_CASES)
def test_python_scalars_are_weak(dtype, function, reference, scalar):
    x = sample("positive", (5,), dtype, np.random.default_rng(8))
    assert_matches(run(lambda v: function(v, scalar), [x]), numpy_reference(reference, x, scalar))
    assert_matches(run(lambda v: function(scalar, v), [x]), numpy_reference(reference, scalar, x))


def test_operators_follow_nep50():
    f, i, b = T.fvector(), T.ivector(), T.bvector()
    assert (f * 0.1).dtype == "float32"
    assert (0.1 * f).dtype == "float32"
    assert (f / 2).dtype == "float32"
    assert (i + 1.5).dtype == "float64"
    assert (i + 1).dtype == "int32"
    assert (i / 2).dtype == "float64"
    assert (i // 2).dtype == "int32"
    assert (b + 1).dtype == "int8"
    assert (f**2).dtype == "float32"
    assert (2.0**f).dtype == "float32"
    assert (f * np.float64(0.1)).dtype == "float64"
    assert (f + T.dscalar()).dtype == "float64"
    assert (i + T.fscalar()).dtype == "float64"
    assert (-i).dtype == "int32"
    values = np.array([1, 2, 3], "float32")
    assert_matches(run(lambda v: v * 0.1, [values]), values * 0.1)
    assert_matches(run(lambda v: 1 - v, [values]), 1 - values)


def test_python_scalar_out_of_range_raises():
    with pytest.raises(OverflowError):
        T.bvector() + 1000
    with pytest.raises(OverflowError):
        T.TensorType("uint8", shape=(None,))() + -1


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int32"])
def test_comparing_with_a_python_integer_beyond_the_dtype_is_exact(dtype):
    """NumPy 2 compares ``uint8_array > -1`` exactly (all True) where arithmetic with -1
    overflows; so does croton, either side of the operator."""
    values = np.array([0, 5, np.iinfo(dtype).max], dtype)
    for number in [-(2**40), np.iinfo(dtype).min - 1, np.iinfo(dtype).max + 1, 2**40]:
        for build, expected in [
            (lambda v, n=number: v > n, values > number),
            (lambda v, n=number: v <= n, values <= number),
            (lambda v, n=number: n < v, number < values),
            (lambda v, n=number: n >= v, number >= values),
            (lambda v, n=number: T.eq(v, n), values == number),
            (lambda v, n=number: T.neq(n, v), number != values),
        ]:
            got = run(build, [values])
            assert got.dtype == np.bool_ and got.shape == values.shape
            np.testing.assert_array_equal(got, expected)
    with pytest.raises(OverflowError):
        T.TensorType(dtype, shape=(None,))() * (2**40)


def test_undefined_dtype_combinations_raise_type_error():
    with pytest.raises(TypeError, match="sub"):
        T.bvector().astype("bool") - T.bvector().astype("bool")
    with pytest.raises(TypeError):
        T.invert(T.fvector())
    with pytest.raises(TypeError):
        T.and_(T.fvector(), T.fvector())
    with pytest.raises(TypeError):
        T.neg(T.cast(T.bvector(), "bool"))


# -- runtime broadcasting --------------------------------------------------------------


def test_unknown_lengths_do_not_broadcast_at_run_time():
    x, y = T.matrix("x"), T.matrix("y")
    f = croton.function([x, y], x + y, backend="numpy")
    with pytest.raises(ValueError, match="axis 0"):
        f(np.ones((1, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError):
        f(np.ones((2, 3)), np.ones((2, 1)))
    assert_matches(f(np.ones((2, 3)), np.full((2, 3), 2.0)), np.full((2, 3), 3.0))


def test_unknown_length_does_not_stretch_to_a_known_one():
    known, unknown = TensorType("float64", shape=(3,))(), T.vector()
    f = croton.function([known, unknown], known * unknown, backend="numpy")
    with pytest.raises(ValueError):
        f(np.ones(3), np.ones(1))
    assert_matches(f(np.ones(3), np.full(3, 2.0)), np.full(3, 2.0))


def test_scalar_ops_and_elemwise_pickle():
    for op in [*SCALAR_OPS.values(), cast_op("int16")]:
        restored = pickle.loads(pickle.dumps(op))
        assert restored == op and hash(restored) == hash(op)
        assert restored.nin == op.nin and restored.resolve(["int32"] * op.nin) == op.resolve(
            ["int32"] * op.nin
        )
    elemwise = Elemwise(SCALAR_OPS["add"])
    assert pickle.loads(pickle.dumps(elemwise)) == elemwise
    assert Elemwise(cast_op("int8")) != Elemwise(cast_op("int16"))


def test_mismatched_unknown_lengths_raise_for_every_arity():
    x, y, z = T.vector(), T.vector(), T.vector()
    f = croton.function([x, y, z], T.clip(x, y, z), backend="numpy")
    with pytest.raises(ValueError):
        f(np.ones(3), np.zeros(3), np.ones(1))
    v = T.vector()
    g = croton.function([v], T.exp(v), backend="numpy")
    assert_matches(g(np.zeros(0)), np.zeros(0))


def test_declared_broadcastable_axes_broadcast():
    row, matrix, col = T.row("r"), T.matrix("m"), T.col("c")
    f = croton.function(
        [row, matrix, col], [row + matrix, matrix * col, row + col], backend="numpy"
    )
    r, m, c = np.arange(3.0)[None], np.ones((2, 3)), np.array([[10.0], [20.0]])
    plus, times, outer = f(r, m, c)
    assert_matches(plus, r + m)
    assert_matches(times, m * c)
    assert_matches(outer, r + c)
    assert (row + matrix).type.shape == (None, None)
    assert (row + col).type.shape == (None, None)
    assert T.row().type.shape == (1, None)


def test_static_shapes_propagate_and_conflicts_raise():
    a = TensorType("float64", shape=(3, 1))()
    b = TensorType("float64", shape=(1, 4))()
    c = TensorType("float64", shape=(None, 4))()
    assert (a + b).type.shape == (3, 4)
    assert (a + c).type.shape == (3, 4)
    assert (T.vector() + b).type.shape == (1, 4)
    with pytest.raises(ValueError, match="broadcast"):
        TensorType("float64", shape=(3,))() + TensorType("float64", shape=(4,))()


def test_lower_rank_inputs_align_right():
    x, v = T.tensor3(), T.vector()
    z = x * v
    assert z.ndim == 3
    data, vector = np.arange(24.0).reshape(2, 3, 4), np.arange(4.0)
    assert_matches(croton.function([x, v], z, backend="numpy")(data, vector), data * vector)


# -- gradients -------------------------------------------------------------------------

_rng = np.random.default_rng(11)
_SMALL = _rng.uniform(-0.8, 0.8, size=(2, 3))
_REAL = _rng.uniform(-2, 2, size=(2, 3))
_POSITIVE = _rng.uniform(0.5, 2.5, size=(2, 3))
_ABOVE_ONE = _rng.uniform(1.5, 3, size=(2, 3))
_AWAY_FROM_ZERO = _rng.uniform(0.3, 2, size=(2, 3)) * np.array([[1, -1, 1], [-1, 1, -1]])

#: differentiable scalar op -> (function, points where it is smooth)
GRADIENT_CASES = {
    "add": (T.add, [_REAL, _SMALL]),
    "sub": (T.sub, [_REAL, _SMALL]),
    "mul": (T.mul, [_REAL, _SMALL]),
    "true_div": (T.true_div, [_REAL, _POSITIVE]),
    "mod": (T.mod, [np.array([[2.3, 5.6, -3.3]]), np.array([[1.5, 2.5, 2.0]])]),
    "pow": (T.pow, [_POSITIVE, _REAL]),
    "neg": (T.neg, [_REAL]),
    "abs": (T.abs, [_AWAY_FROM_ZERO]),
    "exp": (T.exp, [_REAL]),
    "exp2": (T.exp2, [_REAL]),
    "expm1": (T.expm1, [_REAL]),
    "log": (T.log, [_POSITIVE]),
    "log2": (T.log2, [_POSITIVE]),
    "log10": (T.log10, [_POSITIVE]),
    "log1p": (T.log1p, [_POSITIVE]),
    "sqrt": (T.sqrt, [_POSITIVE]),
    "sqr": (T.sqr, [_REAL]),
    "reciprocal": (T.reciprocal, [_AWAY_FROM_ZERO]),
    "sin": (T.sin, [_REAL]),
    "cos": (T.cos, [_REAL]),
    "tan": (T.tan, [_SMALL]),
    "arcsin": (T.arcsin, [_SMALL]),
    "arccos": (T.arccos, [_SMALL]),
    "arctan": (T.arctan, [_REAL]),
    "arctan2": (T.arctan2, [_REAL, _AWAY_FROM_ZERO]),
    "sinh": (T.sinh, [_REAL]),
    "cosh": (T.cosh, [_REAL]),
    "tanh": (T.tanh, [_REAL]),
    "arcsinh": (T.arcsinh, [_REAL]),
    "arccosh": (T.arccosh, [_ABOVE_ONE]),
    "arctanh": (T.arctanh, [_SMALL]),
    "sigmoid": (T.nnet.sigmoid, [_REAL * 3]),
    "softplus": (T.nnet.softplus, [_REAL * 3]),
    "erf": (T.erf, [_REAL]),
    "erfc": (T.erfc, [_REAL]),
    "erfinv": (T.erfinv, [_SMALL]),
    "erfcinv": (T.erfcinv, [_SMALL + 1]),
    "gamma": (T.gamma, [_POSITIVE]),
    "gammaln": (T.gammaln, [_POSITIVE]),
    "psi": (T.psi, [_POSITIVE]),
    "clip": (T.clip, [_REAL, np.full((2, 3), -1.0) + 0.05, np.full((1, 3), 1.0) + 0.05]),
    "minimum": (T.minimum, [_REAL, _SMALL]),
    "maximum": (T.maximum, [_REAL, _SMALL]),
    "switch": (lambda a, b: T.switch(T.gt(a, 0), a * 2, b), [_AWAY_FROM_ZERO, _REAL]),
    "identity": (T.identity, [_REAL]),
    "cast": (lambda a: T.cast(a, "float32") * 1, [_REAL]),
}


def test_gradient_cases_cover_every_differentiable_op():
    differentiable = {name for name, op in SCALAR_OPS.items() if op.grad_rule is not None}
    assert set(GRADIENT_CASES) == differentiable - set(GRADIENT_NOT_IMPLEMENTED) | {"cast"}


def test_a_gradient_not_implemented_raises_and_says_so():
    x = T.dvector("x")
    with pytest.raises(NotImplementedError, match="gradient of tri_gamma"):
        T.grad(T.sum(T.tri_gamma(x)), x)
    # the gradient of psi is tri_gamma, which has values
    g = croton.function([x], T.grad(T.sum(T.psi(x)), x), backend="numpy")
    np.testing.assert_allclose(g(np.array([0.5, 2.0])), scipy.special.polygamma(1, [0.5, 2.0]))


@pytest.mark.parametrize("name", sorted(GRADIENT_CASES))
def test_gradient_matches_finite_differences(name):
    function, points = GRADIENT_CASES[name]
    verify_grad(function, [p.copy() for p in points], rng=np.random.default_rng(0))


@pytest.mark.parametrize("name", ["exp", "tanh", "sigmoid", "mul", "true_div", "log"])
def test_gradient_in_float32(name):
    function, points = GRADIENT_CASES[name]
    verify_grad(function, [p.astype("float32") for p in points], rng=np.random.default_rng(0))


def test_gradient_of_extreme_sigmoid_and_softplus_is_finite():
    x = T.vector()
    values = np.array([-800.0, -40.0, 0.0, 40.0, 800.0])
    for function, want in [
        (T.nnet.sigmoid, np.array([0.0, math.exp(-40), 0.25, math.exp(-40), 0.0])),
        (T.nnet.softplus, np.array([0.0, math.exp(-40), 0.5, 1.0, 1.0])),
    ]:
        g = croton.function([x], T.grad(function(x).sum(), x), backend="numpy")(values)
        np.testing.assert_allclose(g, want, rtol=1e-6, atol=1e-300)


def test_gradient_wrt_pow_exponent_at_zero_base():
    x, y = T.vector(), T.vector()
    g = croton.function([x, y], T.grad(T.sum(x**y), [x, y]), backend="numpy")
    gx, gy = g(np.array([0.0, 2.0]), np.array([2.0, 3.0]))
    np.testing.assert_allclose(gx, [0.0, 12.0])
    np.testing.assert_allclose(gy, [0.0, 8 * math.log(2)])


def test_piecewise_constant_ops_have_no_gradient():
    x = T.vector()
    for function in (T.floor, T.ceil, T.round, T.trunc, T.sign, lambda v: T.int_div(v, 2.0)):
        g = T.grad(T.sum(function(x) * x), x)
        values = np.array([0.3, -1.7, 2.5])
        got = croton.function([x], g, backend="numpy")(values)
        with np.errstate(all="ignore"):
            assert_matches(got, croton.function([x], function(x), backend="numpy")(values))


def test_gradient_of_broadcasting_sums_over_broadcast_axes():
    matrix, row, col, scalar, vector = (
        T.matrix("m"),
        T.row("r"),
        T.col("c"),
        T.scalar("s"),
        T.vector("v"),
    )
    weights = np.arange(12.0).reshape(3, 4)
    cost = T.sum((matrix + row + col + scalar + vector) * weights)
    grads = T.grad(cost, [matrix, row, col, scalar, vector])
    f = croton.function([matrix, row, col, scalar, vector], grads, backend="numpy")
    gm, gr, gc, gs, gv = f(np.zeros((3, 4)), np.zeros((1, 4)), np.zeros((3, 1)), 0.0, np.zeros(4))
    assert_matches(gm, weights)
    assert_matches(gr, weights.sum(axis=0, keepdims=True))
    assert_matches(gc, weights.sum(axis=1, keepdims=True))
    assert_matches(gs, np.asarray(weights.sum()))
    assert_matches(gv, weights.sum(axis=0))


def test_gradient_of_matrix_plus_row_wrt_row():
    matrix, row = T.matrix("m"), T.row("r")
    for point in ([np.ones((3, 4)), np.arange(4.0)[None]],):
        verify_grad(lambda m, r: (m + r) ** 2, point, rng=np.random.default_rng(0))
    g = T.grad(T.sum((matrix + row) * (matrix + row)), row)
    m, r = np.arange(12.0).reshape(3, 4), np.arange(4.0)[None]
    got = croton.function([matrix, row], g, backend="numpy")(m, r)
    assert_matches(got, (2 * (m + r)).sum(axis=0, keepdims=True))


def test_gradient_of_lower_rank_operand_and_mixed_dtypes():
    x, v = T.fmatrix(), T.dvector()
    g = T.grad(T.sum(x * v), [x, v])
    assert g[0].dtype == "float32" and g[1].dtype == "float64"
    m, vec = np.arange(6, dtype="float32").reshape(2, 3), np.array([1.0, 2.0, 3.0])
    gx, gv = croton.function([x, v], g, backend="numpy")(m, vec)
    assert_matches(gx, np.broadcast_to(vec, (2, 3)).astype("float32"))
    assert_matches(gv, m.sum(axis=0).astype("float64"))


def test_integer_inputs_get_zero_gradient():
    i, x = T.ivector(), T.vector()
    g = T.grad(T.sum(i * x), [i, x])
    f = croton.function([i, x], g, backend="numpy")
    gi, gx = f(np.array([1, 2], "int32"), np.array([3.0, 4.0]))
    assert_matches(gi, np.zeros(2, croton.config.floatX))
    assert_matches(gx, np.array([1.0, 2.0]))


# -- DimShuffle ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern, static, shape",
    [
        ((1, 0), (None, None), (2, 3)),
        (("x", 0, 1), (None, None), (2, 3)),
        ((0, "x", 1), (None, None), (2, 3)),
        ((1,), (1, None), (1, 3)),
        ((0,), (None, 1), (2, 1)),
        ((2, "x", 0), (None, 1, None), (2, 1, 3)),
        (("x", "x"), (), ()),
        ((), (1, 1), (1, 1)),
        ((1, 2, 0), (None, None, None), (0, 3, 2)),
    ],
)
def test_dimshuffle_matches_numpy(pattern, static, shape):
    data = np.arange(math.prod(shape), dtype="float32").reshape(shape)
    x = TensorType("float32", shape=static)()
    kept = [d for d in pattern if d != "x"]
    dropped = tuple(d for d in range(len(shape)) if d not in kept)
    want = np.squeeze(data, axis=dropped) if dropped else data
    order = sorted(kept)
    want = want.transpose([order.index(d) for d in kept])
    want = np.expand_dims(want, tuple(i for i, d in enumerate(pattern) if d == "x"))
    out = x.dimshuffle(pattern)
    assert out.type.shape == tuple(1 if d == "x" else static[d] for d in pattern)
    assert_matches(croton.function([x], out, backend="numpy")(data), want)
    if data.ndim >= 2:
        assert_matches(croton.function([x], out, backend="numpy")(np.asfortranarray(data)), want)


def test_dimshuffle_rejects_bad_patterns():
    with pytest.raises(ValueError):
        T.matrix().dimshuffle(0)
    with pytest.raises(ValueError):
        T.matrix().dimshuffle(0, 0)
    with pytest.raises(ValueError):
        T.matrix().dimshuffle(0, 2)
    with pytest.raises(TypeError):
        DimShuffle(3, (0, 1))(T.matrix())


def test_dimshuffle_gradient():
    verify_grad(
        lambda x: x.dimshuffle(2, "x", 0) * np.arange(2.0), [np.arange(6.0).reshape(2, 1, 3)]
    )
    verify_grad(lambda x: x.T * np.arange(6.0).reshape(3, 2), [np.arange(6.0).reshape(2, 3)])


# -- infer_shape -----------------------------------------------------------------------


def symbolic_shapes(node):
    """``op.infer_shape`` of ``node`` from the inputs' symbolic shapes."""
    input_shapes = [tuple(x.shape[i] for i in range(x.ndim)) for x in node.inputs]
    return node.op.infer_shape(node, input_shapes)


def check_infer_shape(inputs, output, values) -> None:
    shapes = symbolic_shapes(output.owner)
    flat = [T.as_tensor_variable(length) for shape in shapes for length in shape]
    compiled = croton.function(inputs, [output, *flat], backend="numpy", on_unused_input="ignore")
    result, *lengths = compiled(*values)
    assert tuple(int(n) for n in lengths) == result.shape


@pytest.mark.parametrize(
    "statics, shapes",
    [
        (((None, None), (None, None)), ((2, 3), (2, 3))),
        (((1, None), (None, None)), ((1, 3), (4, 3))),
        (((None, 1), (1, None)), ((2, 1), (1, 5))),
        (((None, None), ()), ((0, 3), ())),
        (((3, None), (None, 4)), ((3, 4), (3, 4))),
        (((None, 1, None), (None,)), ((2, 1, 3), (3,))),
    ],
)
def test_elemwise_infer_shape(statics, shapes):
    a, b = (TensorType("float64", shape=s)() for s in statics)
    out = a * b
    assert isinstance(out.owner.op, Elemwise)
    check_infer_shape([a, b], out, [np.ones(s) for s in shapes])


def test_dimshuffle_infer_shape():
    x = TensorType("float64", shape=(None, 1, None))()
    out = x.dimshuffle(2, "x", 0)
    check_infer_shape([x], out, [np.ones((2, 1, 5))])
