"""``canonicalize``: each rule keeps values and leaves the expected graph behind."""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.ops.elemwise import Elemwise
from croton.ops.reduce import Reduce
from croton.ops.scalar import cast_op
from croton.ops.shape import SpecifyShape

RNG = np.random.default_rng(0)
A = RNG.normal(size=5)
B = RNG.normal(size=5)
M = RNG.normal(size=(3, 4))


def _vectors():
    return T.dvector("x"), T.dvector("y")


# (id, build(x, y) -> output, scalar ops that must be gone, ops that must remain)
ALGEBRA_CASES = [
    ("neg_neg", lambda x, y: -(-x) + y, {"neg"}, {"add"}),  # noqa: B002
    ("add_sub_cancel", lambda x, y: x + y - x, {"add", "sub"}, set()),
    ("add_sub_cancel_commuted", lambda x, y: y + x - x, {"add", "sub"}, set()),
    ("sub_add_cancel", lambda x, y: (x - y) + y, {"add", "sub"}, set()),
    ("mul_one", lambda x, y: x * 1 + y, {"mul"}, {"add"}),
    ("one_mul", lambda x, y: 1.0 * x + y, {"mul"}, {"add"}),
    ("mul_ones_array", lambda x, y: x * np.ones(5) + y, {"mul"}, {"add"}),
    ("add_zero", lambda x, y: (x + 0) * y, {"add"}, {"mul"}),
    ("zero_add", lambda x, y: (0 + x) * y, {"add"}, {"mul"}),
    ("sub_zero", lambda x, y: (x - 0) * y, {"sub"}, {"mul"}),
    ("zero_sub", lambda x, y: (0 - x) * y, {"sub"}, {"neg", "mul"}),
    ("div_one", lambda x, y: x / 1 + y, {"true_div"}, {"add"}),
    ("pow_one", lambda x, y: x**1 + y, {"pow"}, {"add"}),
    ("pow_zero", lambda x, y: x**0 + y, {"pow"}, {"add"}),
    ("sub_neg", lambda x, y: x - (-y), {"sub", "neg"}, {"add"}),
    ("add_neg", lambda x, y: x + (-y), {"add", "neg"}, {"sub"}),
    ("neg_mul_neg", lambda x, y: (-x) * (-y), {"neg"}, {"mul"}),
    ("mul_minus_one", lambda x, y: x * -1 + y, {"mul", "neg", "add"}, {"sub"}),
    ("log_exp", lambda x, y: T.log(T.exp(x)) + y, {"log", "exp"}, {"add"}),
    ("exp_log", lambda x, y: T.exp(T.log(x)) + y, {"log", "exp"}, {"add"}),
]


@pytest.mark.parametrize(
    "build, gone, kept", [c[1:] for c in ALGEBRA_CASES], ids=[c[0] for c in ALGEBRA_CASES]
)
def test_algebra(compile_both, build, gone, kept):
    x, y = _vectors()
    pair = compile_both([x, y], build(x, y))
    names = pair.names
    assert not gone & set(names), names
    assert kept <= set(names), names
    assert len(pair.fast.maker.fgraph.apply_nodes) < len(pair.naive.maker.fgraph.apply_nodes)
    data = np.array([-2.0, -0.0, 0.0, 0.5, 3.0])
    pair.check(data, B)
    pair.check(A, B)


def test_add_sub_cancel_gives_the_other_term(compile_both):
    x, y = _vectors()
    pair = compile_both([x, y], x + y - x)
    assert len(pair.fast.maker.fgraph.apply_nodes) == 0
    np.testing.assert_array_equal(pair.fast(A, B), B)
    # the rewritten form is exact where the naive one rounds
    big = np.full(5, 1e20)
    np.testing.assert_array_equal(pair.fast(big, np.ones(5)), np.ones(5))


def test_pow_zero_is_one_even_for_nan_and_inf(compile_both):
    x = T.dvector("x")
    pair = compile_both([x], x**0)
    assert "pow" not in pair.names
    np.testing.assert_array_equal(pair.check(np.array([np.nan, np.inf, 0.0, -2.0])), np.ones(4))


