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
from croton_cupy import random as rules


def _dropout(seed=42):
    x = T.dmatrix("x")
    streams = RandomStreams(seed=seed)
    mask = streams.binomial(x.shape, p=0.5, dtype="float64")
    noise = streams.normal((2, 3))
    return [x], [x * mask, noise]


def test_the_rule_is_registered(cupy_backend):
    assert RandomDraw in cupy_backend.registry


def test_the_module_says_draws_are_made_on_the_host():
    assert "made on the host" in rules.__doc__
    assert "the same numbers on every backend" in rules.__doc__
    assert "departs from" in rules.__doc__


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
