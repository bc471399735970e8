"""`GeneratorState` and `RandomStateSharedVariable` (croton.tensor.random_state)."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import croton
from croton.ops.random import STATE_LENGTH, bit_generator_state, seeded_state, state_vector
from croton.tensor.random_state import (
    GeneratorState,
    RandomStateSharedVariable,
    as_state_vector,
    random_state_shared,
)
from croton.tensor.shared_randomstreams import RandomStreams

BACKENDS = ["numpy", "numba"]


def generator(seed) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(seed))


def uniform_draw(backend, seed=0, size=(3,)):
    srng = RandomStreams(seed=seed)
    u = srng.uniform(size)
    return u, croton.function([], u, backend=backend)


# -- GeneratorState ----------------------------------------------------------------------
def test_seed_is_deterministic_and_is_pcg64s():
    state = GeneratorState(1)
    state.seed(89234)
    np.testing.assert_array_equal(np.asarray(state), seeded_state(89234))
    other = GeneratorState()
    other.seed(89234)
    assert other == state
    np.testing.assert_array_equal(state.uniform(size=4), generator(89234).uniform(size=4))


def test_get_state_round_trips_through_set_state():
    state = GeneratorState(5)
    saved = state.get_state()
    assert saved == np.random.PCG64(5).state
    first = state.normal(size=3)
    assert state.get_state() != saved
    state.set_state(saved)
    np.testing.assert_array_equal(state.normal(size=3), first)
    # the dict is the caller's: changing it leaves the state alone
    saved["state"]["state"] = 12
    state.set_state(np.random.PCG64(5).state)
    assert state.get_state()["state"]["state"] != 12


@pytest.mark.parametrize(
    "source",
    [
        lambda: GeneratorState(7),
        lambda: generator(7),
        lambda: np.random.PCG64(7),
        lambda: np.random.PCG64(7).state,
        lambda: seeded_state(7),
        lambda: [int(v) for v in seeded_state(7)],
    ],
    ids=["GeneratorState", "Generator", "PCG64", "dict", "vector", "list"],
)
def test_set_state_and_the_constructor_accept_every_form(source):
    state = GeneratorState(1)
    state.set_state(source())
    np.testing.assert_array_equal(np.asarray(state), seeded_state(7))
    np.testing.assert_array_equal(np.asarray(GeneratorState(source())), seeded_state(7))


def test_draws_advance_the_state_like_numpys_generator():
    state, expect = GeneratorState(3), generator(3)
    np.testing.assert_array_equal(state.random(2), expect.random(2))
    np.testing.assert_array_equal(state.random_sample(2), expect.random(2))
    np.testing.assert_array_equal(state.uniform(-1, 2, 3), expect.uniform(-1, 2, 3))
    np.testing.assert_array_equal(state.standard_normal(2), expect.standard_normal(2))
    np.testing.assert_array_equal(state.integers(0, 10, 5), expect.integers(0, 10, 5))
    np.testing.assert_array_equal(state.randint(3, size=4), expect.integers(3, size=4))
    np.testing.assert_array_equal(state.binomial(4, 0.3, 5), expect.binomial(4, 0.3, 5))
    np.testing.assert_array_equal(state.choice(6, 3, False), expect.choice(6, 3, False))
    np.testing.assert_array_equal(state.permutation(5), expect.permutation(5))
    np.testing.assert_array_equal(np.asarray(state), state_vector(expect.bit_generator.state))
    # generator() starts from the state without advancing it
    before = state.copy()
    np.testing.assert_array_equal(state.generator().random(3), before.generator().random(3))
    assert state == before


def test_state_reads_as_its_vector():
    state = GeneratorState(2)
    vector = seeded_state(2)
    assert len(state) == STATE_LENGTH and state.shape == (STATE_LENGTH,)
    assert state.dtype == np.uint64
    assert [int(v) for v in state] == [int(v) for v in vector]
    assert int(state[3]) == int(vector[3])
    assert bit_generator_state(state) == np.random.PCG64(2).state
    assert "PCG64" in repr(state)


def test_state_pickles_and_copies():
    state = GeneratorState(4)
    for restored in (pickle.loads(pickle.dumps(state)), copy.deepcopy(state), state.copy()):
        assert restored == state
        restored.seed(0)
        assert restored != state


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        (np.random.RandomState(0), TypeError, "RandomState"),
        (np.random.MT19937(0), TypeError, "PCG64"),
        (np.zeros(STATE_LENGTH, "uint64"), ValueError, "odd"),
        (np.ones(4, "uint64"), TypeError, "length 6"),
        ({"state": 1}, TypeError, "PCG64"),
        (np.ones(STATE_LENGTH, "float64"), TypeError, "float64"),
    ],
    ids=["RandomState", "MT19937", "even-increment", "short", "bad-dict", "floats"],
)
def test_bad_states_are_refused_with_the_argument_named(value, error, match):
    with pytest.raises(error, match=match):
        as_state_vector(value, name="my state")
    with pytest.raises(error, match="my state"):
        as_state_vector(value, name="my state")
    state = random_state_shared(seeded_state(0), name="rng")
    with pytest.raises(error, match="shared variable rng"):
        state.set_value(value)
    np.testing.assert_array_equal(state.get_value(return_internal_type=True), seeded_state(0))


# -- RandomStateSharedVariable ---------------------------------------------------------------
def test_draw_states_are_random_state_shared_variables():
    u, _ = uniform_draw("numpy")
    assert isinstance(u.rng, RandomStateSharedVariable)
    assert u.rng.type.dtype == "uint64" and u.rng.type.shape == (STATE_LENGTH,)
    assert isinstance(u.rng.get_value(), GeneratorState)
    raw = u.rng.get_value(return_internal_type=True)
    assert type(raw) is np.ndarray and raw.dtype == np.uint64


@pytest.mark.parametrize("backend", BACKENDS)
def test_value_predicts_the_next_call(backend):
    u, f = uniform_draw(backend, seed=11)
    f()
    predicted = u.rng.get_value().uniform(size=(3,))
    np.testing.assert_array_equal(f(), predicted)
    assert type(u.rng.get_value(return_internal_type=True)) is np.ndarray


@pytest.mark.parametrize("backend", BACKENDS)
def test_borrowed_value_shares_the_variables_state(backend):
    u, f = uniform_draw(backend)
    f()  # the value is now the one the call stored
    borrowed = u.rng.get_value(borrow=True)
    borrowed.seed(5)  # no set_value: the variable changes at once
    np.testing.assert_array_equal(f(), generator(5).uniform(size=(3,)))
    # a copy does not
    copied = u.rng.get_value()
    expect = copied.generator()
    copied.seed(6)
    np.testing.assert_array_equal(f(), expect.uniform(size=(3,)))
    # draws on a borrowed value advance the variable like a call would
    u.rng.get_value(borrow=True).seed(8)
    expect = generator(8)
    np.testing.assert_array_equal(
        u.rng.get_value(borrow=True).uniform(size=3), expect.uniform(size=3)
    )
    np.testing.assert_array_equal(f(), expect.uniform(size=(3,)))


@pytest.mark.parametrize("backend", BACKENDS)
def test_set_value_borrow_keeps_the_object(backend):
    u, f = uniform_draw(backend)
    kept = GeneratorState(1)
    u.rng.set_value(kept, borrow=True)
    kept.seed(9)
    np.testing.assert_array_equal(f(), generator(9).uniform(size=(3,)))
    copied = GeneratorState(1)
    u.rng.set_value(copied)
    copied.seed(10)
    np.testing.assert_array_equal(f(), generator(1).uniform(size=(3,)))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "make",
    [generator, np.random.PCG64, lambda s: np.random.PCG64(s).state, seeded_state],
    ids=["Generator", "PCG64", "dict", "vector"],
)
def test_set_value_takes_generators_and_vectors(backend, make):
    u, f = uniform_draw(backend)
    u.rng.set_value(make(12))
    np.testing.assert_array_equal(f(), generator(12).uniform(size=(3,)))


@pytest.mark.parametrize("backend", BACKENDS)
def test_state_variable_and_function_pickle(backend):
    u, f = uniform_draw(backend, seed=3)
    f()
    state = pickle.loads(pickle.dumps(u.rng))
    assert isinstance(state, RandomStateSharedVariable)
    assert state.get_value() == u.rng.get_value()
    assert type(state.__dict__["_value"]) is np.ndarray
    g = pickle.loads(pickle.dumps(f))
    np.testing.assert_array_equal(g(), f())


def test_random_state_shared_copies_its_value():
    source = GeneratorState(3)
    state = random_state_shared(source, name="s")
    source.seed(4)
    np.testing.assert_array_equal(state.get_value(return_internal_type=True), seeded_state(3))
    assert state.name == "s"