def test_exp_log_keeps_nan_below_zero(compile_both):
    x = T.dvector("x")
    pair = compile_both([x], T.exp(T.log(x)))
    assert not {"exp", "log"} & set(pair.names)
    data = np.array([-1.0, 0.0, 0.25, 2.0, np.inf, np.nan])
    values = pair.check(data)
    np.testing.assert_array_equal(np.isnan(values), [True, False, False, False, False, True])


def test_log_exp_does_not_overflow(compile_both):
    x = T.dvector("x")
    fast, naive = compile_both([x], T.log(T.exp(x))).run_both(np.array([1000.0, -1000.0]))
    np.testing.assert_array_equal(fast, [1000.0, -1000.0])
    assert np.isinf(naive).all()


def test_division_by_itself_keeps_nan_for_variables(compile_both):
    x = T.dvector("x")
    pair = compile_both([x], x / x)
    # 0/0 and inf/inf are nan: folding x/x to 1 would change them
    assert pair.names["true_div"] == 1
    values = pair.check(np.array([0.0, np.inf, 2.0]))
    np.testing.assert_array_equal(np.isnan(values), [True, True, False])


def test_division_of_a_safe_constant_by_itself_is_folded(compile_both):
    # larger than constant folding handles, so only div_self can remove it
    data = np.arange(1.0, 20_001.0)
    c = T.constant(data)
    x = T.dvector("x")
    pair = compile_both([x], x * (c / c))
    assert pair.fired["div_self"] == 1
    assert not {"true_div", "mul"} & set(pair.names)
    np.testing.assert_array_equal(pair.check(data), data)


def test_division_of_a_constant_holding_zero_by_itself_is_kept(compile_both):
    data = np.arange(0.0, 20_000.0)  # 0/0 is nan
    c = T.constant(data)
    x = T.dvector("x")
    pair = compile_both([x], x * (c / c))
    assert "div_self" not in pair.fired
    assert pair.names["true_div"] == 1
    values = pair.check(np.ones(20_000))
    assert np.isnan(values[0]) and (values[1:] == 1).all()


@pytest.mark.parametrize(
    "build, op, left",
    [
        (lambda x: (x + 1) + 2, "add", 1),
        (lambda x: 2 + (x + 1) + 3, "add", 1),
        (lambda x: 2 * (x * 3), "mul", 1),
        (lambda x: (2 * x) * (3 * x), "mul", 2),
    ],
    ids=["add_pair", "add_three", "mul_pair", "mul_two_variables"],
)
def test_constants_collected_in_chains(compile_both, build, op, left):
    x = T.dvector("x")
    pair = compile_both([x], build(x))
    assert pair.names[op] == left, pair.names
    assert pair.fired["collect_constants"] >= 1
    pair.check(A)


def test_collected_constant_keeps_its_value(compile_both):
    x = T.dvector("x")
    pair = compile_both([x], (x + 1) + 2)
    (node,) = pair.fast.maker.fgraph.apply_nodes
    constants = [v for v in node.inputs if isinstance(v, croton.graph.basic.Constant)]
    assert [float(np.asarray(c.data).reshape(())) for c in constants] == [3.0]


@pytest.mark.parametrize(
    "build, left",
    [
        (lambda m: m.T.T, 0),
        (lambda m: m.T.T.T, 1),
        (lambda m: m.dimshuffle(0, "x", 1).dimshuffle(0, 2), 0),
        (lambda m: m.dimshuffle(1, "x", 0).dimshuffle(2, 1, 0), 1),
    ],
    ids=["transpose_twice", "transpose_three_times", "insert_then_drop", "composed"],
)
def test_dimshuffles_compose(compile_both, op_names, build, left):
    m = T.dmatrix("m")
    pair = compile_both([m], build(m))
    assert pair.names["DimShuffle"] == left
    pair.check(M)


