"""Theano's input options and function copies: ``In(update=...)`` (an input that keeps a
state between calls), ``In(strict=True)``, ``f[name]``, ambiguous keyword names and
``Function.copy`` (``swap``, ``delete_updates``, ``share_memory``). Every value is compared
with the same computation done in numpy."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton import In

BACKENDS = ["numpy", "numba"]


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


def test_an_input_with_an_update_keeps_its_state(backend):
    acc, inc = T.dscalars("acc", "inc")
    f = croton.function([In(acc, value=0.0, update=acc + inc), inc], acc * 2, backend=backend)
    state, seen = 0.0, []
    for step in [2.0, 3.0, 1.0]:
        seen.append(float(f(inc=step)))
        state += step
    assert seen == [0.0, 4.0, 10.0]
    assert float(f["acc"]) == state == 6.0
    # a value given in the call is used for that call, then replaced by the update
    assert float(f(10.0, 1.0)) == 20.0
    assert float(f["acc"]) == 11.0


def test_theanos_in_example_increment_and_stored_value(backend):
    x, s = T.dscalars("x", "s")
    inc = croton.function(
        [x, In(s, update=s + x, value=10.0)], [], on_unused_input="ignore", backend=backend
    )
    assert float(inc[s]) == 10.0
    assert inc(2) == []
    assert float(inc[s]) == 12.0
    inc[s] = 1.0  # by variable, name or position
    inc(0.5)
    assert float(inc["s"]) == float(inc[1]) == 1.5


def test_an_updated_input_counts_as_used_and_takes_any_rank(backend):
    v, total = T.dvector("v"), T.dvector("total")
    f = croton.function(
        [In(total, value=np.zeros(3), update=total + v), v], T.sum(total), backend=backend
    )
    data = np.random.default_rng(0).normal(size=(4, 3))
    expected = np.zeros(3)
    for row in data:
        np.testing.assert_allclose(f(v=row), expected.sum())
        expected = expected + row
    np.testing.assert_allclose(f["total"], expected)


def test_input_update_errors_name_the_input():
    s, x = T.dscalars("s", "x")
    with pytest.raises(TypeError, match=r"input 0 \(s\) has no value to start from"):
        croton.function([In(s, update=s + x), x], s)
    with pytest.raises(TypeError, match=r"input 0 \(s\).*dimensions"):
        croton.function([In(s, value=0.0, update=T.dvector("w")), x], s + x)
    i = T.iscalar("i")
    with pytest.raises(TypeError, match=r"input 0 \(i\) \(int32\) has dtype float64"):
        croton.function([In(i, value=0, update=i + x), x], i)


def test_a_failed_call_leaves_the_input_state_untouched(backend):
    acc, v = T.dscalar("acc"), T.dvector("v")
    f = croton.function([In(acc, value=1.0, update=acc + T.dot(v, v)), v], acc, backend=backend)
    f(v=[1.0, 2.0])
    with pytest.raises(TypeError, match=r"input 1 \(v\)"):
        f(v=[[1.0]])
    assert float(f["acc"]) == 6.0


def test_input_updates_survive_pickling():
    acc, inc = T.dscalars("acc", "inc")
    f = croton.function([In(acc, value=0.0, update=acc + inc), inc], acc, backend="numpy")
    f(inc=5.0)
    g = pickle.loads(pickle.dumps(f))
    assert float(g["acc"]) == 5.0
    assert float(g(inc=1.0)) == 5.0 and float(g["acc"]) == 6.0
    assert float(f["acc"]) == 5.0  # the original keeps its own state
    with pytest.raises(TypeError, match=r"missing input 1 \(inc\)"):
        g()


def test_strict_inputs_take_only_exact_arrays(backend):
    x = T.dvector("x")
    f = croton.function([In(x, strict=True)], x * 2, backend=backend)
    np.testing.assert_array_equal(f(np.array([1.0, 2.0])), [2.0, 4.0])
    for value, got in [
        ([1.0, 2.0], "a list"),
        (np.array([1, 2]), "an? int64 array"),
        (np.float64(1.0), "a float64"),
    ]:
        with pytest.raises(TypeError, match=rf"input 0 \(x\) is strict.*got {got}"):
            f(value)
    loose = croton.function([x], x * 2, backend=backend)
    np.testing.assert_array_equal(loose([1, 2]), [2.0, 4.0])


def test_an_ambiguous_keyword_is_refused():
    a1, a2 = T.dscalar("a"), T.dscalar("a")
    g = croton.function([a1, a2], a1 - a2)
    assert float(g(5.0, 1.0)) == 4.0
    with pytest.raises(TypeError, match=r"the name 'a' is ambiguous: inputs \[0, 1\]"):
        g(5.0, a=1.0)
    with pytest.raises(KeyError, match="ambiguous"):
        g["a"]


def test_stored_value_errors():
    x = T.dscalar("x")
    f = croton.function([x], x + 1)
    with pytest.raises(KeyError, match=r"input 0 \(x\) has no stored value"):
        f["x"]
    with pytest.raises(KeyError, match="has no input 'y'"):
        f["y"]
    f["x"] = 2.0  # now the call may omit it
    assert float(f()) == 3.0
    with pytest.raises(TypeError, match=r"input 0 \(x\)"):
        f["x"] = [1.0, 2.0]
    assert float(f()) == 3.0


# -- Function.copy: the tutorial's "Copying functions" -----------------------------------


def test_copy_with_swap_and_delete_updates(backend):
    state = croton.shared(0)
    inc = T.iscalar("inc")
    accumulator = croton.function([inc], state, updates=[(state, state + inc)], backend=backend)
    accumulator(10)
    assert int(state.get_value()) == 10

    new_state = croton.shared(0)
    new_accumulator = accumulator.copy(swap={state: new_state})
    assert int(new_accumulator(100)) == 0
    assert int(new_state.get_value()) == 100
    assert int(state.get_value()) == 10

    null_accumulator = accumulator.copy(delete_updates=True)
    assert int(null_accumulator(9000)) == 10
    assert int(state.get_value()) == 10
    assert not null_accumulator.maker.updates

    # the copy without a swap updates the same shared variable
    same = accumulator.copy(name="same")
    same(5)
    assert int(state.get_value()) == 15 and same.name == "same"


def test_copy_of_random_draws_without_updates_repeats_them():
    from croton.tensor.shared_randomstreams import RandomStreams

    srng = RandomStreams(seed=7)
    u = srng.uniform((3,))
    f = croton.function([], u)
    frozen = f.copy(delete_updates=True)
    first = frozen()
    np.testing.assert_array_equal(frozen(), first)
    np.testing.assert_array_equal(f(), first)  # the original draws the same, then moves on
    assert not np.array_equal(f(), first)


def test_copy_shares_input_state_only_when_asked(backend):
    acc, inc = T.dscalars("acc", "inc")
    f = croton.function([In(acc, value=0.0, update=acc + inc), inc], acc, backend=backend)
    f(inc=1.0)
    separate, shared = f.copy(), f.copy(share_memory=True)
    separate(inc=10.0)
    assert float(f["acc"]) == 1.0 and float(separate["acc"]) == 11.0
    shared(inc=100.0)
    assert float(f["acc"]) == 101.0
    f(inc=1.0)
    assert float(shared["acc"]) == 102.0


def test_copy_swap_is_checked():
    state, other = croton.shared(0.0), croton.shared(np.zeros(2))
    x = T.dscalar("x")
    f = croton.function([x], state + x, updates=[(state, state + x)])
    with pytest.raises(TypeError, match="same type"):
        f.copy(swap={state: other})
    with pytest.raises(ValueError, match="not a shared variable that the function uses"):
        f.copy(swap={other: croton.shared(np.ones(2))})
    with pytest.raises(TypeError, match="only be replaced by a shared variable"):
        f.copy(swap={state: T.dscalar("y")})


def test_a_strict_input_takes_its_default(backend):
    x = T.dvector("x")
    f = croton.function([In(x, value=[1, 2], strict=True)], x * 2, backend=backend)
    np.testing.assert_array_equal(f(), [2.0, 4.0])  # (the default was converted once)
    with pytest.raises(TypeError, match=r"input 0 \(x\) is strict"):
        f([1.0, 2.0])
