"""``stabilize``: each rule keeps values on ordinary data and stays finite where the
written form overflows or rounds to nothing; gradients included."""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.ops.reduce import Reduce

sigmoid = T.nnet.sigmoid

RNG = np.random.default_rng(0)
ORDINARY = RNG.normal(size=7) * 3
#: where the naive forms overflow (exp(1000) is inf) or lose every digit
EXTREME = np.array([-1000.0, -40.0, -1.0, 0.0, 1.0, 40.0, 1000.0])
LOGITS = RNG.normal(size=(4, 5)) * 2
HUGE_LOGITS = np.array(
    [
        [1000.0, 0.0, -1000.0, 3.0, 2.0],
        [-1000.0, -1000.0, -999.0, -1001.0, -1000.0],
        [0.5, 1.0, 2.0, -1.0, 0.0],
        [-1000.0, 1000.0, 999.0, 0.0, 1.0],
    ]
)


# -- numpy references, written so they cannot overflow ----------------------------------


def np_softplus(x):
    return np.logaddexp(0.0, x)


def np_sigmoid(x):
    return np.exp(-np.logaddexp(0.0, -x))


def np_log1mexp(x):
    """log(1 - exp(x)) for x < 0 (Maechler's two forms)."""
    with np.errstate(divide="ignore"):
        return np.where(x < -np.log(2.0), np.log1p(-np.exp(x)), np.log(-np.expm1(x)))


def np_logsumexp(x, axis=None, keepdims=False):
    peak = np.max(x, axis=axis, keepdims=True)
    total = np.log(np.sum(np.exp(x - peak), axis=axis, keepdims=True)) + peak
    return total if keepdims else np.squeeze(total, axis=axis)


def np_softmax(x, axis):
    return np.exp(x - np_logsumexp(x, axis=axis, keepdims=True))


def _gradient(x, cost):
    return croton.function([x], T.grad(cost, x))


# -- elementwise rules -------------------------------------------------------------------

