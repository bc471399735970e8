"""Reductions, mean/var/std, logsumexp and argmax on the numpy backend, checked against numpy."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.gradient import verify_grad
from croton.graph.type import TensorType
from croton.ops.composite import Composite
from croton.ops.reduce import Argmax, Reduce
from croton.ops.scalar import SCALAR_OPS
from croton.rewrite import RewriteWarning

AXES = [None, 0, 1, -1, (0, 2), (-1, 0), (0, 1, 2), ()]
DTYPES = ["float32", "float64", "int8", "int32", "bool"]


def data(dtype: str, shape=(2, 3, 4), seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.integers(0, 2, size=shape).astype(bool)
    if dtype.startswith("int"):
        return rng.integers(-3, 4, size=shape).astype(dtype)
    return rng.uniform(-2, 2, size=shape).astype(dtype)


def compile_(inputs, outputs):
    return croton.function(inputs, outputs, backend="numpy")


def evaluate(function, value, static=None):
    x = TensorType(value.dtype.name, shape=static or (None,) * value.ndim)("x")
    with np.errstate(all="ignore"):
        return compile_([x], function(x))(value)


def assert_matches(got, want, rtol: float | None = None) -> None:
    want = np.asarray(want)
    assert isinstance(got, np.ndarray), type(got)
    assert got.dtype == want.dtype, f"dtype {got.dtype}, numpy gives {want.dtype}"
    assert got.shape == want.shape, f"shape {got.shape}, numpy gives {want.shape}"
    if want.dtype.kind == "f":
        default = {"float16": 2e-3, "float32": 1e-5}.get(want.dtype.name, 1e-12)
        np.testing.assert_allclose(
            got, want, rtol=rtol or default, atol=rtol or default, equal_nan=True
        )
    else:
        np.testing.assert_array_equal(got, want)


# -- sum, prod, max, min, all, any -----------------------------------------------------

NUMPY_REDUCTIONS = {
    "sum": (T.sum, np.sum),
    "prod": (T.prod, np.prod),
    "max": (T.max, np.max),
    "min": (T.min, np.min),
    "all": (T.all, np.all),
    "any": (T.any, np.any),
}


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("kind", sorted(NUMPY_REDUCTIONS))
def test_reduction_axes_match_numpy(kind, axis, keepdims):
    function, reference = NUMPY_REDUCTIONS[kind]
    x = data("float64")
    got = evaluate(lambda v: function(v, axis=axis, keepdims=keepdims), x)
    assert_matches(got, reference(x, axis=axis, keepdims=keepdims))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", sorted(NUMPY_REDUCTIONS))
def test_reduction_dtypes_match_numpy(kind, dtype):
    function, reference = NUMPY_REDUCTIONS[kind]
    x = data(dtype)
    for axis in (None, 1, (0, 2)):
        assert_matches(
            evaluate(lambda v, function=function, axis=axis: function(v, axis=axis), x),
            reference(x, axis=axis),
        )


def test_sum_of_small_ints_accumulates_in_int64():
    x = np.full((300,), 100, dtype="int8")
    got = evaluate(T.sum, x)
    assert_matches(got, np.sum(x))
    assert int(got) == 30000
    assert T.sum(T.bvector()).dtype == "int64"
    assert T.sum(T.TensorType("uint8", shape=(None,))()).dtype == "uint64"
    assert T.prod(T.TensorType("bool", shape=(None,))()).dtype == "int64"
    assert T.sum(T.fvector()).dtype == "float32"


def test_reduction_dtype_argument():
    x = np.arange(12, dtype="int8").reshape(3, 4)
    assert_matches(
        evaluate(lambda v: T.sum(v, axis=0, dtype="float32"), x), np.sum(x, axis=0, dtype="float32")
    )
    assert_matches(evaluate(lambda v: v.prod(dtype="int16"), x + 1), np.prod(x + 1, dtype="int16"))
    y = data("float64", (3, 4))
    assert_matches(
        evaluate(lambda v: T.sum(v, dtype="float32"), y), np.sum(y, dtype="float32"), rtol=1e-5
    )


@pytest.mark.parametrize("kind", sorted(NUMPY_REDUCTIONS))
def test_reduction_of_non_contiguous_input(kind):
    function, reference = NUMPY_REDUCTIONS[kind]
    base = data("float32", (4, 6), seed=1)
    for x in (base.T, base[::2, 1::2], np.asfortranarray(base)):
        assert_matches(evaluate(lambda v: function(v, axis=0), x), reference(x, axis=0))
        assert_matches(
            evaluate(lambda v: function(v, axis=-1, keepdims=True), x),
            reference(x, axis=-1, keepdims=True),
        )


@pytest.mark.parametrize("kind", ["sum", "prod", "all", "any"])
def test_reduction_of_zero_size_input(kind):
    function, reference = NUMPY_REDUCTIONS[kind]
    x = np.zeros((0, 3))
    for axis in (None, 0, 1):
        assert_matches(
            evaluate(lambda v, function=function, axis=axis: function(v, axis=axis), x),
            reference(x, axis=axis),
        )


@pytest.mark.parametrize("kind", ["max", "min"])
def test_max_of_zero_size_input(kind):
    function, reference = NUMPY_REDUCTIONS[kind]
    x = np.zeros((0, 3))
    assert_matches(evaluate(lambda v: function(v, axis=1), x), reference(x, axis=1))
    with pytest.raises(ValueError):
        evaluate(lambda v: function(v, axis=0), x)


@pytest.mark.parametrize("kind", sorted(NUMPY_REDUCTIONS))
def test_reduction_special_values(kind):
    function, reference = NUMPY_REDUCTIONS[kind]
    x = np.array(
        [[np.nan, 1.0, 2.0], [np.inf, -1.0, 0.0], [-np.inf, np.inf, 3.0], [-0.0, 0.0, 5.0]]
    )
    for axis in (None, 0, 1):
        with np.errstate(all="ignore"):
            want = reference(x, axis=axis)
        assert_matches(
            evaluate(lambda v, function=function, axis=axis: function(v, axis=axis), x), want
        )


def test_reduction_of_scalar_and_bad_axes():
    x = np.asarray(2.5)
    assert_matches(evaluate(T.sum, x), np.sum(x))
    assert_matches(evaluate(T.max, x), np.max(x))
    with pytest.raises(ValueError, match="out of bounds"):
        T.sum(T.matrix(), axis=2)
    with pytest.raises(ValueError, match="out of bounds"):
        T.max(T.matrix(), axis=-3)
    with pytest.raises(ValueError, match="repeated"):
        T.sum(T.matrix(), axis=(0, -2))
    with pytest.raises(ValueError):
        Reduce("median", (0,))


def test_reduction_methods():
    x = T.matrix()
    value = data("float64", (3, 4))
    outputs = [
        x.sum(axis=0),
        x.prod(axis=1),
        x.max(),
        x.min(keepdims=True),
        x.mean(axis=-1),
        x.var(),
        x.std(axis=0),
    ]
    wants = [
        value.sum(axis=0),
        value.prod(axis=1),
        value.max(),
        value.min(keepdims=True),
        value.mean(axis=-1),
        value.var(),
        value.std(axis=0),
    ]
    for got, want in zip(compile_([x], outputs)(value), wants, strict=True):
        assert_matches(got, want)


# -- mean, var, std --------------------------------------------------------------------

STATISTICS = {"mean": (T.mean, np.mean), "var": (T.var, np.var), "std": (T.std, np.std)}


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES[:-1], ids=str)
@pytest.mark.parametrize("kind", sorted(STATISTICS))
def test_statistics_match_numpy(kind, axis, keepdims):
    function, reference = STATISTICS[kind]
    x = data("float64")
    assert_matches(
        evaluate(lambda v: function(v, axis=axis, keepdims=keepdims), x),
        reference(x, axis=axis, keepdims=keepdims),
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", sorted(STATISTICS))
def test_statistics_dtypes_match_numpy(kind, dtype):
    function, reference = STATISTICS[kind]
    x = data(dtype)
    for axis in (None, 1):
        assert_matches(
            evaluate(lambda v, function=function, axis=axis: function(v, axis=axis), x),
            reference(x, axis=axis),
        )


@pytest.mark.parametrize("ddof", [0, 1, 2])
def test_var_and_std_ddof(ddof):
    x = data("float64", (5, 4))
    assert_matches(evaluate(lambda v: T.var(v, axis=0, ddof=ddof), x), np.var(x, axis=0, ddof=ddof))
    assert_matches(
        evaluate(lambda v: T.std(v, ddof=ddof, keepdims=True), x),
        np.std(x, ddof=ddof, keepdims=True),
    )
    assert_matches(
        evaluate(lambda v: T.var(v, axis=1, corrected=True), x), np.var(x, axis=1, ddof=1)
    )


def test_mean_dtype_argument_and_int_mean():
    x = np.array([[1, 2], [4, 8]], "int32")
    got = evaluate(lambda v: T.mean(v, axis=0), x)
    assert_matches(got, np.mean(x, axis=0))
    assert got.dtype == "float64"
    assert_matches(evaluate(lambda v: T.mean(v, dtype="float32"), x), np.mean(x, dtype="float32"))
    assert T.mean(T.fmatrix()).dtype == "float32"


def test_statistics_of_non_contiguous_input():
    base = data("float64", (4, 6), seed=3)
    for x in (base.T, base[::2, ::3]):
        for function, reference in STATISTICS.values():
            assert_matches(
                evaluate(lambda v, function=function: function(v, axis=1), x), reference(x, axis=1)
            )


# -- logsumexp -------------------------------------------------------------------------


def logsumexp_reference(x, axis=None, keepdims=False):
    x = np.asarray(x, dtype="float64") if x.dtype.kind != "f" else x
    peak = np.max(x, axis=axis, keepdims=True)
    peak = np.where(np.isinf(peak), 0, peak)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(x - peak), axis=axis, keepdims=True)) + peak
    return out if keepdims else np.squeeze(out, axis=axis) if axis is not None else out.reshape(())


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)], ids=str)
def test_logsumexp_matches_reference(axis, keepdims):
    x = data("float64")
    got = evaluate(lambda v: T.logsumexp(v, axis=axis, keepdims=keepdims), x)
    assert_matches(got, logsumexp_reference(x, axis, keepdims))
    direct = np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))
    np.testing.assert_allclose(got, direct, rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_logsumexp_is_stable(dtype):
    x = np.array(
        [[1000.0, 1000.0], [-1000.0, -1000.0], [-np.inf, -np.inf], [np.inf, 1.0], [0.0, -np.inf]],
        dtype,
    )
    got = evaluate(lambda v: T.logsumexp(v, axis=1), x)
    want = np.array([1000 + math.log(2), -1000 + math.log(2), -np.inf, np.inf, 0.0], dtype)
    assert_matches(got, want)
    assert np.isfinite(got[:2]).all()
    with np.errstate(all="ignore"):
        assert np.isnan(evaluate(lambda v: T.logsumexp(v), np.array([np.nan, 1.0], dtype)))


def test_logsumexp_of_integers_is_float64():
    x = np.array([[1, 2, 3], [0, 0, 0]], "int8")
    got = evaluate(lambda v: T.logsumexp(v, axis=1), x)
    assert_matches(got, logsumexp_reference(x.astype("float64"), axis=1))


def test_logsumexp_gradient_is_softmax_even_for_large_inputs():
    x = T.vector()
    g = compile_([x], T.grad(T.logsumexp(x), x))
    assert_matches(g(np.array([1000.0, 1000.0])), np.array([0.5, 0.5]))
    assert_matches(g(np.array([-1000.0, -1000.0, -1000.0, -1000.0])), np.full(4, 0.25))


# -- argmax, argmin --------------------------------------------------------------------


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, 1, -1, 2, -3], ids=str)
@pytest.mark.parametrize("kind", ["argmax", "argmin"])
def test_argmax_matches_numpy(kind, axis, keepdims):
    x = data("float64")
    got = evaluate(lambda v: getattr(T, kind)(v, axis=axis, keepdims=keepdims), x)
    assert_matches(got, getattr(np, kind)(x, axis=axis, keepdims=keepdims))


@pytest.mark.parametrize("dtype", DTYPES)
def test_argmax_dtypes_and_ties(dtype):
    x = data(dtype, (4, 5))
    for kind in ("argmax", "argmin"):
        for axis in (None, 0, 1):
            assert_matches(
                evaluate(lambda v, kind=kind, axis=axis: getattr(T, kind)(v, axis=axis), x),
                getattr(np, kind)(x, axis=axis),
            )
    ties = np.array([[1, 3, 3], [2, 2, 0]], dtype=dtype if dtype != "bool" else "int8")
    assert_matches(evaluate(lambda v: T.argmax(v, axis=1), ties), np.argmax(ties, axis=1))


def test_argmax_special_values_and_layouts():
    x = np.array([[1.0, np.nan, 3.0], [-np.inf, -1.0, np.inf]])
    for kind in ("argmax", "argmin"):
        assert_matches(
            evaluate(lambda v, kind=kind: getattr(T, kind)(v, axis=1), x),
            getattr(np, kind)(x, axis=1),
        )
    base = data("float32", (4, 6))
    assert_matches(evaluate(lambda v: T.argmax(v, axis=0), base.T), np.argmax(base.T, axis=0))
    assert_matches(evaluate(lambda v: T.argmin(v), base[::2, 1::2]), np.argmin(base[::2, 1::2]))
    assert_matches(
        evaluate(lambda v: T.argmax(v, axis=0), np.zeros((3, 0))),
        np.argmax(np.zeros((3, 0)), axis=0),
    )


def test_argmax_has_no_gradient_and_max_and_argmax():
    x = T.vector()
    maximum, index = T.max_and_argmax(x)
    got = compile_([x], [maximum, index])(np.array([3.0, 7.0, -1.0]))
    assert_matches(got[0], np.asarray(7.0))
    assert_matches(got[1], np.asarray(1, "int64"))
    g = T.grad(T.sum(T.argmax(x) * x), x)
    assert_matches(compile_([x], g)(np.array([3.0, 7.0, -1.0])), np.array([1.0, 1.0, 1.0]))


@pytest.mark.parametrize("axes", [(0, 2), (2, 0), (1, 2), (0, 1, 2), (-1, 0)], ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_argmax_over_several_axes_flattens_them_as_theano(axes, keepdims):
    """Theano (not numpy) takes several axes: the position within them flattened in
    their order in the array."""
    x = data("float64")
    kept = [d for d in range(x.ndim) if d not in {a % x.ndim for a in axes}]
    ordered = sorted(a % x.ndim for a in axes)
    joined = x.transpose(kept + ordered).reshape([x.shape[d] for d in kept] + [-1])
    for kind in ("argmax", "argmin"):
        want = getattr(np, kind)(joined, axis=-1)
        if keepdims:
            want = np.expand_dims(want, tuple(ordered))
        got = evaluate(lambda v, k=kind: getattr(T, k)(v, axis=axes, keepdims=keepdims), x)
        assert_matches(got, want)


def test_argmax_kind_is_checked():
    with pytest.raises(ValueError):
        Argmax("median", 0)


# -- gradients -------------------------------------------------------------------------

_rng = np.random.default_rng(5)
_POINT = _rng.uniform(-2, 2, size=(3, 4))
_DISTINCT = np.arange(12.0).reshape(3, 4)[:, [2, 0, 3, 1]] * 0.37 - 2


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 1)], ids=str)
@pytest.mark.parametrize(
    "kind",
    ["sum", "prod", "max", "min", "mean", "var", "std", "logsumexp"],
)
def test_reduction_gradient(kind, axis, keepdims):
    function = getattr(T, kind)
    point = _DISTINCT if kind in ("max", "min") else _POINT
    if kind == "prod":
        point = _rng.uniform(0.5, 1.5, size=(3, 4)) * np.sign(_POINT)
    verify_grad(
        lambda v: function(v, axis=axis, keepdims=keepdims),
        [point.copy()],
        rng=np.random.default_rng(0),
    )


@pytest.mark.parametrize(
    "point",
    [
        np.array([[2.0, 0.0, 3.0], [1.5, -2.0, 0.5]]),
        np.array([[0.0, 0.0, 3.0], [1.5, -2.0, 0.5]]),
        np.array([[0.0, 0.0, 0.0], [0.0, -2.0, 0.0]]),
    ],
    ids=["one zero", "two zeros", "many zeros"],
)
@pytest.mark.parametrize("axis", [None, 1, 0], ids=str)
def test_prod_gradient_with_zeros(point, axis):
    verify_grad(lambda v: T.prod(v, axis=axis), [point.copy()], rng=np.random.default_rng(0))
    x = T.matrix()
    got = compile_([x], T.grad(T.sum(T.prod(x, axis=axis)), x))(point)
    want = np.zeros_like(point)
    for index in np.ndindex(*point.shape):
        others = point.copy()
        if axis is None:
            others[index] = 1.0
            want[index] = others.prod()
        else:
            line = list(index)
            line[axis] = slice(None)
            others[index] = 1.0
            want[index] = others[tuple(line)].prod()
    assert_matches(got, want)


def test_max_gradient_goes_to_the_maximum():
    x = T.matrix()
    value = np.array([[1.0, 5.0, 2.0], [7.0, -1.0, 3.0]])
    got = compile_([x], T.grad(T.sum(T.max(x, axis=1) * np.array([2.0, 3.0])), x))(value)
    assert_matches(got, np.array([[0.0, 2.0, 0.0], [3.0, 0.0, 0.0]]))


def test_reduction_gradient_in_float32():
    point = _POINT.astype("float32")
    for function in (T.sum, T.mean, T.logsumexp, lambda v: T.prod(v, axis=0)):
        verify_grad(
            lambda v, function=function: function(v), [point.copy()], rng=np.random.default_rng(0)
        )


def test_sum_gradient_of_integer_input_is_zero():
    i = T.imatrix()
    g = T.grad(T.sum(i) * 1.0, i)
    got = compile_([i], g)(np.ones((2, 3), "int32"))
    assert_matches(got, np.zeros((2, 3), croton.config.floatX))


# -- infer_shape -----------------------------------------------------------------------


def check_infer_shape(inputs, output, values) -> None:
    node = output.owner
    input_shapes = [tuple(x.shape[i] for i in range(x.ndim)) for x in node.inputs]
    shapes = node.op.infer_shape(node, input_shapes)
    flat = [T.as_tensor_variable(length) for shape in shapes for length in shape]
    compiled = croton.function(inputs, [output, *flat], backend="numpy", on_unused_input="ignore")
    result, *lengths = compiled(*values)
    assert tuple(int(n) for n in lengths) == result.shape
    assert len(shapes) == 1 and len(shapes[0]) == output.ndim


@pytest.mark.parametrize("axis", [(0,), (1,), (0, 2), (), (0, 1, 2)], ids=str)
@pytest.mark.parametrize("kind", ["sum", "max", "any"])
def test_reduce_infer_shape(kind, axis):
    x = TensorType("float64", shape=(None, 3, None))()
    out = Reduce(kind, axis)(x)
    check_infer_shape([x], out, [np.ones((2, 3, 5))])
    if kind != "max":
        check_infer_shape([x], out, [np.ones((0, 3, 5))])


@pytest.mark.parametrize("axis", [None, 0, 1, 2])
def test_argmax_infer_shape(axis):
    x = TensorType("float64", shape=(None, None, 4))()
    out = Argmax("max", axis)(x)
    check_infer_shape([x], out, [np.random.default_rng(0).uniform(size=(2, 3, 4))])


# -- reductions with an elementwise prologue (made by fusion) ----------------------------


def squared_difference() -> Composite:
    sub, sqr = SCALAR_OPS["sub"], SCALAR_OPS["sqr"]
    program = [(sub, (("input", 0), ("input", 1)), "float64"), (sqr, (("step", 0),), "float64")]
    return Composite(["float64", "float64"], program)


@pytest.mark.parametrize("kind", ["sum", "max", "prod"])
@pytest.mark.parametrize("axis", [(0,), (1,), (0, 1)], ids=str)
def test_reduce_with_prologue_matches_unfused(kind, axis):
    x, y, row = T.matrix("x"), T.matrix("y"), T.row("r")
    a, b = data("float64", (3, 4), seed=7), data("float64", (3, 4), seed=8)
    reference = NUMPY_REDUCTIONS[kind][1]
    fused = Reduce(kind, axis, prologue=squared_difference())
    f = croton.function([x, y, row], [fused(x, y), fused(x, row)], backend="numpy", mode="NONE")
    got, broadcast = f(a, b, b[:1])
    assert_matches(got, reference((a - b) ** 2, axis=axis))
    assert_matches(broadcast, reference((a - b[:1]) ** 2, axis=axis))
    with pytest.raises(ValueError):
        f(a, b[:2], b[:1])
    check_infer_shape([x, y], fused(x, y), [a, b])
    verify_grad(lambda u, v: fused(u, v), [a, b], rng=np.random.default_rng(0))


def test_rewrites_accept_a_reduce_with_prologue():
    x, y = T.vector("x"), T.vector("y")
    out = Reduce("sum", (0,), prologue=squared_difference())(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RewriteWarning)
        f = croton.function([x, y], out, backend="numpy")
    assert_matches(f(np.arange(3.0), np.ones(3)), np.asarray(2.0))
