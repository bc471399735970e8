"""Reductions, argmax, matrix products and the softmax family: jax vs numpy."""

from __future__ import annotations

import numpy as np
import pytest

import croton.tensor as T
from croton.ops.blas import Dot, Gemm, Matmul
from croton.ops.nnet import CrossEntropySoftmax, LogSoftmax, Softmax
from croton.ops.reduce import REDUCE_KINDS, Argmax, Reduce

NAN, INF = np.nan, np.inf
RNG = np.random.default_rng(0)
M = RNG.normal(size=(3, 4))
WITH_SPECIALS = np.array([[1.0, NAN, -2.0, 0.5], [INF, 1.0, -INF, 2.0], [-0.0, 3.0, 2.5, -1.0]])


def _reduce(kind, x, axis, **kwargs):
    return getattr(T, kind)(x, axis=axis, **kwargs)


@pytest.mark.parametrize("kind", REDUCE_KINDS)
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1), ()])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "uint8", "bool"])
def test_reduce(pair, kind, axis, dtype):
    x = T.tensor(dtype=dtype, shape=(None, None))
    if dtype == "bool":
        data = M > 0
    elif dtype.startswith("float"):
        data = M.astype(dtype) * 3
    else:
        data = (np.abs(M) * 5).astype(dtype)
    f = pair([x], _reduce(kind, x, axis), mode="NONE")
    assert Reduce in f.op_classes() or axis == ()  # max over no axis is x itself
    f.check(data)


@pytest.mark.parametrize("kind", ["sum", "prod", "max", "min"])
def test_reduce_propagates_nan_and_inf(pair, kind):
    x = T.dmatrix("x")
    pair([x], [_reduce(kind, x, 0), _reduce(kind, x, 1)], mode="NONE").check(WITH_SPECIALS)


def test_reduce_with_dtype_and_keepdims(pair):
    x = T.bmatrix("x")
    data = np.array([[100, 100, -100], [127, 1, 2]], dtype="int8")
    pair(
        [x],
        [T.sum(x, axis=1, dtype="int16"), T.prod(x, axis=0, keepdims=True), T.mean(x, axis=0)],
    ).check(data)


@pytest.mark.parametrize("kind", ["max", "min"])
def test_max_of_an_empty_axis_raises_like_numpy(pair, kind):
    x = T.dmatrix("x")
    f = pair([x], _reduce(kind, x, 0), mode="NONE")
    f.check(np.zeros((3, 0)))  # an empty result is fine
    error = f.check_raises(ValueError, np.zeros((0, 3)))
    assert "zero-size array" in str(error)


def test_sum_of_empty_arrays(pair):
    x = T.dmatrix("x")
    pair([x], [T.sum(x, axis=0), T.prod(x), T.any(x), T.all(x, axis=1)], mode="NONE").check(
        np.zeros((0, 3))
    )


def test_reduce_with_elementwise_prologue(pair):
    x, y = T.dmatrices("x", "y")
    f = pair([x, y], [T.sum((x - y) ** 2, axis=1), T.max(T.exp(x) * y, axis=0)])
    prologues = [n.op.prologue for n in f.jax.maker.fgraph.apply_nodes if isinstance(n.op, Reduce)]
    assert any(p is not None for p in prologues)  # fusion gave the reduction a prologue
    f.check(WITH_SPECIALS, M)


def test_reduce_prologue_checks_runtime_lengths(pair):
    x, y = T.dvectors("x", "y")
    f = pair([x, y], T.sum((x - y) ** 2))
    f.check(np.ones(3), np.arange(3.0))
    f.check_raises(ValueError, np.ones(3), np.ones(1))


@pytest.mark.parametrize("function", [T.argmax, T.argmin])
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_argmax(pair, function, axis):
    x = T.dmatrix("x")
    f = pair([x], function(x, axis=axis), mode="NONE")
    assert Argmax in f.op_classes()
    f.check(M)
    f.check(WITH_SPECIALS)  # the first nan wins, as in numpy
    result = f.check(np.array([[1.0, 1.0], [1.0, 1.0]]))  # ties: the first index
    assert result.dtype == np.int64


def test_argmax_of_empty_raises_like_numpy(pair):
    x = T.dmatrix("x")
    f = pair([x], T.argmax(x, axis=1), mode="NONE")
    f.check(np.zeros((0, 2)))
    f.check_raises(ValueError, np.zeros((2, 0)))


