"""`Map` (the loop behind jacobian and hessian): vectorised, unrolled and eager forms."""

from __future__ import annotations

import numpy as np
import pytest

import croton.tensor as T
from croton.gradient import hessian, jacobian
from croton.ops.map import Map, map_over_index

RNG = np.random.default_rng(3)
W = RNG.normal(size=(3, 4))
X = RNG.normal(size=4)


def test_jacobian_is_vectorised(pair):
    x = T.dvector("x")
    w = T.dmatrix("w")
    f = pair([w, x], jacobian(T.tanh(T.dot(w, x)), x))
    assert Map in f.op_classes()
    assert "-- eager --" not in f.jax.source()
    f.check(W, X)


def test_hessian(pair):
    x = T.dvector("x")
    pair([x], hessian(T.sum(T.exp(x) * x**3), x)).check(X)


def test_index_that_decides_a_shape_unrolls_the_loop(pair):
    x = T.dvector("x")
    n = T.lscalar("n")
    i = T.lscalar("i")
    (prefix_sums,) = map_over_index(i, n, [x[:i].sum() + x[i]])
    f = pair([x, n], prefix_sums)
    f.check(X, np.asarray(4))
    f.check(X, np.asarray(0))  # zero steps


def test_inner_graph_with_a_data_mask_runs_step_by_step(pair):
    x = T.dvector("x")
    n = T.lscalar("n")
    i = T.lscalar("i")
    (counts,) = map_over_index(i, n, [x[x > T.cast(i, "float64") - 2.0].sum()])
    f = pair([x, n], counts)
    assert "-- eager --" in f.jax.source()
    f.check(X, np.asarray(3))
    f.check(X, np.asarray(0))


def test_map_checks_inner_indices(pair):
    x = T.dvector("x")
    n = T.lscalar("n")
    i = T.lscalar("i")
    (picked,) = map_over_index(i, n, [x[i] * 2])
    f = pair([x, n], picked)
    f.check(X, np.asarray(4))
    f.check(X, np.asarray(0))
    error = f.check_raises(IndexError, X, np.asarray(5))
    assert "out of bounds" in str(error)


@pytest.mark.parametrize("steps", [0, 1, 3])
def test_map_with_several_outputs_and_invariant_shapes(pair, steps):
    x = T.dmatrix("x")
    n = T.lscalar("n")
    i = T.lscalar("i")
    outputs = map_over_index(i, n, [x * T.cast(i, "float64"), T.zeros((x.shape[1],)) + i, x.sum()])
    pair([x, n], outputs).check(W, np.asarray(steps))


def test_map_whose_number_of_steps_comes_from_data_checks_indices(pair):
    # the number of steps is not known while tracing, so the loop runs between jitted
    # parts; the checks of its inner graph are still raised after it
    x = T.dvector("x")
    i = T.lscalar("i")
    (picked,) = map_over_index(i, T.cast((x > 0).sum(), "int64"), [x[i + 2] * 2])
    f = pair([x], picked)
    assert "-- eager --" in f.jax.source()
    f.check(np.array([1.0, 2.0, -3.0, -4.0]))
    error = f.check_raises(IndexError, np.array([1.0, 2.0, 3.0, -4.0]))
    assert "Subtensor" in str(error)
