"""`Elemwise` over every scalar op and dtype, composites, and `DimShuffle`: jax vs numpy."""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.ops.composite import Composite
from croton.ops.elemwise import DimShuffle, Elemwise
from croton.ops.scalar import SCALAR_OPS
from croton.tensor.math import elemwise

NAN, INF = np.nan, np.inf

#: test values per dtype: special values, zeros of both signs, halves, extremes
VALUES = {
    "float64": [NAN, INF, -INF, -0.0, 0.0, 0.5, -0.5, 1.0, -1.0, 2.5, -2.5, 3.0, -7.25, 0.1, 1e300],
    "float32": [NAN, INF, -INF, -0.0, 0.0, 0.5, -0.5, 1.0, -1.0, 2.5, -2.5, 3.0, -7.25, 0.1, 3e38],
    "float16": [NAN, INF, -INF, -0.0, 0.0, 0.5, -0.5, 1.0, -1.0, 2.5, -2.5, 3.0, -7.25, 0.1],
    "int64": [0, 1, -1, 2, -2, 3, 7, -7, 2**63 - 1, -(2**63)],
    "int32": [0, 1, -1, 2, -2, 3, 7, -7, 2**31 - 1, -(2**31)],
    "int8": [0, 1, -1, 2, -2, 3, 7, -7, 127, -128],
    "uint8": [0, 1, 2, 3, 7, 255],
    "uint64": [0, 1, 2, 3, 7, 2**64 - 1],
    "bool": [False, True],
    "complex128": [1 + 1j, -2.5 + 0.5j, 0.5 - 3j, -1j, 2.0],
}


def values(dtype: str) -> np.ndarray:
    return np.array(VALUES[dtype], dtype=dtype)


def _defined(name: str, dtypes: list[str]) -> bool:
    try:
        SCALAR_OPS[name].resolve(dtypes)
    except TypeError:
        return False
    return True


UNARY = [name for name, op in SCALAR_OPS.items() if op.nin == 1]
BINARY = [name for name, op in SCALAR_OPS.items() if op.nin == 2]
UNARY_CASES = [(n, d) for n in UNARY for d in VALUES if _defined(n, [d])]
BINARY_CASES = [(n, d) for n in BINARY for d in VALUES if _defined(n, [d, d])]


@pytest.mark.parametrize("name, dtype", UNARY_CASES, ids=[f"{n}-{d}" for n, d in UNARY_CASES])
def test_unary(pair, name, dtype):
    x = T.tensor(dtype=dtype, shape=(None,))
    result = pair([x], elemwise(name, x), mode="NONE").check(values(dtype))
    assert result.dtype == np.dtype(SCALAR_OPS[name].resolve([dtype])[1])


@pytest.mark.parametrize("name, dtype", BINARY_CASES, ids=[f"{n}-{d}" for n, d in BINARY_CASES])
def test_binary_on_every_pair_of_values(pair, name, dtype):
    x = T.tensor(dtype=dtype, shape=(None, 1))
    y = T.tensor(dtype=dtype, shape=(1, None))
    left, right = values(dtype), values(dtype)
    if name == "pow" and dtype != "bool" and np.dtype(dtype).kind in "iu":
        right = right[(right >= 0) & (right < 70)]  # numpy refuses negative integer powers
    pair([x, y], elemwise(name, x, y), mode="NONE").check(left[:, None], right[None, :])


@pytest.mark.parametrize(
    "dtypes",
    [("int8", "float32"), ("int64", "float32"), ("uint64", "int64"), ("bool", "float64")],
)
@pytest.mark.parametrize("name", ["add", "true_div", "int_div", "pow", "maximum"])
def test_binary_promotes_like_numpy(pair, name, dtypes):
    x = T.tensor(dtype=dtypes[0], shape=(None,))
    y = T.tensor(dtype=dtypes[1], shape=(None,))
    a = np.array([1, 2, 0, 3, 1], dtype=dtypes[0])
    b = np.array([2, 1, 3, 1, 0], dtype=dtypes[1])
    pair([x, y], elemwise(name, x, y)).check(a, b)  # dtypes are compared too


