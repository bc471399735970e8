"""Whole functions on the GPU, checked against the numpy backend (the execution tier).

Theano's tutorial programs and a training step as users write them, compiled with
``backend="cupy"``: values agree with the numpy backend's, shared variables stay on the
device between calls, device arrays come back with ``return_device_arrays=True`` and go
in without copies, and a failing call changes no shared variable. Every test takes the
``gpu`` fixture, so each skips, saying why, on a machine without a CUDA device.
"""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton import In
from croton_cupy.backend import CupyBackend


@pytest.fixture
def transfers(gpu, monkeypatch):
    """Counts of the arrays the cupy backend copies to the device and back to the host."""
    backend = CupyBackend.shared()
    counts = {"to_device": 0, "to_host": 0}
    to_backend, to_numpy = backend.to_backend, backend.to_numpy

    def counted_to_backend(array):
        counts["to_device"] += not isinstance(array, gpu.ndarray)
        return to_backend(array)

    def counted_to_numpy(value):
        counts["to_host"] += isinstance(value, gpu.ndarray)
        return to_numpy(value)

    monkeypatch.setattr(backend, "to_backend", counted_to_backend)
    monkeypatch.setattr(backend, "to_numpy", counted_to_numpy)
    return counts


def test_the_logistic_function(gpu):
    x = T.dmatrix("x")
    logistic = croton.function([x], 1 / (1 + T.exp(-x)), backend="cupy")
    out = logistic([[0, 1], [-1, -2]])
    assert type(out) is np.ndarray and out.dtype == np.float64
    np.testing.assert_allclose(out, 1 / (1 + np.exp(-np.array([[0.0, 1.0], [-1.0, -2.0]]))))


def _logistic_regression(backend: str, w0: np.ndarray):
    """The tutorial's logistic regression: ``(train, predict, w, b)``."""
    x, y = T.dmatrix("x"), T.dvector("y")
    w = croton.shared(w0.copy(), name="w")
    b = croton.shared(0.0, name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    prediction = p_1 > 0.5
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w**2).sum()
    gw, gb = T.grad(cost, [w, b])
    train = croton.function(
        inputs=[x, y],
        outputs=[prediction, xent],
        updates=((w, w - 0.1 * gw), (b, b - 0.1 * gb)),
        backend=backend,
    )
    predict = croton.function(inputs=[x], outputs=prediction, backend=backend)
    return train, predict, w, b


