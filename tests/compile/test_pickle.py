"""Pickling and copying compiled functions and shared variables."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import croton
import croton.tensor as T


def _round_trip(obj):
    return pickle.loads(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))


def test_shared_variable_pickles_with_its_value_and_type():
    s = croton.shared(np.arange(4.0, dtype="float32"), name="s", shape=(4,))
    restored = _round_trip(s)
    assert restored.name == "s"
    assert restored.type == s.type
    np.testing.assert_array_equal(restored.get_value(), s.get_value())
    restored.set_value(np.zeros(4, "float32"))
    np.testing.assert_array_equal(s.get_value(), np.arange(4.0, dtype="float32"))


def test_pickled_function_gives_the_same_results():
    x, y = T.dmatrices("x", "y")
    out = [T.tanh(T.dot(x, y)).sum(axis=0), (x - y) ** 2]
    f = croton.function([x, y], out, name="pair")
    g = _round_trip(f)
    assert g.name == "pair"
    a = np.arange(9.0).reshape(3, 3) / 10
    b = np.eye(3) - 0.5
    for got, want in zip(g(a, b), f(a, b)):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(g(a, b)[0], np.tanh(a @ b).sum(axis=0))


def test_pickled_function_with_single_output_and_keywords():
    a, b = T.dscalars("a", "b")
    f = croton.function([a, croton.In(b, value=4.0, name="scale")], a * b)
    g = _round_trip(f)
    assert g(2.0) == np.float64(2.0) * 4.0
    assert g(2.0, scale=0.5) == np.float64(2.0) * 0.5
    assert isinstance(g(1.0), np.ndarray) and g(1.0).shape == ()


def test_pickled_function_keeps_its_settings():
    x = T.fvector("x")
    unused = T.dscalar("unused")
    f = croton.function(
        [x, unused],
        x * 2,
        allow_input_downcast=True,
        on_unused_input="ignore",
        trust_input=False,
        mode="FAST_COMPILE",
    )
    g = _round_trip(f)
    assert g.maker.mode == "FAST_COMPILE"
    data = np.array([0.1, 0.2])
    np.testing.assert_array_equal(g(data, 0.0), data.astype("float32") * 2)
    trusted = _round_trip(croton.function([x], x * 2, trust_input=True))
    assert trusted.trust_input


def test_pickled_function_keeps_its_givens():
    y, z = T.dscalars("y", "z")
    f = croton.function([z], y * 2, givens={y: z + 1})
    g = _round_trip(f)
    assert g(1.5) == (np.float64(1.5) + 1) * 2


def test_function_pickled_with_its_shared_variables_updates_them():
    w = croton.shared(np.arange(3.0), name="w")
    count = croton.shared(np.int64(0), name="count")
    x = T.dvector("x")
    f = croton.function([x], (x * w).sum(), updates=[(count, count + 1), (w, w + x)])
    data = np.array([1.0, 1.0, 1.0])
    f(data)
    g, w2, count2 = _round_trip((f, w, count))
    # the copies start from the pickled values and are independent from the originals
    np.testing.assert_array_equal(w2.get_value(), np.arange(3.0) + data)
    assert count2.get_value() == 1
    assert g(data) == ((np.arange(3.0) + data) * data).sum()
    np.testing.assert_array_equal(w2.get_value(), np.arange(3.0) + 2 * data)
    assert count2.get_value() == 2
    np.testing.assert_array_equal(w.get_value(), np.arange(3.0) + data)
    assert count.get_value() == 1


def test_function_pickled_alone_carries_its_own_shared_state():
    count = croton.shared(np.int64(10), name="count")
    f = croton.function([], count, updates=[(count, count + 1)])
    g = _round_trip(f)
    assert g() == 10 and g() == 11
    assert count.get_value() == 10  # the original is untouched
    (restored,) = [s for s, _ in g.maker.updates]
    assert restored.get_value() == 12


def test_two_functions_pickled_together_share_state():
    acc = croton.shared(0.0, name="acc")
    x = T.dscalar("x")
    add = croton.function([x], [], updates=[(acc, acc + x)])
    read = croton.function([], acc * 1)
    add2, read2 = _round_trip((add, read))
    add2(2.5)
    add2(1.0)
    assert read2() == 3.5
    assert acc.get_value() == 0.0


def test_default_updates_survive_pickling():
    state = croton.shared(0.0, name="state")
    state.default_update = state + 1
    f = croton.function([], state * 1)
    g, state2 = _round_trip((f, state))
    assert [float(g()) for _ in range(3)] == [0.0, 1.0, 2.0]
    assert state2.get_value() == 3.0
    assert state.get_value() == 0.0


def test_deep_graph_pickles():
    x = T.dvector("x")
    out = x
    for _ in range(2000):  # far past the recursion limit of a recursive pickle
        out = out * 0.999 + 0.001
    f = croton.function([x], out, mode="NONE")
    g = _round_trip(f)
    data = np.array([1.0, 2.0])
    np.testing.assert_array_equal(g(data), f(data))


def test_shallow_copy_shares_the_shared_variables():
    count = croton.shared(np.int64(0), name="count")
    f = croton.function([], count * 2, updates=[(count, count + 1)])
    g = copy.copy(f)
    assert g() == 0
    assert f() == 2  # g's update is visible to f
    assert count.get_value() == 2


def test_deep_copy_has_independent_shared_variables():
    count = croton.shared(np.int64(0), name="count")
    f = croton.function([], count * 2, updates=[(count, count + 1)])
    f()
    g = copy.deepcopy(f)
    assert g() == 2 and g() == 4
    assert count.get_value() == 1
    assert f() == 2


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_every_pickle_protocol(protocol):
    x = T.dvector("x")
    s = croton.shared(np.array([1.0, -1.0]), name="s")
    f = croton.function([x], T.exp(x) * s)
    g = pickle.loads(pickle.dumps(f, protocol=protocol))
    data = np.array([0.5, 2.0])
    np.testing.assert_allclose(g(data), np.exp(data) * np.array([1.0, -1.0]), rtol=1e-15)
