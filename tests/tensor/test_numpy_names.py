"""Functions with NumPy's (and PyTensor's) names composed of croton's operations: every
value against NumPy's function of the same name, on the reference and numba backends."""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T


@pytest.fixture(params=["numpy", "numba"])
def backend(request):
    return request.param


def _check(backend, inputs, values, cases):
    f = croton.function(inputs, [c for c, _ in cases], backend=backend)
    for got, (_, want) in zip(f(*values), cases, strict=True):
        want = np.asarray(want)
        assert got.shape == want.shape
        assert got.dtype == want.dtype, (got.dtype, want.dtype)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


def test_elementwise_functions_match_numpy(backend):
    x, y = T.dvectors("x", "y")
    f32, i8, i = T.fvector("f32"), T.bvector("i8"), T.lvector("i")
    special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -2.5, 1e300, 700.0, 1e-300])
    other = np.array([np.nan, np.inf, -np.inf, 0.0, 1e-9, 1.0 + 1e-6, -2.5, 1e300, -700, 1e-300])
    small = np.array([-1e-20, -1e-3, -0.5, -0.7, -30.0, -np.inf, 0.0])
    ints = np.array([7, -7, 6, -6, 0, 1], dtype=np.int64)
    with np.errstate(all="ignore"):
        cases = [
            (T.deg2rad(x), np.deg2rad(special)),
            (T.rad2deg(f32), np.rad2deg(np.float32(special))),
            (T.deg2rad(i8), np.deg2rad(np.array([1, -90, 127], dtype="int8"))),
            (T.isfinite(x), np.isfinite(special)),
            (T.isposinf(x), np.isposinf(special)),
            (T.isneginf(x), np.isneginf(special)),
            (T.isclose(x, y), np.isclose(special, other)),
            (T.isclose(x, y, equal_nan=True), np.isclose(special, other, equal_nan=True)),
            (T.isclose(x, y, rtol=0.1, atol=1.0), np.isclose(special, other, rtol=0.1, atol=1.0)),
            (T.allclose(x, x), np.allclose(special, special)),
            (T.allclose(x, x, equal_nan=True), np.allclose(special, special, equal_nan=True)),
            (T.logaddexp(x, y), np.logaddexp(special, other)),
            (T.power(x, 2), np.power(special, 2)),
            (T.largest(x, y, 1.0), np.maximum(np.maximum(special, other), 1.0)),
            (T.smallest(x, y), np.minimum(special, other)),
            (T.nan_to_num(x), np.nan_to_num(special)),
            (
                T.nan_to_num(f32, nan=-1.0, posinf=2.0),
                np.nan_to_num(np.float32(special), nan=-1.0, posinf=2.0),
            ),  # noqa: E501
            (T.ceil_intdiv(i, 3), -(-ints // 3)),
            (T.ceil_intdiv(i, -4), -(-ints // -4)),
            (T.round_half_to_even(x * 0 + 2.5), np.round(special * 0 + 2.5)),
            (T.round_half_away_from_zero(x * 0 - 2.5), np.trunc(special * 0 - 3.0)),
            (T.expit(y), 1 / (1 + np.exp(-other))),
            (T.equal(x, y), np.equal(special, other)),
            (T.less_equal(x, y), np.less_equal(special, other)),
        ]
    with np.errstate(over="ignore"):
        single = special.astype("float32")  # (1e300 becomes inf)
    inputs, values = [x, y, f32, i8, i], [special, other, single]
    values += [np.array([1, -90, 127], dtype="int8"), ints]
    f = croton.function(inputs, [c for c, _ in cases], backend=backend)
    for got, (_, want) in zip(f(*values), cases, strict=True):
        want = np.asarray(want)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-6 if want.dtype == "float32" else 1e-13)
    # log(1 - exp(x)): both formulas' sides of log(1/2), against a float128-free reference
    z = T.dvector("z")
    g = croton.function([z], T.log1mexp(z), backend=backend)
    with np.errstate(divide="ignore"):
        want = np.where(small < np.log(0.5), np.log1p(-np.exp(small)), np.log(-np.expm1(small)))
    np.testing.assert_allclose(g(small), want, rtol=1e-14)
    assert np.isfinite(g(np.array([-1e-20])))[0]  # log(1 - exp(x)) itself gives -inf


def test_the_composed_functions_have_gradients():
    x, y = T.dvectors("x", "y")
    a, b = np.array([0.3, -2.0, 5.0]), np.array([0.2, 1.0, -1.0])

    def cost(p, q, lib):
        if lib is np:
            return np.sum(np.logaddexp(p, q) + np.deg2rad(p) * np.log(-np.expm1(-np.abs(q))))
        return T.sum(T.logaddexp(p, q) + T.deg2rad(p) * T.log1mexp(-T.abs(q)))

    f = croton.function([x, y], T.grad(cost(x, y, T), [x, y]))
    got_x, got_y = f(a, b)
    step = 1e-6 * np.eye(3)
    want_x = [(cost(a + h, b, np) - cost(a - h, b, np)) / 2e-6 for h in step]
    want_y = [(cost(a, b + h, np) - cost(a, b - h, np)) / 2e-6 for h in step]
    np.testing.assert_allclose(got_x, want_x, rtol=1e-6)
    np.testing.assert_allclose(got_y, want_y, rtol=1e-6)


def test_axes_functions_match_numpy(backend):
    x, m, v = T.dtensor3("x"), T.lmatrix("m"), T.dvector("v")
    a = np.arange(24.0).reshape(2, 3, 4) - 5
    k = np.array([[3, 1, 4, 1], [5, 9, 2, 6], [5, 3, 5, 8]])
    w = np.array([1.0, 4.0, 9.0, 16.0])
    s = T.dscalar("s")
    cases = [
        (T.swapaxes(x, 0, -1), np.swapaxes(a, 0, -1)),
        (x.swapaxes(1, 2), a.swapaxes(1, 2)),
        (T.matrix_transpose(x), np.swapaxes(a, -1, -2)),
        (T.moveaxis(x, 0, -1), np.moveaxis(a, 0, -1)),
        (T.moveaxis(x, [0, 1], [2, 0]), np.moveaxis(a, [0, 1], [2, 0])),
        (T.expand_dims(x, 1), np.expand_dims(a, 1)),
        (T.expand_dims(x, (0, -1)), np.expand_dims(a, (0, -1))),
        (T.flip(x), np.flip(a)),
        (T.flip(x, 1), np.flip(a, 1)),
        (T.flip(m, (0, -1)), np.flip(k, (0, -1))),
        (T.atleast_1d(s), np.atleast_1d(2.0)),
        (T.atleast_2d(v), np.atleast_2d(w)),
        (T.atleast_3d(v), np.atleast_3d(w)),
        (T.atleast_3d(m), np.atleast_3d(k)),
        (T.atleast_2d(x), a),
        (T.full_like(m, 7), np.full_like(k, 7)),
        (T.full_like(v, 0.5, dtype="float32"), np.full_like(w, 0.5, dtype="float32")),
        (T.empty_like(m) * 0, k * 0),
        (T.tri(3, 5, 1), np.tri(3, 5, 1)),
        (T.tri(4, dtype="int32"), np.tri(4, dtype="int32")),
        (T.tril(x), np.tril(a)),
        (T.triu(x, 1), np.triu(a, 1)),
        (T.tril(m, -1), np.tril(k, -1)),
        (T.triu(v), np.triu(w)),
        (T.stacklists([[s, s * 2], [s * 3, s * 4]]), np.array([[2.0, 4.0], [6.0, 8.0]])),
        (T.diff(m), np.diff(k)),
        (T.diff(x, n=2, axis=1), np.diff(a, n=2, axis=1)),
        (T.diff(m > 3, axis=0), np.diff(k > 3, axis=0)),
        (T.ptp(m, axis=1), np.ptp(k, axis=1)),
        (T.ptp(x, keepdims=True), np.ptp(a, keepdims=True)),
    ]
    _check(backend, [x, m, v, s], [a, k, w, 2.0], cases)


def test_bad_axes_and_arguments_are_named():
    x = T.dmatrix("x")
    with pytest.raises(np.exceptions.AxisError, match="swapaxes"):
        T.swapaxes(x, 0, 2)
    with pytest.raises(ValueError, match="moveaxis: repeated axis"):
        T.moveaxis(x, [0, 0], [0, 1])
    with pytest.raises(ValueError, match="same number of axes"):
        T.moveaxis(x, [0, 1], [1])
    with pytest.raises(ValueError, match="matrix_transpose"):
        T.matrix_transpose(T.dvector("v"))
    with pytest.raises(ValueError, match="diff: n must be"):
        T.extra_ops.diff(x, n=-1)
    with pytest.raises(TypeError, match="largest"):
        T.largest()
    with pytest.raises(TypeError, match="nan_to_num"):
        T.nan_to_num(T.zvector("z"))
