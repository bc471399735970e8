"""Reverse-mode differentiation: grad, Lop, Rop, jacobian, hessian and verify_grad."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton import plugin
from croton.backend import get_backend
from croton.gradient import (
    DisconnectedInputError,
    GradientError,
    Lop,
    Rop,
    grad,
    hessian,
    jacobian,
    verify_grad,
)
from croton.graph.basic import Apply, Op
from croton.ops.composite import Composite
from croton.ops.elemwise import Elemwise
from croton.ops.scalar import SCALAR_OPS
from croton.tensor.variable import as_tensor_variable

RNG = np.random.default_rng(42)
X = RNG.uniform(-1.0, 1.0, size=4)
Y = RNG.uniform(-1.0, 1.0, size=4)
W = RNG.uniform(-1.0, 1.0, size=(3, 4))


def compiled(inputs, outputs):
    return croton.function(inputs, outputs, backend="numpy")


def numeric_jacobian(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """d f(x) / d x by central differences: shape ``f(x).shape + x.shape``."""
    out_shape = np.shape(f(x))
    jac = np.zeros(out_shape + x.shape)
    for index in np.ndindex(*x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += eps
        minus[index] -= eps
        jac[(Ellipsis, *index)] = (np.asarray(f(plus)) - np.asarray(f(minus))) / (2 * eps)
    return jac


def log_sigmoid(x):
    return -np.logaddexp(0.0, -x)


def sigmoid(x):
    return np.exp(log_sigmoid(x))


# -- grad -----------------------------------------------------------------------------------


def test_grad_with_a_single_wrt_returns_a_variable():
    x, y = T.dvector("x"), T.dvector("y")
    g = grad(T.sum(x**2 * y), x)
    assert isinstance(g, croton.Variable)
    assert g.type == x.type
    np.testing.assert_allclose(compiled([x, y], g)(X, Y), 2 * X * Y)


@pytest.mark.parametrize("container", [list, tuple])
def test_grad_with_a_list_of_wrt_returns_a_list(container):
    x, y = T.dvector("x"), T.dvector("y")
    grads = grad(T.sum(T.sin(x) * T.exp(y)), container([x, y]))
    assert isinstance(grads, list) and len(grads) == 2
    gx, gy = compiled([x, y], grads)(X, Y)
    np.testing.assert_allclose(gx, np.cos(X) * np.exp(Y))
    np.testing.assert_allclose(gy, np.sin(X) * np.exp(Y))


def test_grad_through_dot_and_a_matrix_wrt():
    w, x = T.dmatrix("w"), T.dvector("x")
    cost = T.sum(T.tanh(T.dot(w, x)))
    gw, gx = compiled([w, x], grad(cost, [w, x]))(W, X)
    inner = 1 - np.tanh(W @ X) ** 2
    np.testing.assert_allclose(gw, np.outer(inner, X))
    np.testing.assert_allclose(gx, W.T @ inner)


def test_grad_accumulates_over_every_use_of_a_variable():
    x = T.dvector("x")
    cost = T.sum(x * x + T.exp(x) * x + 3.0 * x)
    np.testing.assert_allclose(compiled([x], grad(cost, x))(X), 2 * X + np.exp(X) * (1 + X) + 3.0)


def test_grad_with_respect_to_an_intermediate_result():
    x = T.dvector("x")
    h = T.exp(x)
    cost = T.sum(h**2 + x)
    np.testing.assert_allclose(compiled([x], grad(cost, h))(X), 2 * np.exp(X))


def test_grad_of_a_float32_cost_is_float32():
    x = T.fvector("x")
    g = grad(T.sum(T.exp(x)), x)
    assert g.dtype == "float32"
    data = X.astype("float32")
    got = compiled([x], g)(data)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, np.exp(data), rtol=1e-6)


def test_gradients_are_named_after_the_cost_and_the_input():
    x = T.dvector("x")
    cost = T.sum(x**2)
    cost.name = "cost"
    g = grad(cost, x)
    assert g.name == "(dcost/dx)"
    np.testing.assert_allclose(compiled([x], g)(X), 2 * X)
    assert grad(cost, x, add_names=False).name is None


def test_grad_of_a_deep_chain_matches_numpy():
    x = T.dvector("x")
    depth = 1500
    y = x
    for k in range(depth):
        y = T.sin(y) if k % 2 else T.tanh(y)
    got = compiled([x], grad(T.sum(y), x))(X)
    value, derivative = X.copy(), np.ones_like(X)
    for k in range(depth):
        if k % 2:
            derivative = derivative * np.cos(value)
            value = np.sin(value)
        else:
            value = np.tanh(value)
            derivative = derivative * (1 - value**2)
    np.testing.assert_allclose(got, derivative, rtol=1e-10)


# -- known_grads and consider_constant ------------------------------------------------------


def test_known_grads_without_a_cost():
    x, y = T.dvector("x"), T.dvector("y")
    h = T.exp(x) * 2.0
    g = grad(None, x, known_grads={h: y})
    np.testing.assert_allclose(compiled([x, y], g)(X, Y), Y * 2.0 * np.exp(X))


def test_known_grads_add_to_the_gradient_of_the_cost():
    x = T.dvector("x")
    h = T.sin(x)
    cost = T.sum(h * 3.0)
    g = grad(cost, x, known_grads={h: T.ones_like(h)})
    np.testing.assert_allclose(compiled([x], g)(X), 4.0 * np.cos(X))


def test_known_grads_for_a_variable_outside_the_cost():
    x = T.dvector("x")
    u = x * 2.0
    g = grad(T.sum(x**2), x, known_grads={u: T.ones_like(u)})
    np.testing.assert_allclose(compiled([x], g)(X), 2 * X + 2.0)


def test_known_grads_for_several_variables():
    x = T.dvector("x")
    a, b = T.sin(x), T.exp(x)
    g = grad(None, x, known_grads={a: T.ones_like(a) * 2.0, b: x})
    np.testing.assert_allclose(compiled([x], g)(X), 2.0 * np.cos(X) + X * np.exp(X))


def test_known_grads_keys_may_be_inputs():
    x, y = T.dvector("x"), T.dvector("y")
    g = grad(None, x, known_grads={x: y * 3.0})
    np.testing.assert_allclose(compiled([y], g)(Y), 3.0 * Y)


def test_grad_needs_a_cost_or_known_grads():
    with pytest.raises(ValueError, match="needs a cost or known_grads"):
        grad(None, T.dvector())


def test_consider_constant_stops_the_gradient():
    x = T.dvector("x")
    m = x * 3.0
    cost = T.sum(m * x)
    np.testing.assert_allclose(compiled([x], grad(cost, x))(X), 6.0 * X)
    np.testing.assert_allclose(compiled([x], grad(cost, x, consider_constant=[m]))(X), 3.0 * X)


def test_consider_constant_on_every_path_disconnects_the_input():
    x = T.dvector("x")
    m = T.exp(x)
    cost = T.sum(m * 2.0)
    with pytest.raises(DisconnectedInputError):
        grad(cost, x, consider_constant=[m])
    g = grad(cost, x, consider_constant=[m], disconnected_inputs="ignore")
    np.testing.assert_array_equal(compiled([x], g)(X), np.zeros_like(X))


def test_a_constant_that_is_also_a_wrt_gets_its_gradient_but_passes_none_on():
    # as in Theano: a consider_constant variable "is not a function of anything"
    x = T.dvector("x")
    m = x * 3.0
    cost = T.sum(m * T.sin(x))
    gx, gm = grad(cost, [x, m], consider_constant=[m])
    got_x, got_m = compiled([x], [gx, gm])(X)
    np.testing.assert_allclose(got_x, 3.0 * X * np.cos(X))
    np.testing.assert_allclose(got_m, np.sin(X))


def test_a_wrt_that_depends_on_another_wrt_does_not_block_its_gradient():
    x = T.dvector("x")
    m = x * 3.0
    cost = T.sum(m * T.sin(x))
    gx, gm = grad(cost, [x, m])
    got_x, got_m = compiled([x], [gx, gm])(X)
    np.testing.assert_allclose(got_x, 3.0 * np.sin(X) + 3.0 * X * np.cos(X))
    np.testing.assert_allclose(got_m, np.sin(X))


# -- disconnected inputs --------------------------------------------------------------------


def test_disconnected_input_raises_naming_the_input_and_its_creation_site():
    x = T.dvector("x")
    unused = T.dvector("unused_weights")
    with pytest.raises(DisconnectedInputError) as info:
        grad(T.sum(x**2), [x, unused])
    message = str(info.value)
    assert "unused_weights" in message
    assert unused.where() in message
    assert __file__ in message
    assert "disconnected_inputs='ignore'" in message


def test_disconnected_input_warns_from_the_callers_line_and_gives_zeros():
    x = T.dvector("x")
    unused = T.dvector("unused")
    with pytest.warns(UserWarning, match="unused") as record:
        gx, gu = grad(T.sum(x**2), [x, unused], disconnected_inputs="warn")
    assert len(record) == 1
    assert record[0].filename == __file__
    got_x, got_u = compiled([x, unused], [gx, gu])(X, Y)
    np.testing.assert_allclose(got_x, 2 * X)
    np.testing.assert_array_equal(got_u, np.zeros_like(Y))


def test_disconnected_input_ignored_gives_zeros_silently():
    x = T.dvector("x")
    unused = T.dmatrix("unused")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = grad(T.sum(x**2), unused, disconnected_inputs="ignore")
    assert g.type == unused.type
    np.testing.assert_array_equal(compiled([unused], g)(W), np.zeros_like(W))


def test_disconnected_input_may_give_none():
    x, unused = T.dvector("x"), T.dvector("unused")
    gx, gu = grad(
        T.sum(x**2), [x, unused], disconnected_inputs="ignore", return_disconnected="None"
    )
    assert gu is None
    np.testing.assert_allclose(compiled([x], gx)(X), 2 * X)


def test_unknown_disconnected_inputs_option_is_refused():
    x, unused = T.dvector("x"), T.dvector("unused")
    with pytest.raises(ValueError, match="'raise', 'warn' or 'ignore'"):
        grad(T.sum(x), unused, disconnected_inputs="silently")


def test_input_used_only_through_integer_operations_gets_zeros():
    x = T.dvector("x")
    cost = T.sum(T.cast(T.floor(x * 3.0), "int64") * 1.0)
    np.testing.assert_array_equal(compiled([x], grad(cost, x))(X), np.zeros_like(X))


# -- integer and boolean inputs, bad costs --------------------------------------------------


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8", "bool"])
def test_integer_and_boolean_inputs_get_zero_gradients(dtype):
    x = T.dvector("x")
    k = T.vector("k", dtype=dtype)
    gx, gk = grad(T.sum(x * k), [x, k])
    assert gk.dtype == croton.config.floatX
    assert gk.type.shape == k.type.shape
    data = np.array([1, 0, 1, 1]).astype(dtype)
    got_x, got_k = compiled([x, k], [gx, gk])(X, data)
    np.testing.assert_allclose(got_x, data.astype("float64"))
    np.testing.assert_array_equal(got_k, np.zeros(4))
    assert got_k.dtype == np.dtype(croton.config.floatX)


def test_integer_input_that_is_not_connected_gets_zeros_too():
    x, k = T.dvector("x"), T.ivector("k")
    g = grad(T.sum(x), k)
    np.testing.assert_array_equal(compiled([k], g)(np.array([1, 2], dtype="int32")), [0.0, 0.0])


@pytest.mark.parametrize("make", [lambda x: x * 2.0, lambda x: T.outer(x, x)])
def test_a_cost_that_is_not_a_scalar_is_refused(make):
    x = T.dvector("x")
    with pytest.raises(TypeError, match="grad needs a scalar cost") as info:
        grad(make(x), x)
    assert "jacobian or Lop" in str(info.value)


def test_an_integer_cost_is_refused():
    k = T.ivector("k")
    with pytest.raises(TypeError, match="integer cost"):
        grad(T.sum(k), k)


# -- stability ------------------------------------------------------------------------------

EXTREME = np.array([-1000.0, -50.0, -1.0, 0.0, 1.0, 50.0, 1000.0])


def test_gradient_of_log_sigmoid_is_finite_at_extreme_values():
    x = T.dvector("x")
    got = compiled([x], grad(T.sum(T.log(T.nnet.sigmoid(x))), x))(EXTREME)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, sigmoid(-EXTREME), rtol=1e-12)


def test_gradient_of_log_one_minus_sigmoid_is_finite_at_extreme_values():
    x = T.dvector("x")
    got = compiled([x], grad(T.sum(T.log(1 - T.nnet.sigmoid(x))), x))(EXTREME)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, -sigmoid(EXTREME), rtol=1e-12)


def test_gradient_of_log_sum_exp_is_finite_at_extreme_values():
    x = T.dvector("x")
    got = compiled([x], grad(T.log(T.sum(T.exp(x))), x))(EXTREME)
    assert np.all(np.isfinite(got))
    softmax = np.exp(EXTREME - EXTREME.max())
    np.testing.assert_allclose(got, softmax / softmax.sum(), rtol=1e-12)


def test_stable_gradient_with_consider_constant():
    x, c = T.dvector("x"), T.dvector("c")
    scale = c * 2.0
    cost = T.sum(T.log(T.nnet.sigmoid(x)) * scale)
    g = grad(cost, x, consider_constant=[scale])
    got = compiled([x, c], g)(EXTREME, np.ones_like(EXTREME))
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, 2.0 * sigmoid(-EXTREME), rtol=1e-12)


def test_stable_gradient_with_respect_to_an_intermediate_result():
    x = T.dvector("x")
    h = x * 1.0
    g = grad(T.sum(T.log(T.nnet.sigmoid(h))), h)
    got = compiled([x], g)(EXTREME)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, sigmoid(-EXTREME), rtol=1e-12)


def test_stable_gradient_with_known_grads_and_a_cost():
    x = T.dvector("x")
    u = x * 2.0
    g = grad(T.sum(T.log(T.nnet.sigmoid(x))), x, known_grads={u: T.ones_like(u)})
    got = compiled([x], g)(EXTREME)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, sigmoid(-EXTREME) + 2.0, rtol=1e-12)


def test_stabilizing_the_gradient_leaves_the_users_graph_alone():
    x = T.dvector("x")
    cost = T.sum(T.log(T.nnet.sigmoid(x)))
    ops_before = [n.op for n in croton.graph.toposort([cost])]
    grad(cost, x)
    assert [n.op for n in croton.graph.toposort([cost])] == ops_before
    np.testing.assert_allclose(
        croton.function([x], cost, mode="NONE")(X), np.sum(log_sigmoid(X)), rtol=1e-12
    )


# -- Lop and Rop ----------------------------------------------------------------------------


def _layer(w, x):
    return T.tanh(T.dot(w, x)) * T.sum(x**2)


def _layer_numpy(w, x):
    return np.tanh(w @ x) * np.sum(x**2)


def test_lop_is_the_vector_jacobian_product():
    w, x, v = T.dmatrix("w"), T.dvector("x"), T.dvector("v")
    lw, lx = Lop(_layer(w, x), [w, x], v)
    cotangent = RNG.uniform(-1, 1, size=3)
    got_w, got_x = compiled([w, x, v], [lw, lx])(W, X, cotangent)
    jac_x = numeric_jacobian(lambda p: _layer_numpy(W, p), X)
    jac_w = numeric_jacobian(lambda p: _layer_numpy(p, X), W)
    np.testing.assert_allclose(got_x, cotangent @ jac_x, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(got_w, np.tensordot(cotangent, jac_w, axes=1), rtol=1e-6, atol=1e-9)


def test_lop_of_several_outputs_sums_their_products():
    x, u, v = T.dvector("x"), T.dvector("u"), T.dscalar("v")
    outputs = [T.exp(x), T.sum(T.sin(x))]
    lx = Lop(outputs, x, [u, v])
    got = compiled([x, u, v], lx)(X, Y, 0.5)
    np.testing.assert_allclose(got, Y * np.exp(X) + 0.5 * np.cos(X))


def test_lop_needs_one_eval_point_per_output():
    x = T.dvector("x")
    with pytest.raises(ValueError, match="2 outputs but 1 eval_points"):
        Lop([T.exp(x), T.sin(x)], x, [x])


def test_rop_is_the_jacobian_vector_product():
    w, x, v = T.dmatrix("w"), T.dvector("x"), T.dvector("v")
    tangent = RNG.uniform(-1, 1, size=4)
    got = compiled([w, x, v], Rop(_layer(w, x), x, v))(W, X, tangent)
    jac_x = numeric_jacobian(lambda p: _layer_numpy(W, p), X)
    np.testing.assert_allclose(got, jac_x @ tangent, rtol=1e-6, atol=1e-9)


def test_rop_with_several_wrt_adds_their_directional_derivatives():
    w, x, dw, dx = T.dmatrix("w"), T.dvector("x"), T.dmatrix("dw"), T.dvector("dx")
    tangent_w, tangent_x = RNG.uniform(-1, 1, size=(3, 4)), RNG.uniform(-1, 1, size=4)
    got = compiled([w, x, dw, dx], Rop(_layer(w, x), [w, x], [dw, dx]))(W, X, tangent_w, tangent_x)
    jac_x = numeric_jacobian(lambda p: _layer_numpy(W, p), X)
    jac_w = numeric_jacobian(lambda p: _layer_numpy(p, X), W)
    want = jac_x @ tangent_x + np.tensordot(jac_w, tangent_w, axes=2)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)


def test_rop_of_several_outputs_returns_a_list():
    x, v = T.dvector("x"), T.dvector("v")
    first, second = Rop([T.exp(x), T.sum(x**3)], x, v)
    got_first, got_second = compiled([x, v], [first, second])(X, Y)
    np.testing.assert_allclose(got_first, np.exp(X) * Y)
    np.testing.assert_allclose(got_second, np.sum(3 * X**2 * Y))


def test_rop_needs_one_eval_point_per_wrt():
    x, y = T.dvector("x"), T.dvector("y")
    with pytest.raises(ValueError, match="2 wrt but 1 eval_points"):
        Rop(x * y, [x, y], [x])


# -- jacobian and hessian -------------------------------------------------------------------


def test_jacobian_of_a_vector_function_matches_finite_differences():
    x = T.dvector("x")
    expression = T.exp(x) * x[::-1] + T.sum(T.sin(x))
    got = compiled([x], jacobian(expression, x))(X)

    def numpy_function(p):
        return np.exp(p) * p[::-1] + np.sum(np.sin(p))

    analytic = np.diag(np.exp(X) * X[::-1]) + np.exp(X)[:, None] * np.eye(4)[::-1]
    analytic = analytic + np.cos(X)[None, :]
    np.testing.assert_allclose(got, analytic, rtol=1e-12)
    np.testing.assert_allclose(got, numeric_jacobian(numpy_function, X), rtol=1e-6, atol=1e-8)


def test_jacobian_with_respect_to_several_inputs():
    w, x = T.dmatrix("w"), T.dvector("x")
    jw, jx = jacobian(T.tanh(T.dot(w, x)), [w, x])
    got_w, got_x = compiled([w, x], [jw, jx])(W, X)
    assert got_w.shape == (3, 3, 4) and got_x.shape == (3, 4)
    np.testing.assert_allclose(
        got_w, numeric_jacobian(lambda p: np.tanh(p @ X), W), rtol=1e-6, atol=1e-9
    )
    np.testing.assert_allclose(got_x, (1 - np.tanh(W @ X) ** 2)[:, None] * W, rtol=1e-12)


def test_jacobian_of_a_matrix_expression_has_both_shapes():
    x = T.dvector("x")
    got = compiled([x], jacobian(T.outer(x, T.exp(x)), x))(X)
    assert got.shape == (4, 4, 4)
    np.testing.assert_allclose(
        got, numeric_jacobian(lambda p: np.outer(p, np.exp(p)), X), rtol=1e-6, atol=1e-9
    )


def test_jacobian_of_a_scalar_is_the_gradient():
    x = T.dvector("x")
    got = compiled([x], jacobian(T.sum(x**3), x))(X)
    np.testing.assert_allclose(got, 3 * X**2)


def test_hessian_of_a_sum_of_cubes():
    x = T.dvector("x")
    got = compiled([x], hessian(T.sum(x**3), x))(X)
    np.testing.assert_allclose(got, np.diag(6 * X), rtol=1e-12, atol=1e-15)


def test_hessian_of_a_quadratic_form():
    x, a = T.dvector("x"), T.dmatrix("a")
    matrix = RNG.uniform(-1, 1, size=(4, 4))
    got = compiled([x, a], hessian(T.dot(x, T.dot(a, x)), x))(X, matrix)
    np.testing.assert_allclose(got, matrix + matrix.T, rtol=1e-12)


def test_hessian_with_respect_to_several_vectors():
    x, y = T.dvector("x"), T.dvector("y")
    cost = T.sum(T.exp(x) * y**2)
    hx, hy = compiled([x, y], hessian(cost, [x, y]))(X, Y)
    np.testing.assert_allclose(hx, np.diag(np.exp(X) * Y**2), rtol=1e-12)
    np.testing.assert_allclose(hy, np.diag(2 * np.exp(X)), rtol=1e-12)


def test_hessian_needs_vectors():
    m = T.dmatrix("m")
    with pytest.raises(TypeError, match="wrt must be vectors"):
        hessian(T.sum(m**2), m)


# -- verify_grad ----------------------------------------------------------------------------


class Cube(Op):
    """``x ** 3``, with a gradient that is wrong by ``grad_factor`` unless it is 1."""

    __props__ = ("grad_factor",)

    def __init__(self, grad_factor: float = 1.0):
        self.grad_factor = grad_factor

    def make_node(self, x) -> Apply:
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def grad(self, inputs, output_grads):
        (x,), (gz,) = inputs, output_grads
        return [gz * 3.0 * x**2 * self.grad_factor]


class CubePlugin:
    """Teaches the numpy backend to run `Cube`, through croton's public plugin API."""

    @plugin.hookimpl
    def croton_lowerings(self, backend):
        if backend.name != "numpy":
            return None

        def lower_cube(op, node):
            dtype = np.dtype(node.outputs[0].dtype)
            return lambda x: (x**3).astype(dtype, copy=False)

        return {Cube: lower_cube}