def test_reshape_to_own_shape_disappears(compile_both):
    m = T.dmatrix("m")
    pair = compile_both([m], m.reshape(m.shape) * 2)
    assert "Reshape" not in pair.names
    pair.check(M)


def test_reshape_to_static_shape_disappears(compile_both):
    m = T.tensor("float64", shape=(3, 4), name="m")
    pair = compile_both([m], m.reshape((3, 4)) * 2)
    assert "Reshape" not in pair.names
    pair.check(M)


def test_reshape_of_reshape_is_one_reshape(compile_both):
    m = T.dmatrix("m")
    pair = compile_both([m], m.reshape((12,)).reshape((4, 3)))
    assert pair.names["Reshape"] == 1
    pair.check(M)


def test_cast_to_own_dtype_disappears(compile_both):
    x = T.dvector("x")
    pair = compile_both([x], Elemwise(cast_op("float64"))(x) * 2)
    assert "cast" not in pair.names
    pair.check(A)


def test_widening_cast_chain_becomes_one_cast(compile_both):
    x = T.ivector("x")
    pair = compile_both([x], T.cast(T.cast(x, "int64"), "float64"))
    assert pair.names["cast"] == 1
    pair.check(np.array([-3, 0, 7], dtype="int32"))


def test_narrowing_cast_chain_is_kept(compile_both):
    x = T.dvector("x")
    pair = compile_both([x], T.cast(T.cast(x, "float32"), "float64"))
    assert pair.names["cast"] == 2
    values = pair.check(np.array([0.1, 1e-50]))
    assert values[1] == 0.0  # what the float32 round trip gives


def test_useless_specify_shape_disappears(compile_both):
    x = T.tensor("float64", shape=(5,), name="x")
    pair = compile_both([x], SpecifyShape((None,))(x) * 2)
    assert "SpecifyShape" not in pair.names
    pair.check(A)


def test_reduction_over_no_axis_disappears(compile_both):
    x = T.dvector("x")
    pair = compile_both([x], T.sum(x, axis=[]) * 2)
    assert "Reduce" not in pair.names
    pair.check(A)


@pytest.mark.parametrize("kind", ["sum", "prod", "max", "min"])
def test_reduction_over_length_one_axes_disappears(compile_both, kind):
    r = T.drow("r")
    pair = compile_both([r], getattr(T, kind)(r, axis=0) * 2)
    assert "Reduce" not in pair.names
    pair.check(M[:1])


def test_reduction_over_length_one_and_other_axes_keeps_the_others(compile_both):
    t = T.tensor("float64", shape=(None, 1, None), name="t")
    pair = compile_both([t], T.sum(t, axis=(0, 1)))
    (node,) = [n for n in pair.fast.maker.fgraph.apply_nodes if isinstance(n.op, Reduce)]
    assert node.op.axis == (0,) and node.inputs[0].ndim == 2
    pair.check(M.reshape(3, 1, 4))


def test_static_shape_becomes_a_constant(compile_both):
    x = T.tensor("float64", shape=(5,), name="x")
    pair = compile_both([x], x.shape * 2)
    assert len(pair.fast.maker.fgraph.apply_nodes) == 0
    np.testing.assert_array_equal(pair.check(A), [10])


def test_shape_is_lifted_to_the_inputs(compile_both):
    x, y = _vectors()
    pair = compile_both([x, y], (T.exp(x) * y).shape[0])
    names = pair.names
    assert not {"exp", "mul"} & set(names)
    assert names["Shape"] == 1
    assert int(pair.check(A, B)) == 5