# (id, build(x), the same formula in numpy, rewrites that must fire, scalar ops that must
# be gone, ops that must remain, ordinary data inside the domain)
ELEMENTWISE_CASES = [
    (
        "log1p",
        lambda x: T.log(1 + x),
        lambda a: np.log(1 + a),
        {"log1p"},
        {"log", "add"},
        {"log1p"},
        np.abs(ORDINARY),
    ),
    (
        "log1p_commuted",
        lambda x: T.log(x + 1),
        lambda a: np.log(a + 1),
        {"log1p"},
        {"log", "add"},
        {"log1p"},
        np.abs(ORDINARY),
    ),
    (
        "expm1",
        lambda x: T.exp(x) - 1,
        lambda a: np.exp(a) - 1,
        {"expm1"},
        {"exp", "sub"},
        {"expm1"},
        ORDINARY,
    ),
    (
        "expm1_add",
        lambda x: T.exp(x) + -1,
        lambda a: np.exp(a) + -1,
        {"expm1_add"},
        {"exp", "add"},
        {"expm1"},
        ORDINARY,
    ),
    (
        "log1mexp",
        lambda x: T.log(1 - T.exp(x)),
        lambda a: np.log(1 - np.exp(a)),
        {"log1mexp"},
        {"sub"},
        {"log1p", "expm1", "switch"},
        -np.abs(ORDINARY) - 1e-3,
    ),
    (
        "softplus_from_log",
        lambda x: T.log(1 + T.exp(x)),
        lambda a: np.log(1 + np.exp(a)),
        {"softplus"},
        {"log", "exp", "log1p", "add"},
        {"softplus"},
        ORDINARY,
    ),
    (
        "softplus_from_log1p",
        lambda x: T.log1p(T.exp(x)),
        lambda a: np.log1p(np.exp(a)),
        {"softplus"},
        {"exp", "log1p"},
        {"softplus"},
        ORDINARY,
    ),
    (
        "log_sigmoid",
        lambda x: T.log(sigmoid(x)),
        lambda a: np.log(1 / (1 + np.exp(-a))),
        {"log_sigmoid"},
        {"log", "sigmoid"},
        {"softplus", "neg"},
        ORDINARY,
    ),
    (
        "log_one_minus_sigmoid",
        lambda x: T.log(1 - sigmoid(x)),
        lambda a: np.log(1 - 1 / (1 + np.exp(-a))),
        {"one_minus_sigmoid", "log_sigmoid"},
        {"log", "sigmoid", "sub"},
        {"softplus"},
        ORDINARY,
    ),
    (
        "log1p_neg_sigmoid",
        lambda x: T.log1p(-sigmoid(x)),
        lambda a: np.log1p(-1 / (1 + np.exp(-a))),
        {"log1p_neg_sigmoid"},
        {"log1p", "sigmoid"},
        {"softplus"},
        ORDINARY,
    ),
    (
        "log1p_neg",
        lambda x: T.log(1 - x),
        lambda a: np.log(1 - a),
        {"log1p_neg"},
        {"log", "sub"},
        {"log1p", "neg"},
        1 - np.abs(ORDINARY) - 1e-3,
    ),
    (
        "one_minus_sigmoid",
        lambda x: 1 - sigmoid(x),
        lambda a: 1 - 1 / (1 + np.exp(-a)),
        {"one_minus_sigmoid"},
        {"sub"},
        {"sigmoid", "neg"},
        ORDINARY,
    ),
    (
        "logistic",
        lambda x: 1 / (1 + T.exp(x)),
        lambda a: 1 / (1 + np.exp(a)),
        {"logistic_sigmoid"},
        {"true_div", "exp", "add"},
        {"sigmoid"},
        ORDINARY,
    ),
    (
        "reciprocal_logistic",
        lambda x: T.reciprocal(1 + T.exp(x)),
        lambda a: np.reciprocal(1 + np.exp(a)),
        {"reciprocal_sigmoid"},
        {"reciprocal", "exp", "add"},
        {"sigmoid"},
        ORDINARY,
    ),
    (
        "tutorial_logistic",  # 1 / (1 + exp(-x)) -> sigmoid(--x) -> sigmoid(x)
        lambda x: 1 / (1 + T.exp(-x)),
        lambda a: 1 / (1 + np.exp(-a)),
        {"logistic_sigmoid"},
        {"true_div", "exp", "add", "neg"},
        {"sigmoid"},
        ORDINARY,
    ),
]


@pytest.mark.parametrize(
    "build, formula, fired, gone, kept, data",
    [c[1:] for c in ELEMENTWISE_CASES],
    ids=[c[0] for c in ELEMENTWISE_CASES],
)
def test_elementwise_rule(compile_both, build, formula, fired, gone, kept, data):
    x = T.dvector("x")
    pair = compile_both([x], build(x))
    assert fired <= set(pair.fired), pair.fired
    names = set(pair.names)
    assert not gone & names, names
    assert kept <= names, names
    assert not kept <= set(pair.naive_names)  # the stable form was not written
    values = pair.check(data, rtol=1e-12, atol=1e-15)
    with np.errstate(all="raise"):  # ordinary data: the written formula is fine here
        expected = formula(data)
    np.testing.assert_allclose(values, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "build, reference",
    [
        (lambda x: T.log(1 + x), np.log1p),
        (lambda x: T.exp(x) - 1, np.expm1),
        (lambda x: T.exp(x) + -1, np.expm1),
    ],
    ids=["log1p", "expm1", "expm1_add"],
)
def test_small_arguments_keep_their_digits(compile_both, build, reference):
    x = T.dvector("x")
    pair = compile_both([x], build(x))
    data = np.array([1e-20, 1e-12, 1e-8, 1e-3])
    fast, naive = pair.run_both(data)
    np.testing.assert_allclose(fast, reference(data), rtol=1e-14)
    assert naive[0] == 0.0  # 1 + 1e-20 rounds to 1: every digit lost
    gradient = _gradient(x, build(x).sum())(data)
    slope = 1 / (1 + data) if reference is np.log1p else np.exp(data)
    np.testing.assert_allclose(gradient, slope, rtol=1e-14)