@pytest.fixture
def cube_lowering():
    name = "test-autodiff-cube"
    assert Cube not in get_backend("numpy").registry
    plugin.register(CubePlugin(), name=name)
    try:
        yield
    finally:
        plugin.unregister(name)
    assert Cube not in get_backend("numpy").registry


def test_custom_op_runs_through_the_plugin_lowering(cube_lowering):
    x = T.dvector("x")
    np.testing.assert_allclose(compiled([x], Cube()(x))(X), X**3)
    np.testing.assert_allclose(compiled([x], grad(T.sum(Cube()(x)), x))(X), 3 * X**2)


def test_verify_grad_passes_for_a_correct_custom_op(cube_lowering):
    verify_grad(Cube(), [X.copy()], rng=np.random.default_rng(0))
    verify_grad(lambda a: Cube()(a) * T.sin(a), [W.copy()], rng=np.random.default_rng(1))


@pytest.mark.parametrize("factor", [1.5, 0.5, -1.0])
def test_verify_grad_catches_a_wrong_gradient(cube_lowering, factor):
    point = np.array([0.5, -1.2, 2.0])
    with pytest.raises(GradientError) as info:
        verify_grad(Cube(factor), [point], rng=np.random.default_rng(0))
    message = str(info.value)
    assert "gradient of input 0 disagrees with finite differences" in message
    # the worst index is the largest |3 x^2 (factor - 1)|, at x = 2.0
    assert "at index (2,)" in message


