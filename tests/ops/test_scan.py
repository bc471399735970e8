"""croton.scan and the Scan op, checked against numpy loops on the numpy and numba backends."""

from __future__ import annotations

import os

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.gradient import verify_grad

os.environ.setdefault("CROTON_FLAGS", "numba_parallel=False")

BACKENDS = ["numpy", "numba"]


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


def _compile(inputs, outputs, backend, **kwargs):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (a loop drawing random numbers is a Python step)
        return croton.function(inputs, outputs, backend=backend, **kwargs)


def _rnn(X, W, U, b, h0, **kwargs):
    return croton.scan(
        lambda x, h: T.tanh(T.dot(x, W) + T.dot(h, U) + b), sequences=X, outputs_info=h0, **kwargs
    )[0]


def _rnn_numpy(x, w, u, b, h0):
    hs, h = [], h0
    for t in range(len(x)):
        h = np.tanh(x[t] @ w + h @ u + b)
        hs.append(h)
    return np.array(hs)


def _rnn_data(seed=0, steps=5):
    rng = np.random.default_rng(seed)
    return [
        rng.normal(size=(steps, 3)),
        rng.normal(size=(3, 4)),
        rng.normal(size=(4, 4)) * 0.5,
        rng.normal(size=4),
        rng.normal(size=4),
    ]


def test_power_by_repeated_multiplication(backend):
    k = T.iscalar("k")
    A = T.vector("A")
    result, updates = croton.scan(
        lambda prior, A: prior * A, outputs_info=T.ones_like(A), non_sequences=A, n_steps=k
    )
    f = _compile([A, k], result[-1], backend, updates=updates)
    a = np.arange(1.0, 6.0)
    np.testing.assert_allclose(f(a, 4), a**4)
    assert len(updates) == 0


def test_polynomial_with_sequences_and_arange(backend):
    coefficients = T.vector("coefficients")
    x = T.scalar("x")
    components, _ = croton.scan(
        lambda c, power, x: c * x**power,
        sequences=[coefficients, T.arange(1000)],
        non_sequences=x,
    )
    f = _compile([coefficients, x], components.sum(), backend)
    c = np.array([1.0, 0.0, 2.0, -3.0])
    np.testing.assert_allclose(f(c, 3.0), np.polyval(c[::-1], 3.0))


def test_sum_of_a_vector_with_none_and_state(backend):
    v = T.vector("v")
    (running, doubled), _ = croton.scan(
        lambda x, acc: [acc + x, 2 * x], sequences=v, outputs_info=[T.zeros((), "float64"), None]
    )
    f = _compile([v], [running, doubled], backend)
    data = np.array([1.0, 2.0, 3.5, -1.0])
    got_running, got_doubled = f(data)
    np.testing.assert_allclose(got_running, np.cumsum(data))
    np.testing.assert_allclose(got_doubled, 2 * data)


def test_recurrent_layer_matches_numpy(backend):
    X, W, U, h0 = T.matrix("X"), T.matrix("W"), T.matrix("U"), T.vector("h0")
    b = T.vector("b")
    f = _compile([X, W, U, b, h0], _rnn(X, W, U, b, h0), backend)
    data = _rnn_data()
    np.testing.assert_allclose(f(*data), _rnn_numpy(*data))


def test_fibonacci_with_two_taps(backend):
    n = T.iscalar("n")
    x0 = T.vector("x0")
    fib, _ = croton.scan(
        lambda a, b: a + b, outputs_info=dict(initial=x0, taps=[-2, -1]), n_steps=n
    )
    f = _compile([x0, n], fib, backend)
    expected, values = [], [0.0, 1.0]
    for _ in range(8):
        values.append(values[-2] + values[-1])
        expected.append(values[-1])
    np.testing.assert_allclose(f([0.0, 1.0], 8), expected)


def test_sequence_taps(backend):
    x = T.vector("x")
    out, _ = croton.scan(
        lambda before, now, after: before - 2 * now + after,
        sequences=dict(input=x, taps=[-1, 0, 1]),
    )
    f = _compile([x], out, backend)
    data = np.array([1.0, 4.0, 9.0, 16.0, 25.0, 36.0])
    np.testing.assert_allclose(f(data), data[:-2] - 2 * data[1:-1] + data[2:])


