"""Updates: computed from the values before the call, written only after the whole call
succeeded, checked against the shared variable's type when the function is compiled."""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T


@pytest.mark.parametrize("as_dict", [False, True])
def test_updates_as_list_or_dict(as_dict):
    w = croton.shared(np.arange(3.0), name="w")
    count = croton.shared(np.int64(0), name="count")
    x = T.dvector("x")
    pairs = [(w, w - 0.5 * x), (count, count + 1)]
    f = croton.function([x], (w * x).sum(), updates=dict(pairs) if as_dict else pairs)
    reference = np.arange(3.0)
    for step in range(3):
        data = np.array([1.0, -2.0, 0.5]) * (step + 1)
        assert f(data) == (reference * data).sum()
        reference = reference - 0.5 * data
        np.testing.assert_array_equal(w.get_value(), reference)
        assert count.get_value() == step + 1


@pytest.mark.parametrize("order", ["ab", "ba"])
def test_swap_in_one_call(order):
    a = croton.shared(np.array([1.0, 2.0]), name="a")
    b = croton.shared(np.array([3.0, 4.0, 5.0]), name="b")
    updates = [(a, b), (b, a)] if order == "ab" else [(b, a), (a, b)]
    swap = croton.function([], [a, b], updates=updates)
    out_a, out_b = swap()
    np.testing.assert_array_equal(out_a, [1.0, 2.0])  # outputs see the values before
    np.testing.assert_array_equal(out_b, [3.0, 4.0, 5.0])
    np.testing.assert_array_equal(a.get_value(), [3.0, 4.0, 5.0])
    np.testing.assert_array_equal(b.get_value(), [1.0, 2.0])
    swap()
    np.testing.assert_array_equal(a.get_value(), [1.0, 2.0])
    np.testing.assert_array_equal(b.get_value(), [3.0, 4.0, 5.0])


def test_every_update_reads_the_old_values():
    a = croton.shared(2.0, name="a")
    b = croton.shared(3.0, name="b")
    c = croton.shared(5.0, name="c")
    f = croton.function([], a + b + c, updates=[(a, b * c), (b, a + c), (c, a * b)])
    old = np.array([2.0, 3.0, 5.0])
    assert f() == old.sum()
    assert (a.get_value(), b.get_value(), c.get_value()) == (
        old[1] * old[2],
        old[0] + old[2],
        old[0] * old[1],
    )


def test_output_before_update_on_the_same_variable():
    s = croton.shared(np.arange(3.0), name="s")
    f = croton.function([], [s, s * 10], updates=[(s, s + 1)])
    before, scaled = f()
    np.testing.assert_array_equal(before, np.arange(3.0))
    np.testing.assert_array_equal(scaled, np.arange(3.0) * 10)
    np.testing.assert_array_equal(s.get_value(), np.arange(3.0) + 1)
    before[0] = 99.0  # the returned array is not the stored one
    np.testing.assert_array_equal(s.get_value(), np.arange(3.0) + 1)


def test_updated_value_does_not_alias_inputs_outputs_or_other_shared_values():
    x = T.dvector("x")
    src = croton.shared(np.arange(3.0), name="src")
    dst = croton.shared(np.zeros(3), name="dst")
    copy_in = croton.shared(np.zeros(3), name="copy_in")
    f = croton.function([x], [x * 2], updates=[(dst, src), (copy_in, x)])
    data = np.array([7.0, 8.0, 9.0])
    (doubled,) = f(data)
    stored = dst.get_value(borrow=True)
    assert not np.shares_memory(stored, src.get_value(borrow=True))
    assert not np.shares_memory(copy_in.get_value(borrow=True), data)
    data[:] = 0.0
    np.testing.assert_array_equal(copy_in.get_value(), [7.0, 8.0, 9.0])
    g = croton.function([x], x * 2, updates=[(dst, x * 2)])
    result = g(np.array([1.0, 2.0, 3.0]))
    assert not np.shares_memory(result, dst.get_value(borrow=True))
    result[:] = -1.0
    np.testing.assert_array_equal(dst.get_value(), [2.0, 4.0, 6.0])


