"""The math part of the user API (``croton.tensor``): Theano's names, operators and NEP 50."""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.ops.elemwise import Elemwise
from croton.ops.reduce import Reduce


def compile_(inputs, outputs, **kwargs):
    return croton.function(inputs, outputs, backend="numpy", **kwargs)


def assert_matches(got, want, rtol: float = 1e-12) -> None:
    want = np.asarray(want)
    assert isinstance(got, np.ndarray), type(got)
    assert got.dtype == want.dtype, f"dtype {got.dtype}, numpy gives {want.dtype}"
    assert got.shape == want.shape, f"shape {got.shape}, numpy gives {want.shape}"
    if want.dtype.kind == "f":
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol, equal_nan=True)
    else:
        np.testing.assert_array_equal(got, want)


THEANO_NAMES = """
add sub mul true_div int_div mod pow neg abs abs_ sign exp exp2 expm1 log log2 log10 log1p
sqrt sqr square reciprocal inv sin cos tan arcsin arccos arctan arctan2 sinh cosh tanh arcsinh
arccosh arctanh sigmoid softplus erf erfc floor ceil round trunc clip minimum maximum lt gt le
ge eq neq and_ or_ xor invert bitwise_and bitwise_or bitwise_xor isnan isinf switch where cast
identity tensor_copy logical_not true_divide floor_div divide sum prod max min all any mean
var std logsumexp argmax argmin max_and_argmax elemwise
""".split()


@pytest.mark.parametrize("name", THEANO_NAMES)
def test_theano_names_exist(name):
    assert callable(getattr(T, name))


def test_aliases_build_the_same_ops():
    x = T.vector()
    pairs = [(T.abs_, T.abs), (T.square, T.sqr), (T.inv, T.reciprocal), (T.where, T.switch)]
    for alias, original in pairs:
        assert alias is original
    assert T.true_divide(x, 2.0).owner.op == T.true_div(x, 2.0).owner.op
    assert T.floor_div(x, 2.0).owner.op == T.int_div(x, 2.0).owner.op
    assert T.tensor_copy(x).owner.op == T.identity(x).owner.op
    assert T.nnet.sigmoid is T.sigmoid


def test_elemwise_builds_by_name():
    x = T.vector()
    out = T.elemwise("arctan2", x, 1.0)
    assert isinstance(out.owner.op, Elemwise)
    assert out.owner.op.scalar_op.name == "arctan2"
    value = np.array([-1.0, 0.0, 2.0])
    assert_matches(compile_([x], out)(value), np.arctan2(value, 1.0))
    with pytest.raises(KeyError):
        T.elemwise("no_such_op", x)
    with pytest.raises(TypeError, match="2 inputs"):
        T.elemwise("add", x)


# -- operators -------------------------------------------------------------------------

X = np.array([[-2.5, -1.0, 0.0], [0.5, 2.0, 3.5]])
Y = np.array([[1.5, -2.0, 2.5], [4.0, 0.5, -1.0]])


@pytest.mark.parametrize(
    "operator",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a * b,
        lambda a, b: a / b,
        lambda a, b: a // b,
        lambda a, b: a % b,
        lambda a, b: abs(a) ** b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
        lambda a, b: -a + (+b),
        lambda a, b: abs(a),
        lambda a, b: 2 - a,
        lambda a, b: 3 / b,
        lambda a, b: 7 // b,
        lambda a, b: 5.5 % b,
        lambda a, b: 2**a,
        lambda a, b: 1 + a * 0.5,
    ],
)
def test_operators_match_numpy(operator):
    x, y = T.matrix(), T.matrix()
    with np.errstate(all="ignore"):
        got = compile_([x, y], operator(x, y), on_unused_input="ignore")(X, Y)
        assert_matches(got, operator(X, Y))


def test_bitwise_operators():
    i, j = T.imatrix(), T.imatrix()
    a, b = X.astype("int32"), Y.astype("int32")
    f = compile_([i, j], [i & j, i | j, i ^ j, ~i, 3 & i, 5 | j])
    for got, want in zip(f(a, b), [a & b, a | b, a ^ b, ~a, 3 & a, 5 | b], strict=True):
        assert_matches(got, want)
    p, q = T.TensorType("bool", shape=(None,))(), T.TensorType("bool", shape=(None,))()
    u, v = np.array([True, True, False]), np.array([True, False, False])
    for got, want in zip(
        compile_([p, q], [p & q, p | q, p ^ q, ~p])(u, v), [u & v, u | v, u ^ v, ~u], strict=True
    ):
        assert_matches(got, want)


