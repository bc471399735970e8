"""Fusion: elementwise chains become one loop, producers join their reductions."""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.ops.composite import Composite
from croton.ops.elemwise import Elemwise
from croton.ops.reduce import Reduce


@pytest.fixture(autouse=True)
def _rewrite_errors_raise():
    with croton.config.change(on_rewrite_error="raise"):
        yield


def _ops(f):
    return [node.op for node in f.maker.fgraph.toposort()]


def _loops(f) -> int:
    """Elementwise loops left in the compiled graph (fused or not)."""
    return sum(isinstance(op, Elemwise) for op in _ops(f))


def _compile_both(inputs, output):
    return croton.function(inputs, output), croton.function(inputs, output, mode="NONE")


def test_elementwise_chain_becomes_one_loop():
    x, y = T.dvectors("x", "y")
    chain = T.exp(-((x * y) ** 2)) * T.sin(x) + T.log1p(y * y) / (1 + abs(x))
    fused, unfused = _compile_both([x, y], chain)
    assert _loops(fused) == 1
    assert isinstance(_ops(fused)[0].scalar_op, Composite)
    assert _loops(unfused) > 8
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=50), rng.normal(size=50)
    expected = np.exp(-((a * b) ** 2)) * np.sin(a) + np.log1p(b * b) / (1 + np.abs(a))
    np.testing.assert_allclose(fused(a, b), expected, rtol=1e-14)
    np.testing.assert_array_equal(fused(a, b), unfused(a, b))


def test_sum_of_squared_difference_is_one_node():
    x, y = T.dvectors("x", "y")
    f, _ = _compile_both([x, y], T.sum((x - y) ** 2))
    (op,) = _ops(f)
    assert isinstance(op, Reduce) and op.kind == "sum" and op.prologue is not None
    a, b = np.arange(5.0), np.ones(5)
    np.testing.assert_allclose(f(a, b), np.sum((a - b) ** 2))


@pytest.mark.parametrize("kind", ["sum", "prod", "max", "min"])
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
def test_reduction_prologue_values(kind, axis):
    x = T.dmatrix("x")
    out = getattr(T, kind)(T.exp(x) * 0.5 - x, axis=axis)
    fused, unfused = _compile_both([x], out)
    assert sum(isinstance(op, Reduce) and op.prologue is not None for op in _ops(fused)) == 1
    data = np.random.default_rng(1).normal(size=(4, 3))
    expected = getattr(np, kind)(np.exp(data) * 0.5 - data, axis=axis)
    np.testing.assert_allclose(fused(data), expected, rtol=1e-13)
    np.testing.assert_allclose(unfused(data), expected, rtol=1e-13)


def test_producer_with_outside_client_is_not_duplicated():
    x = T.dvector("x")
    shared_term = T.exp(x)
    f, _ = _compile_both([x], [shared_term + 1, shared_term * 2])
    exp_steps = 0
    for op in _ops(f):
        if isinstance(op, Elemwise):
            program = (
                op.scalar_op.program if isinstance(op.scalar_op, Composite) else [(op.scalar_op,)]
            )
            exp_steps += sum(step[0].name == "exp" for step in program)
    assert exp_steps == 1  # computed once, used by both outputs
    a = np.linspace(-1, 1, 7)
    first, second = f(a)
    np.testing.assert_allclose(first, np.exp(a) + 1)
    np.testing.assert_allclose(second, np.exp(a) * 2)


def test_broadcast_producer_is_not_fused_into_bigger_loop():
    row, m = T.dvector("row"), T.dmatrix("m")
    expensive = T.exp(T.sin(row))  # one value per column
    f, _ = _compile_both([row, m], m * expensive)
    composites = [
        op.scalar_op
        for op in _ops(f)
        if isinstance(op, Elemwise) and isinstance(op.scalar_op, Composite)
    ]
    # exp(sin(row)) is fused on its own, not recomputed for each row of m
    assert any([s[0].name for s in c.program] == ["sin", "exp"] for c in composites)
    a, b = np.arange(3.0), np.ones((4, 3))
    np.testing.assert_allclose(f(a, b), b * np.exp(np.sin(a)))


