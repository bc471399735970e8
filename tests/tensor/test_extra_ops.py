"""``croton.tensor.extra_ops``: to_one_hot against numpy, on the numpy and numba backends."""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.tensor import extra_ops, nnet

BACKENDS = ["numpy", "numba"]


def one_hot_reference(y, nb_class, dtype):
    return (np.asarray(y)[:, None] % nb_class == np.arange(nb_class)).astype(dtype)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [None, "float32", "int8", "bool"])
def test_to_one_hot(dtype, backend):
    y = T.lvector("y")
    encoded = extra_ops.to_one_hot(y, 5, dtype=dtype)
    expected_dtype = dtype or croton.config.floatX
    assert encoded.dtype == expected_dtype
    f = croton.function([y], encoded, backend=backend)
    labels = np.random.default_rng(0).integers(0, 5, size=7)
    for values in (labels, np.array([4, -1, 0, -5]), np.zeros(0, "int64")):
        got = f(values)
        assert got.dtype == expected_dtype
        np.testing.assert_array_equal(got, one_hot_reference(values, 5, expected_dtype))


@pytest.mark.parametrize("backend", BACKENDS)
def test_to_one_hot_symbolic_class_count_and_int32_labels(backend):
    y, n = T.ivector("y"), T.lscalar("n")
    f = croton.function([y, n], nnet.to_one_hot(y, n), backend=backend)
    got = f(np.array([2, 0, 2], "int32"), 3)
    np.testing.assert_array_equal(got, one_hot_reference([2, 0, 2], 3, "float64"))


def test_names():
    assert nnet.to_one_hot is extra_ops.to_one_hot is nnet.one_hot
    assert T.extra_ops.to_one_hot is extra_ops.to_one_hot
    assert extra_ops.repeat is T.repeat


def test_out_of_range_label_raises_when_run():
    y = T.lvector("y")
    f = croton.function([y], extra_ops.to_one_hot(y, 3), backend="numpy")
    with pytest.raises(IndexError):
        f(np.array([0, 3]))


def test_one_hot_as_cross_entropy_target():
    """The usual use: one-hot targets for categorical_crossentropy."""
    p, y = T.dmatrix("p"), T.lvector("y")
    cost = nnet.categorical_crossentropy(p, nnet.to_one_hot(y, 3))
    probabilities = np.array([[0.2, 0.5, 0.3], [0.6, 0.3, 0.1]])
    got = croton.function([p, y], cost, backend="numpy")(probabilities, np.array([1, 0]))
    np.testing.assert_allclose(got, -np.log([0.5, 0.6]), rtol=1e-12)


def test_bad_labels_are_refused():
    with pytest.raises(TypeError, match="y must be an integer vector"):
        extra_ops.to_one_hot(T.dvector("y"), 3)
    with pytest.raises(TypeError, match="y must be an integer vector"):
        extra_ops.to_one_hot(T.lmatrix("y"), 3)
    with pytest.raises(ValueError, match="nb_class must be a non-negative int"):
        extra_ops.to_one_hot(T.lvector("y"), -2)
