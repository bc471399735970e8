"""The rewrite engine on small hand-made graphs: patterns, node rewriters, the
equilibrium driver, error reporting, type checks, backend passes and statistics."""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.backend import reference_backend
from croton.graph.fgraph import FunctionGraph
from croton.ops.blas import Gemm
from croton.ops.elemwise import Elemwise
from croton.ops.nnet import Softmax
from croton.plugin import hookimpl
from croton.rewrite import (
    EquilibriumPass,
    GraphPass,
    P,
    PatternRewriter,
    RewriteStats,
    RewriteWarning,
    node_rewriter,
    passes_for,
    rewrite_graph,
)

RNG = np.random.default_rng(0)
DATA = [RNG.normal(size=4) for _ in range(4)]

x_, y_ = P.var("x"), P.var("y")


def _scalar_ops(fgraph) -> Counter:
    return Counter(
        node.op.scalar_op.name for node in fgraph.apply_nodes if isinstance(node.op, Elemwise)
    )


def _evaluate(fgraph, *args):
    """The graph's outputs on ``args``, run by the reference backend."""
    return reference_backend().compile(fgraph)(*args)


def _node(fgraph, scalar_op: str):
    (node,) = [
        n
        for n in fgraph.apply_nodes
        if isinstance(n.op, Elemwise) and n.op.scalar_op.name == scalar_op
    ]
    return node


# -- patterns and the driver -------------------------------------------------------------


def _exp_product_pass():
    rewrite = EquilibriumPass("exp_products")
    rewrite.rules((P.exp(x_) * P.exp(y_), lambda x, y: T.exp(x + y), "exp_product"))
    return rewrite


@pytest.mark.parametrize(
    "build",
    [
        lambda a, b, c, d: T.exp(a) * (T.exp(b) * (T.exp(c) * T.exp(d))),
        lambda a, b, c, d: ((T.exp(a) * T.exp(b)) * T.exp(c)) * T.exp(d),
        lambda a, b, c, d: (T.exp(a) * T.exp(b)) * (T.exp(c) * T.exp(d)),
    ],
    ids=["right_nested", "left_nested", "balanced"],
)
def test_pattern_rewrite_fires_to_a_fixed_point(build):
    inputs = T.dvectors("a", "b", "c", "d")
    fgraph = FunctionGraph(inputs, [build(*inputs)])
    stats = _exp_product_pass()(fgraph)
    # each firing makes a new exp whose product with the next exp matches again
    assert stats.fired["exp_product"] == 3
    assert _scalar_ops(fgraph) == {"exp": 1, "add": 3}
    (value,) = _evaluate(fgraph, *DATA)
    np.testing.assert_allclose(value, np.exp(sum(DATA)), rtol=1e-14)
    # at the fixed point a second run changes nothing
    again = _exp_product_pass()(fgraph)
    assert not again.fired
    assert _scalar_ops(fgraph) == {"exp": 1, "add": 3}


def test_repeated_rewrite_removes_a_chain():
    x = T.dvector("x")
    out = x
    for _ in range(7):
        out = -out
    fgraph = FunctionGraph([x], [out * 2])
    rewrite = EquilibriumPass("negations")
    rewrite.rules((P.neg(P.neg(x_)), lambda x: x, "neg_neg"))
    stats = rewrite(fgraph)
    assert stats.fired["neg_neg"] == 3
    assert _scalar_ops(fgraph) == {"neg": 1, "mul": 1}
    np.testing.assert_array_equal(_evaluate(fgraph, DATA[0])[0], -DATA[0] * 2)


def test_pattern_binds_a_repeated_name_to_one_variable():
    x, y = T.dvectors("x", "y")
    fgraph = FunctionGraph([x, y], [x * x, x * y, (x + 1) * (x + 1)])
    rewrite = EquilibriumPass("squares")
    rewrite.rules((x_ * P.var("x"), lambda x: T.sqr(x), "square"))
    stats = rewrite(fgraph)
    assert stats.fired["square"] == 1  # (x + 1) twice are two nodes: not the same variable
    assert _scalar_ops(fgraph) == {"sqr": 1, "mul": 2, "add": 2}
    square, product, shifted = _evaluate(fgraph, DATA[0], DATA[1])
    np.testing.assert_allclose(square, DATA[0] ** 2, rtol=1e-15)
    np.testing.assert_allclose(product, DATA[0] * DATA[1], rtol=1e-15)
    np.testing.assert_allclose(shifted, (DATA[0] + 1) ** 2, rtol=1e-15)


