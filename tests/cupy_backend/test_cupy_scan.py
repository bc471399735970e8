"""The cupy backend's scan rule: it lowers (its inner graph compiled by the cupy backend),
its host loop agrees with the numpy reference on every catalogue case (run on the host
with numpy standing in for cupy), and on a GPU a recurrent layer and its gradients
agree with numpy.

(Not ``test_scan.py``: ``tests/ops`` has one, and test directories are not packages.)
"""

from __future__ import annotations

import warnings

import host_cuda
import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.backend import FallbackWarning, resolve_rules
from croton.ops.scan import Scan
from croton.testing.cases_scan import scan_cases
from croton.testing.compare import check_case


def _rnn():
    x, w, u = T.dmatrix("x"), T.dmatrix("w"), T.dmatrix("u")
    h0 = T.dvector("h0")
    hs = croton.scan(
        lambda row, h: T.tanh(T.dot(row, w) + T.dot(h, u)), sequences=x, outputs_info=h0
    )[0]
    cost = (hs**2).sum()
    return [x, w, u, h0], [hs, *croton.grad(cost, [x, w, u, h0])]


def test_the_rule_is_registered(cupy_backend):
    assert Scan in cupy_backend.registry


def test_a_recurrent_layer_and_its_gradient_lower_without_a_device(cupy_backend):
    inputs, outputs = _rnn()
    with warnings.catch_warnings():
        # ops outside the loops may still fall back to the reference backend
        warnings.simplefilter("ignore", FallbackWarning)
        f = croton.function(inputs, outputs, backend=cupy_backend, allow_fallback=True)
    loops = [n for n in f.maker.fgraph.toposort() if isinstance(n.op, Scan)]
    assert len(loops) >= 2  # forward and backward in time
    for node, (rule, fell_back) in zip(loops, resolve_rules(loops, cupy_backend, False)):
        assert not fell_back and callable(rule(node.op, node))


# --------------------------------------------------- the host loop, run on the host


@pytest.fixture
def host(monkeypatch):
    """A host backend whose scans run the cupy rule (numpy standing in for cupy)."""
    return host_cuda.host_backend(monkeypatch, [Scan])


@pytest.mark.parametrize("case", scan_cases(), ids=lambda c: c.id)
def test_every_scan_case_agrees_with_numpy_through_the_rule(host, case):
    check_case(case, host)


def test_zero_steps_give_trial_shapes_and_empty_histories(host):
    x = T.dmatrix("x")
    s0 = T.dvector("s0")
    (totals, doubled), _ = croton.scan(
        lambda row, s: [s + row, T.concatenate([row, row])], sequences=x, outputs_info=[s0, None]
    )
    outputs = [totals, doubled]
    reference = croton.function([x, s0], outputs, backend="numpy")
    on_host = croton.function([x, s0], outputs, backend=host)
    args = (np.zeros((0, 3)), np.ones(3))
    for expected, actual in zip(reference(*args), on_host(*args)):
        assert actual.shape == expected.shape and actual.dtype == expected.dtype
    assert on_host(*args)[1].shape == (0, 6)


def test_an_until_loop_longer_than_its_first_buffer(host):
    # buffers of a loop that may stop early start small and grow: 40 steps cross that
    x = T.dvector("x")
    (values, squares), _ = croton.scan(
        lambda s: ([s + 1.0, s**2], croton.scan_module.until(s > 38.5)),
        outputs_info=[x[0], None],
        n_steps=100,
    )
    reference = croton.function([x], [values, squares], backend="numpy")
    on_host = croton.function([x], [values, squares], backend=host)
    for expected, actual in zip(reference(np.zeros(1)), on_host(np.zeros(1))):
        assert actual.shape == expected.shape == (40,)
        np.testing.assert_array_equal(actual, expected)


def test_errors_name_the_loop(host):
    x = T.dmatrix("x")
    s0 = T.dvector("s0")
    n = T.lscalar("n")
    hs = croton.scan(lambda row, s: s + row, sequences=x, outputs_info=s0, n_steps=n, name="acc")[0]
    f = croton.function([x, s0, n], hs, backend=host)
    with pytest.raises(ValueError, match="scan 'acc': sequence 0 has 2 rows but the loop runs 3"):
        f(np.zeros((2, 3)), np.zeros(3), 3)
    with pytest.raises(ValueError, match="number of steps is negative"):
        f(np.zeros((2, 3)), np.zeros(3), -1)


# ---------------------------------------------------------------------------- on a GPU


def test_a_recurrent_layer_with_gradients_matches_numpy_on_the_gpu(gpu):
    inputs, outputs = _rnn()
    reference = croton.function(inputs, outputs, backend="numpy")
    device = croton.function(inputs, outputs, backend="cupy")
    rng = np.random.default_rng(0)
    args = [rng.normal(size=s) * 0.5 for s in ((7, 3), (3, 4), (4, 4), (4,))]
    for expected, actual in zip(reference(*args), device(*args)):
        assert actual.dtype == expected.dtype and actual.shape == expected.shape
        np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", scan_cases(), ids=lambda c: c.id)
def test_every_scan_case_agrees_with_numpy_on_the_gpu(gpu, case):
    check_case(case, "cupy")