def test_update_with_safe_upcast():
    counter = croton.shared(np.int64(5), name="counter")
    i = T.iscalar("i")
    f = croton.function([i], [], updates=[(counter, counter + i)])
    f(np.int32(7))
    value = counter.get_value()
    assert value.dtype == np.int64 and value == 12


@pytest.mark.parametrize(
    ("dtype", "value"), [("float32", 0.5), ("float32", 2), ("int8", 7), ("float64", True)]
)
def test_update_to_a_python_number_takes_the_shared_dtype(dtype, value):
    s = croton.shared(np.zeros((), dtype), name="s")
    croton.function([], [], updates=[(s, value)])()
    got = s.get_value()
    assert got.dtype == dtype
    assert got == np.asarray(value, dtype)


@pytest.mark.parametrize(("dtype", "value"), [("float32", np.float64(0.5)), ("int8", 1000)])
def test_update_to_a_strong_or_inexact_number_raises(dtype, value):
    s = croton.shared(np.zeros((), dtype), name="s")
    with pytest.raises(TypeError, match="the update of s"):
        croton.function([], [], updates=[(s, value)])
    assert s.get_value() == 0


@pytest.mark.parametrize(
    ("make_update", "message"),
    [
        (lambda s: s + 0.5, r"the update of counter \(int64\) has dtype float64"),
        (lambda s: T.stack([s, s]), r"the update of counter has 1 dimensions"),
        (lambda s: 1j * s, r"has dtype complex128"),
    ],
)
def test_update_of_wrong_type_raises_at_compile_time(make_update, message):
    counter = croton.shared(np.int64(0), name="counter")
    with pytest.raises(TypeError, match=message) as info:
        croton.function([], [], updates=[(counter, make_update(counter))])
    assert __file__ in str(info.value)  # points at the user's expression
    assert counter.get_value() == 0


def test_update_of_wrong_rank_raises_at_compile_time():
    w = croton.shared(np.zeros((2, 3)), name="w")
    with pytest.raises(TypeError, match=r"the update of w has 0 dimensions"):
        croton.function([], [], updates=[(w, w.sum())])


def test_update_with_conflicting_static_shape_raises_at_compile_time():
    w = croton.shared(np.zeros((2, 3)), name="w", shape=(2, 3))
    with pytest.raises(TypeError, match=r"the update of w has static shape"):
        croton.function([], [], updates=[(w, T.zeros((3, 3)))])


def test_update_with_unknown_length_is_checked_at_run_time():
    w = croton.shared(np.zeros((2, 3)), name="w", shape=(2, 3))
    m = T.dmatrix("m")
    f = croton.function([m], [], updates=[(w, m)])
    good = np.arange(6.0).reshape(2, 3)
    f(good)
    np.testing.assert_array_equal(w.get_value(), good)
    with pytest.raises(ValueError, match="length 2"):
        f(np.ones((3, 3)))
    np.testing.assert_array_equal(w.get_value(), good)


@pytest.mark.parametrize(
    ("updates", "error", "message"),
    [
        (lambda x, s: [(x, x + 1)], TypeError, "not a shared variable"),
        (lambda x, s: [(s, s + 1), (s, s + 2)], ValueError, "updated twice"),
        (lambda x, s: [(s, s + 1, s)], TypeError, "pairs"),
        (lambda x, s: [s], TypeError, "pairs"),
    ],
)
def test_malformed_updates_raise(updates, error, message):
    x = T.dscalar("x")
    s = croton.shared(0.0, name="s")
    with pytest.raises(error, match=message):
        croton.function([x], x, updates=updates(x, s))


# -- a failing call changes nothing -------------------------------------------------------


def _state():
    w = croton.shared(np.ones((3, 2)), name="w")
    count = croton.shared(np.int64(0), name="count")
    history = croton.shared(np.zeros(2), name="history")
    x = T.dmatrix("x")
    out = T.dot(x, w)
    f = croton.function(
        [x],
        out.sum(),
        updates=[(count, count + 1), (w, w * 2), (history, T.inc_subtensor(history[:1], 1.0))],
    )
    return f, (w, count, history)