def test_the_tutorials_logistic_regression_trains_as_on_numpy(gpu):
    rng = np.random.default_rng(0)
    n, features = 400, 784
    data = (rng.normal(size=(n, features)), rng.integers(0, 2, size=n).astype("float64"))
    w0 = rng.normal(size=features)
    on_gpu = _logistic_regression("cupy", w0)
    on_cpu = _logistic_regression("numpy", w0)
    for step in range(100):
        got_prediction, got_xent = on_gpu[0](*data)
        want_prediction, want_xent = on_cpu[0](*data)
        assert type(got_prediction) is np.ndarray and got_prediction.dtype == np.bool_
        assert type(got_xent) is np.ndarray and got_xent.dtype == np.float64
        # a probability within rounding of 0.5 may fall either side
        assert np.mean(got_prediction == want_prediction) >= 0.99, step
        np.testing.assert_allclose(got_xent, want_xent, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(on_gpu[2].get_value(), on_cpu[2].get_value(), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(on_gpu[3].get_value(), on_cpu[3].get_value(), rtol=1e-6, atol=1e-9)
    accuracy = np.mean(on_gpu[1](data[0]) == data[1])
    assert accuracy == np.mean(on_cpu[1](data[0]) == data[1])
    assert accuracy > 0.6  # it learns (about 0.5 before training; 0.72 after 100 steps)


def _mlp_values(seed: int = 3):
    """Initial parameters of the 784-256-10 network, a batch of 256 and its labels, float32."""
    rng = np.random.default_rng(seed)
    params = [
        (rng.normal(size=(784, 256)) * 0.05).astype("float32"),
        np.zeros(256, dtype="float32"),
        (rng.normal(size=(256, 10)) * 0.05).astype("float32"),
        np.zeros(10, dtype="float32"),
    ]
    data = rng.normal(size=(256, 784)).astype("float32")
    labels = rng.integers(0, 10, size=256)
    return params, data, labels


def _mlp_step(backend: str, values, **options):
    """One SGD step of the MLP on ``backend``: ``(step, shared parameters)``."""
    params = [croton.shared(v.copy(), name=n) for v, n in zip(values, ["W1", "b1", "W2", "b2"])]
    W1, b1, W2, b2 = params
    x, y = T.fmatrix("x"), T.lvector("y")
    hidden = T.nnet.relu(T.dot(x, W1) + b1)
    probabilities = T.nnet.softmax(T.dot(hidden, W2) + b2)
    cost = T.nnet.categorical_crossentropy(probabilities, y).mean()
    grads = T.grad(cost, params)
    rate = np.float32(0.1)
    updates = [(p, p - rate * g) for p, g in zip(params, grads)]
    step = croton.function([x, y], cost, updates=updates, backend=backend, **options)
    return step, params


def test_an_mlp_training_step_matches_numpy(gpu):
    values, data, labels = _mlp_values()
    step, params = _mlp_step("cupy", values)
    reference, reference_params = _mlp_step("numpy", values)
    for _ in range(5):
        cost = step(data, labels)
        want = reference(data, labels)
        assert type(cost) is np.ndarray and cost.shape == () and cost.dtype == np.float32
        np.testing.assert_allclose(cost, want, rtol=1e-4)
    for p, q in zip(params, reference_params):
        got = p.get_value()
        assert type(got) is np.ndarray and got.dtype == np.float32
        np.testing.assert_allclose(got, q.get_value(), rtol=1e-4, atol=1e-5)


def test_shared_variables_stay_on_the_device_across_calls(gpu, transfers):
    values, data, labels = _mlp_values()
    step, params = _mlp_step("cupy", values)
    step(data, labels)  # the parameters go to the device once
    device = gpu.cuda.Device()
    resident = [p.get_value(borrow=True, return_internal_type=True) for p in params]
    for value in resident:
        assert isinstance(value, gpu.ndarray) and value.dtype == np.float32
        assert value.device.id == device.id
    transfers.update(to_device=0, to_host=0)
    step(data, labels)
    # per call: the batch and its labels in, the cost out; no parameter crosses
    assert transfers == {"to_device": 2, "to_host": 1}
    for p, before in zip(params, resident):
        after = p.get_value(borrow=True, return_internal_type=True)
        assert isinstance(after, gpu.ndarray) and after.device.id == device.id
        assert after is not before  # the update, written on the device
    copy = params[1].get_value(return_internal_type=True)
    assert isinstance(copy, gpu.ndarray)
    assert copy.data.ptr != params[1].get_value(borrow=True, return_internal_type=True).data.ptr
    host = params[0].get_value()
    assert type(host) is np.ndarray and host.shape == (784, 256)


def test_return_device_arrays_gives_cupy_arrays(gpu, transfers):
    x = T.fmatrix("x")
    f = croton.function(
        [x], [T.exp(x), x.sum(axis=0), x.max()], backend="cupy", return_device_arrays=True
    )
    value = np.arange(6, dtype="float32").reshape(2, 3)
    outs = f(value)
    assert all(isinstance(o, gpu.ndarray) for o in outs)
    assert [o.dtype for o in outs] == [np.float32] * 3
    assert [o.shape for o in outs] == [(2, 3), (3,), ()]
    assert transfers["to_host"] == 0
    np.testing.assert_allclose(outs[0].get(), np.exp(value), rtol=1e-6)
    np.testing.assert_array_equal(outs[1].get(), value.sum(axis=0))
    assert float(outs[2]) == 5.0


def test_cupy_inputs_are_used_in_place(gpu, transfers):
    x, y = T.fvector("x"), T.fvector("y")
    f = croton.function([x, y], x * y + 1, backend="cupy", return_device_arrays=True)
    a = gpu.arange(5, dtype="float32")
    b = gpu.full(5, 2.0, dtype="float32")
    out = f(a, b)
    assert transfers["to_device"] == 0
    assert isinstance(out, gpu.ndarray)
    np.testing.assert_array_equal(out.get(), np.arange(5, dtype="float32") * 2 + 1)
    # a host array for the same input is copied once; the device one is not
    out = f(np.ones(5, dtype="float32"), b)
    assert transfers["to_device"] == 1
    np.testing.assert_array_equal(out.get(), np.full(5, 3.0, dtype="float32"))
    # the inputs were read, not written
    np.testing.assert_array_equal(a.get(), np.arange(5, dtype="float32"))


def test_a_shared_variable_takes_a_cupy_update_from_an_input(gpu):
    w = croton.shared(np.zeros(3, dtype="float32"), name="w")
    x = T.fvector("x")
    f = croton.function([x], (w * x).sum(), updates=[(w, w + x)], backend="cupy")
    f(gpu.ones(3, dtype="float32"))
    f(np.ones(3, dtype="float32"))
    np.testing.assert_array_equal(w.get_value(), [2.0, 2.0, 2.0])


def test_a_failed_call_leaves_shared_variables_untouched(gpu):
    values, data, labels = _mlp_values()
    step, params = _mlp_step("cupy", values)
    step(data, labels)
    resident = [p.get_value(borrow=True, return_internal_type=True) for p in params]
    before = [p.get_value() for p in params]
    with pytest.raises(Exception):  # noqa: B017 (which error the product raises is cupy's)
        step(data[:, :783], labels)  # 783 features for a 784-row weight matrix
    with pytest.raises(Exception):  # noqa: B017
        step(data, labels[:100])  # labels for fewer rows than the batch
    for p, value, was in zip(params, resident, before):
        assert p.get_value(borrow=True, return_internal_type=True) is value
        np.testing.assert_array_equal(p.get_value(), was)
    step(data, labels)  # the function still works, from the same parameters
    reference, reference_params = _mlp_step("numpy", values)
    reference(data, labels)
    reference(data, labels)
    for p, q in zip(params, reference_params):
        np.testing.assert_allclose(p.get_value(), q.get_value(), rtol=1e-4, atol=1e-5)


def test_an_input_with_an_update_keeps_its_state_on_the_host(gpu):
    """An ``In(update=...)`` state comes back to the host after each call (numpy, as
    ``f[name]`` gives it); the next call takes it like any numpy input."""
    acc, v = T.fscalar("acc"), T.fvector("v")
    f = croton.function(
        [In(acc, value=np.float32(0), update=acc + v.sum()), v], acc * 2, backend="cupy"
    )
    data = np.arange(6, dtype="float32").reshape(3, 2)
    state = np.float32(0)
    for row in data:
        np.testing.assert_allclose(f(v=row), state * 2)
        state += row.sum()
    assert isinstance(f["acc"], np.ndarray) and float(f["acc"]) == float(state)
    copy = f.copy(delete_updates=True)
    np.testing.assert_allclose(copy(v=data[0]), state * 2)
    assert float(f["acc"]) == float(state)


def test_an_op_written_in_python_runs_between_device_kernels(gpu):
    """An op with Theano's ``perform`` gets numpy arrays from the device and its results go
    back (a Python step, said with a PythonStepWarning)."""
    from croton.backend import PythonStepWarning
    from croton.compile.ops import as_op

    @as_op(itypes=[T.fvector], otypes=[T.fvector])
    def cumulative(a):
        assert type(a) is np.ndarray
        return np.cumsum(a)

    x = T.fvector("x")
    with pytest.warns(PythonStepWarning, match="perform"):
        f = croton.function([x], T.exp(cumulative(x * 2)) - 1, backend="cupy")
    data = np.linspace(-1, 1, 7, dtype="float32")
    np.testing.assert_allclose(f(data), np.expm1(np.cumsum(data * 2)), rtol=1e-6, atol=1e-6)
