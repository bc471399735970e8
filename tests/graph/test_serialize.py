"""`dump_graph` and `load_graph`: flat serialisation that survives pickling deep graphs."""

from __future__ import annotations

import pickle

import numpy as np

import croton
import croton.tensor as T
from croton.graph.basic import Constant
from croton.graph.serialize import dump_graph, load_graph
from croton.graph.traversal import free_inputs, toposort

A = np.arange(12.0).reshape(3, 4) / 7.0 - 0.5
V = np.array([0.5, -1.0, 2.0, 0.25])


def round_trip(outputs):
    """The outputs rebuilt from a pickled `dump_graph` state."""
    return load_graph(pickle.loads(pickle.dumps(dump_graph(outputs))))


def by_name(variables):
    return {v.name: v for v in variables}


def test_round_trip_computes_the_same_values():
    m, v = T.dmatrix("m"), T.dvector("v")
    weights = T.constant(np.linspace(-1.0, 1.0, 4), name="weights")
    hidden = T.tanh(T.dot(m, v * weights) + 1.0)
    outputs = [hidden, T.sum(T.exp(m) * v, axis=0), T.max(m, axis=1)]
    loaded = round_trip(outputs)
    inputs = by_name(free_inputs(loaded))
    assert set(inputs) == {"m", "v"}
    got = croton.function([inputs["m"], inputs["v"]], loaded)(A, V)
    want = croton.function([m, v], outputs)(A, V)
    numpy_weights = np.linspace(-1.0, 1.0, 4)
    expected = [
        np.tanh(A @ (V * numpy_weights) + 1.0),
        np.sum(np.exp(A) * V, axis=0),
        np.max(A, axis=1),
    ]
    for g, w, e in zip(got, want, expected):
        np.testing.assert_allclose(g, e, rtol=1e-12)
        np.testing.assert_array_equal(g, w)


def test_round_trip_keeps_types_names_ops_and_creation_sites():
    x = T.fmatrix("x")
    y = T.exp(x).sum(axis=1)
    y.name = "row_sums"
    (loaded,) = round_trip([y])
    assert loaded.name == "row_sums"
    assert loaded.type == y.type
    assert type(loaded) is type(y)
    assert loaded.creation == y.creation
    assert [n.op for n in toposort([loaded])] == [n.op for n in toposort([y])]
    assert loaded.owner is not y.owner
    (new_x,) = free_inputs([loaded])
    assert new_x.name == "x" and new_x.type == x.type
    data = A.astype("float32")
    got = croton.function([new_x], loaded)(data)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, np.exp(data).sum(axis=1), rtol=1e-6)


def test_dump_without_pickling_shares_the_root_variables():
    x = T.dvector("x")
    c = T.constant(np.array([1.0, 2.0, 3.0, 4.0]))
    y = x * c
    (loaded,) = load_graph(dump_graph([y]))
    assert loaded is not y
    assert loaded.owner.inputs[0] is x
    roots = [v for n in toposort([loaded]) for v in n.inputs if v.owner is None]
    assert any(v is c for v in roots)
    np.testing.assert_allclose(croton.function([x], loaded)(V), V * np.array([1.0, 2.0, 3.0, 4.0]))


def test_round_trip_keeps_constants_with_their_values():
    x = T.dvector("x")
    data = np.array([3.0, -2.0, 0.5, 1.0])
    y = x - T.constant(data)
    (loaded,) = round_trip([y])
    constants = [
        v
        for n in toposort([loaded])
        for v in n.inputs
        if isinstance(v, Constant) and v.data.size == 4
    ]
    assert len(constants) == 1
    np.testing.assert_array_equal(constants[0].data, data)
    (new_x,) = free_inputs([loaded])
    np.testing.assert_array_equal(croton.function([new_x], loaded)(V), V - data)


def test_round_trip_of_outputs_that_share_nodes_and_of_an_input_output():
    x = T.dvector("x")
    shared_part = T.exp(x)
    outputs = [shared_part + 1.0, shared_part * 2.0, x]
    first, second, third = round_trip(outputs)
    assert first.owner.inputs[0] is second.owner.inputs[0]
    assert third.owner is None and third.name == "x"
    assert free_inputs([first, second, third]) == [third]
    got = croton.function([third], [first, second, third])(V)
    np.testing.assert_allclose(got[0], np.exp(V) + 1.0)
    np.testing.assert_allclose(got[1], np.exp(V) * 2.0)
    np.testing.assert_array_equal(got[2], V)


def test_round_trip_of_a_multi_output_node():
    m = T.dmatrix("m")
    maximum, argmax = T.max_and_argmax(m, axis=1)
    loaded_max, loaded_argmax = round_trip([maximum, argmax])
    (new_m,) = free_inputs([loaded_max, loaded_argmax])
    got_max, got_argmax = croton.function([new_m], [loaded_max, loaded_argmax])(A)
    np.testing.assert_array_equal(got_max, A.max(axis=1))
    np.testing.assert_array_equal(got_argmax, A.argmax(axis=1))


def test_round_trip_keeps_shared_variables_and_their_values():
    w = croton.shared(np.array([1.0, -1.0, 2.0, 0.5]), name="w")
    x = T.dvector("x")
    y = T.sum(w * x)
    (loaded,) = round_trip([y])
    roots = by_name(free_inputs([loaded]))
    assert set(roots) == {"w", "x"}
    new_w, new_x = roots["w"], roots["x"]
    assert isinstance(new_w, croton.SharedVariable) and new_w is not w
    np.testing.assert_array_equal(new_w.get_value(), w.get_value())
    got = croton.function([new_x], loaded)(V)
    np.testing.assert_allclose(got, np.sum(np.array([1.0, -1.0, 2.0, 0.5]) * V))


def test_a_deep_graph_round_trips_through_pickle():
    x = T.dvector("x")
    depth = 3000
    y = x
    for k in range(depth):
        y = T.sin(y) if k % 2 else T.tanh(y)
    loaded = round_trip([y])
    assert len(toposort(loaded)) == depth
    (new_x,) = free_inputs(loaded)
    want = V
    for k in range(depth):
        want = np.sin(want) if k % 2 else np.tanh(want)
    got = croton.function([new_x], loaded[0], mode="NONE")(V)
    np.testing.assert_allclose(got, want, rtol=1e-12)
