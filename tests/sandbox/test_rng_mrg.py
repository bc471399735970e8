"""`MRG_RandomStreams` (croton.sandbox.rng_mrg): MRG's interface over PCG64 draws."""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.ops.random import seeded_state
from croton.sandbox.rng_mrg import MRG_RandomStreams
from croton.tensor.shared_randomstreams import RandomStreams

BACKENDS = ["numpy", "numba"]
SEED_LIMIT = 2**63

# dyadic probabilities: their running sums are exact, so the counts are predictable
P = np.array([[0.25, 0.5, 0.0, 0.25], [0.125, 0.125, 0.5, 0.25], [0.0, 0.0, 1.0, 0.0]])


def categorical(p, unis):
    """numpy's version of the draw: the column where ``u * total`` falls in the running
    sums of each row."""
    cdf = np.cumsum(p, axis=1)
    picks = [np.searchsorted(c, u * c[-1], side="right") for c, u in zip(cdf, unis)]
    return np.minimum(np.array(picks), p.shape[1] - 1)


def next_uniforms(srng, shape):
    """The uniforms the stream's last draw will give at the next call."""
    return srng.state_updates[-1][0].get_value().uniform(size=shape)


@pytest.mark.parametrize("backend", BACKENDS)
def test_draws_are_random_streams_draws(backend):
    mrg, plain = MRG_RandomStreams(seed=42), RandomStreams(seed=42)
    mrg_draws = [
        mrg.uniform((2, 3), low=-1.0, high=2.0, nstreams=30),
        mrg.normal((4,), avg=1.0, std=3.0),
        mrg.binomial((5,), n=3, p=0.25),
    ]
    plain_draws = [
        plain.uniform((2, 3), low=-1.0, high=2.0),
        plain.normal((4,), avg=1.0, std=3.0),
        plain.binomial((5,), n=3, p=0.25),
    ]
    f = croton.function([], mrg_draws, backend=backend)
    g = croton.function([], plain_draws, backend=backend)
    for _ in range(2):
        for got, want in zip(f(), g()):
            np.testing.assert_array_equal(got, want)
    for sample in mrg_draws:
        assert sample.rstate is sample.rng


def test_default_seed_is_theanos():
    a, b = MRG_RandomStreams(), MRG_RandomStreams(seed=12345)
    assert (a.rstate == b.rstate).all()
    seed = int(np.random.default_rng(12345).integers(SEED_LIMIT))
    a.uniform((2,))
    assert a.state_updates[0][0].get_value() == b.uniform((2,)).rng.get_value()
    np.testing.assert_array_equal(
        a.state_updates[0][0].get_value(return_internal_type=True), seeded_state(seed)
    )


def test_rstate_reads_a_copy_and_assigning_it_reseeds_later_draws():
    s1, s2 = MRG_RandomStreams(seed=1), MRG_RandomStreams(seed=2)
    rstate = s1.rstate
    assert rstate.dtype == np.uint64 and rstate.shape == (6,)
    rstate[:] = 0  # a copy: the stream is unchanged
    assert (s1.rstate != 0).any()
    s2.rstate = s1.rstate
    u1, u2 = s1.uniform((3,)), s2.uniform((3,))
    assert u1.rng.get_value() == u2.rng.get_value()
    assert (s1.rstate == s2.rstate).all()
    # a draw advances the master generator: the next draw is seeded differently
    assert s1.uniform((3,)).rng.get_value() != u1.rng.get_value()


