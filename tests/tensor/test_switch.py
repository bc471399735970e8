"""`T.switch`: Theano's broadcasting, and gradients (zero on the untaken side, summed over
broadcast axes), on the numpy and numba backends."""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.gradient import verify_grad

BACKENDS = ["numpy", "numba"]
RNG = np.random.default_rng(5)


@pytest.fixture(autouse=True)
def _numba_serial():
    with croton.config.change(numba_parallel=False):
        yield


@pytest.mark.parametrize("backend", BACKENDS)
def test_branches_broadcast_against_the_condition(backend):
    c = T.bmatrix("c")
    a = T.dmatrix("a")
    b = T.drow("b")
    w = RNG.normal(size=(3, 4))
    out = T.switch(c, a, b)
    ga, gb = croton.grad(T.sum(out * w), [a, b])
    f = croton.function([c, a, b], [out, ga, gb], backend=backend)
    cv = (RNG.random((3, 4)) > 0.5).astype("int8")
    av, bv = RNG.normal(size=(3, 4)), RNG.normal(size=(1, 4))
    got, got_a, got_b = f(cv, av, bv)
    np.testing.assert_allclose(got, np.where(cv, av, bv))
    np.testing.assert_allclose(got_a, np.where(cv, w, 0))
    np.testing.assert_allclose(got_b, np.where(cv, 0, w).sum(axis=0, keepdims=True))


@pytest.mark.parametrize("backend", BACKENDS)
def test_condition_broadcasts_against_the_branches(backend):
    c = T.bcol("c")
    x = T.dvector("x")
    y = T.dscalar("y")
    out = T.switch(c, x, y)
    assert out.ndim == 2
    w = RNG.normal(size=(3, 4))
    gx, gy = croton.grad(T.sum(out * w), [x, y])
    f = croton.function([c, x, y], [out, gx, gy], backend=backend)
    cv = np.array([[1], [0], [1]], dtype="int8")
    xv = RNG.normal(size=4)
    got, got_x, got_y = f(cv, xv, 2.0)
    np.testing.assert_allclose(got, np.where(cv, xv, 2.0))
    np.testing.assert_allclose(got_x, np.where(cv, w, 0).sum(axis=0))
    np.testing.assert_allclose(got_y, np.where(cv, 0, w).sum())


def test_float_condition_counts_nonzero_as_true_and_gets_no_gradient():
    c = T.dvector("c")
    x = T.dvector("x")
    out = T.switch(c, x, -x)
    gc = croton.grad(T.sum(out), c)
    f = croton.function([c, x], [out, gc])
    cv = np.array([0.0, 2.5, np.nan, -0.0])
    xv = np.array([1.0, 2.0, 3.0, 4.0])
    got, got_c = f(cv, xv)
    np.testing.assert_array_equal(got, np.where(cv, xv, -xv))
    np.testing.assert_array_equal(got_c, 0)


def test_verify_grad():
    verify_grad(
        lambda a, b: T.switch(T.gt(a, 0), a * b, b),
        [RNG.normal(size=(3, 4)), RNG.normal(size=(1, 4))],
        rng=RNG,
    )
