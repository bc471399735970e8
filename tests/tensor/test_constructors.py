"""Theano's input constructors: ``T.dmatrix``, ``T.fvectors``, ``T.TensorType``, ``T.tensor``."""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.graph.type import TensorType

PREFIXES = {
    "b": "int8",
    "w": "int16",
    "i": "int32",
    "l": "int64",
    "f": "float32",
    "d": "float64",
    "c": "complex64",
    "z": "complex128",
}
KINDS = {
    "scalar": (),
    "vector": (None,),
    "matrix": (None, None),
    "row": (1, None),
    "col": (None, 1),
    "tensor3": (None, None, None),
    "tensor4": (None, None, None, None),
    "tensor5": (None,) * 5,
}
PLURALS = {kind: "matrices" if kind == "matrix" else f"{kind}s" for kind in KINDS}


@pytest.mark.parametrize("prefix", list(PREFIXES))
@pytest.mark.parametrize("kind", list(KINDS))
def test_prefixed_constructor(prefix, kind):
    x = getattr(T, prefix + kind)("x")
    assert isinstance(x, T.TensorVariable)
    assert x.name == "x"
    assert x.dtype == PREFIXES[prefix]
    assert x.type.shape == KINDS[kind]
    assert x.ndim == len(KINDS[kind])
    assert x.broadcastable == tuple(s == 1 for s in KINDS[kind])
    assert getattr(T, prefix + kind)().name is None


@pytest.mark.parametrize("prefix", [""] + list(PREFIXES))
@pytest.mark.parametrize("kind", list(KINDS))
def test_plural_constructor(prefix, kind):
    plural = getattr(T, prefix + PLURALS[kind])
    a, b, c = plural("a", "b", "c")
    assert [v.name for v in (a, b, c)] == ["a", "b", "c"]
    assert a is not b
    for v in (a, b, c):
        assert v.type.shape == KINDS[kind]
        assert v.dtype == PREFIXES.get(prefix, croton.config.floatX)
    unnamed = plural(2)
    assert len(unnamed) == 2
    assert all(v.name is None for v in unnamed)


@pytest.mark.parametrize("prefix", list(PREFIXES))
@pytest.mark.parametrize("kind", list(KINDS))
def test_prefixed_names_are_the_types_themselves(prefix, kind):
    """As in Theano, ``T.dmatrix`` is ``TensorType("float64", (False, False))``: it has the
    type's attributes and compares (and hashes) equal to it."""
    named = getattr(T, prefix + kind)
    same = TensorType(PREFIXES[prefix], KINDS[kind])
    assert isinstance(named, TensorType)
    assert named == same and same == named and hash(named) == hash(same)
    assert (named.dtype, named.ndim, named.shape) == (same.dtype, same.ndim, same.shape)
    assert named.broadcastable == tuple(s == 1 for s in KINDS[kind])
    assert named("x").type == named
    assert named.__name__ == prefix + kind


def test_theanos_complex_prefixes():
    assert T.cmatrix().dtype == "complex64"  # as Theano: c is complex64, z complex128
    assert T.zvector().dtype == "complex128"
    assert T.zscalars("a", "b")[1].dtype == "complex128"


def test_theano_plural_spellings():
    x, y = T.dmatrices("x", "y")
    assert (x.dtype, y.dtype, x.ndim) == ("float64", "float64", 2)
    assert [v.dtype for v in T.fscalars("a", "b")] == ["float32", "float32"]
    assert [v.ndim for v in T.ivectors("a", "b")] == [1, 1]
    assert T.lrows("r")[0].broadcastable == (True, False)
    assert T.dcols("c")[0].broadcastable == (False, True)
    assert T.btensor3s("t")[0].dtype == "int8"
    assert not hasattr(T, "dmatrixs")


