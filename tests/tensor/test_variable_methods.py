"""Tensor variables: operators, attributes and Theano's methods, checked against numpy."""

from __future__ import annotations

import operator

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.graph.type import TensorType

FLOATS = np.array([[1.5, -2.0, 3.25], [0.5, 4.0, -1.0]])
INTS = np.array([[7, -3, 12], [5, 0, -9]], dtype="int64")
POSITIVE_INTS = np.array([[1, 2, 3], [4, 5, 6]], dtype="int64")


def evaluate(build, *arrays):
    """``build`` of fresh inputs typed like ``arrays``, evaluated on them."""
    inputs = [TensorType(a.dtype.name, shape=(None,) * a.ndim)() for a in arrays]
    return croton.function(inputs, build(*inputs))(*arrays)


def assert_same(got, expected):
    """Same dtype, shape and values as numpy's answer."""
    expected = np.asarray(expected)
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


BINARY = [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow]
INTEGER_BINARY = [operator.floordiv, operator.mod, operator.and_, operator.or_, operator.xor]
COMPARISONS = [operator.lt, operator.le, operator.gt, operator.ge]


@pytest.mark.parametrize("op", BINARY + COMPARISONS, ids=lambda op: op.__name__)
@pytest.mark.parametrize("other", [2, 0.5, np.array([1.0, 2.0, -0.5]), np.float32(3.0)], ids=repr)
def test_float_operators_both_sides(op, other):
    data = np.abs(FLOATS) if op is operator.pow else FLOATS
    assert_same(evaluate(lambda x: op(x, other), data), op(data, other))
    if op is operator.pow and np.any(np.asarray(other) < 0):
        return
    assert_same(evaluate(lambda x: op(other, x), data), op(other, data))


@pytest.mark.parametrize(
    "op", INTEGER_BINARY + [operator.add, operator.mul], ids=lambda op: op.__name__
)
@pytest.mark.parametrize("other", [3, np.array([2, 5, 3]), np.int8(4)], ids=repr)
def test_integer_operators_both_sides(op, other):
    assert_same(evaluate(lambda x: op(x, other), INTS), op(INTS, other))
    assert_same(evaluate(lambda x: op(other, x), POSITIVE_INTS), op(other, POSITIVE_INTS))


def test_float_floordiv_and_mod_follow_numpy():
    other = np.array([0.75, -2.0, 1.5])
    for op in (operator.floordiv, operator.mod):
        assert_same(evaluate(lambda x, op=op: op(x, other), FLOATS), op(FLOATS, other))
        assert_same(evaluate(lambda x, op=op: op(7.0, x), FLOATS), op(7.0, FLOATS))


def test_true_division_of_integers_is_float64():
    assert_same(evaluate(lambda x: x / 4, INTS), INTS / 4)
    assert_same(evaluate(lambda x: 1 / x, POSITIVE_INTS), 1 / POSITIVE_INTS)


def test_two_variable_operators():
    other = FLOATS[::-1] + 0.25
    for op in BINARY[:4] + COMPARISONS:
        assert_same(evaluate(op, FLOATS, other), op(FLOATS, other))
    assert_same(evaluate(operator.pow, np.abs(FLOATS), other), np.abs(FLOATS) ** other)


def test_unary_operators():
    assert_same(evaluate(operator.neg, FLOATS), -FLOATS)
    assert_same(evaluate(operator.pos, FLOATS), FLOATS)
    assert_same(evaluate(abs, FLOATS), np.abs(FLOATS))
    assert_same(evaluate(abs, INTS), np.abs(INTS))
    assert_same(evaluate(operator.invert, INTS), ~INTS)
    flags = np.array([True, False, True])
    assert_same(evaluate(operator.invert, flags), ~flags)
    other = np.array([True, True, False])
    assert_same(evaluate(lambda x: x & other, flags), flags & other)
    assert_same(evaluate(lambda x: other | x, flags), other | flags)
    assert_same(evaluate(lambda x: x ^ other, flags), flags ^ other)