def test_pattern_constants_constraints_and_node_props():
    x, m = T.dvector("x"), T.dmatrix("m")
    outputs = [
        x * T.constant(np.ones(4)),  # a constant array of ones matches 1
        x * 2,
        T.exp(T.log(x)),
        T.nnet.softmax(m, axis=0),
        T.nnet.softmax(m, axis=1),
    ]
    fgraph = FunctionGraph([x, m], outputs)
    positive = P.var("x", constraint=lambda v: v.name == "x")
    rewrite = EquilibriumPass("patterns")
    rewrite.rules(
        (x_ * 1, lambda x: x, "mul_one"),
        (P.exp(P.log(positive)), lambda x: T.abs(x), "exp_log_of_x"),
        (
            P.node(Softmax, x_, axis=lambda axis: axis == 0),
            lambda x: T.nnet.softmax(x.T, axis=1).T,
            "softmax_axis_zero",
        ),
    )
    stats = rewrite(fgraph)
    assert stats.fired == {"mul_one": 1, "exp_log_of_x": 1, "softmax_axis_zero": 1}
    assert _scalar_ops(fgraph) == {"mul": 1, "abs": 1}
    axes = sorted(n.op.axis for n in fgraph.apply_nodes if isinstance(n.op, Softmax))
    assert axes == [1, 1]
    data, matrix = np.abs(DATA[0]) + 0.5, RNG.normal(size=(3, 4))
    one, two, back, by_column, by_row = _evaluate(fgraph, data, matrix)
    np.testing.assert_array_equal(one, data)
    np.testing.assert_array_equal(two, data * 2)
    np.testing.assert_allclose(back, data, rtol=1e-15)
    np.testing.assert_allclose(by_column, np.exp(matrix) / np.exp(matrix).sum(0), rtol=1e-14)
    np.testing.assert_allclose(
        by_row, np.exp(matrix) / np.exp(matrix).sum(1, keepdims=True), rtol=1e-14
    )


def test_pattern_namespace_rejects_unknown_ops():
    with pytest.raises(AttributeError, match="no scalar op or pattern helper named 'expp'"):
        P.expp(x_)
    with pytest.raises(TypeError, match="cannot use"):
        P.exp("x")


def test_pattern_rewriter_may_decline():
    x = T.dvector("x")
    fgraph = FunctionGraph([x], [T.exp(x) * 3])
    declined = PatternRewriter(P.exp(x_) * P.const(name="c"), lambda x, c: None, "declines")
    stats = EquilibriumPass("declining", [declined])(fgraph)
    assert not stats.fired
    np.testing.assert_allclose(_evaluate(fgraph, DATA[0])[0], np.exp(DATA[0]) * 3, rtol=1e-15)


# -- what the driver visits --------------------------------------------------------------


def test_only_nodes_whose_neighbourhood_changed_are_revisited():
    x, y, z = T.dvectors("x", "y", "z")
    e = T.exp(x)
    outputs = [T.log(e), e + y, T.sin(z), T.cos(z) * 2]
    fgraph = FunctionGraph([x, y, z], outputs)
    tried: Counter = Counter()  # by lonely_exp
    visits: Counter = Counter()  # nodes where no rewrite fired, by the spy
    per_node: Counter = Counter()

    @node_rewriter(tracks=[("elemwise", "log")], name="log_exp")
    def log_exp(fgraph, node):
        (inner,) = node.inputs
        if inner.owner is not None and inner.owner.op.scalar_op.name == "exp":
            return [inner.owner.inputs[0]]
        return None

    @node_rewriter(tracks=[("elemwise", "exp")], name="lonely_exp")
    def lonely_exp(fgraph, node):
        """exp(x) -> cosh(x) + sinh(x), only once nothing else reads exp(x)."""
        tried["exp"] += 1
        if len(fgraph.clients[node.outputs[0]]) != 1:
            return None
        (arg,) = node.inputs
        return [T.cosh(arg) + T.sinh(arg)]

    @node_rewriter(tracks=None, name="spy")
    def spy(fgraph, node):
        op = node.op
        visits[op.scalar_op.name if isinstance(op, Elemwise) else type(op).__name__] += 1
        per_node[node] += 1  # keyed by the node itself: ids of pruned nodes may be reused
        return None

    stats = EquilibriumPass("revisits", [log_exp, lonely_exp, spy])(fgraph)
    assert stats.fired == {"log_exp": 1, "lonely_exp": 1}
    # exp had two readers when first visited; it is visited again after log lost its
    # place, and then fires
    assert tried["exp"] == 2 and visits["exp"] == 1
    # nodes far from the edits are visited once; the add that reads exp twice
    assert visits["sin"] == 1 and visits["cos"] == 1 and visits["mul"] == 1
    assert visits["DimShuffle"] == 1
    # the add reading exp is visited again when its input changes, the new add once
    assert visits["add"] == 3 and max(per_node.values()) == 2
    assert visits["cosh"] == visits["sinh"] == 1  # the new nodes are visited too
    logged, total, sine, cosine = _evaluate(fgraph, *DATA[:3])
    np.testing.assert_array_equal(logged, DATA[0])
    np.testing.assert_allclose(total, np.exp(DATA[0]) + DATA[1], rtol=1e-14)
    np.testing.assert_array_equal(sine, np.sin(DATA[2]))
    np.testing.assert_array_equal(cosine, np.cos(DATA[2]) * 2)