def _values(shared_variables):
    return [s.get_value() for s in shared_variables]


@pytest.mark.parametrize(
    ("bad_input", "error"),
    [
        (np.ones((4, 5)), ValueError),  # shape mismatch inside the dot, at run time
        (np.ones(3), TypeError),  # wrong rank, found when checking the argument
        (np.ones((4, 3), "complex128"), TypeError),  # lossy cast
    ],
)
def test_failed_call_leaves_every_shared_variable_untouched(bad_input, error):
    f, shared_variables = _state()
    good = np.arange(12.0).reshape(4, 3)
    assert f(good) == (good @ np.ones((3, 2))).sum()
    before = _values(shared_variables)
    with pytest.raises(error):
        f(bad_input)
    for old, new in zip(before, _values(shared_variables)):
        np.testing.assert_array_equal(new, old)
    # and the next good call continues from there
    assert f(good) == (good @ before[0]).sum()
    np.testing.assert_array_equal(shared_variables[0].get_value(), before[0] * 2)
    assert shared_variables[1].get_value() == before[1] + 1


def test_failure_after_an_update_is_computed_keeps_the_old_values():
    # the update of `a` is computable; the output fails afterwards in the same call
    a = croton.shared(np.arange(3.0), name="a")
    b = croton.shared(np.arange(3.0), name="b")
    x = T.dvector("x")
    f = croton.function([x], (a * x).sum(), updates=[(a, a + 1), (b, b + x)])
    with pytest.raises(ValueError):
        f(np.ones(4))
    np.testing.assert_array_equal(a.get_value(), np.arange(3.0))
    np.testing.assert_array_equal(b.get_value(), np.arange(3.0))


# -- default updates -------------------------------------------------------------------------


def test_default_update_applies_unless_disabled():
    state = croton.shared(0.0, name="state")
    state.default_update = state + 1
    reads = croton.function([], state * 1)
    values = [float(reads()) for _ in range(3)]
    assert values == [0.0, 1.0, 2.0]
    assert state.get_value() == 3.0
    frozen = croton.function([], state * 1, no_default_updates=True)
    assert frozen() == 3.0 and frozen() == 3.0
    assert state.get_value() == 3.0


def test_explicit_update_overrides_the_default_update():
    state = croton.shared(1.0, name="state")
    state.default_update = state + 1
    f = croton.function([], state, updates=[(state, state * 10)])
    f()
    f()
    assert state.get_value() == 100.0


def test_function_without_updates_changes_no_shared_value():
    s = croton.shared(np.arange(3.0), name="s")
    f = croton.function([], T.set_subtensor(s[0], 5.0))
    expected = np.arange(3.0)
    expected[0] = 5.0
    np.testing.assert_array_equal(f(), expected)
    np.testing.assert_array_equal(s.get_value(), np.arange(3.0))


def test_sgd_on_a_linear_model_matches_numpy():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(20, 3))
    targets = features @ np.array([1.0, -2.0, 0.5]) + 0.3
    w = croton.shared(np.zeros(3), name="w")
    bias = croton.shared(0.0, name="b")
    x, y = T.dmatrix("x"), T.dvector("y")
    cost = T.mean((T.dot(x, w) + bias - y) ** 2)
    gw, gb = croton.grad(cost, [w, bias])
    train = croton.function([x, y], cost, updates=[(w, w - 0.1 * gw), (bias, bias - 0.1 * gb)])
    ref_w, ref_b = np.zeros(3), 0.0
    for _ in range(5):
        residual = features @ ref_w + ref_b - targets
        ref_cost = np.mean(residual**2)
        np.testing.assert_allclose(train(features, targets), ref_cost, rtol=1e-12)
        ref_w = ref_w - 0.1 * (2 * features.T @ residual / len(targets))
        ref_b = ref_b - 0.1 * (2 * residual.mean())
        np.testing.assert_allclose(w.get_value(), ref_w, rtol=1e-12)
        np.testing.assert_allclose(bias.get_value(), ref_b, rtol=1e-12)