def test_weak_python_scalars_keep_float32():
    data = FLOATS.astype("float32")
    for op in BINARY:
        out = evaluate(lambda x, op=op: op(x, 2.5), np.abs(data))
        assert out.dtype == "float32"
        np.testing.assert_allclose(out, op(np.abs(data), np.float32(2.5)), rtol=1e-6)
    assert evaluate(lambda x: 0.1 * x, data).dtype == "float32"
    assert_same(evaluate(lambda x: x * np.float64(2.0), data), data * np.float64(2.0))


def test_matmul_operator():
    right = np.arange(12.0).reshape(3, 4)
    assert_same(evaluate(lambda x: x @ right, FLOATS), FLOATS @ right)
    assert_same(evaluate(lambda x: right.T @ x.T, FLOATS), right.T @ FLOATS.T)
    assert_same(evaluate(operator.matmul, FLOATS, right), FLOATS @ right)


def test_equality_is_identity():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    assert (x == x) is True
    assert (x == y) is False
    assert (x != y) is True
    assert (x == 1) is False
    assert len({x, y, x}) == 2
    assert_same(evaluate(lambda a: T.eq(a, 1.5), FLOATS), FLOATS == 1.5)
    assert_same(evaluate(lambda a: T.neq(a, 1.5), FLOATS), FLOATS != 1.5)


def test_no_truth_value_or_len():
    x = T.dvector("x")
    with pytest.raises(TypeError):
        bool(x)
    with pytest.raises(TypeError):
        if x > 0:
            pass
    with pytest.raises(TypeError):
        len(x)
    with pytest.raises(TypeError):
        list(x)
    parts = list(TensorType("float64", (3,))("v"))
    assert len(parts) == 3
    assert all(p.ndim == 0 for p in parts)


def test_attributes():
    x = TensorType("float32", shape=(None, 1, 4))("x")
    assert x.ndim == 3
    assert x.dtype == "float32"
    assert x.broadcastable == (False, True, False)
    assert x.type.shape == (None, 1, 4)
    assert x.T.type.shape == (4, 1, None)
    assert x.T.broadcastable == (False, True, False)
    data = np.zeros((2, 1, 4), dtype="float32")
    assert_same(evaluate(lambda v: v.shape, data), np.array(data.shape))
    assert_same(evaluate(lambda v: v.size, data), np.array(data.size))
    assert_same(evaluate(lambda v: v.T, data), data.T)
    m = T.dmatrix()
    assert m.shape.ndim == 1
    assert m.size.ndim == 0