def test_equality_operators_are_identity():
    x = T.vector()
    assert (x == x) is True
    assert (x != T.vector()) is True
    assert T.eq(x, x).dtype == "bool"
    with pytest.raises(TypeError, match="truth value"):
        bool(x > 0)


@pytest.mark.parametrize(
    "dtype, scalar, operator",
    [
        ("float32", 0.1, lambda a, s: a * s),
        ("float32", 0.1, lambda a, s: s * a),
        ("float32", 2, lambda a, s: a / s),
        ("float32", 3, lambda a, s: s - a),
        ("float32", 2, lambda a, s: a**s),
        ("int32", 1.5, lambda a, s: a + s),
        ("int32", 1, lambda a, s: a + s),
        ("int32", 2, lambda a, s: a / s),
        ("int32", 2, lambda a, s: s // a),
        ("int8", 1, lambda a, s: a - s),
        ("int8", 100, lambda a, s: a * s),
        ("int8", 1.0, lambda a, s: a * s),
        ("bool", 1, lambda a, s: a + s),
        ("float16", 1e3, lambda a, s: a + s),
        ("float64", 1, lambda a, s: a > s),
    ],
)
def test_operators_follow_nep50(dtype, scalar, operator):
    value = np.array([1, 2, 3]).astype(dtype)
    x = T.TensorType(dtype, shape=(None,))()
    with np.errstate(all="ignore"):
        want = operator(value, scalar)
        got = compile_([x], operator(x, scalar))(value)
    assert_matches(got, want, rtol=1e-3 if want.dtype == "float16" else 1e-6)


def test_numpy_scalars_and_arrays_are_strong():
    f = T.fvector()
    assert (f * np.float64(0.1)).dtype == "float64"
    assert (f * np.float32(0.1)).dtype == "float32"
    assert (f + np.array(1.0)).dtype == "float64"
    assert (f + [1, 2, 3]).dtype == "float64"
    assert (T.bvector() + np.int64(1)).dtype == "int64"


# -- elementwise helpers ---------------------------------------------------------------


def test_round_modes():
    x = T.vector()
    value = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49999999999999994, -0.0])
    f = compile_(
        [x], [T.round(x), T.round(x, "half_to_even"), T.round(x, "half_away_from_zero"), x.round()]
    )
    even, even2, away, method = f(value)
    assert_matches(even, np.round(value))
    assert_matches(even2, np.round(value))
    assert_matches(method, np.round(value))
    assert_matches(away, np.array([-3.0, -2.0, -1.0, 1.0, 2.0, 3.0, 0.0, -0.0]))
    assert np.signbit(away[-1])
    with pytest.raises(ValueError, match="round mode"):
        T.round(x, "half_up")


def test_round_of_integers_keeps_dtype():
    i = T.ivector()
    value = np.array([-3, 0, 7], "int32")
    for mode in (None, "half_away_from_zero"):
        assert_matches(compile_([i], T.round(i, mode))(value), value)


def test_logical_not():
    x, b = T.vector(), T.TensorType("bool", shape=(None,))()
    got = compile_([x, b], [T.logical_not(x), T.logical_not(b)])(
        np.array([0.0, 2.0, np.nan]), np.array([True, False, True])
    )
    assert_matches(got[0], np.logical_not(np.array([0.0, 2.0, np.nan])))
    assert_matches(got[1], np.array([False, True, False]))


def test_clip_with_python_scalars_and_methods():
    f, i = T.fvector(), T.ivector()
    value = np.array([-2.0, 0.25, 3.0], "float32")
    assert T.clip(f, 0.0, 1.0).dtype == "float32"
    assert T.clip(i, 0.5, 2).dtype == "float64"
    assert_matches(compile_([f], f.clip(0.0, 1.0))(value), np.clip(value, 0.0, 1.0))
    assert_matches(compile_([f], T.clip(f, -1, 1))(value), np.clip(value, -1, 1))


def test_switch_with_python_branches_and_numeric_condition():
    c, f = T.fvector(), T.fvector()
    out = T.switch(c, f, 0.0)
    assert out.dtype == "float32"
    cond, value = np.array([1.0, 0.0, -2.0], "float32"), np.array([5.0, 6.0, 7.0], "float32")
    assert_matches(compile_([c, f], out)(cond, value), np.where(cond, value, 0.0))
    assert_matches(compile_([c], T.where(c > 0, 1, -1))(cond), np.where(cond > 0, 1, -1))


def test_cast_and_astype():
    x = T.matrix()
    assert T.cast(x, "floatX").dtype == croton.config.floatX
    assert x.astype("int8").dtype == "int8"
    assert T.cast(x, croton.config.floatX) is x
    with pytest.raises(TypeError):
        T.cast(x, "object")
    assert_matches(compile_([x], x.astype("int16"))(X), X.astype("int16"))