@pytest.mark.parametrize("backend", BACKENDS)
def test_seed_reseeds_draws_and_later_draws_continue(backend):
    srng = MRG_RandomStreams(seed=1)
    u = srng.uniform((3,))
    srng.seed(7)
    v = srng.uniform((3,))
    reference = MRG_RandomStreams(seed=7)
    ru, rv = reference.uniform((3,)), reference.uniform((3,))
    got = croton.function([], [u, v], backend=backend)()
    want = croton.function([], [ru, rv], backend=backend)()
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
    master = np.random.default_rng(7)
    seeds = [int(master.integers(SEED_LIMIT)) for _ in range(2)]
    np.testing.assert_array_equal(got[1], np.random.default_rng(seeds[1]).uniform(size=3))
    # seed() without an argument goes back to the constructor's seed
    srng.seed()
    np.testing.assert_array_equal(
        u.rng.get_value(return_internal_type=True),
        seeded_state(int(np.random.default_rng(1).integers(SEED_LIMIT))),
    )


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("n", [1, 7])
def test_multinomial_counts_match_numpy(backend, n):
    srng = MRG_RandomStreams(seed=3)
    pvals = T.dmatrix("pvals")
    counts = srng.multinomial(pvals=pvals, n=n)
    f = croton.function([pvals], counts, backend=backend)
    for _ in range(2):
        unis = next_uniforms(srng, (len(P), n))
        got = f(P)
        picks = categorical(P, unis)
        want = np.stack([np.bincount(row, minlength=P.shape[1]) for row in picks])
        assert got.dtype == np.int64 and got.shape == P.shape
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(got.sum(axis=1), n)
        assert (got[P == 0] == 0).all()


def test_multinomial_frequencies_follow_pvals():
    srng = MRG_RandomStreams(seed=4)
    counts = croton.function([], srng.multinomial(pvals=P, n=20000, dtype="float64"))()
    assert counts.dtype == np.float64
    np.testing.assert_allclose(counts / 20000, P, atol=0.02)


@pytest.mark.parametrize("backend", BACKENDS)
def test_choice_with_replacement_matches_numpy(backend):
    srng = MRG_RandomStreams(seed=5)
    p = T.dmatrix("p")
    f = croton.function([p], srng.choice(size=6, p=p, replace=True), backend=backend)
    unis = next_uniforms(srng, (len(P), 6))
    got = f(P)
    assert got.shape == (len(P), 6)
    np.testing.assert_array_equal(got, categorical(P, unis))


@pytest.mark.parametrize("backend", BACKENDS)
def test_choice_without_replacement(backend):
    srng = MRG_RandomStreams(seed=6)
    p = T.dmatrix("p")
    f = croton.function([p], srng.choice(size=3, p=p, replace=False), backend=backend)
    weights = np.array([[0.125, 0.25, 0.0, 0.5, 0.125], [0.25, 0.25, 0.25, 0.25, 0.0]])
    unis = next_uniforms(srng, (2, 3))
    got = f(weights)
    # numpy's version: draw one column, zero it, draw again from what is left
    left, want = weights.copy(), []
    for j in range(3):
        pick = categorical(left, unis[:, j])
        want.append(pick)
        left[np.arange(2), pick] = 0.0
    np.testing.assert_array_equal(got, np.stack(want, axis=1))
    for _ in range(20):
        rows = f(weights)
        for row, w in zip(rows, weights):
            assert len(set(row)) == 3 and (w[row] > 0).all()


@pytest.mark.parametrize("backend", BACKENDS)
def test_choice_with_a_is_random_streams_choice(backend):
    mrg, plain = MRG_RandomStreams(seed=8), RandomStreams(seed=8)
    got = croton.function([], mrg.choice((4,), a=10, replace=False), backend=backend)()
    want = croton.function([], plain.choice((4,), a=10, replace=False), backend=backend)()
    np.testing.assert_array_equal(got, want)


def test_bad_arguments_say_what_to_do():
    srng = MRG_RandomStreams()
    with pytest.raises(NotImplementedError, match="truncate"):
        srng.normal((2,), truncate=True)
    with pytest.raises(TypeError, match="give p"):
        srng.binomial((2,))
    with pytest.raises(TypeError, match="give pvals"):
        srng.multinomial(n=1)
    with pytest.raises(ValueError, match="size and ndim must be None"):
        srng.multinomial(size=(2,), pvals=P)
    with pytest.raises(NotImplementedError, match="pvals must be a float matrix"):
        srng.multinomial(pvals=np.array([0.5, 0.5]))
    with pytest.raises(TypeError, match="n must be a non-negative Python integer"):
        srng.multinomial(pvals=P, n=T.lscalar())
    with pytest.raises(TypeError, match=r"unexpected keyword arguments \['target'\]"):
        srng.uniform((2,), target="gpu")