@pytest.mark.parametrize(
    "a_shape, b_shape", [((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 2)), ((3, 4), (4, 2))]
)
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "int8", "bool"])
def test_dot(pair, a_shape, b_shape, dtype):
    a = T.tensor(dtype=dtype, shape=(None,) * len(a_shape))
    b = T.tensor(dtype=dtype, shape=(None,) * len(b_shape))
    f = pair([a, b], T.dot(a, b), mode="NONE")
    assert Dot in f.op_classes()
    data_a = (RNG.normal(size=a_shape) * 40).astype(dtype)
    data_b = (RNG.normal(size=b_shape) * 40).astype(dtype)
    f.check(data_a, data_b)  # int8 products wrap, as in numpy


def test_dot_propagates_nan_and_inf_and_checks_shapes(pair):
    a, b = T.dmatrices("a", "b")
    f = pair([a, b], T.dot(a, b))
    f.check(WITH_SPECIALS, np.ones((4, 2)))
    f.check(np.zeros((2, 0)), np.zeros((0, 3)))
    f.check_raises(ValueError, np.ones((2, 4)), np.ones((3, 2)))


def test_matmul_batched_with_broadcast(pair):
    a = T.tensor(dtype="float64", shape=(None, None, None))
    b = T.tensor(dtype="float64", shape=(1, None, None))
    f = pair([a, b], T.matmul(a, b))
    assert Matmul in f.op_classes()
    f.check(RNG.normal(size=(5, 3, 4)), RNG.normal(size=(1, 4, 2)))


def test_matmul_batch_lengths_must_match(pair):
    a = T.tensor(dtype="float32", shape=(None, None, None))
    b = T.tensor(dtype="float32", shape=(None, None, None))
    f = pair([a, b], T.matmul(a, b))
    ones = np.ones((2, 3, 3), dtype="float32")
    f.check(ones, ones)
    f.check_raises(ValueError, ones, np.ones((1, 3, 3), dtype="float32"))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_gemm(pair, dtype):
    c, a, b = (T.tensor(dtype=dtype, shape=(None, None)) for _ in range(3))
    alpha, beta = (T.tensor(dtype=dtype, shape=()) for _ in range(2))
    f = pair([c, alpha, a, b, beta], Gemm()(c, alpha, a, b, beta))
    assert Gemm in f.op_classes()
    data = [RNG.normal(size=s).astype(dtype) for s in ((3, 2), (), (3, 4), (4, 2), ())]
    f.check(*data)


def test_gemm_from_the_specialize_rewrite(pair):
    a, b, c = T.dmatrices("a", "b", "c")
    f = pair([a, b, c], 0.5 * c + 2.0 * T.dot(a, b))
    f.check(M, M.T, np.eye(3))


@pytest.mark.parametrize(
    "op, function", [(Softmax, T.nnet.softmax), (LogSoftmax, T.nnet.logsoftmax)]
)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_softmax_family(pair, op, function, dtype):
    x = T.tensor(dtype=dtype, shape=(None, None))
    f = pair([x], function(x), mode="NONE")
    assert op in f.op_classes()
    f.check((M * 10).astype(dtype))
    rows = np.array([[1000.0, 0.0, -1000.0], [-INF, 0.0, 1.0], [NAN, 1.0, 2.0], [INF, 1.0, 0.0]])
    f.check(rows.astype(dtype))
    f.check(np.zeros((2, 0), dtype=dtype))


def test_softmax_on_other_axes(pair):
    x = T.dtensor3("x")
    data = RNG.normal(size=(2, 3, 4))
    pair([x], [Softmax(0)(x), LogSoftmax(-1)(x), Softmax(2)(x)]).check(data)


def _crossentropy(pair):
    x = T.dmatrix("x")
    y = T.lvector("y")
    f = pair([x, y], T.nnet.categorical_crossentropy(T.nnet.softmax(x), y))
    assert CrossEntropySoftmax in f.op_classes()  # the stabilize rewrite made it
    return f


def test_crossentropy_softmax(pair):
    f = _crossentropy(pair)
    f.check(M, np.array([0, 3, -1]))  # negative targets count from the end, as in numpy
    f.check(np.array([[1000.0, -1000.0], [NAN, 0.0], [INF, 0.0]]), np.array([1, 1, 1]))


def test_crossentropy_target_out_of_range_raises_like_numpy(pair):
    f = _crossentropy(pair)
    error = f.check_raises(IndexError, M, np.array([0, 4, 1]))
    assert "out of range" in str(error)
    f.check_raises(IndexError, M, np.array([0, -5, 1]))


@pytest.mark.parametrize("dtype", ["uint8", "int32"])
def test_crossentropy_with_other_integer_targets(pair, dtype):
    x = T.fmatrix("x")
    y = T.tensor(dtype=dtype, shape=(None,))
    f = pair([x, y], T.nnet.categorical_crossentropy(T.nnet.softmax(x), y))
    f.check(M.astype("float32"), np.array([0, 3, 2], dtype=dtype))
    f.check_raises(IndexError, M.astype("float32"), np.array([0, 4, 2], dtype=dtype))
