"""Shared variables: construction, `get_value`/`set_value` with borrow, type checks, and use by
several functions."""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.compile.shared import SharedVariable


@pytest.mark.parametrize(
    "value",
    [
        np.arange(6.0).reshape(2, 3),
        np.arange(4, dtype="float32"),
        np.arange(5, dtype="int16"),
        np.array([True, False]),
        np.array(2.5),
        np.zeros((0, 3)),
        np.array([1 + 2j]),
    ],
)
def test_type_follows_the_value(value):
    s = croton.shared(value, name="s")
    assert isinstance(s, SharedVariable)
    assert s.name == "s" and str(s) == "s"
    assert s.dtype == value.dtype.name and s.ndim == value.ndim
    # unknown lengths: the value may later change shape
    assert s.type.shape == (None,) * value.ndim
    got = s.get_value()
    assert got.dtype == value.dtype
    np.testing.assert_array_equal(got, value)


@pytest.mark.parametrize(
    ("value", "dtype"),
    [
        (3.0, "float64"),
        (3, "int64"),
        (True, "bool"),
        (np.float32(1.5), "float32"),
        (2j, "complex128"),
    ],
)
def test_shared_scalar(value, dtype):
    s = croton.shared(value, name="k")
    assert s.ndim == 0 and s.dtype == dtype
    got = s.get_value()
    assert isinstance(got, np.ndarray) and got.shape == () and got == value
    f = croton.function([], s * 2)
    assert f() == np.asarray(value, dtype=dtype) * 2


def test_static_shape_and_broadcastable_arguments():
    s = croton.shared(np.zeros((1, 3)), name="row", broadcastable=(True, False))
    assert s.type.shape == (1, None)
    m = T.dmatrix("m")
    f = croton.function([m], m + s)
    data = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(f(data), data + np.zeros((1, 3)))
    fixed = croton.shared(np.zeros(3), name="fixed", shape=(3,))
    assert fixed.type.shape == (3,)
    with pytest.raises(TypeError, match=r"shared variable fixed: expected length 3"):
        fixed.set_value(np.zeros(4))
    np.testing.assert_array_equal(fixed.get_value(), np.zeros(3))


def test_constructor_copies_unless_borrowed():
    data = np.arange(3.0)
    copied = croton.shared(data)
    borrowed = croton.shared(data, borrow=True)
    assert not np.shares_memory(copied.get_value(borrow=True), data)
    assert np.shares_memory(borrowed.get_value(borrow=True), data)
    data[0] = 100.0
    assert copied.get_value()[0] == 0.0
    assert borrowed.get_value()[0] == 100.0


def test_get_value_copies_unless_borrowed():
    s = croton.shared(np.arange(3.0))
    copy = s.get_value()
    copy[0] = -1.0
    np.testing.assert_array_equal(s.get_value(), np.arange(3.0))
    internal = s.get_value(borrow=True)
    assert np.shares_memory(internal, s.get_value(borrow=True))
    assert not np.shares_memory(s.get_value(), internal)


def test_set_value_copies_unless_borrowed():
    s = croton.shared(np.zeros(3))
    new = np.array([1.0, 2.0, 3.0])
    s.set_value(new)
    new[0] = 50.0
    np.testing.assert_array_equal(s.get_value(), [1.0, 2.0, 3.0])
    s.set_value(new, borrow=True)
    assert np.shares_memory(s.get_value(borrow=True), new)
    np.testing.assert_array_equal(s.get_value(), new)


def test_set_value_may_change_the_shape():
    s = croton.shared(np.arange(3.0), name="s")
    f = croton.function([], s.sum())
    assert f() == np.arange(3.0).sum()
    s.set_value(np.arange(10.0))
    assert f() == np.arange(10.0).sum()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (np.ones((2, 2)), r"expected a 1-d array"),
        (np.ones(3, "complex128"), r"complex128 data would be cast lossily"),
        (np.float64(1.0), r"expected a 1-d array"),
        ("abc", r"cannot convert"),
        ([[1.0], [2.0, 3.0]], r"cannot convert"),
        (None, r"cannot convert"),
    ],
)
def test_set_value_of_wrong_type_raises_and_keeps_the_old_value(value, message):
    s = croton.shared(np.arange(3.0), name="weights")
    with pytest.raises(TypeError, match=message) as info:
        s.set_value(value)
    assert "weights" in str(info.value)
    np.testing.assert_array_equal(s.get_value(), np.arange(3.0))


def test_set_value_downcast_raises_for_float32():
    s = croton.shared(np.zeros(2, "float32"), name="w32")
    with pytest.raises(TypeError, match="w32"):
        s.set_value(np.array([0.1, 0.2]))
    np.testing.assert_array_equal(s.get_value(), np.zeros(2, "float32"))
    s.set_value(np.array([0.5, 0.25], "float32"))
    np.testing.assert_array_equal(s.get_value(), np.array([0.5, 0.25], "float32"))


@pytest.mark.parametrize(
    ("value", "dtype"), [([1, 2, 3], "float64"), (np.arange(3, dtype="int32"), "float64")]
)
def test_set_value_converts_exact_values(value, dtype):
    s = croton.shared(np.zeros(3, dtype))
    s.set_value(value)
    got = s.get_value()
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, np.asarray(value, dtype))


def test_strict_shared_variable_needs_arrays_of_its_type():
    s = croton.shared(np.zeros(3), name="strict", strict=True)
    with pytest.raises(TypeError, match="strict"):
        s.set_value([1.0, 2.0, 3.0])
    s.set_value(np.ones(3))
    np.testing.assert_array_equal(s.get_value(), np.ones(3))


def test_value_property():
    s = croton.shared(np.arange(2.0))
    np.testing.assert_array_equal(s.value, np.arange(2.0))
    s.value = np.array([5.0, 6.0])
    np.testing.assert_array_equal(s.get_value(), [5.0, 6.0])


@pytest.mark.parametrize(
    ("value", "message"), [(T.dscalar("x"), "not a symbolic variable"), (object(), "object")]
)
def test_shared_rejects_non_values(value, message):
    with pytest.raises(TypeError, match=message):
        croton.shared(value)


def test_shared_variable_in_expressions_like_a_tensor():
    w = croton.shared(np.array([[1.0, 2.0], [3.0, 4.0]]), name="W")
    x = T.dvector("x")
    f = croton.function([x], T.dot(w, x) + w.sum() - w.T[0])
    data = np.array([0.5, -1.0])
    ref = w.get_value()
    np.testing.assert_allclose(f(data), ref @ data + ref.sum() - ref.T[0])


def test_one_shared_variable_in_two_functions():
    acc = croton.shared(0.0, name="acc")
    x = T.dscalar("x")
    add = croton.function([x], acc, updates=[(acc, acc + x)])
    read = croton.function([], acc * 2)
    expected = 0.0
    for value in [3.0, 4.0, -1.5]:
        assert add(value) == expected  # the value before the update
        expected += value
        assert read() == expected * 2
    acc.set_value(10.0)
    assert read() == 20.0
    assert add(1.0) == 10.0
    assert acc.get_value() == 11.0


def test_get_value_after_updates_is_a_copy():
    s = croton.shared(np.zeros(3), name="s")
    step = croton.function([], [], updates=[(s, s + 1)])
    step()
    seen = s.get_value()
    step()
    np.testing.assert_array_equal(seen, np.ones(3))
    np.testing.assert_array_equal(s.get_value(), np.full(3, 2.0))