def test_log1mexp_is_accurate_near_zero_and_far_below(compile_both):
    x = T.dvector("x")
    pair = compile_both([x], T.log(1 - T.exp(x)))
    data = np.array([-1e-20, -1e-10, -1e-3, -0.5, -np.log(2.0), -2.0, -50.0, -1000.0])
    fast, naive = pair.run_both(data)
    assert np.isfinite(fast).all()
    np.testing.assert_allclose(fast, np_log1mexp(data), rtol=1e-13)
    assert naive[0] == -np.inf  # exp(-1e-20) rounds to 1
    assert naive[-2] == 0.0 and fast[-2] < 0  # log(1 - 2e-22) rounds to 0
    # d/dx log(1 - exp(x)) = -1 / expm1(-x); the branch not taken must not make it nan
    gradient = _gradient(x, T.log(1 - T.exp(x)).sum())(data)
    assert np.isfinite(gradient).all(), gradient
    with np.errstate(over="ignore"):  # expm1(1000) is inf: the slope is -0
        slope = -1 / np.expm1(-data)
    np.testing.assert_allclose(gradient, slope, rtol=1e-12)


def _logistic_slope(a):
    """d/dx sigmoid(-x) = -sigmoid(x) * sigmoid(-x)."""
    return -np.exp(-np_softplus(a) - np_softplus(-a))


# (id, build(x), stable value, stable derivative, whether the written form goes wrong
# somewhere in EXTREME)
SATURATING_CASES = [
    ("softplus", lambda x: T.log(1 + T.exp(x)), np_softplus, np_sigmoid, True),
    ("softplus_log1p", lambda x: T.log1p(T.exp(x)), np_softplus, np_sigmoid, True),
    (
        "log_sigmoid",
        lambda x: T.log(sigmoid(x)),
        lambda a: -np_softplus(-a),
        lambda a: np_sigmoid(-a),
        True,
    ),
    (
        "log_one_minus_sigmoid",
        lambda x: T.log(1 - sigmoid(x)),
        lambda a: -np_softplus(a),
        lambda a: -np_sigmoid(a),
        True,
    ),
    (
        "log1p_neg_sigmoid",
        lambda x: T.log1p(-sigmoid(x)),
        lambda a: -np_softplus(a),
        lambda a: -np_sigmoid(a),
        True,
    ),
    (
        "one_minus_sigmoid",  # 1 - sigmoid(40) rounds to 0
        lambda x: 1 - sigmoid(x),
        lambda a: np_sigmoid(-a),
        _logistic_slope,
        True,
    ),
    # exp(1000) overflows, yet 1 / (1 + inf) is the right 0: only the form changes
    ("logistic", lambda x: 1 / (1 + T.exp(x)), lambda a: np_sigmoid(-a), _logistic_slope, False),
    (
        "reciprocal_logistic",
        lambda x: T.reciprocal(1 + T.exp(x)),
        lambda a: np_sigmoid(-a),
        _logistic_slope,
        False,
    ),
]


