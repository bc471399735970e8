"""The `IfElse` op: types, shapes, values on each backend, laziness and gradients."""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.gradient import verify_grad
from croton.ifelse import ifelse
from croton.ops.ifelse import IfElse

BACKENDS = ["numpy", "numba"]
RNG = np.random.default_rng(7)


@pytest.fixture(autouse=True)
def _numba_serial():
    with croton.config.change(numba_parallel=False):
        yield


def test_output_type_keeps_the_static_lengths_both_branches_agree_on():
    c = T.bscalar("c")
    x = T.tensor(dtype="float32", shape=(3, None, 5), name="x")
    y = T.tensor(dtype="float32", shape=(3, 4, 6), name="y")
    out = ifelse(c, x, y)
    assert out.dtype == "float32"
    assert out.type.shape == (3, None, None)


def test_plain_ops_compare_by_number_of_outputs():
    assert IfElse(2) == IfElse(2) and hash(IfElse(2)) == hash(IfElse(2))
    assert IfElse(1) != IfElse(2)


def test_condition_must_be_a_scalar():
    with pytest.raises(TypeError, match="condition must be a scalar"):
        ifelse(T.dvector("c"), T.dscalar(), T.dscalar())


@pytest.mark.parametrize("backend", BACKENDS)
def test_values_on_both_branches(backend):
    c = T.lscalar("c")
    x, y = T.dmatrices("x", "y")
    f = croton.function([c, x, y], ifelse(c, T.exp(x) + 1, T.dot(y, y.T)), backend=backend)
    xv, yv = RNG.normal(size=(3, 4)), RNG.normal(size=(2, 5))
    np.testing.assert_allclose(f(1, xv, yv), np.exp(xv) + 1)
    np.testing.assert_allclose(f(-4, xv, yv), np.exp(xv) + 1)  # nonzero is true
    np.testing.assert_allclose(f(0, xv, yv), yv @ yv.T)  # a shape the other branch lacks


@pytest.mark.parametrize("backend", BACKENDS)
def test_untaken_branch_is_not_run(backend):
    """The else branch reshapes to an impossible length: running it would raise."""
    i = T.lscalar("i")
    x = T.dvector("x")
    impossible = x.reshape((x.shape[0] + 1,))
    f = croton.function([i, x], ifelse(T.lt(i, 3), x * 2, impossible * 3), backend=backend)
    xv = np.arange(4.0)
    np.testing.assert_allclose(f(1, xv), xv * 2)
    with pytest.raises(ValueError):
        f(5, xv)


@pytest.mark.parametrize("backend", BACKENDS)
def test_untaken_then_branch_is_not_run(backend):
    i = T.lscalar("i")
    x = T.dvector("x")
    impossible = x.reshape((x.shape[0] * 2,))
    f = croton.function(
        [i, x], ifelse(T.ge(i, 3), T.sum(impossible), T.sum(x[i:])), backend=backend
    )
    xv = np.arange(5.0)
    np.testing.assert_allclose(f(1, xv), xv[1:].sum())
    with pytest.raises(ValueError):
        f(4, xv)


@pytest.mark.parametrize("backend", BACKENDS)
def test_several_outputs_of_different_dtypes(backend):
    c = T.fscalar("c")
    x = T.fvector("x")
    n = T.ivector("n")
    then_values = [x * 2, n + 1, T.sum(x)]
    else_values = [x[::-1], n * n, T.max(x)]
    f = croton.function([c, x, n], ifelse(c, then_values, else_values), backend=backend)
    xv = RNG.normal(size=6).astype("float32")
    nv = np.arange(6, dtype="int32")
    for cv, want in (
        (np.float32(0.5), (xv * 2, nv + 1, xv.sum())),
        (0, (xv[::-1], nv * nv, xv.max())),
    ):
        got = f(cv, xv, nv)
        for g, w in zip(got, want):
            assert g.dtype == np.asarray(w).dtype
            np.testing.assert_allclose(g, w, rtol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("dtype", "value", "taken"),
    [
        ("bool", False, "else"),
        ("float64", np.nan, "then"),
        ("float32", -0.0, "else"),
        ("int8", -1, "then"),
    ],
)
def test_condition_dtypes(backend, dtype, value, taken):
    c = T.tensor(dtype=dtype, shape=(), name="c")
    x = T.dvector("x")
    f = croton.function([c, x], ifelse(c, x + 1, x - 1), backend=backend)
    xv = RNG.normal(size=3)
    want = xv + 1 if taken == "then" else xv - 1
    np.testing.assert_allclose(f(np.asarray(value, dtype=dtype), xv), want)