@pytest.mark.parametrize(
    "method, reference",
    [
        (lambda v: v.sum(), lambda a: a.sum()),
        (lambda v: v.sum(axis=0), lambda a: a.sum(axis=0)),
        (lambda v: v.sum(axis=1, keepdims=True), lambda a: a.sum(axis=1, keepdims=True)),
        (lambda v: v.mean(), lambda a: a.mean()),
        (lambda v: v.mean(axis=1), lambda a: a.mean(axis=1)),
        (lambda v: v.max(), lambda a: a.max()),
        (lambda v: v.max(axis=0), lambda a: a.max(axis=0)),
        (lambda v: v.min(axis=1), lambda a: a.min(axis=1)),
        (lambda v: v.prod(axis=1), lambda a: a.prod(axis=1)),
        (lambda v: v.argmax(), lambda a: a.argmax()),
        (lambda v: v.argmax(axis=1), lambda a: a.argmax(axis=1)),
        (lambda v: v.argmin(axis=0), lambda a: a.argmin(axis=0)),
        (lambda v: v.reshape((3, 2)), lambda a: a.reshape((3, 2))),
        (lambda v: v.reshape((-1,)), lambda a: a.reshape((-1,))),
        (lambda v: v.dimshuffle(1, 0), lambda a: a.T),
        (lambda v: v.dimshuffle("x", 1, "x", 0), lambda a: a.T[None, :, None]),
        (lambda v: v.transpose(), lambda a: a.transpose()),
        (lambda v: v.transpose(1, 0), lambda a: a.transpose(1, 0)),
        (lambda v: v.swapaxes(0, 1), lambda a: a.swapaxes(0, 1)),
        (lambda v: v.astype("int32"), lambda a: a.astype("int32")),
        (lambda v: v.astype("float32"), lambda a: a.astype("float32")),
        (lambda v: v.dot(v.T), lambda a: a.dot(a.T)),
        (lambda v: v.clip(-1.0, 2.0), lambda a: a.clip(-1.0, 2.0)),
        (lambda v: v.round(), lambda a: a.round()),
        (lambda v: (v * 2).round(), lambda a: (a * 2).round()),
        (lambda v: v.repeat(2), lambda a: a.repeat(2)),
        (lambda v: v.repeat(2, axis=1), lambda a: a.repeat(2, axis=1)),
        (lambda v: v.repeat([1, 3], axis=0), lambda a: a.repeat([1, 3], axis=0)),
        (lambda v: v.flatten(), lambda a: a.flatten()),
        (lambda v: v.ravel(), lambda a: a.ravel()),
        (lambda v: v[:1].squeeze(axis=0), lambda a: a[:1].squeeze(axis=0)),
        (lambda v: v.norm(2), lambda a: np.linalg.norm(a)),
        (lambda v: v.norm(1), lambda a: np.abs(a).sum()),
        (lambda v: v.norm(2, axis=0), lambda a: np.linalg.norm(a, axis=0)),
        (lambda v: v.norm(3, axis=1), lambda a: np.linalg.norm(a, 3, axis=1)),
        (lambda v: v.var(), lambda a: a.var()),
        (lambda v: v.std(axis=0), lambda a: a.std(axis=0)),
        (lambda v: v.copy(), lambda a: a.copy()),
        (lambda v: v.zeros_like(), lambda a: np.zeros_like(a)),
        (lambda v: v.ones_like(), lambda a: np.ones_like(a)),
        (lambda v: v.nonzero_values(), lambda a: a[a != 0]),
        (lambda v: v.any(axis=1), lambda a: a.any(axis=1)),
        (lambda v: (v > 0).all(axis=0), lambda a: (a > 0).all(axis=0)),
    ],
)
def test_methods(method, reference):
    data = np.array([[1.5, -2.5, 3.25], [0.5, 4.0, 0.0]])
    assert_same(evaluate(method, data), reference(data))


def test_integer_methods_follow_numpy():
    assert_same(evaluate(lambda v: v.sum(), INTS), INTS.sum())
    assert_same(evaluate(lambda v: v.mean(axis=0), INTS), INTS.mean(axis=0))
    assert_same(evaluate(lambda v: v.max(axis=1), INTS), INTS.max(axis=1))
    assert_same(evaluate(lambda v: v.astype("float32"), INTS), INTS.astype("float32"))
    assert_same(evaluate(lambda v: v.clip(0, 5), INTS), INTS.clip(0, 5))


def test_squeeze_method_and_static_shapes():
    x = TensorType("float64", (1, None, 1))("x")
    assert x.squeeze().type.shape == (None,)
    assert x.squeeze(axis=2).type.shape == (1, None)
    data = np.arange(3.0).reshape(1, 3, 1)
    f = croton.function([x], x.squeeze())
    assert_same(f(data), data.squeeze())
    assert T.dmatrix().reshape((2, 3)).type.shape == (2, 3)


def test_method_results_are_tensor_variables():
    x = T.dmatrix("x")
    for out in (x + 1, 1 + x, x.sum(), x[0], x.T, x @ x, -x, abs(x), x < 1):
        assert isinstance(out, T.TensorVariable)
    assert isinstance(T.constant(1.0), T.TensorConstant)
    assert T.constant(np.arange(3)).value.tolist() == [0, 1, 2]
