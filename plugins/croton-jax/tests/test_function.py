"""croton.function on jax: shared variables on the device, updates, training, failures."""

from __future__ import annotations

import pickle

import jax
import numpy as np
import pytest

import croton
import croton.tensor as T

RNG = np.random.default_rng(5)


def test_shared_values_stay_jax_arrays_across_calls():
    w = croton.shared(np.array([1.0, 2.0, 3.0]), "w")
    x = T.dvector("x")
    step = croton.function([x], (w * x).sum(), updates=[(w, w + x)], backend="jax")
    assert step(np.ones(3)) == 6.0
    held = w.get_value(borrow=True, return_internal_type=True)
    assert isinstance(held, jax.Array)
    assert step(np.ones(3)) == 9.0
    assert isinstance(w.get_value(borrow=True, return_internal_type=True), jax.Array)
    assert w.get_value(borrow=True, return_internal_type=True) is not held  # the update replaced it
    value = w.get_value()
    assert type(value) is np.ndarray and value.flags.writeable
    np.testing.assert_array_equal(value, [3.0, 4.0, 5.0])
    value[0] = 100.0  # a copy: the shared value does not change
    np.testing.assert_array_equal(w.get_value(), [3.0, 4.0, 5.0])


def test_outputs_are_writable_numpy_arrays():
    x = T.dvector("x")
    f = croton.function([x], [x * 2, x.sum()], backend="jax")
    doubled, total = f(np.arange(3.0))
    assert type(doubled) is np.ndarray and doubled.flags.writeable and doubled.dtype == np.float64
    assert type(total) is np.ndarray and total.shape == ()


def test_shared_value_set_from_numpy_is_used_next_call():
    w = croton.shared(np.zeros(2), "w")
    f = croton.function([], w + 1, backend="jax")
    np.testing.assert_array_equal(f(), [1.0, 1.0])
    w.set_value(np.array([5.0, 6.0]))
    np.testing.assert_array_equal(f(), [6.0, 7.0])


def test_shared_value_moves_between_backends():
    w = croton.shared(np.array([1.0, 2.0]), "w")
    on_jax = croton.function([], [], updates=[(w, w * 2)], backend="jax")
    on_numpy = croton.function([], [], updates=[(w, w + 1)], backend="numpy")
    on_jax()
    assert isinstance(w.get_value(borrow=True, return_internal_type=True), jax.Array)
    on_numpy()
    assert isinstance(w.get_value(borrow=True, return_internal_type=True), np.ndarray)
    on_jax()
    np.testing.assert_array_equal(w.get_value(), [6.0, 10.0])


def test_outputs_and_updates_read_the_values_before_the_call():
    a = croton.shared(np.asarray(1.0), "a")
    b = croton.shared(np.asarray(10.0), "b")
    f = croton.function([], [a, b], updates=[(a, b), (b, a)], backend="jax")
    assert [float(v) for v in f()] == [1.0, 10.0]
    assert (float(a.get_value()), float(b.get_value())) == (10.0, 1.0)


@pytest.mark.parametrize("bad_call", ["index", "shape"])
def test_failed_call_leaves_shared_values_untouched(bad_call):
    w = croton.shared(np.arange(4.0), "w")
    count = croton.shared(np.asarray(0, dtype="int64"), "count")
    i = T.lscalar("i")
    x = T.dvector("x")
    f = croton.function(
        [i, x], w[i] + (w * x).sum(), updates=[(w, w * 2), (count, count + 1)], backend="jax"
    )
    f(1, np.ones(4))  # the values now live on jax
    held = (
        w.get_value(borrow=True, return_internal_type=True),
        count.get_value(borrow=True, return_internal_type=True),
    )
    expected = w.get_value(), count.get_value()
    error = IndexError if bad_call == "index" else ValueError
    with pytest.raises(error):
        if bad_call == "index":
            f(9, np.ones(4))  # out of bounds: found after the jitted call ran
        else:
            f(1, np.ones(3))  # a shape mismatch: found while tracing
    assert w.get_value(borrow=True, return_internal_type=True) is held[0]
    assert count.get_value(borrow=True, return_internal_type=True) is held[1]
    np.testing.assert_array_equal(w.get_value(), expected[0])
    assert count.get_value() == expected[1]
    f(2, np.ones(4))  # and the function still works
    np.testing.assert_array_equal(w.get_value(), expected[0] * 2)


