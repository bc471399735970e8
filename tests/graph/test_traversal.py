"""Graph walks: toposort, ancestors, graph and free inputs, clone_replace, clone_graph."""

from __future__ import annotations

import sys

import numpy as np

import croton
import croton.tensor as T
from croton.graph.basic import Constant
from croton.graph.fgraph import FunctionGraph
from croton.graph.traversal import (
    ancestors,
    clone_graph,
    clone_replace,
    free_inputs,
    graph_inputs,
    toposort,
)
from croton.graph.type import TensorType

X = np.array([0.5, -1.0, 2.0])
Y = np.array([1.5, 0.25, -3.0])

DEPTH = 10_000


def _chain(x, depth: int, module=T) -> list:
    """``x`` and the ``depth`` results of alternately applying tanh and sin to it."""
    chain = [x]
    for k in range(depth):
        chain.append(module.sin(chain[-1]) if k % 2 else module.tanh(chain[-1]))
    return chain


def assert_valid_order(order):
    position = {id(node): k for k, node in enumerate(order)}
    assert len(position) == len(order)
    for k, node in enumerate(order):
        for var in node.inputs:
            if var.owner is not None and id(var.owner) in position:
                assert position[id(var.owner)] < k


def test_toposort_of_a_deep_chain_does_not_recurse():
    x = T.dvector("x")
    chain = _chain(x, DEPTH)
    assert sys.getrecursionlimit() < DEPTH
    order = toposort([chain[-1]])
    assert order == [v.owner for v in chain[1:]]
    assert ancestors([chain[-1]]) == chain
    assert graph_inputs([chain[-1]]) == [x]
    assert free_inputs([chain[-1]]) == [x]
    assert toposort([chain[-1]], stop_at=[chain[DEPTH // 2]]) == order[DEPTH // 2 :]


def test_function_graph_and_clone_of_a_deep_chain():
    x = T.dvector("x")
    depth = 3000  # deeper than the recursion limit
    y = _chain(x, depth)[-1]
    fgraph = FunctionGraph([x], [y])
    assert len(fgraph.apply_nodes) == depth
    assert len(fgraph.clone().apply_nodes) == depth
    (z,) = clone_replace([y], {x: T.cos(x)})
    assert len(toposort([z])) == depth + 1
    assert toposort([z])[0].inputs[0] is x


def test_a_deep_chain_compiles_and_matches_numpy():
    x = T.dvector("x")
    depth = 3000
    for mode in ("NONE", "FAST_RUN"):
        f = croton.function([x], _chain(x, depth)[-1], backend="numpy", mode=mode)
        np.testing.assert_allclose(f(X), _chain(X, depth, np)[-1], rtol=1e-12)


def test_toposort_visits_shared_nodes_once_and_in_order():
    x, y = T.dvector("x"), T.dvector("y")
    a = T.exp(x)
    b = a * y
    c = a + b
    d = T.sum(c * b)
    order = toposort([d, c])
    assert len(order) == len(set(map(id, order)))
    assert_valid_order(order)
    assert {b.owner, a.owner, c.owner, d.owner} <= set(order)
    np.testing.assert_allclose(
        croton.function([x, y], d)(X, Y), np.sum((np.exp(X) + np.exp(X) * Y) * np.exp(X) * Y)
    )


def test_toposort_stops_at_the_given_variables():
    x = T.dvector("x")
    a = T.exp(x)
    b = T.sin(a)
    order = toposort([b], stop_at=[a])
    assert order == [b.owner]
    assert toposort([a], stop_at=[a]) == []
    assert toposort([x]) == []


def test_ancestors_list_inputs_before_users():
    x, y = T.dvector("x"), T.dvector("y")
    a = T.exp(x)
    b = a * y
    found = ancestors([b])
    assert len(found) == len(set(map(id, found)))
    assert found[-1] is b
    for var in (x, y, a):
        assert var in found
        assert found.index(var) < found.index(b)
    assert found.index(x) < found.index(a)
    assert ancestors([b], stop_at=[a]) == [a, y, b]


def test_graph_inputs_include_constants_and_free_inputs_do_not():
    x, y = T.dvector("x"), T.dvector("y")
    c = T.constant(np.array([1.0, 2.0, 3.0]), name="c")
    out = (x + c) * T.exp(y) + 2.0
    roots = graph_inputs([out])
    assert all(v.owner is None for v in roots)
    assert {x, y, c} <= set(roots)
    assert sum(isinstance(v, Constant) for v in roots) == 2  # c and 2.0
    assert free_inputs([out]) == [x, y]
    a = T.exp(x)
    assert graph_inputs([a * y], stop_at=[a]) == [a, y]
    np.testing.assert_allclose(
        croton.function(free_inputs([out]), out)(X, Y),
        (X + np.array([1.0, 2.0, 3.0])) * np.exp(Y) + 2.0,
    )


# -- clone_replace --------------------------------------------------------------------------


def test_clone_replace_substitutes_an_input():
    x, y = T.dvector("x"), T.dvector("y")
    out = T.exp(x) * y
    (new,) = clone_replace([out], {x: 2.0 * y})
    assert free_inputs([new]) == [y]
    np.testing.assert_allclose(croton.function([y], new)(Y), np.exp(2.0 * Y) * Y)
    # the original graph is untouched
    np.testing.assert_allclose(croton.function([x, y], out)(X, Y), np.exp(X) * Y)


def test_clone_replace_substitutes_an_intermediate_result():
    x, y = T.dvector("x"), T.dvector("y")
    a = T.exp(x)
    out = T.sum(a * y) + T.sum(x)
    (new,) = clone_replace([out], {a: T.sin(x)})
    np.testing.assert_allclose(
        croton.function([x, y], new)(X, Y), np.sum(np.sin(X) * Y) + np.sum(X)
    )
    assert a.owner not in toposort([new])


def test_clone_replace_reuses_unchanged_nodes_and_keeps_names():
    x, y = T.dvector("x"), T.dvector("y")
    untouched = T.exp(y)
    untouched.name = "untouched"
    changed = T.sin(x) + untouched
    changed.name = "changed"
    out = changed * 3.0
    (new,) = clone_replace([out], {x: T.cos(y)})
    nodes = toposort([new])
    assert untouched.owner in nodes
    assert changed.owner not in nodes and out.owner not in nodes
    assert new.owner.inputs[0].name == "changed"
    assert clone_replace([out], {}) == [out]
    np.testing.assert_allclose(croton.function([y], new)(Y), (np.sin(np.cos(Y)) + np.exp(Y)) * 3.0)


def test_clone_replace_infers_types_again():
    x = T.dvector("x")
    out = T.exp(x) + 1.0
    assert out.type.shape == (None,)
    fixed = TensorType("float64", shape=(3,))("fixed")
    (new,) = clone_replace([out], {x: fixed})
    assert new.type == TensorType("float64", shape=(3,))
    np.testing.assert_allclose(croton.function([fixed], new)(X), np.exp(X) + 1.0)


def test_clone_replace_of_several_outputs_shares_the_new_nodes():
    x, y = T.dvector("x"), T.dvector("y")
    a = T.exp(x)
    first, second = a + 1.0, a * 2.0
    new_first, new_second = clone_replace([first, second], {x: y - 1.0})
    assert new_first.owner.inputs[0] is new_second.owner.inputs[0]
    got = croton.function([y], [new_first, new_second])(Y)
    np.testing.assert_allclose(got[0], np.exp(Y - 1.0) + 1.0)
    np.testing.assert_allclose(got[1], np.exp(Y - 1.0) * 2.0)


def test_clone_replace_with_a_custom_rebuild():
    x = T.dvector("x")
    out = T.exp(x) + 1.0
    rebuilt = []

    def rebuild(node, inputs):
        rebuilt.append(node.op)
        return node.op.make_node(*inputs)

    (new,) = clone_replace([out], {x: x * 3.0}, rebuild=rebuild)
    assert rebuilt[0] == T.exp(x).owner.op
    assert len(rebuilt) == 2
    np.testing.assert_allclose(croton.function([x], new)(X), np.exp(X * 3.0) + 1.0)


# -- clone_graph ----------------------------------------------------------------------------


def test_clone_graph_shares_no_nodes_but_shares_constants():
    x, y = T.dvector("x"), T.dvector("y")
    c = T.constant(np.array([1.0, 2.0, 3.0]))
    out = T.exp(x) * c + y
    (new_x, new_y), (new_out,), memo = clone_graph([x, y], [out])
    assert new_x is not x and new_y is not y
    assert memo[id(x)] is new_x and memo[id(out)] is new_out
    assert not ({id(n) for n in toposort([new_out])} & {id(n) for n in toposort([out])})
    assert c in graph_inputs([new_out])
    assert new_out.type == out.type
    np.testing.assert_allclose(
        croton.function([new_x, new_y], new_out)(X, Y), np.exp(X) * np.array([1.0, 2.0, 3.0]) + Y
    )


def test_clone_graph_keeps_variables_outside_the_inputs():
    x, y = T.dvector("x"), T.dvector("y")
    out = x * y
    (new_x,), (new_out,), _ = clone_graph([x], [out])
    assert new_out.owner.inputs[1] is y
    np.testing.assert_allclose(croton.function([new_x, y], new_out)(X, Y), X * Y)
