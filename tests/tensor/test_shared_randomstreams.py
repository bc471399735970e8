"""``RandomStreams`` (croton.tensor.shared_randomstreams) against numpy's Generator(PCG64)."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.ops.random import bit_generator_state
from croton.tensor.shared_randomstreams import RandomStreams

BACKENDS = ["numpy", "numba"]


@pytest.fixture(autouse=True)
def _no_python_step_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a draw is a host step by design: no SegmentWarning
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        yield


def generator_of(sample) -> np.random.Generator:
    """numpy's generator in the state the draw's shared state holds now."""
    bit_generator = np.random.PCG64(0)
    bit_generator.state = bit_generator_state(sample.rng.get_value())
    return np.random.Generator(bit_generator)


DRAWS = {
    "uniform": (
        lambda s: s.uniform((2, 3), low=-1.0, high=2.0),
        lambda g: g.uniform(-1.0, 2.0, (2, 3)),
    ),
    "normal": (
        lambda s: s.normal((4,), avg=1.0, std=3.0),
        lambda g: g.normal(1.0, 3.0, (4,)),
    ),
    "binomial": (
        lambda s: s.binomial((3, 2), n=5, p=0.3),
        lambda g: g.binomial(5, 0.3, (3, 2)),
    ),
    "random_integers": (
        lambda s: s.random_integers((7,), low=-2, high=4),
        lambda g: g.integers(-2, 4, (7,), endpoint=True),
    ),
    "choice": (
        lambda s: s.choice((2, 2), a=10, replace=False),
        lambda g: g.choice(10, (2, 2), replace=False),
    ),
    "choice_p": (
        lambda s: s.choice((5,), a=np.array([1.5, 2.5, 3.5]), p=np.array([0.2, 0.5, 0.3])),
        lambda g: g.choice(np.array([1.5, 2.5, 3.5]), (5,), p=np.array([0.2, 0.5, 0.3])),
    ),
    "permutation": (
        lambda s: s.permutation((2,), n=5),
        lambda g: np.stack([g.permutation(5), g.permutation(5)]),
    ),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(DRAWS))
def test_draws_are_numpys_and_advance(name, backend):
    make, reference = DRAWS[name]
    sample = make(RandomStreams(seed=7))
    f = croton.function([], sample, backend=backend)
    for _ in range(2):  # each call continues from the state the last one left
        expected = reference(generator_of(sample))
        got = f()
        assert got.dtype == sample.dtype and got.shape == expected.shape
        np.testing.assert_array_equal(got, expected.astype(sample.dtype))


def test_successive_calls_differ_and_same_seed_repeats():
    a, b = RandomStreams(seed=3), RandomStreams(seed=3)
    fa = croton.function([], a.normal((5,)))
    fb = croton.function([], b.normal((5,)))
    first = fa()
    assert not np.array_equal(first, fa())
    np.testing.assert_array_equal(fb(), first)
    assert not np.array_equal(croton.function([], RandomStreams(seed=4).normal((5,)))(), first)


def test_draws_of_one_stream_are_independent():
    srng = RandomStreams(seed=3)
    u, v = srng.uniform((4,)), srng.uniform((4,))
    got_u, got_v = croton.function([], [u, v])()
    assert not np.array_equal(got_u, got_v)


def test_seed_reseeds_every_draw_deterministically():
    srng = RandomStreams(seed=1)
    u, n = srng.uniform((3,)), srng.normal((2,))
    f = croton.function([], [u, n])
    first = f()
    f()
    srng.seed(1)
    np.testing.assert_array_equal(f()[0], first[0])
    srng.seed(99)
    reseeded = f()
    fresh = RandomStreams(seed=99)
    expected = croton.function([], [fresh.uniform((3,)), fresh.normal((2,))])()
    for got, want in zip(reseeded, expected):
        np.testing.assert_array_equal(got, want)


def test_updates_and_state_updates():
    srng = RandomStreams(seed=1)
    u = srng.uniform((3,))
    ((state, new_state),) = srng.updates()
    assert state is u.rng and new_state is state.default_update
    assert u.update == (state, new_state)
    assert srng.state_updates == srng.updates()
    assert state.dtype == "uint64" and state.get_value().shape == (6,)
    np.testing.assert_array_equal(srng[state], state.get_value())


def test_no_default_updates_true_and_list():
    srng = RandomStreams(seed=5)
    u, v = srng.uniform((3,)), srng.uniform((3,))
    frozen = croton.function([], [u, v], no_default_updates=True)
    first = frozen()
    np.testing.assert_array_equal(frozen()[0], first[0])
    np.testing.assert_array_equal(frozen()[1], first[1])
    partly = croton.function([], [u, v], no_default_updates=[u.rng])
    got = partly()
    np.testing.assert_array_equal(got[0], first[0])
    np.testing.assert_array_equal(got[1], first[1])
    got = partly()
    np.testing.assert_array_equal(got[0], first[0])  # u's state is never advanced
    assert not np.array_equal(got[1], first[1])


def test_the_same_state_read_twice_gives_the_same_numbers():
    srng = RandomStreams(seed=5)
    u = srng.uniform((4,))
    a, b = croton.function([], [u, u * 1.0])()
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("backend", BACKENDS)
def test_symbolic_size(backend):
    srng = RandomStreams(seed=2)
    n, m = T.lscalar("n"), T.lscalar("m")
    shape = T.lvector("shape")
    by_scalars = srng.uniform((n, m))
    by_vector = srng.normal(shape, ndim=2)
    f = croton.function([n, m, shape], [by_scalars, by_vector], backend=backend)
    a, b = f(2, 5, np.array([3, 1]))
    assert a.shape == (2, 5) and b.shape == (3, 1)
    x = T.dmatrix("x")
    like = srng.uniform(x.shape, ndim=2)
    assert croton.function([x], like, backend=backend)(np.zeros((4, 2))).shape == (4, 2)


def test_static_shape_and_unknown_length_size():
    srng = RandomStreams(seed=2)
    assert srng.uniform((2, 3)).type.shape == (2, 3)
    assert srng.permutation((2,), n=4).type.shape == (2, 4)
    with pytest.raises(TypeError, match="ndim="):
        srng.uniform(T.lvector("shape"))
    with pytest.raises(ValueError, match="ndim=3"):
        srng.uniform((2, 3), ndim=3)


@pytest.mark.parametrize("backend", BACKENDS)
def test_parameters_broadcast(backend):
    srng = RandomStreams(seed=11)
    low = T.dcol("low")
    high = T.drow("high")
    sample = srng.uniform(low=low, high=high)
    sized = srng.normal((2, 3), avg=T.dvector("avg"))
    f = croton.function([low, high, sized.owner.inputs[-2]], [sample, sized], backend=backend)
    lows, highs, avgs = np.array([[0.0], [-10.0]]), np.array([[1.0, 2.0, 3.0]]), np.arange(3.0)
    g1, g2 = generator_of(sample), generator_of(sized)
    got, got_sized = f(lows, highs, avgs)
    np.testing.assert_array_equal(got, g1.uniform(lows, highs))
    np.testing.assert_array_equal(got_sized, g2.normal(avgs, 1.0, (2, 3)))
    with pytest.raises(ValueError, match="avg has length 3"):
        srng.normal((2, 4), avg=np.zeros(3))


def test_dtype_rules():
    srng = RandomStreams(seed=1)
    assert srng.uniform((2,)).dtype == croton.config.floatX
    assert srng.normal((2,), avg=T.fscalar()).dtype == "float64"  # at least floatX
    assert srng.normal((2,), dtype="float32").dtype == "float32"
    assert srng.binomial((2,)).dtype == "int64"
    assert srng.binomial((2,), p=0.5, dtype="floatX").dtype == croton.config.floatX
    assert srng.random_integers((2,), dtype="int8").dtype == "int8"
    with croton.config.change(floatX="float32"):
        assert srng.uniform((2,)).dtype == "float32"
        assert srng.uniform((2,), low=T.dscalar()).dtype == "float64"
    with pytest.raises(TypeError, match="float dtype"):
        srng.uniform((2,), dtype="int32")
    with pytest.raises(TypeError, match="n must be an integer"):
        srng.binomial((2,), n=1.5)
    f32 = croton.function([], srng.uniform((3,), dtype="float32"))
    values = f32()
    assert values.dtype == np.float32


def test_float32_values_are_the_float64_draw_rounded():
    srng = RandomStreams(seed=4)
    sample = srng.normal((5,), dtype="float32")
    expected = generator_of(sample).normal(0.0, 1.0, (5,)).astype("float32")
    np.testing.assert_array_equal(croton.function([], sample)(), expected)


def test_a_failed_call_leaves_the_state_untouched():
    srng = RandomStreams(seed=8)
    x = T.dvector("x")
    u = srng.uniform((3,))
    f = croton.function([x], u + x)
    before = u.rng.get_value()
    with pytest.raises(ValueError):
        f(np.zeros(4))  # lengths 3 and 4 do not broadcast, after the draw ran
    np.testing.assert_array_equal(u.rng.get_value(), before)
    n = T.lscalar("n")
    g = croton.function([n], srng.uniform((n,)))
    before = srng.state_updates[-1][0].get_value()
    with pytest.raises(ValueError):
        g(-1)
    np.testing.assert_array_equal(srng.state_updates[-1][0].get_value(), before)


@pytest.mark.parametrize("backend", BACKENDS)
def test_pickled_function_keeps_drawing_from_its_state(backend):
    srng = RandomStreams(seed=8)
    f = croton.function([], srng.uniform((3,)), backend=backend)
    f()
    copy = pickle.loads(pickle.dumps(f))
    np.testing.assert_array_equal(copy(), f())
    np.testing.assert_array_equal(copy(), f())


@pytest.mark.parametrize("backend", BACKENDS)
def test_dropout_training_step(backend):
    rng = np.random.default_rng(0)
    srng = RandomStreams(seed=12)
    x, y = T.dmatrix("x"), T.dvector("y")
    w = croton.shared(rng.normal(size=3), "w")
    keep = 0.8
    mask = srng.binomial(x.shape, p=keep, ndim=2, dtype="floatX")
    prediction = T.dot(x * mask / keep, w)
    cost = T.mean((prediction - y) ** 2)
    (gw,) = T.grad(cost, [w])
    train = croton.function([x, y], cost, updates=[(w, w - 0.1 * gw)], backend=backend)
    xv, yv = rng.normal(size=(6, 3)), rng.normal(size=6)
    w0 = w.get_value()
    m = generator_of(mask).binomial(1, keep, (6, 3)).astype("float64")
    expected_prediction = (xv * m / keep) @ w0
    expected_cost = np.mean((expected_prediction - yv) ** 2)
    expected_w = w0 - 0.1 * 2 * ((xv * m / keep).T @ (expected_prediction - yv)) / 6
    np.testing.assert_allclose(train(xv, yv), expected_cost, rtol=1e-12)
    np.testing.assert_allclose(w.get_value(), expected_w, rtol=1e-12)
    train(xv, yv)  # a new mask each call
    assert not np.array_equal(generator_of(mask).binomial(1, keep, (6, 3)), m)


def test_theano_import_paths():
    import croton.tensor.shared_randomstreams as module

    assert T.shared_randomstreams.RandomStreams is RandomStreams
    assert module.RandomStreams is RandomStreams
    assert T.random.RandomStreams is RandomStreams


def test_unseeded_streams_differ():
    a = croton.function([], RandomStreams().uniform((4,)))()
    b = croton.function([], RandomStreams().uniform((4,)))()
    assert not np.array_equal(a, b)