def test_fused_graph_keeps_dtypes_and_casts():
    x = T.fvector("x")
    i = T.ivector("i")
    out = (x * 0.5 + i) / 3  # float32 * weak float stays float32; + int32 gives float64
    fused, unfused = _compile_both([x, i], out)
    assert _loops(fused) == 1
    a, b = np.arange(4, dtype="float32"), np.arange(4, dtype="int32")
    expected = (a * np.float32(0.5) + b) / 3
    assert fused(a, b).dtype == expected.dtype == unfused(a, b).dtype
    np.testing.assert_array_equal(fused(a, b), unfused(a, b))


def test_fused_composite_gradient():
    x = T.dvector("x")
    f = croton.function([x], T.tanh(x) * T.exp(-x))
    (fused,) = f.maker.fgraph.toposort()
    assert isinstance(fused.op.scalar_op, Composite)
    # differentiating the fused op itself gives the gradient of the original graph
    g = croton.function([x], T.grad(T.sum(fused.op(x)), x), mode="NONE")
    data = np.linspace(-2, 2, 9)
    expected = (1 - np.tanh(data) ** 2) * np.exp(-data) - np.tanh(data) * np.exp(-data)
    np.testing.assert_allclose(g(data), expected, rtol=1e-12)


def test_nan_and_inf_propagate_through_fused_loops():
    x = T.dvector("x")
    f, unfused = _compile_both([x], T.sum(T.exp(x) + x))
    assert np.isnan(f(np.array([0.0, np.nan])))
    assert f(np.array([0.0, np.inf])) == np.inf
    g, _ = _compile_both([x], T.log(x) * 2 + 1)
    with np.errstate(all="ignore"):
        expected = np.log([-1.0, 0.0, 1.0]) * 2 + 1
    np.testing.assert_array_equal(g(np.array([-1.0, 0.0, 1.0])), expected)


def test_training_step_fuses_and_matches_unfused():
    from croton.demo import initial_parameters, training_graph

    def step(mode):
        params = initial_parameters(np.random.default_rng(0), 2, 8, 3)
        x, y, _, cost, updates = training_graph(params)
        f = croton.function([x, y], cost, updates=updates, mode=mode)
        data = np.random.default_rng(1).normal(size=(16, 2))
        labels = np.arange(16) % 3
        losses = [float(f(data, labels)) for _ in range(3)]
        return f, losses, [p.get_value() for p in params]

    fast, fast_losses, fast_params = step("FAST_RUN")
    plain, plain_losses, plain_params = step("NONE")
    assert len(fast.maker.fgraph.apply_nodes) < len(plain.maker.fgraph.apply_nodes)
    np.testing.assert_allclose(fast_losses, plain_losses, rtol=1e-12)
    for a, b in zip(fast_params, plain_params):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "build, reference",
    [
        (lambda x: x.dimshuffle(2, 0, 1).sum(axis=1), lambda a: a.transpose(2, 0, 1).sum(axis=1)),
        (
            lambda x: T.exp(x.dimshuffle(1, 2, 0)).max(axis=0),
            lambda a: np.exp(a.transpose(1, 2, 0)).max(axis=0),
        ),
        (
            lambda x: (x.dimshuffle(2, 1, 0) * 2 + 1).sum(axis=(0, 2)),
            lambda a: (a.transpose(2, 1, 0) * 2 + 1).sum(axis=(0, 2)),
        ),
        (lambda x: T.prod(x.T, axis=None), lambda a: np.prod(a)),
    ],
)
def test_a_reduction_of_a_transpose_reduces_the_untransposed_input(build, reference):
    # sum(x.T, axis=1) -> sum(x, axis=0): loops read x in memory order, and the result
    # is transposed back where its kept axes change order
    x = T.dtensor3("x")
    a = np.random.default_rng(8).normal(size=(3, 4, 5))
    fused, unfused = _compile_both([x], build(x))
    fgraph = fused.maker.fgraph
    (reduction,) = [node for node in fgraph.toposort() if isinstance(node.op, Reduce)]
    assert len(reduction.inputs) == 1 and reduction.inputs[0] is fgraph.inputs[0]
    np.testing.assert_allclose(fused(a), reference(a), rtol=1e-12)
    np.testing.assert_allclose(unfused(a), reference(a), rtol=1e-12)