def test_rewriters_are_tried_only_on_the_nodes_they_track():
    x = T.dvector("x")
    fgraph = FunctionGraph([x], [T.exp(T.sin(x)) + T.exp(x) * 2])
    seen: list[str] = []

    @node_rewriter(tracks=[("elemwise", "exp")], name="exp_only")
    def exp_only(fgraph, node):
        seen.append(node.op.scalar_op.name)
        return None

    @node_rewriter(tracks=[Softmax], name="softmax_only")
    def softmax_only(fgraph, node):
        seen.append("softmax")
        return None

    EquilibriumPass("tracked", [exp_only, softmax_only])(fgraph)
    assert seen == ["exp", "exp"]
    value = _evaluate(fgraph, DATA[0])[0]
    np.testing.assert_allclose(value, np.exp(np.sin(DATA[0])) + np.exp(DATA[0]) * 2)


def test_a_pass_that_never_settles_stops_with_a_warning():
    x = T.dvector("x")
    fgraph = FunctionGraph([x], [T.exp(x)])

    @node_rewriter(tracks=[("elemwise", "exp")], name="restless")
    def restless(fgraph, node):
        return [T.exp(node.inputs[0] * 1)]  # always a new node: never a fixed point

    with pytest.warns(RewriteWarning, match="stopped before reaching a fixed point"):
        stats = EquilibriumPass("restless", [restless], max_rewrites_per_node=3)(fgraph)
    assert 0 < stats.fired["restless"] <= 3 * (1 + 10)
    np.testing.assert_allclose(_evaluate(fgraph, DATA[0])[0], np.exp(DATA[0]), rtol=1e-15)


# -- rewrites that raise -----------------------------------------------------------------


@node_rewriter(tracks=[("elemwise", "exp")], name="broken_rewrite")
def broken_rewrite(fgraph, node):
    raise RuntimeError("boom")


def _graph_with_a_broken_rewrite():
    x = T.dvector("x")
    fgraph = FunctionGraph([x], [T.exp(x) + T.neg(T.neg(x))])
    rewrite = EquilibriumPass("mixed", [broken_rewrite])
    rewrite.rules((P.neg(P.neg(x_)), lambda x: x, "neg_neg"))
    return fgraph, rewrite


def _check_skipped(fgraph, stats):
    # the broken rewrite changed nothing; the other one still ran
    assert stats.fired == {"neg_neg": 1}
    assert _scalar_ops(fgraph) == {"exp": 1, "add": 1}
    assert len(stats.errors) == 1
    assert "broken_rewrite" in stats.errors[0] and "RuntimeError: boom" in stats.errors[0]
    value = _evaluate(fgraph, DATA[0])[0]
    np.testing.assert_allclose(value, np.exp(DATA[0]) + DATA[0], rtol=1e-15)


