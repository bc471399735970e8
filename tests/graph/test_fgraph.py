"""`FunctionGraph`: client lists, replacement, pruning, listeners and cloning."""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.graph.basic import Constant
from croton.graph.fgraph import OUTPUT, FunctionGraph, MissingInputError
from croton.graph.traversal import toposort
from croton.graph.type import TensorType

X = np.array([0.5, -1.0, 2.0])
Y = np.array([1.5, 0.25, -3.0])


def assert_consistent(fgraph: FunctionGraph) -> None:
    """Client lists, node set, outputs and topological order all agree with each other."""
    order = fgraph.toposort()
    assert set(order) == fgraph.apply_nodes
    assert len(order) == len(fgraph.apply_nodes)
    position = {node: k for k, node in enumerate(order)}
    expected: dict = {}
    for node in order:
        for i, var in enumerate(node.inputs):
            # each node comes after the producers of its inputs
            if var.owner is not None and var.owner in position:
                assert position[var.owner] < position[node]
            expected.setdefault(var, set()).add((node, i))
        for out in node.outputs:
            expected.setdefault(out, set())
    for i, out in enumerate(fgraph.outputs):
        expected.setdefault(out, set()).add((OUTPUT, i))
    for var in fgraph.inputs:
        expected.setdefault(var, set())
    assert {v: set(c) for v, c in fgraph.clients.items()} == expected
    assert fgraph.variables == set(expected)


def values(fgraph: FunctionGraph, *args):
    """Compile ``fgraph``'s inputs and outputs and run them."""
    f = croton.function(fgraph.inputs, fgraph.outputs, backend="numpy", on_unused_input="ignore")
    return f(*args)


def test_clients_include_node_inputs_and_graph_outputs():
    x, y = T.dvector("x"), T.dvector("y")
    e = T.exp(x)
    z = e + y
    fgraph = FunctionGraph([x, y], [z * e, z], clone=False)
    assert_consistent(fgraph)
    product = fgraph.outputs[0].owner
    assert set(fgraph.clients[e]) == {(z.owner, 0), (product, 1)}
    assert set(fgraph.clients[z]) == {(product, 0), (OUTPUT, 1)}
    assert set(fgraph.clients[fgraph.outputs[0]]) == {(OUTPUT, 0)}
    assert set(fgraph.clients[x]) == {(e.owner, 0)}
    got = values(fgraph, X, Y)
    np.testing.assert_allclose(got[0], (np.exp(X) + Y) * np.exp(X))
    np.testing.assert_allclose(got[1], np.exp(X) + Y)


def test_a_variable_that_is_two_outputs_has_two_output_clients():
    x = T.dvector("x")
    y = T.exp(x)
    fgraph = FunctionGraph([x], [y, y, x], clone=False)
    assert set(fgraph.clients[y]) == {(OUTPUT, 0), (OUTPUT, 1)}
    assert set(fgraph.clients[x]) == {(y.owner, 0), (OUTPUT, 2)}
    assert_consistent(fgraph)
    first, second, third = values(fgraph, X)
    np.testing.assert_allclose(first, np.exp(X))
    np.testing.assert_allclose(second, np.exp(X))
    np.testing.assert_array_equal(third, X)


def test_an_unused_input_has_no_clients():
    x, y = T.dvector("x"), T.dvector("y")
    fgraph = FunctionGraph([x, y], [T.sin(x)], clone=False)
    assert fgraph.clients[y] == {}
    assert_consistent(fgraph)


def test_cloning_leaves_the_user_graph_alone():
    x, y = T.dvector("x"), T.dvector("y")
    z = T.exp(x) + y
    fgraph = FunctionGraph([x, y], [z])
    assert fgraph.inputs[0] is not x and fgraph.outputs[0] is not z
    assert not (fgraph.apply_nodes & set(toposort([z])))
    assert [v.name for v in fgraph.inputs] == ["x", "y"]
    fgraph.replace(fgraph.outputs[0], fgraph.inputs[0] * 3.0)
    assert z.owner.inputs[1] is y  # the user's graph did not change
    np.testing.assert_allclose(croton.function([x, y], z)(X, Y), np.exp(X) + Y)
    np.testing.assert_allclose(values(fgraph, X, Y)[0], X * 3.0)


def test_constants_are_not_inputs():
    x = T.dvector("x")
    c = T.constant(np.array([1.0, 2.0, 3.0]))
    fgraph = FunctionGraph([x], [x * c], clone=False)
    assert c in fgraph.variables
    assert fgraph.inputs == [x]
    np.testing.assert_allclose(values(fgraph, X)[0], X * np.array([1.0, 2.0, 3.0]))


def test_a_missing_input_is_named_with_its_creation_site():
    x = T.dvector("x")
    forgotten = T.dvector("forgotten")
    with pytest.raises(MissingInputError) as info:
        FunctionGraph([x], [x + forgotten])
    message = str(info.value)
    assert "forgotten" in message and "not an input" in message
    assert forgotten.where() in message


