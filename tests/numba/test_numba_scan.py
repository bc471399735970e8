"""The numba backend's jitted scan loop: no Python steps, the numpy backend's values."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("numba")

import croton  # noqa: E402
import croton.tensor as T  # noqa: E402
from croton_numba.backend import NumbaExecutable, SegmentWarning, _Segment  # noqa: E402


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CROTON_CACHE_DIR", str(tmp_path / "cache"))


def _jitted_and_reference(inputs, outputs, **kwargs):
    """The graph compiled by numba (which must not fall back to Python steps) and by numpy."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", SegmentWarning)
        jitted = croton.function(inputs, outputs, backend="numba", **kwargs)
    executable = jitted._executable
    assert isinstance(executable, NumbaExecutable)
    assert all(isinstance(step, _Segment) for step in executable._program.nodes)
    return jitted, croton.function(inputs, outputs, backend="numpy", **kwargs)


def _assert_same(jitted, reference, *args):
    for got, expected in zip(jitted(*args), reference(*args), strict=True):
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_a_recurrent_layer_and_its_gradient_run_jitted():
    X, h0 = T.dtensor3("X"), T.dmatrix("h0")
    W, U, b = T.dmatrix("W"), T.dmatrix("U"), T.dvector("b")
    hs, _ = croton.scan(
        lambda x, h: T.tanh(T.dot(x, W) + T.dot(h, U) + b), sequences=X, outputs_info=h0
    )
    cost = (hs**2).sum()
    outputs = [hs, *T.grad(cost, [X, W, U, b, h0])]
    jitted, reference = _jitted_and_reference([X, W, U, b, h0], outputs)
    rng = np.random.default_rng(0)
    args = [
        rng.normal(size=(7, 3, 4)),
        rng.normal(size=(4, 5)) * 0.5,
        rng.normal(size=(5, 5)) * 0.5,
        rng.normal(size=5),
        rng.normal(size=(3, 5)),
    ]
    _assert_same(jitted, reference, *args)
    # no steps: the states' histories are empty, the gradients reach h0 unchanged
    _assert_same(jitted, reference, args[0][:0], *args[1:])


def test_states_kept_as_last_values_use_a_ring_of_their_taps():
    # x[t] = x[t-3] + 2 x[t-1]: only the final values are used, so the state keeps the
    # last three (a ring buffer); a scalar state, a mapped output and a sequence
    x0, n = T.dvector("x0"), T.lscalar("n")
    v = T.dvector("v")
    (states, mapped), _ = croton.scan(
        lambda a, x3, x1: [x3 + 2 * x1, a * x1],
        sequences=v,
        outputs_info=[dict(initial=x0, taps=[-3, -1]), None],
        n_steps=n,
    )
    jitted, reference = _jitted_and_reference([x0, v, n], [states[-1], mapped])
    x0_value, v_value = np.array([1.0, -2.0, 0.5]), np.linspace(-1, 1, 9)
    for steps in (1, 2, 3, 9):
        _assert_same(jitted, reference, x0_value, v_value, steps)
    for f in (jitted, reference):  # no steps: no last state to index
        with pytest.raises(IndexError):
            f(x0_value, v_value, 0)


def test_the_loop_checks_its_inputs():
    x = T.dvector("x")
    h0 = T.dvector("h0")
    hs, _ = croton.scan(lambda a, h: h + a, sequences=x, outputs_info=h0)
    n = T.lscalar("n")
    limited, _ = croton.scan(lambda h: h * 2, outputs_info=h0, n_steps=n)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SegmentWarning)
        grow = croton.function([x, h0], hs, backend="numba")
        steps = croton.function([h0, n], limited, backend="numba")
    # a step must keep its state's shape: h0 of length 2 plus scalars x[t] stays length 2
    np.testing.assert_allclose(grow(np.arange(3.0), np.zeros(2)), [[0, 0], [1, 1], [3, 3]])
    with pytest.raises(ValueError, match="negative"):
        steps(np.ones(2), -1)


def test_mapped_outputs_of_no_steps_take_their_rows_shape_from_a_trial_step():
    X = T.dmatrix("X")
    # (a reversed sequence: its rows are typed as arrays of any layout, 'A')
    ys, _ = croton.scan(lambda x: T.exp(x) * 2, sequences=X[::-1])
    jitted, reference = _jitted_and_reference([X], [ys])
    x = np.random.default_rng(1).normal(size=(6, 8))
    for value in (x, x[:0]):
        _assert_same(jitted, reference, value)
    # the trial step's zeros are typed as the sequence's rows, so numba compiled the
    # step once, not once more for C-contiguous zeros
    (segment,) = jitted._executable._program.nodes
    steps = [
        f
        for name, f in segment.kernel.py_func.__globals__.items()
        if name.endswith("_step") and hasattr(f, "signatures")
    ]
    assert len(segment.kernel.signatures) == 1
    assert [len(step.signatures) for step in steps] == [1]
    for value in (x[:, ::2], x[::-1], x[:0, ::2]):
        _assert_same(jitted, reference, value)