def test_go_backwards_and_n_steps(backend):
    x = T.vector("x")
    backwards, _ = croton.scan(lambda v: v * 10, sequences=x, go_backwards=True)
    limited, _ = croton.scan(lambda v: v + 1, sequences=x, n_steps=3)
    negative, _ = croton.scan(lambda v: v, sequences=x, n_steps=-2)
    f = _compile([x], [backwards, limited, negative], backend)
    data = np.array([1.0, 2.0, 3.0, 4.0])
    got = f(data)
    np.testing.assert_allclose(got[0], data[::-1] * 10)
    np.testing.assert_allclose(got[1], data[:3] + 1)
    np.testing.assert_allclose(got[2], data[::-1][:2])


def test_shared_variable_updated_inside_the_loop(backend):
    count = croton.shared(np.asarray(0.0), "count")
    x = T.vector("x")

    def step(v):
        return v + count, {count: count + 1}

    out, updates = croton.scan(step, sequences=x)
    assert list(updates) == [count]
    f = _compile([x], out, backend, updates=updates)
    np.testing.assert_allclose(f(np.array([10.0, 20.0, 30.0])), [10.0, 21.0, 32.0])
    assert count.get_value() == 3.0
    np.testing.assert_allclose(f(np.array([0.0])), [3.0])
    assert count.get_value() == 4.0


def test_default_update_is_a_loop_state(backend):
    # what a random stream's generator state looks like: a shared integer tensor with a
    # default update computed inside the loop
    state = croton.shared(np.asarray(7, dtype="uint64"), "state")
    x = T.vector("x")

    def step(v):
        drawn = state * np.uint64(3) + np.uint64(1)
        state.default_update = drawn
        return v + drawn.astype("float64")

    out, updates = croton.scan(step, sequences=x)
    state.default_update = None
    assert list(updates) == [state]
    f = _compile([x], out, backend, updates=updates)
    s, expected = 7, []
    for v in [1.0, 2.0, 3.0]:
        s = s * 3 + 1
        expected.append(v + s)
    np.testing.assert_allclose(f(np.array([1.0, 2.0, 3.0])), expected)
    assert int(state.get_value()) == s


def test_free_variables_and_strict():
    W = croton.shared(np.eye(2) * 2.0, "W")
    x = T.matrix("x")
    out, _ = croton.scan(lambda row: T.dot(row, W), sequences=x)
    f = _compile([x], out, "numpy")
    np.testing.assert_allclose(f(np.ones((3, 2))), 2 * np.ones((3, 2)))
    with pytest.raises(ValueError, match="W"):
        croton.scan(lambda row: T.dot(row, W), sequences=x, strict=True)
    out, _ = croton.scan(lambda row, w: T.dot(row, w), sequences=x, non_sequences=W, strict=True)
    np.testing.assert_allclose(_compile([x], out, "numpy")(np.ones((3, 2))), 2 * np.ones((3, 2)))


def test_step_returning_outputs_and_no_updates():
    x = T.vector("x")
    out, updates = croton.scan(lambda v: (v * 2, []), sequences=x)
    assert len(updates) == 0
    np.testing.assert_allclose(_compile([x], out, "numpy")(np.arange(3.0)), [0.0, 2.0, 4.0])


def test_return_list_and_errors():
    x = T.vector("x")
    out, _ = croton.scan(lambda v: v * 2, sequences=x, return_list=True)
    assert isinstance(out, list) and len(out) == 1
    with pytest.raises(ValueError, match="n_steps"):
        croton.scan(lambda: T.zeros(()), outputs_info=None)
    with pytest.raises(TypeError, match="dimensions"):
        croton.scan(lambda v, h: h.sum(), sequences=x, outputs_info=T.vector("h0"))
    with pytest.raises(ValueError, match="outputs_info"):
        croton.scan(lambda v: [v, v], sequences=x, outputs_info=[None])


def test_static_length_when_n_steps_is_constant():
    h0 = T.vector("h0")
    out, _ = croton.scan(lambda h: h * 2, outputs_info=h0, n_steps=4)
    assert out.type.shape[0] == 4