@pytest.mark.parametrize("backend", BACKENDS)
def test_float16_condition_and_values(backend):
    c = T.tensor(dtype="float16", shape=(), name="c")
    x = T.tensor(dtype="float16", shape=(None,), name="x")
    f = croton.function([c, x], ifelse(c, x * 2, x), backend=backend)
    xv = np.array([1.5, -2.0, 3.25], dtype="float16")
    for cv, want in ((-0.0, xv), (0.0, xv), (np.nan, xv * 2), (1e-4, xv * 2)):
        got = f(np.float16(cv), xv)
        assert got.dtype == np.float16
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("backend", BACKENDS)
def test_nested(backend):
    c, d = T.bscalars("c", "d")
    x, y = T.dvectors("x", "y")
    out = ifelse(c, ifelse(d, T.sin(x), T.cos(y)), ifelse(d, x * y, T.sum(y) + x))
    f = croton.function([c, d, x, y], out, backend=backend)
    xv, yv = RNG.normal(size=4), RNG.normal(size=4)
    for cv in (0, 1):
        for dv in (0, 1):
            if cv:
                want = np.sin(xv) if dv else np.cos(yv)
            else:
                want = xv * yv if dv else yv.sum() + xv
            np.testing.assert_allclose(f(cv, dv, xv, yv), want)


@pytest.mark.parametrize("backend", BACKENDS)
def test_theano_tutorial_conditions(backend):
    """Theano's "Conditions" example: ifelse and switch agree on scalars."""
    a, b = T.scalars("a", "b")
    x, y = T.matrices("x", "y")
    z_switch = T.switch(T.lt(a, b), T.mean(x), T.mean(y))
    z_lazy = ifelse(T.lt(a, b), T.mean(x), T.mean(y))
    f_switch = croton.function([a, b, x, y], z_switch, backend=backend)
    f_lazy = croton.function([a, b, x, y], z_lazy, backend=backend)
    xv, yv = RNG.normal(size=(10, 10)), RNG.normal(size=(10, 10))
    for av, bv in ((1.0, 2.0), (2.0, 1.0)):
        want = xv.mean() if av < bv else yv.mean()
        np.testing.assert_allclose(f_switch(av, bv, xv, yv), want)
        np.testing.assert_allclose(f_lazy(av, bv, xv, yv), want)


def test_infer_shape_uses_lengths_both_branches_agree_on():
    c = T.bscalar("c")
    x = T.tensor(dtype="float64", shape=(2, None), name="x")
    y = T.tensor(dtype="float64", shape=(2, None), name="y")
    out = ifelse(c, x, y)
    node = out.owner
    first, second = node.op.infer_shape(node, [(), (2, T.lscalar("n")), (2, T.lscalar("m"))])[0]
    assert first == 2
    # the other length is the output's own: computing it does not leave the branches
    f = croton.function([c, x, y], second)
    assert f(1, np.zeros((2, 3)), np.zeros((2, 5))) == 3
    assert f(0, np.zeros((2, 3)), np.zeros((2, 5))) == 5


@pytest.mark.parametrize("backend", BACKENDS)
def test_shape_of_the_result(backend):
    c = T.bscalar("c")
    x, y = T.dmatrices("x", "y")
    f = croton.function([c, x, y], ifelse(c, x, y[1:]).shape, backend=backend)
    np.testing.assert_array_equal(f(1, np.zeros((4, 3)), np.zeros((4, 3))), [4, 3])
    np.testing.assert_array_equal(f(0, np.zeros((4, 3)), np.zeros((4, 3))), [3, 3])