def test_the_whole_shape_is_lifted_to_the_inputs_as_theano_shows():
    """Theano's "How Shape Information is Handled": the shape of a join is computed from
    its inputs' shapes, so the join never runs (not even on inputs it would refuse)."""
    from croton.ops.blas import Dot
    from croton.ops.shape import Join

    x, y = T.dmatrices("x", "y")
    for backend in ("numpy", "numba"):
        f = croton.function([x, y], T.join(0, x, y).shape, backend=backend)
        assert not any(
            isinstance(n.op, Join) and n.op.axis == 0 and n.inputs[0].ndim == 2
            for n in f.maker.fgraph.toposort()
        )
        np.testing.assert_array_equal(f(np.ones((5, 4)), np.ones((3, 3))), [8, 4])
        g = croton.function(
            [x, y], [T.dot(x, y).shape, T.exp(x).sum(axis=0).shape], backend=backend
        )
        assert not any(isinstance(n.op, (Dot, Reduce)) for n in g.maker.fgraph.toposort())
        shape, reduced = g(np.ones((5, 4)), np.ones((4, 3)))
        np.testing.assert_array_equal(shape, [5, 3])
        np.testing.assert_array_equal(reduced, [4])


def test_alloc_of_full_shape_disappears(compile_both):
    x = T.dvector("x")
    pair = compile_both([x], T.alloc(x, x.shape[0]) * 2)
    assert "Alloc" not in pair.names
    pair.check(A)


def test_alloc_feeding_elementwise_becomes_broadcasting(compile_both):
    x, s = T.dvector("x"), T.dscalar("s")
    pair = compile_both([x, s], T.alloc(s, x.shape[0]) + x)
    assert "Alloc" not in pair.names
    pair.check(A, 1.5)


def test_dimshuffled_alloc_feeding_elementwise_becomes_broadcasting(compile_both):
    m, s = T.dmatrix("m"), T.dscalar("s")
    pair = compile_both([m, s], T.alloc(s, m.shape[0]).dimshuffle(0, "x") * m)
    assert "Alloc" not in pair.names
    pair.check(M, 1.5)


def test_length_is_never_negative(compile_both):
    x = T.dvector("x")
    pair = compile_both([x], T.maximum(x.shape[0], 0))
    assert "maximum" not in pair.names
    assert int(pair.check(A)) == 5


def test_constant_graph_folds_to_one_constant(compile_both):
    two = T.constant(2.0)
    out = T.exp(two) * 3 + T.constant(np.arange(3.0)) - T.sum(T.constant(np.ones((2, 2))))
    pair = compile_both([], out)
    graph = pair.fast.maker.fgraph
    assert not graph.apply_nodes
    assert isinstance(graph.outputs[0], croton.graph.basic.Constant)
    assert pair.fired["constant_fold"] >= 3
    np.testing.assert_allclose(pair.check(), np.exp(2.0) * 3 + np.arange(3.0) - 4)


def test_constant_subgraph_folds_next_to_variables(compile_both):
    x = T.dvector("x")
    pair = compile_both([x], x * (T.sqrt(T.constant(16.0)) + T.log(T.constant(1.0))))
    assert pair.names == {"mul": 1}
    np.testing.assert_allclose(pair.check(A), A * 4.0)


def test_large_constant_results_are_not_folded(compile_both):
    x = T.dmatrix("x")
    big = T.constant(np.linspace(-1.0, 1.0, 40_000).reshape(200, 200))
    pair = compile_both([x], x + T.exp(big))
    assert pair.names["exp"] == 1  # 40,000 results stay computed at run time
    assert "constant_fold" not in pair.fired
    pair.check(np.ones((200, 200)))


def test_identical_subgraphs_merge(compile_both):
    x = T.dvector("x")
    pair = compile_both([x], [T.exp(x) + 1, T.exp(x) * 2])
    assert pair.naive_names["exp"] == 2
    assert pair.names["exp"] == 1
    assert pair.fired["merge: node"] >= 1
    pair.check(A)


def test_identical_constants_merge(compile_both):
    x, y = _vectors()
    first, second = T.constant(np.arange(5.0)), T.constant(np.arange(5.0))
    assert first is not second
    pair = compile_both([x, y], [x + first, y * second])
    constants = {
        id(v)
        for node in pair.fast.maker.fgraph.apply_nodes
        for v in node.inputs
        if isinstance(v, croton.graph.basic.Constant)
    }
    assert len(constants) == 1
    assert pair.fired["merge: constant"] >= 1
    pair.check(A, B)


# -- the graphs grad builds ------------------------------------------------------------