def test_zero_steps(backend):
    h0 = T.vector("h0")
    n = T.iscalar("n")
    out, _ = croton.scan(lambda h: h * 2, outputs_info=h0, n_steps=n)
    got = _compile([h0, n], out, backend)(np.ones(3), 0)
    assert got.shape == (0, 3)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("backend", BACKENDS)
def test_rnn_gradient_by_finite_differences(backend):
    verify_grad(_rnn, _rnn_data(1, steps=4), backend=backend)


def test_gradient_loop_reads_the_recorded_states_instead_of_recomputing_them():
    from croton.graph.traversal import toposort
    from croton.ops.scan import Scan

    X, W, U = T.dmatrix("X"), T.dmatrix("W"), T.dmatrix("U")
    b, h0 = T.dvector("b"), T.dvector("h0")
    states = _rnn(X, W, U, b, h0)
    gradients = croton.grad((states**2).sum(), [W, U, b, h0])
    loops = [n.op for n in toposort(gradients) if isinstance(n.op, Scan)]
    backward = [op for op in loops if op.name == "scan gradient"]
    assert len(backward) == 1
    inner = [n.op for n in toposort(backward[0].inner_outputs)]
    # the gradient of tanh reads the state the forward loop recorded: no tanh, and only
    # the backward products (to W, U, h and x; not the forward step's x W and h U)
    assert not any("tanh" in str(op) for op in inner)
    assert sum(type(op).__name__ == "Dot" for op in inner) == 4
    values = _rnn_data(2, steps=5)
    got = _compile([X, W, U, b, h0], gradients, "numpy")(*values)
    x, w, u, bias, h = values
    expected = _rnn_gradients_numpy(x, w, u, bias, h)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-10)


def _rnn_gradients_numpy(x, w, u, b, h0):
    """The gradients of ``sum(states**2)`` of `_rnn` by hand (backpropagation through time)."""
    hs = _rnn_numpy(x, w, u, b, h0)
    gw, gu, gb = np.zeros_like(w), np.zeros_like(u), np.zeros_like(b)
    carry = np.zeros_like(h0)
    for t in reversed(range(len(x))):
        previous = hs[t - 1] if t else h0
        dz = (2 * hs[t] + carry) * (1 - hs[t] ** 2)
        gw += np.outer(x[t], dz)
        gu += np.outer(previous, dz)
        gb += dz
        carry = dz @ u.T
    return gw, gu, gb, carry


def test_gradient_through_taps_and_backwards():
    def fn(x, x0, w):
        out, _ = croton.scan(
            lambda s_prev, a, b, w: T.sin(a * w) + b * s_prev,
            sequences=dict(input=x, taps=[-1]),
            outputs_info=dict(initial=x0, taps=[-2, -1]),
            non_sequences=w,
            go_backwards=True,
        )
        return out

    rng = np.random.default_rng(2)
    verify_grad(fn, [rng.normal(size=6), rng.normal(size=3), rng.normal(size=())], backend="numpy")


def test_gradient_of_shared_state_update():
    def fn(x, s0):
        acc = croton.shared(np.zeros(2), "acc")
        out, updates = croton.scan(
            lambda v, s: (v * s, {acc: acc + v}), sequences=x, outputs_info=s0
        )
        (last,) = updates.values()
        return out.sum() + (last**2).sum()

    rng = np.random.default_rng(3)
    verify_grad(fn, [rng.normal(size=(3, 2)), rng.normal(size=2)], backend="numpy")


def test_gradient_of_nested_scans():
    def fn(X, w):
        def row_step(row, acc):
            inner, _ = croton.scan(
                lambda v, a: a * w + T.sin(v), sequences=row, outputs_info=T.zeros(())
            )
            return acc + inner[-1]

        return croton.scan(row_step, sequences=X, outputs_info=T.zeros(()))[0]

    rng = np.random.default_rng(8)
    verify_grad(fn, [rng.normal(size=(3, 4)), rng.normal(size=())], backend="numpy")


def test_gradient_with_an_integer_state_and_a_longer_sequence():
    def fn(x):
        (_, s), _ = croton.scan(
            lambda v, c, s: [c + 1, s * 0.9 + v * T.cast(c, "float64")],
            sequences=x,
            outputs_info=[T.zeros((), "int64"), T.zeros(())],
            n_steps=4,
        )
        return s

    x = np.random.default_rng(9).normal(size=6)
    verify_grad(fn, [x], backend="numpy")


