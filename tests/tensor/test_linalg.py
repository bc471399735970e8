"""Linear algebra (``T.nlinalg``, ``T.slinalg``, ``T.linalg``) against NumPy and SciPy."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

import croton
import croton.tensor as T
from croton.autodiff import verify_grad

BACKENDS = ["numpy", "numba"]


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CROTON_CACHE_DIR", str(tmp_path / "cache"))


def _matrices(rng, n=5, dtype="float64"):
    a = (rng.normal(size=(n, n)) + n * np.eye(n)).astype(dtype)
    m = rng.normal(size=(n, n))
    spd = (m @ m.T + n * np.eye(n)).astype(dtype)
    return a, spd


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_values_match_numpy_and_scipy(backend, dtype):
    rng = np.random.default_rng(0)
    a, spd = _matrices(rng, dtype=dtype)
    b = rng.normal(size=5).astype(dtype)
    B = rng.normal(size=(5, 3)).astype(dtype)
    x, s = T.TensorType(dtype, (None, None))("x"), T.TensorType(dtype, (None, None))("s")
    v, m = T.TensorType(dtype, (None,))("v"), T.TensorType(dtype, (None, None))("m")
    outputs = [
        T.nlinalg.matrix_inverse(x),
        T.nlinalg.det(x),
        T.slinalg.cholesky(s),
        T.slinalg.cholesky(s, lower=False),
        T.slinalg.solve(x, v),
        T.slinalg.solve(x.T, m[::-1]),  # (strided inputs)
        T.slinalg.solve_triangular(x, m, lower=True),
        T.slinalg.solve_upper_triangular(x[::-1, ::-1], v),
        T.linalg.inv(x[:, ::2][:3, :3] * 2),
        T.nlinalg.matrix_power(x, 3),
        T.nlinalg.matrix_power(x, -2),
        T.nlinalg.matrix_power(x, 0),
        T.nlinalg.matrix_dot(x, m, m.T),
    ]
    f = croton.function([x, s, v, m], outputs, backend=backend)
    upper_garbage = spd + np.triu(rng.normal(size=(5, 5)), 1).astype(dtype)  # not read
    lower_garbage = spd + np.tril(rng.normal(size=(5, 5)), -1).astype(dtype)
    got = f(a, upper_garbage, b, B)
    inverse = np.linalg.inv(a)
    want = [
        inverse,
        np.linalg.det(a),
        np.linalg.cholesky(spd),
        scipy.linalg.cholesky(spd, lower=False),
        np.linalg.solve(a, b),
        np.linalg.solve(a.T, B[::-1]),
        scipy.linalg.solve_triangular(a, B, lower=True),
        scipy.linalg.solve_triangular(a[::-1, ::-1], b),
        np.linalg.inv(a[:, ::2][:3, :3] * 2),
        a @ a @ a,
        inverse @ inverse,
        np.eye(5),
        a @ B @ B.T,
    ]
    tolerance = 1e-10 if dtype == "float64" else 2e-4
    got[3] = f(a, lower_garbage, b, B)[3]  # (the upper factor reads the upper triangle)
    for value, expected in zip(got, want, strict=True):
        assert value.dtype == dtype and value.shape == np.shape(expected)
        np.testing.assert_allclose(value, expected, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("backend", BACKENDS)
def test_integers_compute_in_float64_and_an_empty_matrix_has_determinant_one(backend):
    x = T.lmatrix("x")
    f = croton.function([x], [T.nlinalg.matrix_inverse(x), T.nlinalg.det(x)], backend=backend)
    a = np.array([[4, 1], [2, 3]])
    inverse, determinant = f(a)
    assert inverse.dtype == determinant.dtype == np.float64
    np.testing.assert_allclose(inverse, np.linalg.inv(a), rtol=1e-12)
    np.testing.assert_allclose(determinant, 10.0, rtol=1e-12)
    assert f(np.zeros((0, 0), dtype=np.int64))[1] == 1.0


@pytest.mark.parametrize(
    "function, points",
    [
        (T.nlinalg.matrix_inverse, ["a"]),
        (T.nlinalg.det, ["a"]),
        (T.slinalg.cholesky, ["spd"]),
        (lambda s: T.slinalg.cholesky(s, lower=False), ["spd"]),
        (T.slinalg.solve, ["a", "b"]),
        (T.slinalg.solve, ["a", "B"]),
        (T.slinalg.solve_lower_triangular, ["a", "B"]),
        (T.slinalg.solve_upper_triangular, ["a", "b"]),
        (lambda x: T.nlinalg.matrix_power(x, -3), ["a"]),
    ],
)
def test_gradients_match_finite_differences(function, points):
    rng = np.random.default_rng(1)
    a, spd = _matrices(rng, n=4)
    values = {"a": a, "spd": spd, "b": rng.normal(size=4), "B": rng.normal(size=(4, 2))}
    verify_grad(function, [values[p] for p in points], backend="numpy", rng=rng)


def test_the_cholesky_gradient_lies_in_the_triangle_it_reads():
    x = T.dmatrix("x")
    _, spd = _matrices(np.random.default_rng(2), n=4)
    for lower, outside in [(True, np.triu), (False, np.tril)]:
        cost = T.sum(T.slinalg.cholesky(x, lower=lower) ** 3)
        gradient = croton.function([x], T.grad(cost, x), backend="numpy")(spd)
        assert np.all(outside(gradient, 1 if lower else -1) == 0)
        assert np.any(gradient != 0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_singular_and_indefinite_matrices_raise_linalg_errors(backend):
    x, v = T.dmatrix("x"), T.dvector("v")
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    for output, value in [
        (T.nlinalg.matrix_inverse(x), singular),
        (T.slinalg.solve(x, v), singular),
        (T.slinalg.cholesky(x), -np.eye(2)),
        (T.slinalg.solve_triangular(x, v, lower=True), np.array([[1.0, 0.0], [3.0, 0.0]])),
    ]:
        f = croton.function([x, v], output, backend=backend, on_unused_input="ignore")
        with pytest.raises(np.linalg.LinAlgError):
            f(value, np.ones(2))


def test_bad_arguments_are_named_when_the_graph_is_built():
    with pytest.raises(ValueError, match="must be square"):
        T.nlinalg.det(T.TensorType("float64", (2, 3))("x"))
    with pytest.raises(TypeError, match=r"must be a matrix \(2-d\)"):
        T.nlinalg.matrix_inverse(T.dtensor3("x"))
    with pytest.raises(TypeError, match="float16 matrices are not supported"):
        T.slinalg.cholesky(T.TensorType("float16", (None, None))("x"))
    with pytest.raises(TypeError, match="complex128 matrices are not supported"):
        T.nlinalg.det(T.TensorType("complex128", (None, None))("x"))
    with pytest.raises(TypeError, match="b must be a vector or a matrix"):
        T.slinalg.solve(T.dmatrix("a"), T.dtensor3("b"))
    with pytest.raises(ValueError, match="b needs one row per row of a"):
        T.slinalg.solve(T.TensorType("float64", (3, 3))("a"), T.TensorType("float64", (2,))("b"))
    with pytest.raises(TypeError, match="the exponent must be an integer"):
        T.nlinalg.matrix_power(T.dmatrix("x"), 1.5)


def test_theano_and_pytensor_names():
    assert T.nlinalg.inv is T.nlinalg.matrix_inverse is T.linalg.inv
    assert T.linalg.solve is T.slinalg.solve and T.linalg.cholesky is T.slinalg.cholesky
    assert T.linalg.trace is T.trace
