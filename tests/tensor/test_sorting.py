"""``sort`` and ``argsort`` (``T.sort``, ``x.argsort()``): numpy's values and dtypes along
any axis, nan last, stable ties when asked, gradients by finite differences."""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.gradient import verify_grad


@pytest.fixture(params=["numpy", "numba"])
def backend(request):
    return request.param


def test_sort_and_argsort_match_numpy(backend):
    m, iv, t3 = T.dmatrix("m"), T.ivector("iv"), T.ftensor3("t")
    outputs = [
        T.sort(m),
        m.sort(axis=0),
        T.sort(m, axis=None),
        T.argsort(m),
        m.argsort(axis=0),
        T.extra_ops.argsort(m, axis=None),
        T.sort(iv),
        T.argsort(iv, kind="stable"),
        T.sort(t3, 1),
        T.argsort(t3, 0, kind="mergesort"),
        T.sort(m[::-1, ::2], axis=1),  # a strided view
    ]
    f = croton.function([m, iv, t3], outputs, backend=backend)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 5))
    x[1, 2], x[3, 0] = np.nan, -np.inf
    ints = np.array([3, 1, 3, -4, 1, 3], "int32")
    cube = rng.normal(size=(2, 3, 4)).astype("float32")
    expected = [
        np.sort(x),
        np.sort(x, 0),
        np.sort(x, None),
        np.argsort(x),
        np.argsort(x, 0),
        np.argsort(x, None),
        np.sort(ints),
        np.argsort(ints, kind="stable"),
        np.sort(cube, 1),
        np.argsort(cube, 0, kind="stable"),
        np.sort(x[::-1, ::2], 1),
    ]
    for k, (got, want) in enumerate(zip(f(x, ints, cube), expected)):
        assert got.dtype == want.dtype and got.shape == want.shape, k
        np.testing.assert_array_equal(got, want, err_msg=f"output {k}")


def test_sorting_empty_lines(backend):
    m = T.dmatrix("m")
    f = croton.function([m], [T.sort(m, 1), T.argsort(m, 0)], backend=backend)
    for shape in [(3, 0), (0, 4)]:
        got = f(np.zeros(shape))
        assert [g.shape for g in got] == [shape, shape]


def test_gradients_follow_each_element_to_its_place():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 4))
    verify_grad(lambda v: T.sort(v) * T.arange(4), [x], rng=rng)
    verify_grad(lambda v: T.sort(v, axis=0) ** 3, [x], rng=rng)
    verify_grad(lambda v: T.sort(v, axis=None) * T.arange(12), [x], rng=rng)
    v = T.dvector("v")
    g = croton.function([v], T.grad(T.sort(v)[0], v))  # the gradient of the minimum
    np.testing.assert_array_equal(g([3.0, -1.0, 2.0]), [0.0, 1.0, 0.0])


def test_sorting_errors():
    with pytest.raises(TypeError, match="complex numbers have no order"):
        T.sort(T.zvector())
    with pytest.raises(ValueError, match="order"):
        T.sort(T.dvector(), order="a")
    with pytest.raises(ValueError, match="kind"):
        T.argsort(T.dvector(), kind="bogosort")
    with pytest.raises(np.exceptions.AxisError, match="sort: axis 2 is out of bounds"):
        T.sort(T.dmatrix(), axis=2)