def test_inputs_may_be_intermediate_results():
    x = T.dvector("x")
    h = T.exp(x)
    y = h * 2.0
    fgraph = FunctionGraph([h], [y], clone=False)
    assert fgraph.apply_nodes == {y.owner, y.owner.inputs[1].owner}
    assert h.owner not in fgraph.apply_nodes
    assert_consistent(fgraph)
    # the graph above the input is still there, outside the function graph
    np.testing.assert_allclose(croton.function([x], fgraph.outputs[0])(X), np.exp(X) * 2.0)


# -- replace --------------------------------------------------------------------------------


class Recorder:
    """A listener that records every import and prune."""

    def __init__(self):
        self.imported, self.pruned = [], []

    def on_import(self, fgraph, node):
        self.imported.append(node)

    def on_prune(self, fgraph, node):
        self.pruned.append(node)


def test_replace_rewires_clients_imports_new_nodes_and_prunes_old_ones():
    fgraph = FunctionGraph(*_graph())
    x, y = fgraph.inputs
    recorder = Recorder()
    fgraph.listeners.append(recorder)
    product = fgraph.outputs[0]  # (exp(x) + y) * exp(x)
    total = product.owner.inputs[0]  # exp(x) + y
    exponential = total.owner.inputs[0]
    old_add = total.owner
    new = T.sin(x) - y
    fgraph.replace(total, new, reason="test")
    assert_consistent(fgraph)
    assert product.owner.inputs[0] is new
    assert (product.owner, 0) in fgraph.clients[new]
    assert total not in fgraph.clients
    assert recorder.imported == toposort([new], stop_at=[x, y])
    assert recorder.pruned == [old_add]
    assert exponential.owner in fgraph.apply_nodes  # still used by the product
    got = values(fgraph, X, Y)
    np.testing.assert_allclose(got[0], (np.sin(X) - Y) * np.exp(X))
    np.testing.assert_allclose(got[1], np.exp(X) + 1.0)


def test_replace_an_output_updates_the_outputs_and_prunes_everything_unused():
    fgraph = FunctionGraph(*_graph())
    x, y = fgraph.inputs
    recorder = Recorder()
    fgraph.listeners.append(recorder)
    old_nodes = set(fgraph.apply_nodes)
    fgraph.replace(fgraph.outputs[1], x * y)
    fgraph.replace(fgraph.outputs[0], x + y)
    assert_consistent(fgraph)
    assert not (old_nodes & fgraph.apply_nodes)
    assert set(recorder.pruned) == old_nodes
    assert len(recorder.pruned) == len(old_nodes)
    got = values(fgraph, X, Y)
    np.testing.assert_allclose(got[0], X + Y)
    np.testing.assert_allclose(got[1], X * Y)


def test_replace_by_an_input_leaves_only_inputs():
    fgraph = FunctionGraph(*_graph())
    x, y = fgraph.inputs
    fgraph.replace(fgraph.outputs[0], y)
    fgraph.replace(fgraph.outputs[1], x)
    assert fgraph.apply_nodes == set()
    assert fgraph.outputs == [y, x]
    # constants nothing uses any more leave the graph too
    assert not any(isinstance(v, Constant) for v in fgraph.variables)
    assert_consistent(fgraph)
    got = values(fgraph, X, Y)
    np.testing.assert_array_equal(got[0], Y)
    np.testing.assert_array_equal(got[1], X)


def test_replace_a_variable_by_itself_changes_nothing():
    fgraph = FunctionGraph(*_graph())
    before = {v: dict(c) for v, c in fgraph.clients.items()}
    for var in list(fgraph.variables):
        fgraph.replace(var, var)
    assert {v: dict(c) for v, c in fgraph.clients.items()} == before
    assert_consistent(fgraph)
    got = values(fgraph, X, Y)
    np.testing.assert_allclose(got[0], (np.exp(X) + Y) * np.exp(X))


def test_replace_by_a_shared_subexpression_keeps_one_node():
    x, y = T.dvector("x"), T.dvector("y")
    a = T.exp(x)
    b = T.exp(x)  # a duplicate, as merging would find
    fgraph = FunctionGraph([x, y], [a + y, b * y], clone=False)
    fgraph.replace(b, a, reason="merge")
    assert b.owner not in fgraph.apply_nodes
    assert set(fgraph.clients[a]) == {(n.owner, 0) for n in fgraph.outputs}
    assert_consistent(fgraph)
    got = values(fgraph, X, Y)
    np.testing.assert_allclose(got[0], np.exp(X) + Y)
    np.testing.assert_allclose(got[1], np.exp(X) * Y)


def test_replace_with_a_compatible_type_is_allowed():
    x = T.dvector("x")
    y = T.exp(x)
    fgraph = FunctionGraph([x], [y * 2.0], clone=False)
    fixed = T.specify_shape(T.sin(x), (3,))
    assert fixed.type == TensorType("float64", shape=(3,))
    fgraph.replace(y, fixed)
    assert_consistent(fgraph)
    np.testing.assert_allclose(values(fgraph, X)[0], np.sin(X) * 2.0)


