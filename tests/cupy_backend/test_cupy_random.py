"""The cupy backend's random draws: they give exactly the numpy reference's numbers for a
state (drawn on the host by the reference kernel), on every catalogue case; on a GPU,
seeded streams draw the numpy backend's numbers call after call.

(Not ``test_random.py``: ``tests/ops`` has one, and test directories are not packages.)
"""

from __future__ import annotations

import warnings

import host_cuda
import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.backend import FallbackWarning, resolve_rules
from croton.ops.random import RandomDraw, seeded_state
from croton.tensor.shared_randomstreams import RandomStreams
from croton.testing.cases_random import random_cases
from croton.testing.compare import check_case
from croton_cupy import kernels
from croton_cupy import random as rules


def _dropout(seed=42):
    x = T.dmatrix("x")
    streams = RandomStreams(seed=seed)
    mask = streams.binomial(x.shape, p=0.5, dtype="float64")
    noise = streams.normal((2, 3))
    return [x], [x * mask, noise]


def test_the_rule_is_registered(cupy_backend):
    assert RandomDraw in cupy_backend.registry


def test_the_module_says_where_draws_are_made_and_why():
    assert "uniform draws on the device, the others on the host" in rules.__doc__
    assert "exactly the" in rules.__doc__ and "departs from" in rules.__doc__


def test_seeded_streams_lower_without_a_device(cupy_backend):
    inputs, outputs = _dropout()
    with warnings.catch_warnings():
        # ops outside the draws may still fall back to the reference backend
        warnings.simplefilter("ignore", FallbackWarning)
        f = croton.function(inputs, outputs, backend=cupy_backend, allow_fallback=True)
    draws = [n for n in f.maker.fgraph.toposort() if isinstance(n.op, RandomDraw)]
    assert len(draws) == 2
    for node, (rule, fell_back) in zip(draws, resolve_rules(draws, cupy_backend, False)):
        assert not fell_back and callable(rule(node.op, node))


# ------------------------------------------------------- the rule, run on the host


@pytest.fixture
def host(monkeypatch):
    """A host backend whose draws run the cupy rule (numpy standing in for cupy)."""
    return host_cuda.host_backend(monkeypatch, [RandomDraw])


@pytest.mark.parametrize("case", random_cases(), ids=lambda c: c.id)
def test_every_random_case_draws_the_reference_numbers_through_the_rule(host, case):
    check_case(case, host)


def test_the_state_given_is_not_written(host):
    node = RandomDraw("normal", 1, "float64")(T.vector(dtype="uint64"), 4, 0.0, 1.0)[0].owner
    state = seeded_state(3)
    before = state.copy()
    new_state, sample = host.registry.lookup(node.op)(node.op, node)(
        state, np.int64(4), np.float64(0.0), np.float64(1.0)
    )
    np.testing.assert_array_equal(state, before)
    assert new_state.dtype == np.uint64 and not np.array_equal(new_state, state)
    np.testing.assert_array_equal(
        sample, np.random.Generator(np.random.PCG64(3)).normal(0.0, 1.0, 4)
    )


def _uniform_node(dtype, ndim, low=None, high=None):
    """A uniform draw's node: the bounds are constants when given, inputs otherwise."""
    sizes = [T.lscalar() for _ in range(ndim)]
    bounds = [T.dscalar() if b is None else b for b in (low, high)]
    op = RandomDraw("uniform", ndim, dtype)
    return op(T.vector(dtype="uint64"), *sizes, *bounds)[0].owner


@pytest.fixture
def raw_sources(host, monkeypatch):
    """The source of every raw kernel the rules make from here on (run on the host)."""
    sources, host_raw = [], kernels.raw
    monkeypatch.setattr(kernels, "raw", lambda code: sources.append(code) or host_raw(code))
    return sources


def _numpy_uniform(seed, low, high, shape, dtype):
    """numpy's sample and the state vector after it."""
    from croton.ops.random import state_vector

    bit_generator = np.random.PCG64(seed)
    sample = np.random.Generator(bit_generator).uniform(low, high, shape)
    return state_vector(bit_generator.state), sample.astype(dtype)


