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


def test_sample_spacings_and_windows_match_numpy(backend):
    a, b, M = T.dscalar("a"), T.dscalar("b"), T.lscalar("M")
    f32 = T.fscalar("f32")
    cases = [
        (T.linspace(a, b, 7), np.linspace(-1.5, 4.0, 7)),
        (T.linspace(a, b, 6, endpoint=False), np.linspace(-1.5, 4.0, 6, endpoint=False)),
        (T.linspace(a, b, 1), np.linspace(-1.5, 4.0, 1)),
        (T.linspace(a, b, 0), np.linspace(-1.5, 4.0, 0)),
        (T.linspace(0, 1, 5, dtype="float32"), np.linspace(0, 1, 5, dtype="float32")),
        (T.linspace(f32, f32 * 2, 3), np.linspace(np.float32(2), np.float32(4), 3)),
        (T.logspace(a, b, 5), np.logspace(-1.5, 4.0, 5)),
        (T.logspace(a, b, 4, base=2.0, endpoint=False), np.logspace(-1.5, 4.0, 4, False, 2.0)),
        (T.geomspace(b, b * 100, 5), np.geomspace(4.0, 400.0, 5)),
        (T.geomspace(-b, -b / 8, 4), np.geomspace(-4.0, -0.5, 4)),
        (T.bartlett(M), np.bartlett(6)),
        (T.bartlett(M - 5), np.bartlett(1)),
        (T.bartlett(M - 6), np.bartlett(0)),
        (T.bartlett(M + 1), np.bartlett(7)),
    ]
    f = croton.function([a, b, M, f32], [c for c, _ in cases], backend=backend)
    for got, (_, want) in zip(f(-1.5, 4.0, 6, np.float32(2)), cases, strict=True):
        assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, want.dtype)
        np.testing.assert_allclose(got, want, rtol=1e-6 if want.dtype == "float32" else 1e-14)
    last = croton.function([a, b], T.linspace(a, b, 3)[-1], backend=backend)(0.1, 0.7)
    assert last == 0.7  # (the end point exactly)
    with pytest.raises(TypeError, match="num must be a Python integer"):
        T.linspace(0, 1, 2.5)


def test_products_and_statistics_match_numpy(backend):
    rng = np.random.default_rng(8)
    x, y, m, v = T.dmatrix("x"), T.dmatrix("y"), T.dmatrix("m"), T.dvector("v")
    p, q = T.dtensor3("p"), T.lvector("q")
    xv, yv, mv = rng.normal(size=(3, 4)), rng.normal(size=(2, 3)), rng.normal(size=(4, 6))
    vv, pv = rng.normal(size=3), rng.normal(size=(2, 3, 4))
    qv = np.array([3, 1, 4, 1, 5, 9, 2, 6])
    mv_nan = mv.copy()
    mv_nan[2, 3] = np.nan
    cases = [
        (T.kron(x, y), np.kron(xv, yv)),
        (T.kron(v, x), np.kron(vv, xv)),
        (T.nlinalg.kron(p, v), np.kron(pv, vv)),
        (T.inner(x, m.T), np.inner(xv, mv.T)),
        (T.inner(v, v), np.inner(vv, vv)),
        (T.vdot(x, x), np.vdot(xv, xv)),
        (T.cross(x[:, :3], x[:, 1:]), np.cross(xv[:, :3], xv[:, 1:])),
        (T.cross(x[:, :2], x[:, 2:], axis=0), np.cross(xv[:, :2], xv[:, 2:], axis=0)),
        (T.median(m), np.median(mv)),
        (T.median(m, axis=0), np.median(mv, axis=0)),
        (T.median(m, axis=1, keepdims=True), np.median(mv, axis=1, keepdims=True)),
        (T.median(q), np.median(qv)),
        (T.median(q[:-1]), np.median(qv[:-1])),
        (T.cov(m), np.cov(mv)),
        (T.cov(m, rowvar=False, bias=True), np.cov(mv, rowvar=False, bias=True)),
        (T.cov(v, x[:, 0], ddof=0), np.cov(vv, xv[:, 0], ddof=0)),
        (T.cov(v), np.cov(vv)),
        (T.cov(q), np.cov(qv)),
        (T.corrcoef(m), np.corrcoef(mv)),
        (T.corrcoef(v), np.corrcoef(vv)),
        (T.fill_diagonal(m, 7.0), _filled(mv, 7.0, 0)),
        (T.fill_diagonal_offset(m, -1.0, 2), _filled(mv, -1.0, 2)),
        (T.fill_diagonal_offset(m, -1.0, -3), _filled(mv, -1.0, -3)),
        (T.compress(v > 0, x, axis=0), np.compress(vv > 0, xv, axis=0)),
        (T.compress(q > 3, m), np.compress(qv > 3, mv)),
    ]
    inputs = [x, y, m, v, p, q]
    f = croton.function(inputs, [c for c, _ in cases], backend=backend)
    for got, (_, want) in zip(f(xv, yv, mv, vv, pv, qv), cases, strict=True):
        want = np.asarray(want)
        assert got.dtype == want.dtype and got.shape == want.shape, (got.shape, want.shape)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    with_nan = croton.function([m], [T.median(m, axis=0), T.median(m)], backend=backend)(mv_nan)
    np.testing.assert_array_equal(with_nan[0], np.median(mv_nan, axis=0))
    assert np.isnan(with_nan[1])
    with pytest.raises(ValueError, match="3 components"):
        T.cross(T.TensorType("float64", (None, 2))("a"), x)


