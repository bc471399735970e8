"""`Scan` as one ``lax.scan``: the graphs of croton's own scan tests, on jax and numpy.

Each graph is compiled on both backends and the results must agree (`Pair.check`);
where the graph has shared variables, the expected values come from a numpy loop.
"""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.gradient import hessian, jacobian, verify_grad
from croton.ops.scan import Scan, apply_scan

RNG = np.random.default_rng(11)


def _rnn(X, W, U, b, h0, **kwargs):
    return croton.scan(
        lambda x, h: T.tanh(T.dot(x, W) + T.dot(h, U) + b), sequences=X, outputs_info=h0, **kwargs
    )[0]


def _rnn_data(steps=5):
    return [
        RNG.normal(size=(steps, 3)),
        RNG.normal(size=(3, 4)),
        RNG.normal(size=(4, 4)) * 0.5,
        RNG.normal(size=4),
        RNG.normal(size=4),
    ]


def _rnn_inputs():
    return T.matrix("X"), T.matrix("W"), T.matrix("U"), T.vector("b"), T.vector("h0")


def _is_one_jitted_program(f) -> bool:
    return Scan in f.op_classes() and "-- eager --" not in f.jax.source()


def test_power_by_repeated_multiplication(pair):
    k = T.iscalar("k")
    A = T.vector("A")
    result, updates = croton.scan(
        lambda prior, A: prior * A, outputs_info=T.ones_like(A), non_sequences=A, n_steps=k
    )
    f = pair([A, k], [result, result[-1:]], updates=updates)
    assert _is_one_jitted_program(f)
    a = np.arange(1.0, 6.0)
    got = f.check(a, 4)
    np.testing.assert_allclose(got[0][-1], a**4)
    f.check(a, 1)
    f.check(a, 0)  # zero steps: an empty (0, 5) history


def test_polynomial_with_sequences_and_arange(pair):
    coefficients = T.vector("coefficients")
    x = T.scalar("x")
    components, _ = croton.scan(
        lambda c, power, x: c * x**power,
        sequences=[coefficients, T.arange(1000)],
        non_sequences=x,
    )
    f = pair([coefficients, x], [components, components.sum()])
    assert _is_one_jitted_program(f)
    c = np.array([1.0, 0.0, 2.0, -3.0])
    got = f.check(c, 3.0)
    np.testing.assert_allclose(got[1], np.polyval(c[::-1], 3.0))
    f.check(np.zeros(0), 3.0)


def test_state_and_mapped_output(pair):
    v = T.vector("v")
    (running, doubled), _ = croton.scan(
        lambda x, acc: [acc + x, 2 * x], sequences=v, outputs_info=[T.zeros((), "float64"), None]
    )
    f = pair([v], [running, doubled])
    data = np.array([1.0, 2.0, 3.5, -1.0])
    got = f.check(data)
    np.testing.assert_allclose(got[0], np.cumsum(data))
    f.check(np.zeros(0))


def test_recurrent_layer(pair):
    X, W, U, b, h0 = _rnn_inputs()
    f = pair([X, W, U, b, h0], _rnn(X, W, U, b, h0))
    assert _is_one_jitted_program(f)
    f.check(*_rnn_data())
    f.check(*_rnn_data(steps=1))


def test_float32_and_integer_states(pair):
    x = T.fvector("x")
    n = T.lvector("n")
    (total, count, scaled), _ = croton.scan(
        lambda v, k, acc, c: [acc * 0.5 + v, c + k, v * 2],
        sequences=[x, n],
        outputs_info=[T.zeros((), "float32"), T.zeros((), "int64"), None],
    )
    f = pair([x, n], [total, count, scaled])
    got = f.check(RNG.normal(size=6).astype("float32"), np.arange(6))
    assert [g.dtype for g in got] == [np.float32, np.int64, np.float32]


def test_fibonacci_with_two_taps(pair):
    n = T.iscalar("n")
    x0 = T.vector("x0")
    fib, _ = croton.scan(
        lambda a, b: a + b, outputs_info=dict(initial=x0, taps=[-2, -1]), n_steps=n
    )
    f = pair([x0, n], fib)
    assert _is_one_jitted_program(f)
    got = f.check([0.0, 1.0], 8)
    values = [0.0, 1.0]
    for _ in range(8):
        values.append(values[-2] + values[-1])
    np.testing.assert_allclose(got, values[2:])
    f.check([0.0, 1.0], 1)
    f.check([0.0, 1.0], 0)