def test_identity_is_a_copy_with_a_name():
    x = T.vector()
    y = T.identity(x, name="y")
    assert y.name == "y" and y is not x
    value = np.array([1.0, 2.0])
    got = compile_([x], x.copy())(value)
    assert_matches(got, value)
    assert not np.shares_memory(got, value)


# -- reductions ------------------------------------------------------------------------

CUBE = np.arange(24.0).reshape(2, 3, 4) - 11.5


@pytest.mark.parametrize("axis", [None, 0, -1, [0, 2], (2, 0), (-3, -1)], ids=str)
def test_reduction_axis_forms(axis):
    x = T.tensor3()
    numpy_axis = tuple(axis) if isinstance(axis, list) else axis
    outputs = [
        T.sum(x, axis),
        x.max(axis=axis, keepdims=True),
        T.mean(x, axis=axis),
        x.std(axis=axis, keepdims=True),
    ]
    wants = [
        CUBE.sum(axis=numpy_axis),
        CUBE.max(axis=numpy_axis, keepdims=True),
        CUBE.mean(axis=numpy_axis),
        CUBE.std(axis=numpy_axis, keepdims=True),
    ]
    for got, want in zip(compile_([x], outputs)(CUBE), wants, strict=True):
        assert_matches(got, want)


def test_reduction_of_python_data_and_keepdims_static_shape():
    assert_matches(compile_([], T.sum([[1, 2], [3, 4]], axis=0))(), np.array([4, 6]))
    out = T.sum(T.TensorType("float64", shape=(None, 3, 5))(), axis=(0, 2), keepdims=True)
    assert out.type.shape == (1, 3, 1)
    assert isinstance(out.owner.inputs[0].owner.op, Reduce)
    assert T.max(T.TensorType("float64", shape=(2, 3))(), axis=1).type.shape == (2,)


def test_sum_and_prod_accept_theano_arguments():
    x = T.bmatrix()
    value = np.array([[100, 100], [100, 27]], "int8")
    got = compile_(
        [x], [T.sum(x, acc_dtype="int64"), T.prod(x, axis=0, dtype="int32"), x.sum(dtype="float32")]
    )(value)
    assert_matches(got[0], np.sum(value))
    assert_matches(got[1], np.prod(value, axis=0, dtype="int32"))
    assert_matches(got[2], np.sum(value, dtype="float32"))


def test_mean_of_float16_accumulates_in_float32():
    value = np.full(4096, 30.0, "float16")
    got = compile_([h := T.TensorType("float16", shape=(None,))()], T.mean(h))(value)
    assert_matches(got, np.mean(value), rtol=1e-3)


def test_var_corrected_and_size():
    x = T.matrix()
    got = compile_([x], [T.var(x, corrected=True), T.std(x, axis=0, ddof=1), x.size])(X)
    assert_matches(got[0], np.var(X, ddof=1))
    assert_matches(got[1], np.std(X, axis=0, ddof=1))
    assert int(got[2]) == X.size


def test_argmax_keepdims_and_flattened():
    x = T.tensor3()
    got = compile_(
        [x], [T.argmax(x, keepdims=True), x.argmin(axis=-1, keepdims=True), T.argmax(x, axis=[1])]
    )(CUBE)
    assert_matches(got[0], np.argmax(CUBE, keepdims=True))
    assert_matches(got[1], np.argmin(CUBE, axis=-1, keepdims=True))
    assert_matches(got[2], np.argmax(CUBE, axis=1))
    # several axes, as Theano: the position within them flattened together
    (joined,) = compile_([x], [T.argmax(x, axis=(0, 1))])(CUBE)
    assert_matches(joined, np.argmax(CUBE.reshape(-1, CUBE.shape[2]), axis=0))


def test_norm():
    x = T.matrix()
    got = compile_([x], [x.norm(1), x.norm(2, axis=1), x.norm(3, axis=0, keepdims=True)])(X)
    assert_matches(got[0], np.asarray(np.abs(X).sum()))
    assert_matches(got[1], np.linalg.norm(X, axis=1))
    assert_matches(got[2], (np.abs(X) ** 3).sum(axis=0, keepdims=True) ** (1 / 3))


def test_theano_tutorial_logistic():
    x = T.dmatrix("x")
    s = 1 / (1 + T.exp(-x))
    logistic = croton.function([x], s)
    value = np.array([[0.0, 1.0], [-1.0, -2.0]])
    assert_matches(logistic(value), 1 / (1 + np.exp(-value)))
    s2 = (1 + T.tanh(x / 2)) / 2
    assert_matches(croton.function([x], s2)(value), 1 / (1 + np.exp(-value)))