def _mlp_params(seed: int = 1):
    rng = np.random.default_rng(seed)
    return [
        croton.shared(rng.normal(size=(4, 6)), name="W1"),
        croton.shared(rng.normal(size=6) * 0.1, name="b1"),
        croton.shared(rng.normal(size=(6, 3)), name="W2"),
        croton.shared(rng.normal(size=3) * 0.1, name="b2"),
    ]


def _mlp_training_step(params, mode: str):
    x, y = T.dmatrix("x"), T.lvector("y")
    W1, b1, W2, b2 = params
    hidden = T.tanh(T.dot(x, W1) + b1)
    probabilities = T.nnet.softmax(T.dot(hidden, W2) + b2)
    cost = T.nnet.categorical_crossentropy(probabilities, y).mean()
    gradients = T.grad(cost, params)
    updates = [(p, p - 0.1 * g) for p, g in zip(params, gradients)]
    return croton.function([x, y], cost, updates=updates, mode=mode)


def test_mlp_training_step_shrinks_and_keeps_its_values():
    naive_params, fast_params = _mlp_params(), _mlp_params()
    naive = _mlp_training_step(naive_params, "NONE")
    fast = _mlp_training_step(fast_params, "FAST_RUN")
    naive_nodes = len(naive.maker.fgraph.apply_nodes)
    fast_nodes = len(fast.maker.fgraph.apply_nodes)
    assert fast_nodes < naive_nodes / 2, (fast_nodes, naive_nodes)
    rng = np.random.default_rng(2)
    data, labels = rng.normal(size=(8, 4)), rng.integers(0, 3, size=8)
    for _ in range(2):
        np.testing.assert_allclose(fast(data, labels), naive(data, labels), rtol=1e-12)
        for p, q in zip(fast_params, naive_params):
            np.testing.assert_allclose(p.get_value(), q.get_value(), rtol=1e-12, atol=1e-14)
    printed = croton.printing.debugprint(fast, file="str")
    assert "CrossEntropySoftmax" in printed and "Gemm" in printed


def test_mlp_gradient_has_no_reduction_over_broadcast_axes():
    fast = _mlp_training_step(_mlp_params(), "FAST_RUN")
    for node in fast.maker.fgraph.apply_nodes:
        if isinstance(node.op, Reduce) and node.op.prologue is None:
            (x,) = node.inputs
            assert all(x.type.shape[a] != 1 for a in node.op.axis), node
        assert node.op.__class__.__name__ != "Alloc" or node.outputs[0].ndim == 2


def test_logistic_regression_step_shrinks_and_keeps_its_values():
    def step(mode):
        w = croton.shared(np.linspace(-1, 1, 4), name="w")
        b = croton.shared(np.asarray(0.5), name="b")
        x, t = T.dmatrix("x"), T.dvector("t")
        p = T.nnet.sigmoid(T.dot(x, w) + b)
        cost = T.nnet.binary_crossentropy(p, t).mean() + 0.01 * (w**2).sum()
        gw, gb = T.grad(cost, [w, b])
        f = croton.function([x, t], cost, updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)], mode=mode)
        return f, w, b

    (fast, w1, b1), (naive, w0, b0) = step("FAST_RUN"), step("NONE")
    assert len(fast.maker.fgraph.apply_nodes) < len(naive.maker.fgraph.apply_nodes)
    rng = np.random.default_rng(3)
    data, targets = rng.normal(size=(10, 4)), rng.integers(0, 2, size=10).astype(float)
    np.testing.assert_allclose(fast(data, targets), naive(data, targets), rtol=1e-12)
    np.testing.assert_allclose(w1.get_value(), w0.get_value(), rtol=1e-12)
    np.testing.assert_allclose(b1.get_value(), b0.get_value(), rtol=1e-12)
    # saturated logits: log(sigmoid) became softplus, so cost and step stay finite
    assert np.isfinite(fast(data * 1000, targets))
    assert np.isfinite(w1.get_value()).all() and np.isfinite(b1.get_value()).all()
