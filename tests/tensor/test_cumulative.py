"""``cumsum`` and ``cumprod`` (``T.cumsum``, ``T.extra_ops.cumsum``, ``x.cumsum()``):
values and dtypes as numpy's, any axis, gradients by finite differences."""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.gradient import verify_grad


@pytest.fixture(params=["numpy", "numba"])
def backend(request):
    return request.param


def test_running_sums_and_products_match_numpy(backend):
    m, iv, b = T.dmatrix("m"), T.ivector("iv"), T.tensor(dtype="bool", shape=(None,))
    outputs = [
        T.cumsum(m),
        m.cumsum(axis=0),
        T.extra_ops.cumsum(m, axis=-1),
        m.cumprod(1),
        T.cumprod(m),
        T.cumsum(iv),
        T.cumsum(b),
        T.cumsum(m[:, ::-2], axis=1),  # a strided view
    ]
    f = croton.function([m, iv, b], outputs, backend=backend)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 5))
    ints, flags = np.array([5, -3, 2**30, 2**30], "int32"), np.array([True, False, True])
    expected = [
        np.cumsum(x),
        np.cumsum(x, 0),
        np.cumsum(x, -1),
        np.cumprod(x, 1),
        np.cumprod(x),
        np.cumsum(ints),  # int64: no wrap-around at 2**31
        np.cumsum(flags),
        np.cumsum(x[:, ::-2], 1),
    ]
    for got, want in zip(f(x, ints, flags), expected):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(1)
    x = rng.uniform(0.5, 2.0, size=(3, 4))
    verify_grad(lambda v: T.cumsum(v, axis=1) ** 2, [x], rng=rng)
    verify_grad(lambda v: T.cumsum(v) * T.arange(12), [x], rng=rng)
    verify_grad(lambda v: T.cumprod(v, axis=0), [x], rng=rng)
    verify_grad(lambda v: T.sin(T.cumprod(v)), [x], rng=rng)


def test_axis_errors():
    with pytest.raises(np.exceptions.AxisError, match="cumsum: axis 2 is out of bounds"):
        T.cumsum(T.dmatrix(), axis=2)
    with pytest.raises(np.exceptions.AxisError, match="cumprod"):
        T.cumprod(T.dscalar(), axis=0)
    assert T.cumsum(T.dscalar()).ndim == 1  # flattened, as numpy


def test_take_and_fill_methods(backend):
    x = T.dmatrix("x")
    f = croton.function([x], [x.take([2, 0], axis=1), x.take([5]), x.fill(7.0)], backend=backend)
    data = np.arange(6.0).reshape(2, 3)
    got = f(data)
    np.testing.assert_array_equal(got[0], np.take(data, [2, 0], axis=1))
    np.testing.assert_array_equal(got[1], np.take(data, [5]))
    np.testing.assert_array_equal(got[2], np.full((2, 3), 7.0))