def _mlp(backend: str, dtype: str, params: dict):
    """A one-hidden-layer classifier trained by SGD; the parameters are shared."""
    shared = {name: croton.shared(value.astype(dtype), name) for name, value in params.items()}
    x = T.tensor(dtype=dtype, shape=(None, None), name="x")
    y = T.lvector("y")
    hidden = T.tanh(T.dot(x, shared["w1"]) + shared["b1"])
    probabilities = T.nnet.softmax(T.dot(hidden, shared["w2"]) + shared["b2"])
    loss = T.mean(T.nnet.categorical_crossentropy(probabilities, y))
    loss = loss + np.asarray(1e-3, dtype) * T.sum(shared["w1"] ** 2)
    gradients = T.grad(loss, list(shared.values()))
    rate = np.asarray(0.5, dtype)
    updates = [(p, p - rate * g) for p, g in zip(shared.values(), gradients, strict=True)]
    accuracy = T.mean(T.eq(T.argmax(probabilities, axis=1), y))
    train = croton.function([x, y], [loss, accuracy, *gradients], updates=updates, backend=backend)
    return train, shared


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-10), ("float32", 2e-4)])
def test_mlp_training_steps_match_numpy(dtype, rtol):
    params = {
        "w1": RNG.normal(size=(2, 8)) * 0.5,
        "b1": np.zeros(8),
        "w2": RNG.normal(size=(8, 3)) * 0.5,
        "b2": np.zeros(3),
    }
    angle = RNG.uniform(0, 2 * np.pi, size=60)
    labels = (angle // (2 * np.pi / 3)).astype("int64")
    data = np.stack([np.cos(angle), np.sin(angle)], axis=1) * RNG.uniform(0.5, 1, (60, 1))
    data = data.astype(dtype)
    jax_train, jax_params = _mlp("jax", dtype, params)
    numpy_train, numpy_params = _mlp("numpy", dtype, params)
    losses = []
    for step in range(30):
        batch = slice(step % 3 * 20, step % 3 * 20 + 20)
        got = jax_train(data[batch], labels[batch])
        want = numpy_train(data[batch], labels[batch])
        for g, w in zip(got, want, strict=True):
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol * 1e-2)
        losses.append(float(got[0]))
    assert losses[-1] < losses[0] * 0.7  # it learns
    for name, parameter in jax_params.items():
        assert isinstance(parameter.get_value(borrow=True, return_internal_type=True), jax.Array)
        np.testing.assert_allclose(
            parameter.get_value(), numpy_params[name].get_value(), rtol=rtol * 10, atol=rtol
        )
        assert parameter.get_value().dtype == np.dtype(dtype)


def test_updates_are_atomic_across_threads():
    from concurrent.futures import ThreadPoolExecutor

    total = croton.shared(np.asarray(0, dtype="int64"), "total")
    k = T.lscalar("k")
    add = croton.function([k], total, updates=[(total, total + k)], backend="jax")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(add, range(1, 101)))
    assert int(total.get_value()) == 5050


def test_function_and_shared_values_pickle():
    w = croton.shared(np.array([1.0, 2.0]), "w")
    x = T.dvector("x")
    f = croton.function([x], (w * x).sum(), updates=[(w, w + 1)], backend="jax")
    f(np.ones(2))
    g = pickle.loads(pickle.dumps(f))
    assert g(np.ones(2)) == 5.0  # w is [2, 3] in the copy
    assert f(np.ones(2)) == 5.0


def test_an_op_written_in_python_runs_eagerly_between_jitted_parts():
    """Theano's ``perform`` (here through ``as_op``) gets numpy arrays on jax too."""
    from croton.backend import PythonStepWarning
    from croton.compile.ops import as_op

    @as_op(itypes=[T.dvector], otypes=[T.dvector])
    def cumulative(a):
        assert type(a) is np.ndarray
        return np.cumsum(a)

    x = T.dvector("x")
    with pytest.warns(PythonStepWarning, match="perform"):
        f = croton.function([x], T.sin(cumulative(x * 2)), backend="jax")
    data = RNG.normal(size=6)
    np.testing.assert_allclose(f(data), np.sin(np.cumsum(data * 2)), rtol=1e-12)