def test_generic_constructors_follow_floatx():
    assert T.matrix().dtype == croton.config.floatX == "float64"
    with croton.config.change(floatX="float32"):
        assert T.matrix().dtype == "float32"
        assert T.scalar().dtype == "float32"
        assert T.tensor3().dtype == "float32"
        assert [v.dtype for v in T.vectors("a", "b")] == ["float32", "float32"]
        assert T.dmatrix().dtype == "float64"
        assert T.TensorType("floatX", (False,)).dtype == "float32"
    assert T.matrix().dtype == "float64"


def test_generic_constructor_dtype_and_shape():
    assert T.matrix("m", dtype="int32").dtype == "int32"
    assert T.vector(dtype="uint8").dtype == "uint8"
    assert T.matrix(shape=(None, 3)).type.shape == (None, 3)
    assert T.fmatrix(shape=(2, None)).type.shape == (2, None)
    with pytest.raises(ValueError):
        T.matrix(shape=(2,))
    with pytest.raises(TypeError):
        T.dmatrix(dtype="float32")
    with pytest.raises(TypeError):
        T.matrix(dtype="str")


def test_tensor_type_spellings():
    theano = T.TensorType("float64", (False, True))
    assert theano.shape == (None, 1)
    assert theano.broadcastable == (False, True)
    pytensor = T.TensorType("float32", shape=(None, 3))
    assert pytensor.shape == (None, 3)
    assert pytensor.dtype == "float32"
    assert T.TensorType("int64", broadcastable=()).ndim == 0
    x = theano("x")
    assert x.name == "x" and x.type == theano
    assert T.TensorType("float64", (False, True)) == T.TensorType("float64", shape=(None, 1))
    assert T.TensorType("float64", (None, 3)) != T.TensorType("float32", (None, 3))
    with pytest.raises(TypeError):
        T.TensorType("float64", broadcastable=(False,), shape=(None,))
    with pytest.raises(TypeError):
        T.TensorType("float64", shape=(-1,))


def test_tensor_function():
    assert T.tensor("float32", (False, True)).type == TensorType("float32", (None, 1))
    x = T.tensor("float64", shape=(None, 3), name="x")
    assert (x.name, x.type.shape) == ("x", (None, 3))
    y = T.tensor("y", dtype="int64", shape=(2,))
    assert (y.name, y.dtype, y.type.shape) == ("y", "int64", (2,))
    assert T.tensor(dtype="int8", broadcastable=(True, False)).type.shape == (1, None)
    assert T.tensor().type == TensorType("float64", ())
    with pytest.raises(TypeError):
        T.tensor("float64", shape=(2,), broadcastable=(True,))


def test_constructed_inputs_check_data():
    x = T.fmatrix("x")
    f = croton.function([x], x * 2)
    np.testing.assert_array_equal(f([[1, 2]]), np.array([[2.0, 4.0]], dtype="float32"))
    with pytest.raises(TypeError):
        f(np.ones((2, 2)))
    with pytest.raises(TypeError):
        f(np.ones(2, dtype="float32"))
    r = T.drow("r")
    g = croton.function([r], r + 1)
    with pytest.raises(TypeError):
        g(np.ones((2, 2)))
    np.testing.assert_array_equal(g(np.ones((1, 3))), np.full((1, 3), 2.0))


def test_constant_and_as_tensor_variable():
    c = T.constant([[1, 2], [3, 4]])
    assert c.dtype == "int64"
    assert c.type.shape == (2, 2)
    assert T.constant(1.5, dtype="float32").dtype == "float32"
    assert T.constant(2, ndim=2).type.shape == (1, 1)
    with pytest.raises(ValueError):
        T.constant(np.ones((2, 2)), ndim=1)
    v = T.dvector("v")
    assert T.as_tensor_variable(v) is v
    stacked = T.as_tensor_variable([v[0], 2.0])
    assert stacked.ndim == 1
    assert croton.function([v], stacked)(np.array([5.0, 6.0])).tolist() == [5.0, 2.0]
    with pytest.raises(TypeError):
        T.as_tensor_variable(v, ndim=2)
    with pytest.raises(TypeError):
        T.constant(object())