def test_integer_division_and_modulo_floor_like_numpy(pair):
    x, y = T.lvectors("x", "y")
    a = np.array([7, -7, 7, -7, 5, 0, -(2**63), -(2**63)])
    b = np.array([2, 2, -2, -2, 0, 0, -1, 1])
    got_div, got_mod = pair([x, y], [x // y, x % y]).check(a, b)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(got_div, np.floor_divide(a, b))
        np.testing.assert_array_equal(got_mod, np.remainder(a, b))
    assert got_div[4] == 0 and got_mod[4] == 0  # numpy: x // 0 == 0 and x % 0 == 0


def test_float_division_keeps_numpy_signs_and_infinities(pair):
    x, y = T.dvectors("x", "y")
    a = np.array([1.0, -1.0, 0.0, 5.0, -5.0, -0.0, 6.0, INF])
    b = np.array([0.0, 0.0, 0.0, INF, INF, 3.0, -3.0, 2.0])
    got_div, got_mod = pair([x, y], [x // y, x % y]).check(a, b)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(np.signbit(got_mod), np.signbit(np.remainder(a, b)))
        np.testing.assert_array_equal(np.signbit(got_div), np.signbit(np.floor_divide(a, b)))


def test_sign_of_negative_zero_is_positive_as_numpy(pair):
    x = T.dvector("x")
    got = pair([x], T.sign(x), mode="NONE").check(np.array([-0.0, 0.0, -2.0, NAN]))
    assert not np.signbit(got[0])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_power_with_scalar_half_takes_numpy_sqrt_rule(pair, dtype):
    # numpy's power loop takes sqrt for a scalar exponent of 0.5: -0.0 stays -0.0, -inf is nan
    x = T.tensor(dtype=dtype, shape=(None,))
    data = np.array([-0.0, -INF, INF, 4.0, -4.0, 0.25], dtype=dtype)
    got = pair([x], x**0.5, mode="NONE").check(data)
    assert np.signbit(got[0]) and np.isnan(got[1])
    elementwise = T.tensor(dtype=dtype, shape=(None,))
    exponents = np.full(6, 0.5, dtype=dtype)
    got = pair([x, elementwise], x**elementwise, mode="NONE").check(data, exponents)
    assert not np.signbit(got[0]) and got[1] == INF  # C's pow for an exponent array


def test_integer_power_wraps_like_numpy(pair):
    x, y = T.lvectors("x", "y")
    got = pair([x, y], x**y).check(np.array([2, 3, -3, 2, 0, 7]), np.array([64, 41, 3, 0, 0, 30]))
    assert got[0] == 0  # 2**64 wraps to 0 in int64


def test_negative_integer_power_raises_like_numpy(pair):
    x, y = T.lvectors("x", "y")
    f = pair([x, y], x**y)
    f.check(np.array([2, 3]), np.array([1, 2]))
    error = f.check_raises(ValueError, np.array([2, 3]), np.array([1, -2]))
    assert "negative integer powers" in str(error)


CAST_DTYPES = ["bool", "int8", "uint8", "int32", "int64", "uint64", "float16", "float32", "float64"]


@pytest.mark.parametrize("source", CAST_DTYPES)
@pytest.mark.parametrize("target", CAST_DTYPES + ["complex128"])
def test_cast(pair, source, target):
    # values every target represents; float -> int of nan, inf or out-of-range values
    # is undefined behaviour in C, and numpy and XLA differ there
    data = np.array([0, 1, 2, 7, 100, 127], dtype=source)
    if source != "bool" and np.dtype(source).kind in "if" and np.dtype(target).kind in "ifc":
        data = np.concatenate([data, np.array([-1, -7], dtype=source)])
    if source.startswith("float") and target.startswith("float"):
        data = np.concatenate([data, np.array([NAN, INF, -INF, -0.0, 0.1], dtype=source)])
    x = T.tensor(dtype=source, shape=(None,))
    result = pair([x], T.cast(x, target), mode="NONE").check(data)
    assert result.dtype == np.dtype(target)


def test_clip_and_switch(pair):
    x, low, high = T.dvectors("x", "low", "high")
    data = np.array([NAN, -INF, INF, -2.0, 0.5, 3.0])
    pair([x, low, high], T.clip(x, low, high), mode="NONE").check(
        data, np.array([0.0, 0.0, NAN, -1.0, 1.0, 2.0]), np.array([1.0, 1.0, 1.0, 2.0, 0.0, 5.0])
    )
    condition = T.bvector("c")
    choose = pair([condition, x, low], T.switch(T.neq(condition, 0), x, low), mode="NONE")
    choose.check(np.array([1, 0, 1, 0, 0, 1], dtype="int8"), data, np.arange(6.0))


def test_elemwise_broadcasting_and_scalars(pair):
    x = T.dmatrix("x")
    row = T.drow("row")
    s = T.dscalar("s")
    f = pair([x, row, s], [x * row + s, s * 2.5, T.exp(s)], mode="NONE")
    f.check(np.arange(6.0).reshape(3, 2), np.array([[1.0, -2.0]]), np.asarray(0.5))


def test_runtime_lengths_must_match_like_numpy(pair):
    x, y = T.dvectors("x", "y")
    f = pair([x, y], x + y)
    f.check(np.ones(3), np.ones(3))
    error = f.check_raises(ValueError, np.ones(3), np.ones(1))
    assert "do not broadcast at run time" in str(error)
    assert getattr(error, "node", None) is not None  # the failing node is named


def test_float32_stays_float32_with_python_scalars(pair):
    x = T.fvector("x")
    result = pair([x], x * 0.1 + 2).check(np.array([1.0, 2.5, -3.0], dtype="float32"))
    assert result.dtype == np.float32


def _composites(f) -> list:
    return [
        node.op.scalar_op
        for node in f.maker.fgraph.apply_nodes
        if isinstance(node.op, Elemwise) and isinstance(node.op.scalar_op, Composite)
    ]


def test_composite_is_one_jax_function_with_numpy_values(pair):
    x, y = T.dmatrices("x", "y")
    out = T.exp(x) * y + T.sin(x) / (y - 1.5) - 2.0 * T.tanh(y) ** 2
    f = pair([x, y], out)
    assert len(_composites(f.jax)) == 1
    data = np.array([[0.5, -1.0, NAN], [INF, 2.0, -0.0]])
    f.check(data, np.array([[1.5, 3.0, 1.0], [0.0, -INF, 2.5]]))


def test_composite_with_integer_steps_and_casts(pair):
    i, j = T.ivectors("i", "j")
    x = T.fvector("x")
    out = (i // 3 + j % 4) * x - T.cast(i * j, "float32")
    f = pair([i, j, x], out)
    assert _composites(f.jax)
    f.check(
        np.array([7, -7, 0, 5], dtype="int32"),
        np.array([-3, 4, 0, 9], dtype="int32"),
        np.array([0.5, -1.5, 2.0, NAN], dtype="float32"),
    )


def test_composite_of_comparisons_and_switch(pair):
    x = T.dvector("x")
    out = T.switch(T.and_(T.gt(x, 0), T.lt(x, 2)), T.log(x), T.sqr(x) + 1)
    f = pair([x], out)
    assert _composites(f.jax)
    f.check(np.array([-1.0, 0.5, 1.5, 2.0, NAN, INF]))


@pytest.mark.parametrize(
    "pattern, shape",
    [((1, 0), (2, 3)), (("x", 0, 1), (2, 3)), ((0, "x", 1), (2, 3)), ((1,), (1, 4)), ((), (1, 1))],
)
def test_dimshuffle(pair, pattern, shape):
    x = T.tensor(dtype="float64", shape=tuple(1 if s == 1 else None for s in shape))
    f = pair([x], x.dimshuffle(pattern))
    assert DimShuffle in f.op_classes()
    f.check(np.arange(float(np.prod(shape))).reshape(shape))


def test_jax_function_compiles_with_croton_defaults():
    # no backend-specific settings needed: floatX float64 stays float64 on jax
    x = T.matrix("x")
    f = croton.function([x], 1 / (1 + T.exp(-x)), backend="jax")
    result = f([[0, 1], [-1, -2]])
    assert result.dtype == np.float64
    np.testing.assert_allclose(result, 1 / (1 + np.exp(-np.array([[0, 1], [-1, -2.0]]))))