def _bptt_numpy(x, w, u, b, h0, dh, truncate):
    hs = _rnn_numpy(x, w, u, b, h0)
    n = len(x)
    stop = 0 if truncate < 0 else max(n - truncate, 0)
    gx, gw, gu, gb = np.zeros_like(x), np.zeros_like(w), np.zeros_like(u), np.zeros_like(b)
    carried = np.zeros_like(h0)
    for t in range(n - 1, stop - 1, -1):
        prev = hs[t - 1] if t > 0 else h0
        da = (dh[t] + carried) * (1 - hs[t] ** 2)
        gx[t] = da @ w.T
        gw += np.outer(x[t], da)
        gu += np.outer(prev, da)
        gb += da
        carried = da @ u.T
    gh0 = carried if stop == 0 else np.zeros_like(h0)
    return [gx, gw, gu, gb, gh0]


@pytest.mark.parametrize("truncate", [-1, 2, 10])
def test_truncated_gradient_matches_numpy_bptt(backend, truncate):
    X, W, U, h0 = T.matrix("X"), T.matrix("W"), T.matrix("U"), T.vector("h0")
    b, dh = T.vector("b"), T.matrix("dh")
    h = _rnn(X, W, U, b, h0, truncate_gradient=truncate)
    grads = croton.grad((h * dh).sum(), [X, W, U, b, h0])
    f = _compile([X, W, U, b, h0, dh], grads, backend)
    data = _rnn_data(4, steps=5)
    weights = np.random.default_rng(5).normal(size=(5, 4))
    for got, want in zip(f(*data, weights), _bptt_numpy(*data, weights, truncate)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_rop_through_scan_matches_finite_differences():
    X, W, U, b, h0 = T.matrix("X"), T.matrix("W"), T.matrix("U"), T.vector("b"), T.vector("h0")
    V = T.matrix("V")
    h = _rnn(X, W, U, b, h0)
    jvp = croton.gradient.Rop(h, W, V)
    f = _compile([X, W, U, b, h0, V], jvp, "numpy")
    rnn = _compile([X, W, U, b, h0], h, "numpy")
    x, w, u, bb, hh = _rnn_data(6)
    v = np.random.default_rng(7).normal(size=w.shape)
    eps = 1e-6
    numeric = (rnn(x, w + eps * v, u, bb, hh) - rnn(x, w - eps * v, u, bb, hh)) / (2 * eps)
    np.testing.assert_allclose(f(x, w, u, bb, hh, v), numeric, rtol=1e-6, atol=1e-8)


def test_jacobian_and_hessian_of_a_scan(backend):
    x = T.vector("x")
    out, _ = croton.scan(lambda v, acc: acc * v + T.sin(v), sequences=x, outputs_info=T.zeros(()))
    jac = croton.gradient.jacobian(out, x)
    hess = croton.gradient.hessian(out[-1], x)
    f = _compile([x], [out, jac, hess], backend)
    data = np.array([0.3, -0.7, 1.1])

    def loop(values):
        acc, result = 0.0, []
        for v in values:
            acc = acc * v + np.sin(v)
            result.append(acc)
        return np.array(result)

    eps = 1e-5
    numeric_jac = np.stack(
        [(loop(data + eps * e) - loop(data - eps * e)) / (2 * eps) for e in np.eye(3)], axis=1
    )

    def last_grad(values):
        return np.array(
            [
                (loop(values + eps * e)[-1] - loop(values - eps * e)[-1]) / (2 * eps)
                for e in np.eye(3)
            ]
        )

    numeric_hess = np.stack(
        [(last_grad(data + 1e-4 * e) - last_grad(data - 1e-4 * e)) / 2e-4 for e in np.eye(3)]
    )
    got_out, got_jac, got_hess = f(data)
    np.testing.assert_allclose(got_out, loop(data))
    np.testing.assert_allclose(got_jac, numeric_jac, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(got_hess, numeric_hess, rtol=1e-4, atol=1e-5)


def test_execution_contract_attributes():
    from croton.ops.scan import Scan

    x, x0, w = T.vector("x"), T.vector("x0"), T.scalar("w")
    out, _ = croton.scan(
        lambda a, s2, s1: s1 * w + s2 + a,
        sequences=x,
        outputs_info=dict(initial=x0, taps=[-2, -1]),
    )
    op = out.owner.op
    assert isinstance(op, Scan)
    assert op.state_taps == ((-2, -1),) and op.state_lengths == (2,)
    assert op.inner_input_roles == [
        ("sequence", 0, 0),
        ("state", 0, -2),
        ("state", 0, -1),
        ("constant", 0),
    ]
    assert op.outer_output_roles == [("state", 0, "history")]
    assert out.owner.inputs[-1] is w


def test_float32_loop_stays_float32(backend):
    x, h0 = T.fmatrix("x"), T.fvector("h0")
    out, _ = croton.scan(lambda row, h: h * 0.5 + row, sequences=x, outputs_info=h0)
    assert out.dtype == "float32"
    data = np.arange(6, dtype="float32").reshape(3, 2)
    got = _compile([x, h0], out, backend)(data, np.ones(2, dtype="float32"))
    assert got.dtype == np.float32
    expected, h = [], np.ones(2, dtype="float32")
    for row in data:
        h = h * np.float32(0.5) + row
        expected.append(h)
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_a_step_that_would_narrow_its_state_is_refused(backend):
    """An int8 state fed an int32 step would wrap around (100 + 100 = -56): refused, as
    Theano refuses it; a step that fits its state (int8 + int8) is kept in that dtype."""
    iv = T.ivector("iv")
    with pytest.raises(TypeError, match="outputs_info.*int8"):
        croton.scan(lambda v, acc: acc + v, sequences=iv, outputs_info=T.constant(0, dtype="int8"))
    with pytest.raises(TypeError, match="float32"):
        croton.scan(lambda v, acc: acc + v, sequences=T.dvector("d"), outputs_info=T.fscalar("a"))
    bv = T.bvector("bv")
    out, _ = croton.scan(
        lambda v, acc: acc + v, sequences=bv, outputs_info=T.constant(0, dtype="int8")
    )
    got = _compile([bv], out, backend)(np.array([100, 27, -5], dtype="int8"))
    assert got.dtype == np.int8
    np.testing.assert_array_equal(got, np.cumsum(np.array([100, 27, -5], dtype="int8")))
    widened, _ = croton.scan(
        lambda v, acc: acc + v, sequences=bv, outputs_info=T.constant(0, dtype="int32")
    )
    got = _compile([bv], widened, backend)(np.array([100, 100, 100], dtype="int8"))
    np.testing.assert_array_equal(got, [100, 200, 300])


def test_compiled_scan_pickles():
    import pickle

    x = T.vector("x")
    out, _ = croton.scan(lambda v, acc: acc + v, sequences=x, outputs_info=T.zeros(()))
    f = pickle.loads(pickle.dumps(_compile([x], out, "numpy")))
    np.testing.assert_allclose(f(np.arange(4.0)), np.cumsum(np.arange(4.0)))


def test_random_draws_inside_the_loop_advance_the_generator(backend):
    from croton.tensor.shared_randomstreams import RandomStreams

    srng = RandomStreams(seed=3)
    drawn = []

    def step(v):
        u = srng.uniform(())
        drawn.append(u)
        return v + u

    x = T.vector("x")
    out, updates = croton.scan(step, sequences=x)
    (state,) = updates
    start = state.get_value()
    f = _compile([x], out, backend, updates=updates)
    first = f(np.zeros(4))
    after_loop = state.get_value()
    # the same draws, one call per step, outside the loop
    state.set_value(start)
    one_draw = _compile([], drawn[0], backend)
    np.testing.assert_allclose(first, [float(one_draw()) for _ in range(4)])
    np.testing.assert_array_equal(state.get_value(), after_loop)
    second = f(np.zeros(4))
    assert not np.allclose(first, second)


def test_theanos_profile_and_allow_gc_arguments_are_accepted():
    x = T.dvector("x")
    total, _ = croton.scan(
        lambda a, h: a + h,
        sequences=x,
        outputs_info=T.constant(0.0),
        profile=False,
        allow_gc=True,
    )
    f = croton.function([x], total, backend="numpy")
    np.testing.assert_allclose(f([1.0, 2.0, 3.0]), np.cumsum([1.0, 2.0, 3.0]))
