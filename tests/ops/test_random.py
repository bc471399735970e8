"""The `RandomDraw` op: state layout, types, shapes, gradients and rewrites."""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.autodiff import NullGradientError
from croton.ops.random import (
    STATE_LENGTH,
    RandomDraw,
    bit_generator_state,
    seeded_state,
    state_vector,
)
from croton.tensor.shared_randomstreams import RandomStreams


def test_state_vector_round_trips_numpys_state():
    bit_generator = np.random.PCG64(123)
    np.random.Generator(bit_generator).random(3)  # a state with large numbers
    bit_generator.random_raw()
    np.random.Generator(bit_generator).integers(0, 10, dtype=np.uint32)  # buffered half word
    state = bit_generator.state
    vector = state_vector(state)
    assert vector.dtype == np.uint64 and vector.shape == (STATE_LENGTH,)
    assert bit_generator_state(vector) == state
    np.testing.assert_array_equal(seeded_state(5), state_vector(np.random.PCG64(5).state))


def test_bad_states_are_refused_with_the_layout():
    with pytest.raises(ValueError, match="6 entries"):
        bit_generator_state(np.zeros(4, dtype=np.uint64))
    with pytest.raises(ValueError, match="PCG64"):
        state_vector(np.random.MT19937(0).state)
    with pytest.raises(ValueError, match="must be odd"):
        bit_generator_state(np.zeros(6, dtype=np.uint64))
    with pytest.raises(TypeError, match="uint64 vector"):
        RandomDraw("uniform", 0, "float64")(T.dvector(), 0.0, 1.0)
    with pytest.raises(ValueError, match="unknown distribution"):
        RandomDraw("gamma", 0, "float64")


def test_a_draw_reads_its_state_input_and_does_not_write_it():
    state = T.tensor(dtype="uint64", shape=(6,), name="state")
    new_state, sample = RandomDraw("normal", 1, "float64")(state, 4, 0.0, 1.0)
    f = croton.function([state], [new_state, sample])
    value = seeded_state(9)
    kept = value.copy()
    got_state, got = f(value)
    np.testing.assert_array_equal(value, kept)
    generator = np.random.Generator(np.random.PCG64(9))
    np.testing.assert_array_equal(got, generator.normal(0.0, 1.0, 4))
    assert bit_generator_state(got_state) == generator.bit_generator.state
    np.testing.assert_array_equal(f(value)[1], got)  # the same state, the same numbers


def test_types_and_infer_shape():
    state = T.tensor(dtype="uint64", shape=(6,))
    n = T.lscalar("n")
    new_state, sample = RandomDraw("permutation", 2, "int64")(state, n, 3, 5)
    assert new_state.type == state.type
    assert sample.type.shape == (None, 3, 5) and sample.dtype == "int64"
    lengths = [sample.shape[0], sample.shape[2]]
    shape = croton.function([state, n], lengths, on_unused_input="ignore")
    np.testing.assert_array_equal(shape(seeded_state(1), 2), [2, 5])
    assert not any(isinstance(node.op, RandomDraw) for node in shape.maker.fgraph.apply_nodes), (
        "the shape is computed without drawing"
    )


def test_gradients_through_parameters_are_undefined():
    srng = RandomStreams(seed=1)
    avg = T.dscalar("avg")
    sample = srng.normal((3,), avg=avg)
    with pytest.raises(NullGradientError, match="parameter avg"):
        T.grad(sample.sum(), avg)
    # a cost that uses a sample is differentiable with respect to everything else
    w = T.dvector("w")
    (gw,) = T.grad((w * srng.uniform((3,))).sum(), [w])
    values = croton.function([w], [gw, gw])(np.ones(3))
    np.testing.assert_array_equal(values[0], values[1])
    # ... also when the sample's size depends on the variable (through integer shapes)
    p = croton.shared(0.5, "p")
    mask = srng.binomial(w.shape, p=p, dtype="float64")
    (gw,) = T.grad((w * mask).sum(), [w])
    mask_value, gw_value = croton.function([w], [mask, gw], no_default_updates=True)(np.ones(4))
    np.testing.assert_array_equal(gw_value, mask_value)


def test_draws_of_different_states_are_not_merged_and_equal_ones_are():
    srng = RandomStreams(seed=1)
    u, v = srng.uniform((3,)), srng.uniform((3,))
    f = croton.function([], [u, v])
    draws = [n for n in f.maker.fgraph.apply_nodes if isinstance(n.op, RandomDraw)]
    assert len(draws) == 2
    state = T.tensor(dtype="uint64", shape=(6,))
    once = RandomDraw("uniform", 1, "float64")(state, 3, 0.0, 1.0)[1]
    again = RandomDraw("uniform", 1, "float64")(state, 3, 0.0, 1.0)[1]
    g = croton.function([state], [once, again])
    assert sum(isinstance(n.op, RandomDraw) for n in g.maker.fgraph.apply_nodes) == 1
    a, b = g(seeded_state(3))
    np.testing.assert_array_equal(a, b)


def test_a_draw_from_a_constant_state_folds_to_numpys_numbers():
    draw = RandomDraw("uniform", 1, "float64")(T.constant(seeded_state(4)), 3, 0.0, 1.0)[1]
    f = croton.function([], draw)
    assert not any(isinstance(n.op, RandomDraw) for n in f.maker.fgraph.apply_nodes)
    np.testing.assert_array_equal(f(), np.random.Generator(np.random.PCG64(4)).uniform(size=3))