def test_rewrite_error_warns_naming_the_rewrite_and_node():
    fgraph, rewrite = _graph_with_a_broken_rewrite()
    node = _node(fgraph, "exp")
    with croton.config.change(on_rewrite_error="warn"):
        with pytest.warns(RewriteWarning) as record:
            stats = rewrite(fgraph)
    (warning,) = [w for w in record if issubclass(w.category, RewriteWarning)]
    message = str(warning.message)
    assert "broken_rewrite" in message and repr(node) in message and "boom" in message
    assert "skipped" in message
    _check_skipped(fgraph, stats)
    assert repr(node) in stats.errors[0]


def test_rewrite_error_is_recorded_silently_when_ignored():
    fgraph, rewrite = _graph_with_a_broken_rewrite()
    with croton.config.change(on_rewrite_error="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error")
        stats = rewrite(fgraph)
    _check_skipped(fgraph, stats)


def test_rewrite_error_is_raised_when_asked():
    fgraph, rewrite = _graph_with_a_broken_rewrite()
    with croton.config.change(on_rewrite_error="raise"):
        with pytest.raises(RuntimeError, match="boom"):
            rewrite(fgraph)


def test_graph_pass_error_is_reported_and_skipped():
    x = T.dvector("x")
    fgraph = FunctionGraph([x], [T.exp(x) * 2])

    def explode(fgraph, stats):
        raise KeyError("lost")

    broken = GraphPass("exploding", explode)
    with croton.config.change(on_rewrite_error="warn"):
        with pytest.warns(RewriteWarning, match="exploding"):
            stats = broken(fgraph)
    assert stats.errors == ["exploding: KeyError: 'lost'"]
    assert "exploding" in stats.pass_seconds
    with croton.config.change(on_rewrite_error="raise"), pytest.raises(KeyError):
        broken(fgraph)
    np.testing.assert_allclose(_evaluate(fgraph, DATA[0])[0], np.exp(DATA[0]) * 2, rtol=1e-15)


def test_wrong_number_of_replacements_is_an_error():
    x = T.dvector("x")
    fgraph = FunctionGraph([x], [T.exp(x)])

    @node_rewriter(tracks=[("elemwise", "exp")], name="two_for_one")
    def two_for_one(fgraph, node):
        return [node.inputs[0], node.inputs[0]]

    with croton.config.change(on_rewrite_error="raise"):
        with pytest.raises(ValueError, match="returned 2 replacements for 1 outputs"):
            EquilibriumPass("counting", [two_for_one])(fgraph)


def test_replacement_computed_from_the_old_output_is_an_error():
    x = T.dvector("x")
    fgraph = FunctionGraph([x], [T.exp(x)])

    @node_rewriter(tracks=[("elemwise", "exp")], name="cycle")
    def cycle(fgraph, node):
        return [node.outputs[0] * 1]

    with croton.config.change(on_rewrite_error="raise"):
        with pytest.raises(ValueError, match="computed from .* itself"):
            EquilibriumPass("cycles", [cycle])(fgraph)
    with croton.config.change(on_rewrite_error="ignore"):
        stats = EquilibriumPass("cycles", [cycle])(fgraph)
    assert len(stats.errors) == 1 and not stats.fired
    np.testing.assert_allclose(_evaluate(fgraph, DATA[0])[0], np.exp(DATA[0]), rtol=1e-15)


# -- replacements of the wrong type ------------------------------------------------------


@pytest.mark.parametrize(
    "replace",
    [
        lambda v: T.sum(v),  # a scalar for a vector
        lambda v: v.dimshuffle("x", 0),  # a matrix for a vector
        lambda v: T.zeros((5,)),  # static length 5 for static length 4
    ],
    ids=["fewer_dimensions", "more_dimensions", "other_static_length"],
)
def test_replacement_of_the_wrong_type_is_refused(replace):
    x = T.vector("x", dtype="float64", shape=(4,))
    fgraph = FunctionGraph([x], [T.exp(x)])
    before = fgraph.outputs[0]

    @node_rewriter(tracks=[("elemwise", "exp")], name="wrong_type")
    def wrong_type(fgraph, node):
        return [replace(node.inputs[0])]

    with croton.config.change(on_rewrite_error="raise"):
        stats = EquilibriumPass("typed", [wrong_type])(fgraph)
    assert not stats.fired
    assert fgraph.outputs[0] is before
    np.testing.assert_allclose(_evaluate(fgraph, DATA[0])[0], np.exp(DATA[0]), rtol=1e-15)


