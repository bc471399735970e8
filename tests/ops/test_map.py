"""The gradient of `Map` (the loop behind jacobian): hessians of jacobians, against numpy."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.gradient import hessian, jacobian, verify_grad


def _f(values):
    return np.sin(values) * values.sum() ** 2


def _numeric_jacobian(fn, point, eps=1e-5):
    columns = [(fn(point + eps * e) - fn(point - eps * e)) / (2 * eps) for e in np.eye(len(point))]
    return np.stack(columns, axis=-1)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_jacobian_of_jacobian_and_hessian_of_a_jacobian(backend):
    x = T.vector("x")
    J = jacobian(T.sin(x) * x.sum() ** 2, x)
    JJ = jacobian(J.flatten(), x)
    H = hessian(J.sum(), x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = croton.function([x], [J, JJ, H], backend=backend)
    point = np.array([0.3, -0.2, 0.5])
    got_j, got_jj, got_h = f(point)
    np.testing.assert_allclose(got_j, _numeric_jacobian(_f, point), atol=1e-7)
    want_jj = _numeric_jacobian(lambda p: f(p)[0], point)
    np.testing.assert_allclose(got_jj.reshape(3, 3, 3), want_jj, atol=1e-6)

    def gradient_of_sum(p):
        return f(p)[1].reshape(3, 3, 3).sum(axis=(0, 1))

    np.testing.assert_allclose(got_h, _numeric_jacobian(gradient_of_sum, point), atol=1e-5)


def test_map_gradient_by_finite_differences():
    def fn(x, w):
        return jacobian(T.tanh(x * w).sum() * x, x)

    rng = np.random.default_rng(0)
    verify_grad(fn, [rng.normal(size=3), rng.normal(size=3)], backend="numpy")
