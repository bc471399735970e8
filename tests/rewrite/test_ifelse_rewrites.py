"""The ifelse rewrites: simplification, and the move into the branches that makes it lazy."""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.graph.traversal import toposort
from croton.ifelse import ifelse
from croton.ops.ifelse import IfElse

RNG = np.random.default_rng(11)


def _ifelse_nodes(f):
    return [n for n in f.maker.fgraph.apply_nodes if isinstance(n.op, IfElse)]


def _inner_ops(graph) -> list[str]:
    return [type(n.op).__name__ for n in toposort(graph.outputs, stop_at=graph.inputs)]


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE", "NONE"])
def test_branch_computations_move_into_the_op(mode):
    c = T.bscalar("c")
    x, y = T.dmatrices("x", "y")
    f = croton.function(
        [c, x, y], ifelse(c, T.dot(x, x), T.sum(y, axis=0, keepdims=True)), mode=mode
    )
    (node,) = _ifelse_nodes(f)
    assert node.op.lazy
    assert node.inputs[1:] == f.maker.fgraph.inputs[1:]  # only x and y are computed outside
    assert "Dot" in _inner_ops(node.op.then_graph)
    assert "Reduce" in _inner_ops(node.op.else_graph)
    xv, yv = RNG.normal(size=(3, 3)), RNG.normal(size=(2, 3))
    np.testing.assert_allclose(f(1, xv, yv), xv @ xv)
    np.testing.assert_allclose(f(0, xv, yv), yv.sum(axis=0, keepdims=True))


def test_values_both_branches_use_stay_outside():
    c = T.bscalar("c")
    x = T.dvector("x")
    shared_work = T.exp(x)
    f = croton.function([c, x], ifelse(c, shared_work * 2, shared_work * x))
    (node,) = _ifelse_nodes(f)
    outside = [type(n.op).__name__ for n in f.maker.fgraph.apply_nodes if n is not node]
    assert outside == ["Elemwise"]  # exp, computed once before the choice
    assert node.op.then_graph.inputs[0].type == node.inputs[1].type
    xv = RNG.normal(size=4)
    np.testing.assert_allclose(f(1, xv), np.exp(xv) * 2)
    np.testing.assert_allclose(f(0, xv), np.exp(xv) * xv)


def test_values_used_elsewhere_stay_outside():
    c = T.bscalar("c")
    x = T.dvector("x")
    doubled = x * 2
    f = croton.function([c, x], [ifelse(c, doubled, x), doubled])
    (node,) = _ifelse_nodes(f)
    assert not node.op.lazy  # nothing to move: it chooses between computed values
    xv = RNG.normal(size=3)
    chosen, twice = f(1, xv)
    np.testing.assert_allclose(chosen, xv * 2)
    np.testing.assert_allclose(twice, xv * 2)


def test_nested_ifelse_moves_into_the_outer_branch_and_is_lazy_too():
    c, d = T.bscalars("c", "d")
    x = T.dvector("x")
    f = croton.function([c, d, x], ifelse(c, ifelse(d, T.sin(x), T.cos(x)), x + 1))
    (outer,) = _ifelse_nodes(f)
    inner_nodes = toposort(outer.op.then_graph.outputs, stop_at=outer.op.then_graph.inputs)
    (nested,) = [n for n in inner_nodes if isinstance(n.op, IfElse)]
    assert nested.op.lazy
    assert len(toposort(nested.op.then_graph.outputs, stop_at=nested.op.then_graph.inputs)) == 1
    xv = RNG.normal(size=3)
    np.testing.assert_allclose(f(1, 0, xv), np.cos(xv))
    np.testing.assert_allclose(f(0, 1, xv), xv + 1)


@pytest.mark.parametrize(("value", "want"), [(1, "then"), (0, "else")])
def test_constant_condition_keeps_one_branch(value, want):
    x, y = T.dvectors("x", "y")
    f = croton.function([x, y], ifelse(T.constant(value, dtype="int8"), x * 2, y * 3))
    assert not _ifelse_nodes(f)
    assert f.maker.fgraph.rewrite_stats.fired["ifelse_constant_condition"] == 1
    xv, yv = RNG.normal(size=3), RNG.normal(size=3)
    np.testing.assert_allclose(f(xv, yv), xv * 2 if want == "then" else yv * 3)


def test_computed_constant_condition_folds():
    x, y = T.dvectors("x", "y")
    f = croton.function([x, y], ifelse(T.lt(T.constant(1.0), 2.0), x, y))
    assert not _ifelse_nodes(f)
    xv = RNG.normal(size=3)
    np.testing.assert_allclose(f(xv, np.zeros(3)), xv)


def test_identical_branches_give_that_value():
    c = T.bscalar("c")
    x = T.dvector("x")
    f = croton.function([c, x], ifelse(c, [T.exp(x), x], [T.exp(x), x * 2]))
    (node,) = _ifelse_nodes(f)
    assert node.op.n_outs == 2 and len(f.maker.fgraph.outputs) == 2
    assert f.maker.fgraph.outputs[0].owner is not node  # exp(x) in both: chosen without ifelse
    assert f.maker.fgraph.rewrite_stats.fired["ifelse_same_branches"] == 1
    xv = RNG.normal(size=3)
    first, second = f(0, xv)
    np.testing.assert_allclose(first, np.exp(xv))
    np.testing.assert_allclose(second, xv * 2)


def test_graphs_without_ifelse_do_not_run_the_ifelse_passes():
    x = T.dvector("x")
    f = croton.function([x], x * 2)
    assert "lazy_ifelse" not in f.maker.fgraph.rewrite_stats.pass_seconds
    assert "ifelse_simplify" not in f.maker.fgraph.rewrite_stats.pass_seconds


def _nested(depth: int):
    """Each ifelse's then branch holds the previous one: ``depth`` levels of nesting."""
    c = T.lscalar("c")
    x = T.dvector("x")
    out = x
    for k in range(depth):
        out = ifelse(T.lt(c, k), out + 1.0, x * k)
    return c, x, out


def test_making_deeply_nested_ifelses_lazy_does_not_recurse():
    from croton.graph.fgraph import FunctionGraph
    from croton.rewrite.ifelse import make_lazy

    c, x, out = _nested(3000)  # deeper than Python's recursion limit
    fgraph = FunctionGraph([c, x], [out])
    make_lazy(fgraph)
    # the outermost ifelse and its condition are left; the rest moved into its branches
    (outer,) = [n for n in fgraph.apply_nodes if isinstance(n.op, IfElse)]
    assert outer.op.lazy and len(fgraph.apply_nodes) == 2


def test_nested_ifelses_run_lazily():
    c, x, out = _nested(60)
    f = croton.function([c, x], out, backend="numpy")
    (outer,) = _ifelse_nodes(f)
    assert outer.op.lazy
    xv = np.ones(3)
    # levels k > c take their then branch (+1) down to level k = c, which gives x * c
    np.testing.assert_allclose(f(50, xv), xv * 50 + (60 - 50 - 1))
    np.testing.assert_allclose(f(70, xv), xv * 59)