def test_replacement_of_another_dtype_is_cast():
    x = T.dvector("x")
    fgraph = FunctionGraph([x], [T.exp(x)])

    @node_rewriter(tracks=[("elemwise", "exp")], name="single_precision")
    def single_precision(fgraph, node):
        if node.inputs[0].dtype == "float32":
            return None
        return [T.exp(T.cast(node.inputs[0], "float32"))]

    stats = EquilibriumPass("dtypes", [single_precision])(fgraph)
    assert stats.fired["single_precision"] == 1
    assert fgraph.outputs[0].dtype == "float64"
    value = _evaluate(fgraph, DATA[0])[0]
    assert value.dtype == np.float64
    expected = np.exp(DATA[0].astype("float32")).astype("float64")
    np.testing.assert_allclose(value, expected, rtol=1e-7)


def test_replacement_keeps_a_static_length_of_one():
    # clients may broadcast along an axis of static length 1; the replacement must too
    x, m = T.vector("x", dtype="float64", shape=(1,)), T.dmatrix("m")
    fgraph = FunctionGraph([x, m], [T.exp(x) + m])

    @node_rewriter(tracks=[("elemwise", "exp")], name="loses_length")
    def loses_length(fgraph, node):
        (arg,) = node.inputs
        unknown_length = arg[: arg.shape[0]]
        assert unknown_length.type.shape == (None,)
        return [T.expm1(unknown_length) + 1]

    stats = EquilibriumPass("lengths", [loses_length])(fgraph)
    assert stats.fired["loses_length"] == 1
    (pinned,) = [n for n in fgraph.apply_nodes if type(n.op).__name__ == "SpecifyShape"]
    assert pinned.outputs[0].type.shape == (1,)
    matrix = RNG.normal(size=(3, 5))
    value = _evaluate(fgraph, DATA[0][:1], matrix)[0]
    np.testing.assert_allclose(value, np.exp(DATA[0][:1]) + matrix, rtol=1e-14)


# -- passes a backend adds ---------------------------------------------------------------

#: the backend's own pass: a backend without a gemm kernel takes Gemm apart again
c_, alpha_, a_, b_, beta_ = (P.var(name) for name in ("c", "alpha", "a", "b", "beta"))
backend_pass = EquilibriumPass("backend_no_gemm")
backend_pass.rules(
    (
        P.node(Gemm, c_, alpha_, a_, b_, beta_),
        lambda c, alpha, a, b, beta: beta * c + alpha * T.dot(a, b),
        "gemm_to_dot",
    )
)


def _rewriting_backend_class():
    from croton_numpy.backend import NumpyBackend

    class RewritingBackend(NumpyBackend):
        name = "numpy_rewriting"
        priority = -10  # never chosen unless named

        def rewrite_passes(self):
            return [backend_pass]

    return RewritingBackend


class _RewritingPlugin:
    @hookimpl
    def croton_backends(self):
        return [_rewriting_backend_class()()]


@pytest.fixture
def rewriting_backend():
    croton.plugin.register(_RewritingPlugin(), name="test_rewriting_backend")
    try:
        yield "numpy_rewriting"
    finally:
        croton.plugin.unregister("test_rewriting_backend")


A, B, C = RNG.normal(size=(3, 4)), RNG.normal(size=(4, 5)), RNG.normal(size=(3, 5))


def test_backend_passes_run_last_before_merging():
    backend = _rewriting_backend_class()()
    passes = passes_for("FAST_RUN", backend)
    assert passes[-2] is backend_pass
    assert passes[-1].name == "merge"
    assert passes[:-2] == passes_for("FAST_RUN")[:-1]  # the core's passes come first
    assert backend_pass not in passes_for("FAST_RUN")
    assert backend_pass not in passes_for("FAST_COMPILE", backend)
    assert passes_for("NONE", backend) == []