def test_verify_grad_catches_a_wrong_gradient_of_the_second_input(cube_lowering):
    with pytest.raises(GradientError, match="gradient of input 1"):
        verify_grad(lambda a, b: a * Cube(2.0)(b), [X.copy(), Y.copy() + 2.0])


def test_rop_and_jacobian_through_a_custom_op(cube_lowering):
    x, v = T.dvector("x"), T.dvector("v")
    got_rop = compiled([x, v], Rop(Cube()(x), x, v))(X, Y)
    np.testing.assert_allclose(got_rop, 3 * X**2 * Y)
    got_jacobian = compiled([x], jacobian(Cube()(x), x))(X)
    np.testing.assert_allclose(got_jacobian, np.diag(3 * X**2))


@pytest.mark.parametrize(
    "function, points",
    [
        (lambda a, b: T.dot(a, b) ** 2, [W, X]),
        (lambda a: T.nnet.softmax(a), [W]),
        (lambda a, b: T.sum(T.exp(a) / (1.0 + b**2), axis=1), [W, W[::-1].copy()]),
        (lambda a: T.max(a, axis=0) * T.mean(a), [W]),
        (lambda a: a[1:, ::2].T, [W]),
    ],
)
def test_verify_grad_passes_for_correct_expressions(function, points):
    verify_grad(function, [p.copy() for p in points], rng=np.random.default_rng(3))


def test_verify_grad_of_a_hand_made_composite():
    mul, exp = SCALAR_OPS["mul"], SCALAR_OPS["exp"]
    composite = Composite(
        ["float64", "float64"],
        [(mul, (("input", 0), ("input", 1)), "float64"), (exp, (("step", 0),), "float64")],
    )
    a, b = T.dvector("a"), T.dvector("b")
    fused = Elemwise(composite)(a, b)
    np.testing.assert_allclose(compiled([a, b], fused)(X, Y), np.exp(X * Y))
    ga, gb = compiled([a, b], grad(T.sum(fused), [a, b]))(X, Y)
    np.testing.assert_allclose(ga, Y * np.exp(X * Y))
    np.testing.assert_allclose(gb, X * np.exp(X * Y))
    verify_grad(Elemwise(composite), [X.copy(), Y.copy()])


def test_verify_grad_needs_floating_point_points():
    with pytest.raises(TypeError, match="point 0 has dtype int64"):
        verify_grad(lambda a: a * 2.0, [np.arange(3)])
