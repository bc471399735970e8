"""scan's early stop (``croton.scan_module.until``), against numpy loops on the numpy and
numba backends; on numba the loop must be jitted (a SegmentWarning is an error here)."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.gradient import verify_grad
from croton.ops.scan import Scan, apply_scan
from croton.scan_module import until

os.environ.setdefault("CROTON_FLAGS", "numba_parallel=False")


@pytest.fixture(params=["numpy", "numba"])
def backend(request):
    return request.param


def _compile(inputs, outputs, backend, **kwargs):
    with warnings.catch_warnings():
        if backend == "numba":
            from croton_numba.backend import SegmentWarning

            warnings.simplefilter("error", SegmentWarning)
        return croton.function(inputs, outputs, backend=backend, **kwargs)


def _powers_numpy(limit, n_steps):
    values, p = [], 1.0
    for _ in range(n_steps):
        p = p * 2
        values.append(p)
        if p > limit:
            break
    return np.array(values)


def _power_of_2(previous_power, max_value):
    return previous_power * 2, croton.scan_module.until(previous_power * 2 > max_value)


def test_theano_tutorial_example(backend):
    max_value = T.scalar()
    values, _ = croton.scan(
        _power_of_2, outputs_info=T.constant(1.0), non_sequences=max_value, n_steps=1024
    )
    f = _compile([max_value], values, backend)
    np.testing.assert_array_equal(f(45), _powers_numpy(45, 1024))
    np.testing.assert_array_equal(f(45), [2.0, 4.0, 8.0, 16.0, 32.0, 64.0])


@pytest.mark.parametrize("limit", [0.5, 45.0, 1e9])
def test_stops_early_at_first_step_or_never(backend, limit):
    max_value = T.dscalar("max_value")
    values, _ = croton.scan(
        _power_of_2, outputs_info=T.constant(1.0), non_sequences=max_value, n_steps=12
    )
    result = _compile([max_value], values, backend)(limit)
    expected = _powers_numpy(limit, 12)
    assert result.shape == expected.shape and result.dtype == expected.dtype
    np.testing.assert_array_equal(result, expected)


def test_static_length_unknown_and_infer_shape(backend):
    max_value = T.dscalar("max_value")
    values, _ = croton.scan(
        _power_of_2, outputs_info=T.constant(1.0), non_sequences=max_value, n_steps=10
    )
    assert values.type.shape == (None,)
    assert isinstance(values.owner.op, Scan) and values.owner.op.has_until
    f = _compile([max_value], [values.shape[0], values[-1]], backend)
    length, last = f(100.0)
    expected = _powers_numpy(100.0, 10)
    assert int(length) == len(expected) and float(last) == expected[-1]


def test_n_steps_zero(backend):
    max_value = T.dscalar("max_value")
    n = T.lscalar("n")
    values, _ = croton.scan(
        _power_of_2, outputs_info=T.constant(1.0), non_sequences=max_value, n_steps=n
    )
    f = _compile([max_value, n], values, backend)
    assert f(5.0, 0).shape == (0,)
    np.testing.assert_array_equal(f(5.0, 2), [2.0, 4.0])


def _cumulative_until(x, limit):
    def step(row, total, limit):
        new = total + row
        return [new, new * 2], until(T.sum(new) > limit)

    (totals, doubled), _ = croton.scan(
        step, sequences=x, outputs_info=[T.zeros_like(x[0]), None], non_sequences=limit
    )
    return totals, doubled


def _cumulative_numpy(x, limit, n_steps=None):
    steps = len(x) if n_steps is None else min(n_steps, len(x))
    totals, total = [], np.zeros(x.shape[1:])
    for t in range(steps):
        total = total + x[t]
        totals.append(total)
        if total.sum() > limit:
            break
    return np.array(totals).reshape(-1, *x.shape[1:])


@pytest.mark.parametrize("limit", [-100.0, 3.0, 100.0])
def test_sequences_with_mapped_output(backend, limit):
    x, lim = T.dmatrix("x"), T.dscalar("limit")
    totals, doubled = _cumulative_until(x, lim)
    f = _compile([x, lim], [totals, doubled, totals[-1]], backend)
    xv = np.abs(np.random.default_rng(0).normal(size=(7, 3)))
    got_totals, got_doubled, got_last = f(xv, limit)
    expected = _cumulative_numpy(xv, limit)
    np.testing.assert_allclose(got_totals, expected)
    np.testing.assert_allclose(got_doubled, expected * 2)
    np.testing.assert_allclose(got_last, expected[-1])


def test_no_rows_no_steps(backend):
    x, s0, lim = T.dmatrix("x"), T.dvector("s0"), T.dscalar("limit")

    def step(row, total, limit):
        new = total + row
        return [new, new * 2], until(T.sum(new) > limit)

    (totals, doubled), _ = croton.scan(
        step, sequences=x, outputs_info=[s0, None], non_sequences=lim, n_steps=4
    )
    f = _compile([x, s0, lim], [totals, doubled], backend)
    empty_totals, empty_doubled = f(np.zeros((0, 3)), np.ones(3), 1.0)
    assert empty_totals.shape == empty_doubled.shape == (0, 3)
    got_totals, got_doubled = f(np.ones((6, 3)), np.ones(3), 5.0)
    np.testing.assert_array_equal(got_totals, [[2.0] * 3])  # 6 > 5 after the first step
    np.testing.assert_array_equal(got_doubled, [[4.0] * 3])


@pytest.mark.parametrize("n_steps", [3, 20])
def test_sequence_shorter_than_n_steps(backend, n_steps):
    x, lim = T.dvector("x"), T.dscalar("limit")

    def step(row, total, limit):
        new = total + row
        return new, until(new > limit)

    totals, _ = croton.scan(
        step, sequences=x, outputs_info=T.constant(0.0), non_sequences=lim, n_steps=n_steps
    )
    f = _compile([x, lim], totals, backend)
    xv = np.arange(1.0, 6.0)
    for limit in (1e9, 4.0):
        np.testing.assert_array_equal(
            f(xv, limit), _cumulative_numpy(xv[:, None], limit, n_steps)[:, 0]
        )


def test_until_orders_and_updates(backend):
    counter = croton.shared(np.float64(0.0), "counter")
    lim = T.dscalar("limit")

    def step(p, limit):
        return p * 3, {counter: counter + 1}, until(p * 3 > limit)

    values, updates = croton.scan(step, outputs_info=T.constant(1.0), non_sequences=lim, n_steps=9)
    f = _compile([lim], values, backend, updates=updates)
    first = f(50.0)
    expected = [3.0, 9.0, 27.0, 81.0]
    np.testing.assert_array_equal(first, expected)
    assert float(counter.get_value()) == len(expected)
    f(1e9)  # no stop: all nine steps run
    assert float(counter.get_value()) == len(expected) + 9


def test_until_with_only_updates(backend):
    total = croton.shared(np.float64(0.0), "total")
    lim = T.dscalar("limit")

    def step(limit):
        return {total: total + 2.0}, until(total + 2.0 >= limit)

    _, updates = croton.scan(step, non_sequences=lim, n_steps=100)
    f = _compile([lim], [], backend, updates=updates)
    f(7.0)
    assert float(total.get_value()) == 8.0  # 2, 4, 6, 8: stops after 8 >= 7


def test_numeric_condition(backend):
    lim = T.dscalar("limit")
    values, _ = croton.scan(
        lambda p, limit: (p + 1, until(T.cast(p + 1 >= limit, "int32"))),
        outputs_info=T.constant(0.0),
        non_sequences=lim,
        n_steps=10,
    )
    np.testing.assert_array_equal(_compile([lim], values, backend)(3.0), [1.0, 2.0, 3.0])


def test_ring_buffer_of_last_values(backend):
    """A state kept as its last 2 values (a ring on numba), stopped early."""
    lim = T.dscalar("limit")
    a, b = T.dscalar("a"), T.dscalar("b")  # state at t-2, t-1
    limit_inner = T.dscalar("limit_inner")
    new = a + b
    (last,) = apply_scan(
        T.constant(np.int64(30)),
        [],
        [
            {
                "initial": T.constant(np.array([1.0, 1.0])),
                "taps": [-2, -1],
                "inner": {-2: a, -1: b},
                "output": new,
                "keep": "last",
            }
        ],
        [],
        [(lim, limit_inner)],
        until=new > limit_inner,
    )
    f = _compile([lim], last, backend)
    for limit in (0.0, 10.0, 100.0, 1e12):
        values = [1.0, 1.0]
        for _ in range(30):
            values.append(values[-1] + values[-2])
            if values[-1] > limit:
                break
        np.testing.assert_array_equal(f(limit), values[-2:])


def test_pruned_outputs_keep_the_condition(backend):
    """The condition reads a state nobody else reads: the loop still stops on it."""
    lim = T.dscalar("limit")

    def step(p, count, limit):
        return [p * 2, count + 1], until(count + 1 >= limit)

    (powers, _counts), _ = croton.scan(
        step, outputs_info=[T.constant(1.0), T.constant(0.0)], non_sequences=lim, n_steps=50
    )
    f = _compile([lim], powers, backend)
    np.testing.assert_array_equal(f(4.0), [2.0, 4.0, 8.0, 16.0])


def _rnn_until(x, w, h0):
    def step(row, h, w):
        new = T.tanh(row * w + h)
        return new, until(new > 0.9)

    return croton.scan(step, sequences=x, outputs_info=h0, non_sequences=w)[0]


def _rnn_until_numpy(x, w, h0):
    hs, h = [], h0
    for row in x:
        h = np.tanh(row * w + h)
        hs.append(h)
        if h > 0.9:
            break
    return np.array(hs)


def test_gradient_against_hand_derived(backend):
    x, w, h0 = T.dvector("x"), T.dscalar("w"), T.dscalar("h0")
    hs = _rnn_until(x, w, h0)
    cost = (hs**2).sum()
    gx, gw, gh0 = croton.grad(cost, [x, w, h0])
    f = _compile([x, w, h0], [hs, gx, gw, gh0], backend)
    xv, wv, h0v = np.array([0.1, 0.3, 0.5, 0.9, 0.2, 0.4]), 1.3, 0.2
    got_hs, got_gx, got_gw, got_gh0 = f(xv, wv, h0v)
    expected = _rnn_until_numpy(xv, wv, h0v)
    assert 0 < len(expected) < len(xv)  # the loop does stop early
    np.testing.assert_allclose(got_hs, expected)
    # backpropagation through the steps run, by hand
    adjoint, ex_gx, ex_gw = 0.0, np.zeros_like(xv), 0.0
    for t in reversed(range(len(expected))):
        adjoint += 2 * expected[t]
        local = adjoint * (1 - expected[t] ** 2)
        ex_gx[t] = local * wv
        ex_gw += local * xv[t]
        adjoint = local  # d h[t] / d h[t-1] = 1 - h[t]**2
    np.testing.assert_allclose(got_gx, ex_gx)
    np.testing.assert_allclose(got_gw, ex_gw)
    np.testing.assert_allclose(got_gh0, adjoint)


def test_verify_grad():
    rng = np.random.default_rng(3)
    xv = np.array([0.1, 0.3, 0.5, 0.9, 0.2, 0.4])
    verify_grad(
        lambda x, w, h0: _rnn_until(x, w, h0).sum(), [xv, np.array(1.3), np.array(0.2)], rng=rng
    )

    def mapped(x, w):
        def step(row, w):
            y = T.sin(row * w)
            return y, until(row > 0.8)

        return croton.scan(step, sequences=x, non_sequences=w)[0]

    verify_grad(lambda x, w: (mapped(x, w) ** 2).sum(), [xv, np.array(0.7)], rng=rng)


def test_bad_conditions():
    x = T.dvector("x")
    with pytest.raises(TypeError, match="until: the condition must be a scalar"):
        until(x > 0)
    with pytest.raises(ValueError, match="more than one until"):
        croton.scan(
            lambda p: (p * 2, until(p > 1), until(p > 2)), outputs_info=T.constant(1.0), n_steps=3
        )


def test_croton_names():
    import croton as theano

    a, b = T.dmatrix("a"), T.dmatrix("b")
    f = theano.function([a, b], theano.dot(a, b), backend="numpy")
    av, bv = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    np.testing.assert_allclose(f(av, bv), av @ bv)
    assert theano.scan_module.until is until
    assert theano.scan_module.scan is theano.scan