def _filled(a, value, offset):
    out = a.copy()
    rows, columns = np.indices(a.shape)
    out[columns - rows == offset] = value
    return out


def test_norms_match_numpy(backend):
    rng = np.random.default_rng(9)
    x, v = T.dmatrix("x"), T.dvector("v")
    xv, vv = rng.normal(size=(3, 4)), np.array([3.0, -4.0, 0.0, 1.5])
    cases = [
        (T.linalg.norm(v), np.linalg.norm(vv)),
        (T.linalg.norm(x), np.linalg.norm(xv)),
        (T.linalg.norm(x, "fro"), np.linalg.norm(xv, "fro")),
        (T.linalg.norm(x, axis=1), np.linalg.norm(xv, axis=1)),
        (T.linalg.norm(x, axis=0, keepdims=True), np.linalg.norm(xv, axis=0, keepdims=True)),
    ]
    cases += [
        (T.linalg.norm(v, o), np.linalg.norm(vv, o)) for o in [1, 2, 3, 0.5, 0, np.inf, -np.inf]
    ]
    cases += [(T.linalg.norm(x, o), np.linalg.norm(xv, o)) for o in [1, -1, np.inf, -np.inf]]
    cases += [(T.linalg.norm(x, 1, axis=(1, 0)), np.linalg.norm(xv, 1, axis=(1, 0)))]
    f = croton.function([x, v], [c for c, _ in cases], backend=backend)
    for got, (_, want) in zip(f(xv, vv), cases, strict=True):
        want = np.asarray(want)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-12)
    with pytest.raises(NotImplementedError, match="singular values"):
        T.linalg.norm(x, "nuc")


@pytest.mark.parametrize(
    "function, shapes",
    [
        (T.kron, [(2, 3), (3, 2)]),
        (lambda a, b: T.cross(a, b), [(4, 3), (4, 3)]),
        (lambda m: T.median(m, axis=1), [(3, 5)]),
        (T.cov, [(3, 6)]),
        (T.corrcoef, [(3, 6)]),
        (lambda m: T.linalg.norm(m, axis=0), [(3, 4)]),
        (lambda m: T.linalg.norm(m, 3, axis=1), [(3, 4)]),
        (lambda a, b: T.linspace(a.sum(), b.sum(), 5), [(2,), (2,)]),
    ],
)
def test_gradients_of_the_compositions_match_finite_differences(function, shapes):
    rng = np.random.default_rng(10)
    points = [rng.normal(size=shape) for shape in shapes]
    T.verify_grad(function, points, rng=rng, backend="numpy")
