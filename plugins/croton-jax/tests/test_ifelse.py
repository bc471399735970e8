"""`IfElse` on the jax backend: ``lax.cond`` inside the jitted function, checks of the
untaken branch ignored, an eager form for branches with barriers."""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.ifelse import ifelse
from croton.ops.ifelse import IfElse

RNG = np.random.default_rng(13)
X = RNG.normal(size=5)
Y = RNG.normal(size=5)


def test_traced_condition_is_one_jitted_function(pair):
    a, b = T.dscalars("a", "b")
    x, y = T.dvectors("x", "y")
    f = pair([a, b, x, y], ifelse(T.lt(a, b), [T.exp(x), T.sum(y)], [y * 2, T.max(x)]))
    assert IfElse in f.op_classes()
    assert "-- eager --" not in f.jax.source()
    f.check(np.asarray(1.0), np.asarray(2.0), X, Y)
    f.check(np.asarray(2.0), np.asarray(1.0), X, Y)


def test_checks_of_the_untaken_branch_do_not_fire(pair):
    i = T.lscalar("i")
    x = T.dvector("x")
    f = pair([i, x], ifelse(T.lt(i, 3), x[i] * 2, x[i + 100]))
    f.check(np.asarray(1), X)
    f.check_raises(IndexError, np.asarray(4), X)


def test_nested_and_gradient(pair):
    c, d = T.bscalars("c", "d")
    x, y = T.dvectors("x", "y")
    out = ifelse(c, ifelse(d, T.sin(x) * y, T.cos(y)), x * y)
    gx, gy = croton.grad(T.sum(out), [x, y])
    f = pair([c, d, x, y], [out, gx, gy])
    for cv in (0, 1):
        for dv in (0, 1):
            f.check(np.asarray(cv, "int8"), np.asarray(dv, "int8"), X, Y)


def test_branch_with_a_barrier_runs_eagerly(pair):
    c = T.bscalar("c")
    x = T.dvector("x")
    f = pair([c, x], ifelse(c, T.sum(x[x > 0]), T.sum(x)))  # a mask computed from data
    f.check(np.asarray(1, "int8"), X)
    f.check(np.asarray(0, "int8"), X)


def test_branches_of_different_shapes_are_refused_clearly():
    c = T.bscalar("c")
    x = T.dvector("x")
    f = croton.function([c, x], ifelse(c, x, x[1:] * 2), backend="jax")
    with pytest.raises(TypeError, match="same shapes"):
        f(1, X)


def test_branches_of_known_different_shapes_need_a_known_condition(pair):
    c = T.bscalar("c")
    a, b = T.dscalars("a", "b")
    x = T.tensor(dtype="float64", shape=(3, 4), name="x")
    y = T.tensor(dtype="float64", shape=(2, 2), name="y")
    static = pair([c, x, y], ifelse(c, T.exp(x), y * 2))  # the condition is an input
    assert "-- eager --" not in static.jax.source()
    # (a and b become static too: the condition is computed while tracing)
    from_inputs = pair([a, b, x, y], ifelse(T.lt(a, b), T.exp(x), y * 2))
    assert "-- eager --" not in from_inputs.jax.source()
    from_data = pair([x, y], ifelse(T.gt(T.sum(x), 0), T.exp(x), y * 2))
    assert "-- eager --" in from_data.jax.source()
    xv, yv = RNG.normal(size=(3, 4)), RNG.normal(size=(2, 2))
    for cv in (0, 1):
        static.check(np.asarray(cv, dtype="int8"), xv, yv)
        from_inputs.check(np.asarray(float(cv)), np.asarray(0.5), xv, yv)
    from_data.check(np.abs(xv), yv)
    from_data.check(-np.abs(xv), yv)


def test_a_branch_allocating_from_a_known_length_under_a_traced_condition(pair):
    # the gradient's branches allocate zeros of x's length (the rewrites move them in);
    # that length, known while tracing, must reach the branch as a value, not as a
    # traced operand of lax.cond
    c = T.bscalar("c")
    x = T.dvector("x")
    gx = croton.grad(T.sum(ifelse(c, x * 3, x[::-1] * x)), x)
    f = pair([c, x], gx)
    f.check(np.asarray(1, "int8"), X)
    f.check(np.asarray(0, "int8"), X)