def test_backend_pass_rewrites_the_graph_it_compiles(rewriting_backend, op_names):
    a, b, c = T.dmatrices("A", "B", "C")
    out = 2 * c + T.dot(a, b)
    f = croton.function([a, b, c], out, backend=rewriting_backend)
    stats = f.maker.fgraph.rewrite_stats
    assert stats.fired["gemm"] == 1 and stats.fired["gemm_to_dot"] == 1
    assert "backend_no_gemm" in stats.pass_seconds
    names = op_names(f)
    assert "Gemm" not in names and names["Dot"] == 1, names
    np.testing.assert_allclose(f(A, B, C), 2 * C + A @ B, rtol=1e-13)
    # the default backend does not run it
    plain = croton.function([a, b, c], out, backend="numpy")
    assert "backend_no_gemm" not in plain.maker.fgraph.rewrite_stats.pass_seconds
    assert op_names(plain)["Gemm"] == 1
    np.testing.assert_allclose(plain(A, B, C), 2 * C + A @ B, rtol=1e-13)


def test_backend_pass_is_skipped_outside_fast_run(rewriting_backend):
    a, b, c = T.dmatrices("A", "B", "C")
    f = croton.function([a, b, c], c + T.dot(a, b), backend=rewriting_backend, mode="FAST_COMPILE")
    assert "backend_no_gemm" not in f.maker.fgraph.rewrite_stats.pass_seconds
    np.testing.assert_allclose(f(A, B, C), C + A @ B, rtol=1e-13)


def test_rewrite_graph_with_a_backend_object():
    backend = _rewriting_backend_class()()
    a, b, c = T.dmatrices("A", "B", "C")
    fgraph = FunctionGraph([a, b, c], [T.exp(c - T.dot(a, b))])
    stats = rewrite_graph(fgraph, backend=backend)
    assert stats is fgraph.rewrite_stats
    assert stats.fired["gemm"] == 1 and stats.fired["gemm_to_dot"] == 1
    (value,) = backend.compile(fgraph)(A, B, C)
    np.testing.assert_allclose(value, np.exp(C - A @ B), rtol=1e-13)


@node_rewriter(tracks=None, name="broken_everywhere")
def broken_everywhere(fgraph, node):
    raise RuntimeError("boom")


def test_broken_backend_pass_warns_and_compilation_goes_on():
    backend = _rewriting_backend_class()()
    broken = EquilibriumPass("backend_broken", [broken_everywhere])
    backend.rewrite_passes = lambda: [broken]
    x = T.dvector("x")
    fgraph = FunctionGraph([x], [T.exp(x) * 3])
    with croton.config.change(on_rewrite_error="warn"):
        with pytest.warns(RewriteWarning, match="broken_everywhere"):
            stats = rewrite_graph(fgraph, backend=backend)
    assert stats.errors and all("broken_everywhere" in e for e in stats.errors)
    (value,) = backend.compile(fgraph)(DATA[0])
    np.testing.assert_allclose(value, np.exp(DATA[0]) * 3, rtol=1e-15)


# -- statistics --------------------------------------------------------------------------


def test_stats_report_lists_passes_rewrites_and_errors():
    stats = RewriteStats()
    stats.fired["often"] += 3
    stats.fired["once"] += 1
    stats.pass_seconds["first_pass"] += 0.25
    stats.pass_seconds["second_pass"] += 1.5
    lines = stats.report().splitlines()
    assert lines[0] == "rewrite passes (seconds):"
    assert lines[1].split() == ["first_pass", "0.2500"]
    assert lines[2].split() == ["second_pass", "1.5000"]
    assert lines[3] == "rewrites fired:"
    assert [line.split() for line in lines[4:]] == [["often", "3"], ["once", "1"]]
    assert "raised" not in stats.report()
    stats.errors.append("broken on exp(x): RuntimeError: boom")
    lines = stats.report().splitlines()
    assert lines[-2] == "rewrites that raised (skipped):"
    assert lines[-1].strip() == "broken on exp(x): RuntimeError: boom"


def test_stats_of_a_compiled_function():
    x = T.dvector("x")
    f = croton.function([x], T.log(1 + T.exp(x)) + T.exp(x) * 1)
    stats = f.maker.fgraph.rewrite_stats
    assert {"merge", "canonicalize", "stabilize", "specialize", "fuse"} <= set(stats.pass_seconds)
    assert all(seconds >= 0 for seconds in stats.pass_seconds.values())
    assert stats.fired["softplus"] == 1 and stats.fired["mul_one"] == 1
    report = stats.report()
    for name in ("stabilize", "softplus", "mul_one"):
        assert name in report
    np.testing.assert_allclose(f(DATA[0]), np.logaddexp(0, DATA[0]) + np.exp(DATA[0]), rtol=1e-14)
