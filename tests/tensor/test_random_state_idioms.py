"""Theano's "Using Random Numbers" idioms, run as the tutorial writes them.

The snippets come from Theano's tutorial (seeding streams, sharing streams between
functions, copying random state between graphs); every value they produce is checked
against numpy's Generator(PCG64) seeded as `RandomStreams` seeds its draws.
"""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton as theano
import croton.tensor as T
from croton import function
from croton.sandbox.rng_mrg import MRG_RandomStreams
from croton.tensor.shared_randomstreams import RandomStreams

SEED_LIMIT = 2**63  # RandomStreams seeds each draw with master.integers(2**63)


@pytest.fixture(params=["numpy", "numba"])
def backend(request):
    with croton.config.change(backend=request.param):
        yield request.param


def draw_seeds(master_seed: int, count: int) -> list[int]:
    """The seeds a stream seeded with ``master_seed`` gives its first ``count`` draws."""
    master = np.random.default_rng(master_seed)
    return [int(master.integers(SEED_LIMIT)) for _ in range(count)]


def test_using_random_numbers(backend):
    srng = RandomStreams(seed=234)
    rv_u = srng.uniform((2, 2))
    rv_n = srng.normal((2, 2))
    f = function([], rv_u)
    g = function([], rv_n, no_default_updates=True)  # Not updating rv_n.rng
    nearly_zeros = function([], rv_u + rv_u - 2 * rv_u)

    seed_u, seed_n = draw_seeds(234, 2)
    expect_u = np.random.default_rng(seed_u)
    f_val0 = f()
    f_val1 = f()
    np.testing.assert_array_equal(f_val0, expect_u.uniform(size=(2, 2)))
    np.testing.assert_array_equal(f_val1, expect_u.uniform(size=(2, 2)))
    assert (f_val0 != f_val1).all()
    g_val0 = g()
    g_val1 = g()
    np.testing.assert_array_equal(g_val0, np.random.default_rng(seed_n).normal(size=(2, 2)))
    np.testing.assert_array_equal(g_val0, g_val1)
    np.testing.assert_allclose(nearly_zeros(), np.zeros((2, 2)), atol=1e-15)

    # Seeding streams
    rng_val = rv_u.rng.get_value(borrow=True)  # Get the rng for rv_u
    rng_val.seed(89234)  # seeds the generator
    rv_u.rng.set_value(rng_val, borrow=True)  # Assign back seeded rng
    np.testing.assert_array_equal(f(), np.random.default_rng(89234).uniform(size=(2, 2)))

    srng.seed(902340)  # seeds rv_u and rv_n with different seeds each
    seed_u, seed_n = draw_seeds(902340, 2)
    assert seed_u != seed_n
    np.testing.assert_array_equal(g(), np.random.default_rng(seed_n).normal(size=(2, 2)))

    # Sharing streams between functions
    state_after_v0 = rv_u.rng.get_value().get_state()
    expect = np.random.default_rng(seed_u)
    from_nearly_zeros = expect.uniform(size=(2, 2))
    nearly_zeros()  # this affects rv_u's generator
    v1 = f()
    np.testing.assert_array_equal(v1, expect.uniform(size=(2, 2)))
    rng = rv_u.rng.get_value(borrow=True)
    rng.set_state(state_after_v0)
    rv_u.rng.set_value(rng, borrow=True)
    v2 = f()  # v2 != v1
    v3 = f()  # v3 == v1
    assert (v2 != v1).all()
    np.testing.assert_array_equal(v2, from_nearly_zeros)
    np.testing.assert_array_equal(v3, v1)


class Graph:
    def __init__(self, seed=123):
        self.rng = RandomStreams(seed)
        self.y = self.rng.uniform(size=(1,))


class MRGGraph:
    def __init__(self, seed=123):
        self.rng = MRG_RandomStreams(seed)
        self.y = self.rng.uniform(size=(1,))


def copy_random_state(g1, g2):
    if isinstance(g1.rng, MRG_RandomStreams):
        g2.rng.rstate = g1.rng.rstate
    for su1, su2 in zip(g1.rng.state_updates, g2.rng.state_updates):
        su2[0].set_value(su1[0].get_value())


@pytest.mark.parametrize("graph_class", [Graph, MRGGraph])
def test_copying_random_state_between_graphs(backend, graph_class):
    g1 = graph_class(seed=123)
    f1 = theano.function([], g1.y)
    g2 = graph_class(seed=987)
    f2 = theano.function([], g2.y)
    (seed_1,) = draw_seeds(123, 1)
    (seed_2,) = draw_seeds(987, 1)
    expect_1 = np.random.default_rng(seed_1)
    before_1, before_2 = f1(), f2()
    np.testing.assert_array_equal(before_1, expect_1.uniform(size=(1,)))
    np.testing.assert_array_equal(before_2, np.random.default_rng(seed_2).uniform(size=(1,)))
    assert before_1 != before_2

    copy_random_state(g1, g2)
    for _ in range(3):
        want = expect_1.uniform(size=(1,))
        np.testing.assert_array_equal(f1(), want)
        np.testing.assert_array_equal(f2(), want)
    # the copies are independent: advancing one graph leaves the other where it was
    f1()
    assert f1() != f2()


def test_copied_rstate_seeds_later_mrg_draws_alike(backend):
    g1, g2 = MRGGraph(seed=1), MRGGraph(seed=2)
    copy_random_state(g1, g2)
    later_1 = g1.rng.normal((3,))
    later_2 = g2.rng.normal((3,))
    a, b = function([], later_1)(), function([], later_2)()
    np.testing.assert_array_equal(a, b)
    _, second_seed = draw_seeds(1, 2)
    np.testing.assert_array_equal(a, np.random.default_rng(second_seed).normal(size=(3,)))


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_random_streams_multinomial(backend):
    """Theano's ``RandomStreams.multinomial``: counts over the last axis of pvals, shaped
    ``size + (categories,)``, summing to n, frequencies following pvals."""
    srng = RandomStreams(seed=11)
    p = np.array([0.2, 0.5, 0.3])
    rows = np.array([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]])
    draws = [
        srng.multinomial(n=4, pvals=p),
        srng.multinomial(size=(2, 3), n=5, pvals=p),
        srng.multinomial(n=1, pvals=rows, dtype="float64"),
        srng.multinomial(size=(4000,), n=10, pvals=p),
        srng.multinomial(size=(2,), n=0, pvals=p),
    ]
    f = croton.function([], draws, backend=backend)
    single, grid, one_hot, many, none = f()
    assert single.shape == (3,) and single.dtype == np.int64 and single.sum() == 4
    assert grid.shape == (2, 3, 3) and (grid.sum(axis=-1) == 5).all()
    assert one_hot.dtype == np.float64 and one_hot[0].tolist() == [0.0, 1.0, 0.0]
    assert one_hot[1, 1] == 0.0 and one_hot[1].sum() == 1.0
    np.testing.assert_allclose(many.sum(axis=0) / 40000, p, atol=0.01)
    np.testing.assert_array_equal(none, np.zeros((2, 3)))
    assert not np.array_equal(f()[3], many)  # the stream moves on
    with pytest.raises(TypeError, match="non-negative Python int"):
        srng.multinomial(n=T.iscalar(), pvals=p)
    with pytest.raises(TypeError, match="float probabilities"):
        srng.multinomial(n=1, pvals=[1, 2])