@pytest.mark.parametrize("backend", BACKENDS)
def test_gradient_matches_numpy(backend):
    a, b = T.dscalars("a", "b")
    x, y = T.dvectors("x", "y")
    w = RNG.normal(size=4)
    cost = T.sum(ifelse(T.lt(a, b), x * a, T.exp(y) * b) * w)
    f = croton.function([a, b, x, y], croton.grad(cost, [x, y, a, b]), backend=backend)
    xv, yv = RNG.normal(size=4), RNG.normal(size=4)
    gx, gy, ga, gb = f(1.0, 2.0, xv, yv)
    np.testing.assert_allclose(gx, w * 1.0)
    np.testing.assert_allclose(gy, 0)
    np.testing.assert_allclose(ga, np.sum(w * xv))
    np.testing.assert_allclose(gb, 0)
    gx, gy, ga, gb = f(3.0, 2.0, xv, yv)
    np.testing.assert_allclose(gx, 0)
    np.testing.assert_allclose(gy, w * np.exp(yv) * 2.0)
    np.testing.assert_allclose(ga, 0)
    np.testing.assert_allclose(gb, np.sum(w * np.exp(yv)))


@pytest.mark.parametrize("taken", [1.0, -1.0])
def test_verify_grad_both_branches(taken):
    def fun(c, x, y):
        return ifelse(c, [T.tanh(x) * y, x.sum()], [x * y.sum(), T.sum(y**2)])[0] + ifelse(
            c, x.sum(), T.sum(y**2)
        )

    verify_grad(fun, [np.asarray(taken), RNG.normal(size=3), RNG.normal(size=3)], rng=RNG)


def test_verify_grad_on_numba():
    verify_grad(
        lambda x, y: ifelse(T.gt(T.sum(x), 0), T.exp(x) * y, y / 2),
        [np.abs(RNG.normal(size=3)) + 0.1, RNG.normal(size=3)],
        rng=RNG,
        backend="numba",
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_ifelse_inside_a_gradient_graph(backend):
    """The gradient of a cost that holds an ifelse, and an ifelse of gradients."""
    c = T.bscalar("c")
    x = T.dvector("x")
    g_then = croton.grad(T.sum(T.sin(x)), x)
    g_else = croton.grad(T.sum(x**3), x)
    chosen = ifelse(c, g_then, g_else)
    second = croton.grad(T.sum(chosen), x)  # d/dx of the chosen gradient's sum
    f = croton.function([c, x], [chosen, second], backend=backend)
    xv = RNG.normal(size=5)
    got, got2 = f(1, xv)
    np.testing.assert_allclose(got, np.cos(xv))
    np.testing.assert_allclose(got2, -np.sin(xv))
    got, got2 = f(0, xv)
    np.testing.assert_allclose(got, 3 * xv**2)
    np.testing.assert_allclose(got2, 6 * xv)


def test_integer_outputs_pass_no_gradient():
    c = T.bscalar("c")
    x = T.dvector("x")
    i = T.lvector("i")
    value, index = ifelse(c, [x * 2, i], [x, i + 1])
    g = croton.grad(T.sum(value) + T.sum(index), x)
    f = croton.function([c, x, i], g)
    np.testing.assert_allclose(f(1, np.ones(3), np.arange(3)), 2)
    np.testing.assert_allclose(f(0, np.ones(3), np.arange(3)), 1)


def test_output_does_not_alias_an_input():
    c = T.bscalar("c")
    x, y = T.dvectors("x", "y")
    f = croton.function([c, x, y], ifelse(c, x, y), backend="numpy")
    xv = np.ones(3)
    out = f(1, xv, np.zeros(3))
    out[0] = 5
    assert xv[0] == 1