def test_sequence_taps(pair):
    x = T.vector("x")
    out, _ = croton.scan(
        lambda before, now, after: before - 2 * now + after,
        sequences=dict(input=x, taps=[-1, 0, 1]),
    )
    f = pair([x], out)
    data = np.array([1.0, 4.0, 9.0, 16.0, 25.0, 36.0])
    got = f.check(data)
    np.testing.assert_allclose(got, data[:-2] - 2 * data[1:-1] + data[2:])


def test_go_backwards_and_n_steps(pair):
    x = T.vector("x")
    backwards, _ = croton.scan(lambda v: v * 10, sequences=x, go_backwards=True)
    limited, _ = croton.scan(lambda v: v + 1, sequences=x, n_steps=3)
    negative, _ = croton.scan(lambda v: v, sequences=x, n_steps=-2)
    f = pair([x], [backwards, limited, negative])
    data = np.array([1.0, 2.0, 3.0, 4.0])
    got = f.check(data)
    np.testing.assert_allclose(got[0], data[::-1] * 10)
    np.testing.assert_allclose(got[2], data[::-1][:2])


def _last_values_scan(n):
    """A state that keeps its last two values (what shared updates and gradients use)."""
    buffer = T.matrix("buffer")
    older, newer, row = T.vector("older"), T.vector("newer"), T.vector("row")
    sequence = T.matrix("sequence")
    last, mapped = apply_scan(
        n,
        [(sequence, row)],
        [
            {
                "initial": buffer,
                "taps": [-2, -1],
                "inner": {-2: older, -1: newer},
                "output": older * 0.5 + newer + row,
                "keep": "last",
            }
        ],
        [newer.sum() * row],
        [],
    )
    return [buffer, sequence], [last, mapped]


@pytest.mark.parametrize("steps", [0, 1, 2, 5])
def test_state_keeping_its_last_values(pair, steps):
    n = T.lscalar("n")
    inputs, outputs = _last_values_scan(n)
    f = pair([*inputs, n], outputs)
    assert _is_one_jitted_program(f)
    got = f.check(RNG.normal(size=(2, 3)), RNG.normal(size=(5, 3)), np.asarray(steps))
    assert got[0].shape == (2, 3) and len(got[1]) == steps


def test_shared_variable_updated_inside_the_loop():
    count = croton.shared(np.asarray(0.0), "count")
    x = T.vector("x")

    def step(v):
        return v + count, {count: count + 1}

    out, updates = croton.scan(step, sequences=x)
    f = croton.function([x], out, updates=updates, backend="jax")
    data = np.array([10.0, 20.0, 30.0])
    np.testing.assert_allclose(f(data), data + np.arange(3.0))
    assert count.get_value() == 3.0
    np.testing.assert_allclose(f(np.array([0.0])), [3.0])
    assert count.get_value() == 4.0
    np.testing.assert_allclose(f(np.zeros(0)), np.zeros(0))
    assert count.get_value() == 4.0


def test_default_update_is_a_loop_state():
    state = croton.shared(np.asarray(7, dtype="uint64"), "state")
    x = T.vector("x")

    def step(v):
        drawn = state * np.uint64(3) + np.uint64(1)
        state.default_update = drawn
        return v + drawn.astype("float64")

    out, updates = croton.scan(step, sequences=x)
    state.default_update = None
    f = croton.function([x], out, updates=updates, backend="jax")
    s, expected = 7, []
    for v in [1.0, 2.0, 3.0]:
        s = s * 3 + 1
        expected.append(v + s)
    np.testing.assert_allclose(f(np.array([1.0, 2.0, 3.0])), expected)
    assert int(state.get_value()) == s