@pytest.mark.parametrize(
    "build, value, slope, naive_goes_wrong",
    [c[1:] for c in SATURATING_CASES],
    ids=[c[0] for c in SATURATING_CASES],
)
def test_saturated_arguments_stay_finite_and_correct(
    compile_both, build, value, slope, naive_goes_wrong
):
    x = T.dvector("x")
    pair = compile_both([x], build(x))
    fast, naive = pair.run_both(EXTREME)
    assert np.isfinite(fast).all(), fast
    np.testing.assert_allclose(fast, value(EXTREME), rtol=1e-12, atol=1e-300)
    with np.errstate(all="ignore"):
        wrong = ~np.isclose(naive, value(EXTREME), rtol=1e-6, atol=0)
    assert wrong.any() == naive_goes_wrong, naive
    gradient = _gradient(x, build(x).sum())(EXTREME)
    assert np.isfinite(gradient).all(), gradient
    np.testing.assert_allclose(gradient, slope(EXTREME), rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize(
    "build",
    [c[1] for c in SATURATING_CASES],
    ids=[c[0] for c in SATURATING_CASES],
)
def test_gradient_keeps_values_on_ordinary_data(build):
    x = T.dvector("x")
    cost = build(x).sum()
    fast = croton.function([x], T.grad(cost, x))
    naive = croton.function([x], T.grad(cost, x), mode="NONE")
    np.testing.assert_allclose(fast(ORDINARY), naive(ORDINARY), rtol=1e-12, atol=1e-15)


def test_float32_stays_float32(compile_both):
    x = T.fvector("x")
    pair = compile_both([x], T.log(1 + T.exp(x)) + T.log(sigmoid(x)))
    assert pair.fast.maker.fgraph.outputs[0].dtype == "float32"
    data = np.array([-100.0, -1.0, 0.5, 100.0], dtype="float32")
    values = pair.fast(data)
    assert values.dtype == np.float32
    expected = np_softplus(data.astype(float)) - np_softplus(-data.astype(float))
    np.testing.assert_allclose(values, expected, rtol=1e-6)


# -- log-softmax -------------------------------------------------------------------------


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_log_softmax_becomes_logsoftmax(compile_both, axis):
    m = T.dmatrix("m")
    pair = compile_both([m], T.log(T.nnet.softmax(m, axis=axis)))
    assert pair.fired["log_softmax"] == 1
    assert pair.names == {"LogSoftmax": 1}
    (node,) = pair.fast.maker.fgraph.apply_nodes
    assert node.op.axis == axis % 2
    np.testing.assert_allclose(pair.check(LOGITS), np.log(np_softmax(LOGITS, axis)), rtol=1e-12)
    fast, naive = pair.run_both(HUGE_LOGITS)
    assert np.isfinite(fast).all()
    np.testing.assert_allclose(
        fast, HUGE_LOGITS - np_logsumexp(HUGE_LOGITS, axis, keepdims=True), rtol=1e-12
    )
    assert np.isinf(naive).any()


def test_log_softmax_of_a_tensor3_along_the_middle_axis(compile_both):
    t = T.dtensor3("t")
    pair = compile_both([t], T.log(T.nnet.softmax(t, axis=1)))
    assert pair.names == {"LogSoftmax": 1}
    data = RNG.normal(size=(2, 3, 4))
    data[0, 0, 0] = 1000.0
    values = pair.fast(data)
    np.testing.assert_allclose(values, data - np_logsumexp(data, 1, keepdims=True), rtol=1e-12)
    pair.check(data[1:])


@pytest.mark.parametrize("axis", [0, 1])
def test_log_softmax_gradient_is_finite(axis):
    m = T.dmatrix("m")
    weights = RNG.normal(size=HUGE_LOGITS.shape)
    cost = T.sum(T.constant(weights) * T.log(T.nnet.softmax(m, axis=axis)))
    gradient = _gradient(m, cost)(HUGE_LOGITS)
    expected = weights - np_softmax(HUGE_LOGITS, axis) * weights.sum(axis=axis, keepdims=True)
    assert np.isfinite(gradient).all()
    np.testing.assert_allclose(gradient, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "index",
    [lambda s: s[0], lambda s: s[0:2], lambda s: s[:, 2], lambda s: s[[3, 0], 1]],
    ids=["row", "rows", "column", "picked"],
)
def test_indexed_log_softmax_becomes_indexed_logsoftmax(compile_both, index):
    m = T.dmatrix("m")
    pair = compile_both([m], T.log(index(T.nnet.softmax(m))))
    assert pair.fired["log_softmax_indexed"] == 1
    names = pair.names
    assert names["LogSoftmax"] == 1 and not {"Softmax", "log"} & set(names), names
    pair.check(LOGITS)
    fast, naive = pair.run_both(HUGE_LOGITS)
    expected = index(HUGE_LOGITS - np_logsumexp(HUGE_LOGITS, 1, keepdims=True))
    assert np.isfinite(fast).all()
    np.testing.assert_allclose(fast, expected, rtol=1e-12)
    assert np.isinf(naive).any()


def test_log_softmax_picked_by_arbitrary_rows(compile_both):
    # rows that are not arange(n): no cross-entropy op, but still the stable form
    m, rows, labels = T.dmatrix("m"), T.lvector("rows"), T.lvector("labels")
    pair = compile_both([m, rows, labels], -T.log(T.nnet.softmax(m)[rows, labels]))
    names = pair.names
    assert "CrossEntropySoftmax" not in names
    assert names["LogSoftmax"] == 1 and not {"Softmax", "log"} & set(names), names
    r, y = np.array([3, 0, 0]), np.array([1, 4, 2])
    pair.check(LOGITS, r, y)
    fast = pair.fast(HUGE_LOGITS, r, y)
    expected = (np_logsumexp(HUGE_LOGITS, 1, keepdims=True) - HUGE_LOGITS)[r, y]
    np.testing.assert_allclose(fast, expected, rtol=1e-12)


# -- logsumexp ---------------------------------------------------------------------------


def _reduction_kinds(f) -> list[str]:
    return sorted(n.op.kind for n in f.maker.fgraph.apply_nodes if isinstance(n.op, Reduce))


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
def test_log_sum_exp_becomes_logsumexp(compile_both, axis, keepdims):
    m = T.dmatrix("m")
    pair = compile_both([m], T.log(T.sum(T.exp(m), axis=axis, keepdims=keepdims)))
    assert pair.fired["logsumexp"] == 1
    assert _reduction_kinds(pair.fast) == ["max", "sum"]
    expected = np.log(np.sum(np.exp(LOGITS), axis=axis, keepdims=keepdims))
    np.testing.assert_allclose(pair.check(LOGITS), expected, rtol=1e-12)
    fast, naive = pair.run_both(HUGE_LOGITS)
    assert np.shape(fast) == np.shape(expected)
    assert np.isfinite(fast).all(), fast
    np.testing.assert_allclose(fast, np_logsumexp(HUGE_LOGITS, axis, keepdims), rtol=1e-12)
    assert np.isinf(naive).any()
    # d/dx logsumexp(x) = softmax(x) over the reduced axes
    gradient = _gradient(m, T.sum(T.log(T.sum(T.exp(m), axis=axis, keepdims=keepdims))))
    axes = (0, 1) if axis is None else axis
    np.testing.assert_allclose(
        gradient(HUGE_LOGITS), np_softmax(HUGE_LOGITS, axes), rtol=1e-12, atol=1e-300
    )


def test_logsumexp_of_infinities(compile_both):
    v = T.dvector("v")
    pair = compile_both([v], T.log(T.sum(T.exp(v))))
    assert pair.fired["logsumexp"] == 1
    assert pair.check(np.full(3, -np.inf)) == -np.inf
    assert pair.check(np.array([np.inf, 0.0, -np.inf])) == np.inf
    assert np.isnan(pair.check(np.array([np.nan, 0.0])))


def test_logsumexp_is_not_applied_to_a_weighted_sum(compile_both):
    v, w = T.dvectors("v", "w")
    pair = compile_both([v, w], T.log(T.sum(w * T.exp(v))))
    assert "logsumexp" not in pair.fired
    a, b = ORDINARY, np.abs(ORDINARY) + 0.1
    np.testing.assert_allclose(pair.check(a, b), np.log(np.sum(b * np.exp(a))), rtol=1e-12)


@pytest.mark.parametrize("axis", [0, 1, (0, 1)])
def test_logsumexp_written_shifted_by_its_maximum_is_kept(compile_both, axis):
    # the stable form users write: logsumexp would shift it by a second maximum
    m = T.dmatrix("m")
    peak = T.max(m, axis=axis, keepdims=True)
    written = T.log(T.sum(T.exp(m - peak), axis=axis, keepdims=True)) + peak
    pair = compile_both([m], written)
    assert "logsumexp" not in pair.fired
    assert _reduction_kinds(pair.fast) == ["max", "sum"]
    expected = np_logsumexp(HUGE_LOGITS, axis, keepdims=True)
    np.testing.assert_allclose(pair.check(HUGE_LOGITS), expected, rtol=1e-12)


def test_logsumexp_shifted_by_another_axis_maximum_is_stabilized(compile_both):
    # the shift's reduced axis is not the summed one: exp can still overflow, and is
    # rewritten (the shift of a square matrix taken along columns, put back as a row)
    m = T.dmatrix("m")
    columns = T.max(m, axis=0, keepdims=True)
    pair = compile_both([m], T.log(T.sum(T.exp(m - columns), axis=1)))
    assert pair.fired["logsumexp"] == 1
    data = HUGE_LOGITS[:, :4]
    shifted = data - data.max(axis=0, keepdims=True)
    fast, naive = pair.run_both(data)
    np.testing.assert_allclose(fast, np_logsumexp(shifted, 1), rtol=1e-12)
    assert np.isinf(naive).any()  # (a row whose exps all round to zero)


# -- softmax from exp / sum(exp) ---------------------------------------------------------


@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("shared_exp", [True, False], ids=["one_exp", "two_exps"])
def test_exp_over_its_sum_becomes_softmax(compile_both, axis, shared_exp):
    m = T.dmatrix("m")
    numerator = T.exp(m)
    summed = numerator if shared_exp else T.exp(m)
    out = numerator / T.sum(summed, axis=axis, keepdims=True)
    pair = compile_both([m], out)
    assert pair.fired["softmax_from_exp"] == 1
    assert pair.names == {"Softmax": 1}
    (node,) = pair.fast.maker.fgraph.apply_nodes
    assert node.op.axis == axis
    np.testing.assert_allclose(pair.check(LOGITS), np_softmax(LOGITS, axis), rtol=1e-12)
    fast, naive = pair.run_both(HUGE_LOGITS)
    np.testing.assert_allclose(fast, np_softmax(HUGE_LOGITS, axis), rtol=1e-12, atol=1e-300)
    assert np.isnan(naive).any()
    # the gradient is stabilized too: sum(w * softmax) has gradient sm * (w - sum(w * sm))
    weights = RNG.normal(size=HUGE_LOGITS.shape)
    cost = T.sum(T.constant(weights) * (T.exp(m) / T.sum(T.exp(m), axis=axis, keepdims=True)))
    gradient = _gradient(m, cost)(HUGE_LOGITS)
    sm = np_softmax(HUGE_LOGITS, axis)
    expected = sm * (weights - np.sum(weights * sm, axis=axis, keepdims=True))
    assert np.isfinite(gradient).all(), gradient
    np.testing.assert_allclose(gradient, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("axis", [0, 1])
def test_softmax_written_shifted_by_its_maximum_shifts_once(compile_both, axis):
    # exp(x - max(x)) / sum(...): the Softmax op takes the maximum itself
    m = T.dmatrix("m")
    e = T.exp(m - T.max(m, axis=axis, keepdims=True))
    pair = compile_both([m], e / T.sum(e, axis=axis, keepdims=True))
    assert pair.names == {"Softmax": 1}
    (node,) = pair.fast.maker.fgraph.apply_nodes
    assert node.inputs == pair.fast.maker.fgraph.inputs
    np.testing.assert_allclose(pair.check(LOGITS), np_softmax(LOGITS, axis), rtol=1e-12)
    expected = np_softmax(HUGE_LOGITS, axis)
    np.testing.assert_allclose(pair.fast(HUGE_LOGITS), expected, rtol=1e-12, atol=1e-300)


def test_softmax_of_a_shift_along_the_other_axis_keeps_the_shift(compile_both):
    # a square matrix shifted by its column maxima put back as a row: not constant along
    # rows, so softmax along rows must still see the shifted values
    m = T.dmatrix("m")
    by_row = T.max(m, axis=0).dimshuffle("x", 0)
    rows_shifted = T.max(m, axis=1).dimshuffle("x", 0)  # (a row of row maxima)
    for shift in (by_row, rows_shifted):
        e = T.exp(m - shift)
        pair = compile_both([m], e / T.sum(e, axis=1, keepdims=True))
        assert pair.names["Softmax"] == 1
        data = LOGITS[:4, :4]
        reference = data - (data.max(axis=0) if shift is by_row else data.max(axis=1))[None, :]
        np.testing.assert_allclose(pair.check(data), np_softmax(reference, 1), rtol=1e-12)


def test_vector_exp_over_its_total_becomes_softmax(compile_both):
    v = T.dvector("v")
    e = T.exp(v)
    pair = compile_both([v], e / e.sum())
    assert pair.names == {"Softmax": 1}
    np.testing.assert_allclose(pair.check(ORDINARY), np_softmax(ORDINARY, 0), rtol=1e-12)
    np.testing.assert_allclose(pair.fast(EXTREME), np_softmax(EXTREME, 0), rtol=1e-12, atol=1e-300)


def test_matrix_exp_over_its_total_is_not_a_softmax(compile_both):
    # a sum over both axes is not a softmax along one axis
    m = T.dmatrix("m")
    e = T.exp(m)
    pair = compile_both([m], e / e.sum())
    assert "softmax_from_exp" not in pair.fired
    assert "Softmax" not in pair.names
    expected = np.exp(LOGITS) / np.exp(LOGITS).sum()
    np.testing.assert_allclose(pair.check(LOGITS), expected, rtol=1e-12)


def test_exp_over_a_different_sum_is_not_a_softmax(compile_both):
    m, n = T.dmatrices("m", "n")
    pair = compile_both([m, n], T.exp(m) / T.sum(T.exp(n), axis=1, keepdims=True))
    assert "Softmax" not in pair.names
    other = RNG.normal(size=LOGITS.shape)
    expected = np.exp(LOGITS) / np.exp(other).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(pair.check(LOGITS, other), expected, rtol=1e-12)


# -- softmax + categorical cross-entropy -------------------------------------------------

LABELS = np.array([2, 0, 4, 1])


def np_crossentropy(logits, labels):
    return np_logsumexp(logits, 1) - logits[np.arange(len(labels)), labels]


def np_crossentropy_gradient(logits, labels):
    one_hot = np.eye(logits.shape[1])[labels]
    return np_softmax(logits, 1) - one_hot


def test_softmax_crossentropy_becomes_one_op(compile_both):
    m, y = T.dmatrix("m"), T.lvector("y")
    pair = compile_both([m, y], T.nnet.categorical_crossentropy(T.nnet.softmax(m), y))
    assert pair.fired["crossentropy_softmax"] == 1
    assert pair.names == {"CrossEntropySoftmax": 1}
    np.testing.assert_allclose(
        pair.check(LOGITS, LABELS), np_crossentropy(LOGITS, LABELS), rtol=1e-12
    )
    fast, naive = pair.run_both(HUGE_LOGITS, LABELS)
    assert np.isfinite(fast).all()
    np.testing.assert_allclose(fast, np_crossentropy(HUGE_LOGITS, LABELS), rtol=1e-12)
    assert np.isinf(naive).any()


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8"])
def test_crossentropy_with_any_integer_targets(compile_both, dtype):
    m, y = T.dmatrix("m"), T.vector("y", dtype=dtype)
    pair = compile_both([m, y], T.nnet.categorical_crossentropy(T.nnet.softmax(m), y))
    assert pair.names == {"CrossEntropySoftmax": 1}
    labels = LABELS.astype(dtype)
    np.testing.assert_allclose(
        pair.check(HUGE_LOGITS[2:], labels[2:]), np_crossentropy(HUGE_LOGITS[2:], labels[2:])
    )
    np.testing.assert_allclose(pair.fast(HUGE_LOGITS, labels), np_crossentropy(HUGE_LOGITS, LABELS))


def test_crossentropy_gradient_is_softmax_minus_one_hot(op_names):
    m, y = T.dmatrix("m"), T.lvector("y")
    cost = T.nnet.categorical_crossentropy(T.nnet.softmax(m), y).mean()
    fast = croton.function([m, y], [cost, T.grad(cost, m)])
    naive = croton.function([m, y], [cost, T.grad(cost, m)], mode="NONE")
    for a, b in zip(fast(LOGITS, LABELS), naive(LOGITS, LABELS)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    value, gradient = fast(HUGE_LOGITS, LABELS)
    n = len(LABELS)
    np.testing.assert_allclose(value, np_crossentropy(HUGE_LOGITS, LABELS).mean(), rtol=1e-12)
    assert np.isfinite(gradient).all()
    np.testing.assert_allclose(
        gradient, np_crossentropy_gradient(HUGE_LOGITS, LABELS) / n, rtol=1e-12, atol=1e-300
    )
    # the gradient alone needs neither a log nor the cross-entropy value
    gradient_only = croton.function([m, y], T.grad(cost, m))
    assert not {"CrossEntropySoftmax", "log"} & set(op_names(gradient_only))
    np.testing.assert_allclose(gradient_only(HUGE_LOGITS, LABELS), gradient, rtol=1e-12)


def test_crossentropy_with_one_hot_targets_uses_logsoftmax(compile_both):
    m, t = T.dmatrices("m", "t")
    pair = compile_both([m, t], T.nnet.categorical_crossentropy(T.nnet.softmax(m), t))
    names = pair.names
    assert "CrossEntropySoftmax" not in names  # it takes integer targets only
    assert names["LogSoftmax"] == 1 and not {"Softmax", "log"} & set(names), names
    one_hot = np.eye(5)[LABELS]
    pair.check(LOGITS, one_hot)
    fast = pair.fast(HUGE_LOGITS, one_hot)
    np.testing.assert_allclose(fast, np_crossentropy(HUGE_LOGITS, LABELS), rtol=1e-12)


def test_crossentropy_of_a_wrong_row_range_is_not_fused(compile_both):
    m, y = T.dmatrix("m"), T.lvector("y")
    rows = T.arange(m.shape[0] - 1)
    pair = compile_both([m, y], -T.log(T.nnet.softmax(m)[rows, y]))
    assert "CrossEntropySoftmax" not in pair.names
    labels = LABELS[:3]
    values = pair.check(LOGITS, labels)
    np.testing.assert_allclose(values, np_crossentropy(LOGITS[:3], labels), rtol=1e-12)


@pytest.mark.parametrize("shape", [(4, 5), (4, None)], ids=["static", "static_rows"])
def test_crossentropy_of_logits_with_static_rows(compile_both, op_names, shape):
    # canonicalize folds arange(4) to a constant; the rule must still see the row range
    m, y = T.matrix("m", dtype="float64", shape=shape), T.lvector("y")
    cost = T.nnet.categorical_crossentropy(T.nnet.softmax(m), y)
    pair = compile_both([m, y], cost)
    assert pair.names == {"CrossEntropySoftmax": 1}, pair.names
    pair.check(LOGITS, LABELS)
    np.testing.assert_allclose(
        pair.fast(HUGE_LOGITS, LABELS), np_crossentropy(HUGE_LOGITS, LABELS), rtol=1e-12
    )
    # grad stabilizes before canonicalize runs: there the rows are arange(shape(...)[0])
    gradient = croton.function([m, y], T.grad(cost.mean(), m))
    assert "LogSoftmax" not in op_names(gradient)
    np.testing.assert_allclose(
        gradient(HUGE_LOGITS, LABELS),
        np_crossentropy_gradient(HUGE_LOGITS, LABELS) / len(LABELS),
        rtol=1e-12,
        atol=1e-300,
    )