@pytest.mark.parametrize("lanes", [1, 7, rules.LANES])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape", [(1,), (3, 4), (1000,), (5, 0)])
def test_uniform_draws_on_the_device_are_numpys_bit_for_bit(
    host, raw_sources, monkeypatch, lanes, dtype, shape
):
    monkeypatch.setattr(rules, "LANES", lanes)
    node = _uniform_node(dtype, len(shape))
    kernel = host.registry.lookup(node.op)(node.op, node)
    assert raw_sources == [rules.uniform_source(dtype)]  # a kernel, not numpy's generator
    for seed in (0, 12345):
        state = seeded_state(seed)
        before = state.copy()
        sizes = [np.int64(n) for n in shape]
        new_state, sample = kernel(state, *sizes, np.float64(-2.5), np.float64(4.0))
        want_state, want = _numpy_uniform(seed, -2.5, 4.0, shape, dtype)
        assert sample.dtype == np.dtype(dtype) and sample.shape == shape
        np.testing.assert_array_equal(sample, want)
        np.testing.assert_array_equal(new_state, want_state)
        np.testing.assert_array_equal(state, before)


def test_a_long_uniform_stream_keeps_numpys_numbers_draw_after_draw(host, monkeypatch):
    # a million values over 64 lanes: every lane jumps and then steps 15,625 times
    monkeypatch.setattr(rules, "LANES", 64)
    node = _uniform_node("float64", 1, 0.0, 1.0)
    kernel = host.registry.lookup(node.op)(node.op, node)
    generator = np.random.Generator(np.random.PCG64(7))
    state = seeded_state(7)
    for size in (1_000_000, 3, 64):
        state, sample = kernel(state, np.int64(size), None, None)  # constants: values unread
        np.testing.assert_array_equal(sample, generator.uniform(0.0, 1.0, size))


@pytest.mark.parametrize(
    ("low", "high", "error", "message"),
    [
        (1.0, 0.5, ValueError, "high - low < 0"),
        (-1e308, 1e308, OverflowError, "range exceeds"),
        (np.nan, 1.0, OverflowError, "range exceeds"),
    ],
)
def test_bad_uniform_bounds_raise_numpys_errors(host, low, high, error, message):
    with pytest.raises(error, match=message):
        np.random.Generator(np.random.PCG64(0)).uniform(low, high, 2)
    node = _uniform_node("float64", 1)
    kernel = host.registry.lookup(node.op)(node.op, node)
    with pytest.raises(error, match=message):
        kernel(seeded_state(0), np.int64(2), np.float64(low), np.float64(high))


def test_uniform_draws_with_tensor_bounds_and_other_draws_stay_on_the_host(host, raw_sources):
    nodes = [
        RandomDraw("uniform", 1, "float64")(T.vector(dtype="uint64"), 3, T.dvector(), 1.0),
        RandomDraw("normal", 1, "float64")(T.vector(dtype="uint64"), 3, 0.0, 1.0),
    ]
    for node in (n[0].owner for n in nodes):
        host.registry.lookup(node.op)(node.op, node)
    assert raw_sources == []


def test_streams_advance_call_after_call_like_numpy(host):
    inputs, outputs = _dropout()
    reference = croton.function(inputs, outputs, backend="numpy")
    inputs, outputs = _dropout()
    on_host = croton.function(inputs, outputs, backend=host)
    xv = np.ones((4, 5))
    for _ in range(3):
        for expected, actual in zip(reference(xv), on_host(xv)):
            np.testing.assert_array_equal(actual, expected)


# ---------------------------------------------------------------------------- on a GPU


@pytest.mark.parametrize("case", random_cases(), ids=lambda c: c.id)
def test_every_random_case_draws_the_reference_numbers_on_the_gpu(gpu, case):
    check_case(case, "cupy")


def test_seeded_streams_draw_the_numpy_backends_numbers_on_the_gpu(gpu):
    inputs, outputs = _dropout()
    reference = croton.function(inputs, outputs, backend="numpy")
    inputs, outputs = _dropout()
    device = croton.function(inputs, outputs, backend="cupy")
    xv = np.ones((4, 5))
    for _ in range(3):
        for expected, actual in zip(reference(xv), device(xv)):
            assert actual.dtype == expected.dtype
            np.testing.assert_array_equal(actual, expected)