def test_rnn_gradients_equal_the_numpy_backend(pair):
    X, W, U, b, h0 = _rnn_inputs()
    dh = T.matrix("dh")
    h = _rnn(X, W, U, b, h0)
    f = pair([X, W, U, b, h0, dh], croton.grad((h * dh).sum(), [X, W, U, b, h0]))
    assert _is_one_jitted_program(f)
    f.check(*_rnn_data(), RNG.normal(size=(5, 4)), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("truncate", [2, 10])
def test_truncated_gradient(pair, truncate):
    X, W, U, b, h0 = _rnn_inputs()
    h = _rnn(X, W, U, b, h0, truncate_gradient=truncate)
    f = pair([X, W, U, b, h0], croton.grad((h**2).sum(), [X, W, U, b, h0]))
    f.check(*_rnn_data(), rtol=1e-10, atol=1e-12)


def test_rnn_gradient_by_finite_differences():
    verify_grad(_rnn, _rnn_data(steps=4), backend="jax")


def test_gradient_through_taps_and_backwards(pair):
    x, x0, w = T.vector("x"), T.vector("x0"), T.scalar("w")
    out, _ = croton.scan(
        lambda s_prev, a, b, w: T.sin(a * w) + b * s_prev,
        sequences=dict(input=x, taps=[-1]),
        outputs_info=dict(initial=x0, taps=[-2, -1]),
        non_sequences=w,
        go_backwards=True,
    )
    f = pair([x, x0, w], [out, *croton.grad((out**2).sum(), [x, x0, w])])
    f.check(RNG.normal(size=6), RNG.normal(size=3), np.asarray(0.7), rtol=1e-10, atol=1e-12)


def test_gradient_of_shared_state_update(pair):
    x, s0 = T.matrix("x"), T.vector("s0")
    acc = croton.shared(np.zeros(2), "acc")
    out, updates = croton.scan(lambda v, s: (v * s, {acc: acc + v}), sequences=x, outputs_info=s0)
    (last,) = updates.values()
    cost = out.sum() + (last**2).sum()
    f = pair([x, s0], [cost, *croton.grad(cost, [x, s0])])
    f.check(RNG.normal(size=(3, 2)), RNG.normal(size=2), rtol=1e-10, atol=1e-12)


def test_jacobian_and_hessian_of_a_scan(pair):
    x = T.vector("x")
    out, _ = croton.scan(lambda v, acc: acc * v + T.sin(v), sequences=x, outputs_info=T.zeros(()))
    f = pair([x], [out, jacobian(out, x), hessian(out[-1], x)])
    f.check(np.array([0.3, -0.7, 1.1]), rtol=1e-10, atol=1e-12)


def test_constant_that_decides_a_shape_stays_jitted(pair):
    x = T.matrix("x")
    m = T.lscalar("m")
    out, _ = croton.scan(lambda row, m: row[:m].sum(), sequences=x, non_sequences=m)
    f = pair([x, m], out)
    assert _is_one_jitted_program(f)
    data = RNG.normal(size=(4, 5))
    f.check(data, np.asarray(3))
    f.check(data, np.asarray(0))


def test_state_that_decides_a_shape_runs_step_by_step(pair):
    k0 = T.lscalar("k0")
    x = T.vector("x")
    (k, prefix), _ = croton.scan(
        lambda k, x: [k + 1, x[:k].sum()], outputs_info=[k0, None], non_sequences=x, n_steps=4
    )
    f = pair([k0, x], [k, prefix])
    assert "-- eager --" in f.jax.source()
    f.check(np.asarray(1), RNG.normal(size=6))


def test_inner_graph_with_a_data_mask_runs_step_by_step(pair):
    x = T.matrix("x")
    h0 = T.scalar("h0")
    out, _ = croton.scan(lambda row, h: row[row > h].sum() * 0.5, sequences=x, outputs_info=h0)
    f = pair([x, h0], out)
    assert "-- eager --" in f.jax.source()
    f.check(RNG.normal(size=(4, 5)), np.asarray(0.1))
    f.check(np.zeros((0, 5)), np.asarray(0.1))


def test_index_checks_inside_the_loop(pair):
    x = T.vector("x")
    i = T.lvector("i")
    out, _ = croton.scan(lambda j, x: x[j] * 2, sequences=i, non_sequences=x)
    f = pair([x, i], out)
    assert _is_one_jitted_program(f)
    data = RNG.normal(size=4)
    f.check(data, np.array([0, 3, -4, 1]))
    error = f.check_raises(IndexError, data, np.array([0, 4]))
    assert "Subtensor" in str(error)


def test_number_of_steps_computed_from_data(pair):
    # the number of steps is not known while tracing: the loop runs between jitted parts
    x = T.vector("x")
    i = T.lvector("i")
    n = T.cast((x > 0).sum(), "int64")
    out, _ = croton.scan(lambda j, x: x[j] * 2, sequences=i, non_sequences=x, n_steps=n)
    f = pair([x, i], out)
    data = np.array([1.0, -2.0, 3.0, 4.0])
    f.check(data, np.array([3, 0, 1, 2]))
    f.check(-data, np.array([3, 0, 1, 2]))
    f.check_raises(IndexError, data, np.array([0, 9, 1, 1]))


def test_errors_on_lengths_match_the_numpy_backend(pair):
    x = T.vector("x")
    n = T.lscalar("n")
    out, _ = croton.scan(lambda v: v * 2, sequences=x, n_steps=n)
    f = pair([x, n], out)
    error = f.check_raises(ValueError, np.ones(3), np.asarray(5))
    assert "sequence 0 has 3 rows" in str(error)