@pytest.mark.parametrize(
    "new", [lambda x: T.cast(x, "float32"), lambda x: x.dimshuffle("x", 0), lambda x: T.sum(x)]
)
def test_replace_with_an_incompatible_type_is_refused(new):
    x = T.dvector("x")
    y = T.exp(x)
    fgraph = FunctionGraph([x], [y * 2.0], clone=False)
    before = {v: dict(c) for v, c in fgraph.clients.items()}
    with pytest.raises(TypeError, match=r"cannot replace .* \(my-rewrite\)"):
        fgraph.replace(y, new(x), reason="my-rewrite")
    assert {v: dict(c) for v, c in fgraph.clients.items()} == before
    np.testing.assert_allclose(values(fgraph, X)[0], np.exp(X) * 2.0)


def test_replace_by_an_expression_of_an_unknown_input_is_refused():
    x = T.dvector("x")
    y = T.exp(x)
    fgraph = FunctionGraph([x], [y * 2.0], clone=False)
    stranger = T.dvector("stranger")
    with pytest.raises(MissingInputError, match="stranger"):
        fgraph.replace(y, T.exp(stranger))


def test_a_long_sequence_of_replacements_stays_consistent():
    rng = np.random.default_rng(0)
    fgraph = FunctionGraph(*_graph())
    recorder = Recorder()
    fgraph.listeners.append(recorder)
    for _ in range(30):
        candidates = sorted(
            (v for v in fgraph.variables if v.owner is not None), key=lambda v: str(v)
        )
        target = candidates[rng.integers(len(candidates))]
        # a fresh copy of the node that computes the target: same value, new nodes
        copy = target.owner.clone_with_new_inputs(target.owner.inputs).outputs[target.index]
        fgraph.replace(target, copy)
        assert copy.owner in fgraph.apply_nodes and target.owner not in fgraph.apply_nodes
        assert_consistent(fgraph)
    assert len(recorder.imported) == len(recorder.pruned) == 30
    got = values(fgraph, X, Y)
    np.testing.assert_allclose(got[0], (np.exp(X) + Y) * np.exp(X))
    np.testing.assert_allclose(got[1], np.exp(X) + 1.0)


# -- clone ----------------------------------------------------------------------------------


def test_clone_is_an_independent_copy():
    fgraph = FunctionGraph(*_graph())
    copy = fgraph.clone()
    assert_consistent(copy)
    assert not (copy.apply_nodes & fgraph.apply_nodes)
    assert not (set(copy.inputs) & set(fgraph.inputs))
    assert len(copy.apply_nodes) == len(fgraph.apply_nodes)
    copy.replace(copy.outputs[0], copy.inputs[0] - copy.inputs[1])
    assert_consistent(copy)
    assert_consistent(fgraph)
    np.testing.assert_allclose(values(copy, X, Y)[0], X - Y)
    np.testing.assert_allclose(values(fgraph, X, Y)[0], (np.exp(X) + Y) * np.exp(X))


def test_clone_after_edits_copies_the_edited_graph():
    fgraph = FunctionGraph(*_graph())
    x, y = fgraph.inputs
    fgraph.replace(fgraph.outputs[1], T.tanh(x * y))
    copy = fgraph.clone()
    assert_consistent(copy)
    np.testing.assert_allclose(values(copy, X, Y)[1], np.tanh(X * Y))


def test_str_counts_nodes_and_outputs():
    fgraph = FunctionGraph(*_graph())
    assert str(fgraph) == f"FunctionGraph({len(fgraph.apply_nodes)} nodes, 2 outputs)"


def _graph():
    """Inputs ``x, y`` and outputs ``(exp(x) + y) * exp(x)`` and ``exp(x) + 1``."""
    x, y = T.dvector("x"), T.dvector("y")
    e = T.exp(x)
    return [x, y], [(e + y) * e, e + 1.0]


def test_toposort_of_a_random_function_graph_is_a_valid_order():
    x, y = T.dvector("x"), T.dvector("y")
    rng = np.random.default_rng(1)
    variables, expected = [x, y], [X, Y]
    for _ in range(60):
        i, j = rng.integers(len(variables), size=2)
        if rng.random() < 0.5:
            variables.append(T.tanh(variables[i]) * 0.5 + variables[j])
            expected.append(np.tanh(expected[i]) * 0.5 + expected[j])
        else:
            variables.append(variables[i] - T.sin(variables[j]))
            expected.append(expected[i] - np.sin(expected[j]))
    fgraph = FunctionGraph([x, y], variables[-3:])
    assert_consistent(fgraph)
    assert len(fgraph.apply_nodes) == len(toposort(variables[-3:]))
    for got, want in zip(values(fgraph, X, Y), expected[-3:]):
        np.testing.assert_allclose(got, want, rtol=1e-12)
