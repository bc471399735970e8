"""`TensorType`: dtype, static shape, broadcastable, compatibility and `filter`."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

import croton
from croton.graph.type import SUPPORTED_DTYPES, TensorType, normalize_dtype
from croton.tensor.variable import TensorVariable

# -- construction ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dtype, name",
    [("float64", "float64"), (np.float32, "float32"), ("i4", "int32"), (np.dtype("u1"), "uint8")],
)
def test_dtype_is_normalized(dtype, name):
    assert TensorType(dtype, shape=()).dtype == name
    assert TensorType(dtype, shape=()).numpy_dtype == np.dtype(name)


@pytest.mark.parametrize("floatx", ["float32", "float64"])
def test_floatx_follows_the_config(floatx):
    with croton.config.change(floatX=floatx):
        assert TensorType("floatX", shape=(None,)).dtype == floatx
        assert normalize_dtype("floatX") == floatx


@pytest.mark.parametrize("dtype", ["datetime64[s]", "U3", object])
def test_unsupported_dtype_is_rejected_with_the_supported_list(dtype):
    with pytest.raises(TypeError, match="croton does not support dtype") as info:
        TensorType(dtype, shape=())
    assert "'float64'" in str(info.value) and "'int32'" in str(info.value)


def test_every_supported_dtype_is_numpy_s_own_name():
    for name in SUPPORTED_DTYPES:
        assert np.dtype(name).name == name
        assert TensorType(name, shape=(2,)).value_zeros((2,)).dtype == np.dtype(name)


def test_static_shape_and_broadcastable():
    t = TensorType("float64", shape=(1, None, 3))
    assert t.shape == (1, None, 3)
    assert t.ndim == 3
    assert t.broadcastable == (True, False, False)


def test_theano_broadcastable_form():
    t = TensorType("float32", (True, False))
    assert t.shape == (1, None)
    assert t.broadcastable == (True, False)
    assert TensorType("float32", (np.bool_(False),)).shape == (None,)


def test_pytensor_positional_shape_form():
    assert TensorType("float64", (None, 3)).shape == (None, 3)


def test_scalar_type_has_no_dimensions():
    t = TensorType("int64")
    assert t.shape == () and t.ndim == 0 and t.broadcastable == ()


def test_broadcastable_and_shape_together_are_rejected():
    with pytest.raises(TypeError, match="either broadcastable or shape"):
        TensorType("float64", broadcastable=(True,), shape=(1,))


@pytest.mark.parametrize("entry", [-1, 1.5, True, "3"])
def test_bad_static_shape_entries_are_rejected(entry):
    with pytest.raises((TypeError, ValueError)):
        TensorType("float64", shape=(entry,))


def test_integral_float_shape_entries_become_ints():
    t = TensorType("float64", shape=(np.int64(2), 3.0))
    assert t.shape == (2, 3)
    assert all(type(s) is int for s in t.shape)


def test_equality_and_hash_depend_on_dtype_and_shape():
    a = TensorType("float64", shape=(None, 3))
    assert a == TensorType("float64", broadcastable=None, shape=[None, 3])
    assert hash(a) == hash(TensorType("float64", shape=(None, 3)))
    assert a != TensorType("float32", shape=(None, 3))
    assert a != TensorType("float64", shape=(None, None))
    assert a != TensorType("float64", shape=(None, 3, 1))
    assert a != "TensorType(float64, shape=(?, 3))"
    assert (
        len({a, TensorType("float64", shape=(None, 3)), TensorType("float64", shape=(2, 3))}) == 2
    )


def test_clone_and_pickle():
    t = TensorType("int16", shape=(2, None))
    assert t.clone() == t
    assert t.clone(dtype="float32") == TensorType("float32", shape=(2, None))
    assert t.clone(shape=(None,)) == TensorType("int16", shape=(None,))
    assert pickle.loads(pickle.dumps(t)) == t


def test_str_marks_unknown_lengths():
    assert str(TensorType("float64", shape=(None, 3))) == "TensorType(float64, shape=(?, 3))"
    assert str(TensorType("int8", shape=(None,))) == "TensorType(int8, shape=(?,))"
    assert str(TensorType("bool")) == "TensorType(bool, shape=())"


def test_calling_a_type_makes_a_named_input_variable():
    t = TensorType("float32", shape=(None, 1))
    x = t("x")
    assert isinstance(x, TensorVariable)
    assert x.type == t and x.name == "x" and x.owner is None
    assert t.make_variable().name is None


# -- is_super and is_compatible -------------------------------------------------------------

F = "float64"


@pytest.mark.parametrize(
    "a, b, compatible, a_super_b",
    [
        ((None, 3), (None, 3), True, True),
        ((None, 3), (2, 3), True, True),
        ((2, 3), (None, 3), True, False),
        ((2, None), (None, 3), True, False),
        ((2, 3), (2, 4), False, False),
        ((None,), (None, None), False, False),
        ((1,), (None,), True, False),
        ((), (), True, True),
    ],
)
def test_is_compatible_and_is_super(a, b, compatible, a_super_b):
    ta, tb = TensorType(F, shape=a), TensorType(F, shape=b)
    assert ta.is_compatible(tb) is compatible
    assert tb.is_compatible(ta) is compatible
    assert ta.is_super(tb) is a_super_b


def test_types_of_different_dtypes_are_never_compatible():
    a, b = TensorType("float64", shape=(None,)), TensorType("float32", shape=(None,))
    assert not a.is_compatible(b)
    assert not a.is_super(b)


# -- filter ---------------------------------------------------------------------------------


def test_filter_passes_an_array_of_the_right_type_through():
    value = np.arange(6.0).reshape(2, 3)
    assert TensorType("float64", shape=(2, None)).filter(value) is value


@pytest.mark.parametrize(
    "value, dtype",
    [
        (np.arange(4, dtype="int32"), "float64"),
        (np.arange(4, dtype="int8"), "int64"),
        (np.array([True, False, True, True]), "float32"),
        (np.arange(4, dtype="float32"), "float64"),
        (np.arange(4, dtype="uint8"), "int16"),
    ],
)
def test_filter_upcasts_numpy_data_safely(value, dtype):
    got = TensorType(dtype, shape=(4,)).filter(value)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got, value.astype(dtype))


@pytest.mark.parametrize(
    "value, dtype",
    [
        (np.array([0.1, 2.0]), "float32"),
        (np.array([1, 2], dtype="int64"), "int32"),
        (np.array([1.0, 2.0]), "int64"),
        (np.array([-1, 2], dtype="int16"), "uint16"),
        (np.float64(0.5), "float32"),
    ],
)
def test_filter_rejects_lossy_numpy_data_and_says_what_to_do(value, dtype):
    t = TensorType(dtype, shape=(None,) * np.ndim(value))
    with pytest.raises(TypeError) as info:
        t.filter(value, name="weights")
    message = str(info.value)
    assert message.startswith("weights: ")
    assert f"{np.asarray(value).dtype} data would be cast lossily to {dtype}" in message
    assert "allow_input_downcast=True" in message and f".astype('{dtype}')" in message
    got = t.filter(value, allow_downcast=True)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got, np.asarray(value).astype(dtype))


@pytest.mark.parametrize(
    "value, dtype",
    [
        ([[1, 2], [3, 4]], "float32"),
        ([[1, 2], [3, 4]], "int8"),
        ([[0.5, 1.5], [-2.0, 4.25]], "float32"),
        ([[1.0, 2.0], [3.0, 4.0]], "int16"),
        ([[True, False], [False, True]], "bool"),
        ([[float("nan"), float("inf")], [-float("inf"), 0.0]], "float32"),
        ([[0, 255], [1, 2]], "uint8"),
    ],
)
def test_filter_converts_python_data_that_is_exact(value, dtype):
    got = TensorType(dtype, shape=(2, 2)).filter(value)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got, np.array(value).astype(dtype))


@pytest.mark.parametrize(
    "value, dtype",
    [
        (0.1, "float32"),
        (1e300, "float32"),
        (300, "int8"),
        (-1, "uint8"),
        (2.5, "int32"),
        (float("nan"), "int64"),
        ([1, 2**40], "int32"),
    ],
)
def test_filter_rejects_inexact_python_data_without_a_numpy_warning(value, dtype):
    t = TensorType(dtype, shape=(None,) * np.ndim(value))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the user gets the TypeError, not a RuntimeWarning
        with pytest.raises(TypeError, match=f"cannot be represented exactly as {dtype}") as info:
            t.filter(value, name="x")
    assert str(info.value).startswith("x: the value ")
    assert "allow_input_downcast=True" in str(info.value)


def test_filter_with_allow_downcast_converts_python_data_as_numpy_does():
    got = TensorType("float32", shape=(2,)).filter([0.1, 0.2], allow_downcast=True)
    np.testing.assert_array_equal(got, np.array([0.1, 0.2], dtype="float32"))


def test_filter_accepts_empty_lists_for_any_dtype():
    got = TensorType("int8", shape=(None,)).filter([])
    assert got.dtype == np.int8 and got.shape == (0,)


def test_filter_rejects_the_wrong_number_of_dimensions():
    t = TensorType("float64", shape=(None, None))
    with pytest.raises(TypeError) as info:
        t.filter(np.zeros(3), name="images")
    message = str(info.value)
    assert message.startswith("images: expected a 2-d array of float64")
    assert "got 1-d data of shape (3,)" in message


def test_filter_rejects_a_length_that_contradicts_the_static_shape():
    t = TensorType("float64", shape=(None, 3))
    np.testing.assert_array_equal(t.filter(np.ones((5, 3))), np.ones((5, 3)))
    with pytest.raises(TypeError) as info:
        t.filter(np.ones((5, 4)), name="rows")
    message = str(info.value)
    assert "rows: expected length 3 along axis 1" in message
    assert "(5, 4)" in message


def test_filter_rejects_ragged_and_object_data():
    t = TensorType("float64", shape=(None, None))
    with pytest.raises(TypeError, match="data: cannot convert list to an array"):
        t.filter([[1.0, 2.0], [3.0]], name="data")
    with pytest.raises(TypeError, match="cannot convert"):
        TensorType("float64", shape=()).filter({"a": 1})


def test_filter_of_a_python_scalar_gives_a_zero_dimensional_array():
    got = TensorType("float64").filter(2.5)
    assert isinstance(got, np.ndarray)
    assert got.shape == () and got.dtype == np.float64
    assert got == 2.5


def test_value_zeros():
    got = TensorType("int32", shape=(None, 2)).value_zeros((3, 2))
    np.testing.assert_array_equal(got, np.zeros((3, 2), dtype="int32"))
    assert got.dtype == np.int32


def test_python_integers_convert_exactly_or_not_at_all():
    unsigned = TensorType("uint64", shape=(None,))
    # (NumPy reads a list holding an integer above int64 as float64, which rounds)
    np.testing.assert_array_equal(unsigned.filter([2**63 + 1, 5]), np.array([2**63 + 1, 5], "u8"))
    for value in ([-1, 5], [2**64, 1], [2**63 + 1, 0.5]):
        with pytest.raises(TypeError, match="input"):
            unsigned.filter(value)
    with pytest.raises(TypeError, match="uint8"):
        TensorType("uint8", shape=()).filter(256)
    assert TensorType("uint8", shape=()).filter(255) == 255
