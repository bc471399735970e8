"""scan's early stop (``until``) on jax: the loop runs eagerly and stops after the first
step whose condition holds; results against numpy loops and the numpy backend."""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.ops.scan import apply_scan
from croton.scan_module import until


def _both(inputs, outputs, **kwargs):
    return [croton.function(inputs, outputs, backend=b, **kwargs) for b in ("jax", "numpy")]


def _powers_numpy(limit, n_steps):
    values, p = [], 1.0
    for _ in range(n_steps):
        p = p * 2
        values.append(p)
        if p > limit:
            break
    return np.array(values)


def test_theano_tutorial_example():
    def power_of_2(previous_power, max_value):
        return previous_power * 2, croton.scan_module.until(previous_power * 2 > max_value)

    max_value = T.scalar()
    values, _ = croton.scan(
        power_of_2, outputs_info=T.constant(1.0), non_sequences=max_value, n_steps=1024
    )
    f = croton.function([max_value], values, backend="jax")
    np.testing.assert_array_equal(np.asarray(f(45)), [2.0, 4.0, 8.0, 16.0, 32.0, 64.0])
    for limit in (0.5, 1e6, 1e308):
        np.testing.assert_array_equal(np.asarray(f(limit)), _powers_numpy(limit, 1024))


@pytest.mark.parametrize("n_steps", [3, 20])
def test_sequences_mapped_outputs_and_last_value(n_steps):
    x, lim = T.dmatrix("x"), T.dscalar("limit")

    def step(row, total, limit):
        new = total + row
        return [new, T.exp(new)], until(T.sum(new) > limit)

    (totals, exps), _ = croton.scan(
        step,
        sequences=x,
        outputs_info=[T.zeros_like(x[0]), None],
        non_sequences=lim,
        n_steps=n_steps,
    )
    jax_f, numpy_f = _both([x, lim], [totals, exps, totals[-1]])
    xv = np.abs(np.random.default_rng(0).normal(size=(7, 3)))
    for limit in (-1.0, 4.0, 1e9):
        expected, total = [], np.zeros(3)
        for t in range(min(n_steps, 7)):
            total = total + xv[t]
            expected.append(total)
            if total.sum() > limit:
                break
        got = [np.asarray(v) for v in jax_f(xv, limit)]
        np.testing.assert_allclose(got[0], expected)
        np.testing.assert_allclose(got[1], np.exp(expected))
        np.testing.assert_allclose(got[2], expected[-1])
        for a, b in zip(got, numpy_f(xv, limit), strict=True):
            assert a.dtype == b.dtype and a.shape == b.shape


def test_shared_updates_stop_with_the_loop():
    counter = croton.shared(np.float64(0.0), "counter")
    lim = T.dscalar("limit")
    values, updates = croton.scan(
        lambda p, limit: (p * 3, {counter: counter + 1}, until(p * 3 > limit)),
        outputs_info=T.constant(1.0),
        non_sequences=lim,
        n_steps=9,
    )
    f = croton.function([lim], values, updates=updates, backend="jax")
    np.testing.assert_array_equal(np.asarray(f(50.0)), [3.0, 9.0, 27.0, 81.0])
    assert float(counter.get_value()) == 4.0


def test_ring_of_last_values():
    lim, a, b, inner_limit = T.dscalar("limit"), T.dscalar("a"), T.dscalar("b"), T.dscalar()
    (last,) = apply_scan(
        T.constant(np.int64(30)),
        [],
        [
            {
                "initial": T.constant(np.array([1.0, 1.0])),
                "taps": [-2, -1],
                "inner": {-2: a, -1: b},
                "output": a + b,
                "keep": "last",
            }
        ],
        [],
        [(lim, inner_limit)],
        until=a + b > inner_limit,
    )
    f = croton.function([lim], last, backend="jax")
    for limit in (0.0, 10.0, 1e12):
        values = [1.0, 1.0]
        for _ in range(30):
            values.append(values[-1] + values[-2])
            if values[-1] > limit:
                break
        np.testing.assert_array_equal(np.asarray(f(limit)), values[-2:])


def test_gradient_matches_numpy_backend():
    x, w, h0 = T.dvector("x"), T.dscalar("w"), T.dscalar("h0")

    def step(row, h, w):
        new = T.tanh(row * w + h)
        return new, until(new > 0.9)

    hs = croton.scan(step, sequences=x, outputs_info=h0, non_sequences=w)[0]
    grads = croton.grad((hs**2).sum(), [x, w, h0])
    jax_f, numpy_f = _both([x, w, h0], [hs, *grads])
    xv = np.array([0.1, 0.3, 0.5, 0.9, 0.2, 0.4])
    got, expected = jax_f(xv, 1.3, 0.2), numpy_f(xv, 1.3, 0.2)
    assert 0 < len(expected[0]) < len(xv)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(np.asarray(a), b, rtol=1e-12)
