"""elu, selu, softsign, hard_sigmoid and ultra_fast_sigmoid against numpy formulas, on the
numpy and numba backends."""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.gradient import verify_grad
from croton.graph.type import TensorType
from croton.tensor import nnet

BACKENDS = ["numpy", "numba"]


def special_values(dtype):
    info = np.finfo(dtype)
    return np.array(
        [np.nan, np.inf, -np.inf, -0.0, 0.0, info.max, -info.max, info.tiny], dtype=dtype
    )


def run(function, backend, *values, mode=None):
    variables = [
        TensorType(v.dtype.name, shape=(None,) * v.ndim)(f"x{i}") for i, v in enumerate(values)
    ]
    compiled = croton.function(variables, function(*variables), backend=backend, mode=mode)
    with np.errstate(all="ignore"):
        return compiled(*values)


def assert_values(got, want):
    want = np.asarray(want)
    assert isinstance(got, np.ndarray), type(got)
    assert got.dtype == want.dtype, f"dtype {got.dtype}, expected {want.dtype}"
    assert got.shape == want.shape
    tolerance = {"float16": 1e-3, "float32": 2e-6}.get(want.dtype.name, 1e-13)
    np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance, equal_nan=True)


def check(function, reference, backend, x):
    """``function`` on ``x``, with and without rewrites, equals ``reference(x)``."""
    with np.errstate(all="ignore"):
        want = np.asarray(reference(x.astype("float64"))).astype(x.dtype)
    assert_values(run(function, backend, x), want)
    assert_values(run(function, backend, x, mode="NONE"), want)


# -- numpy references -------------------------------------------------------------------

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def elu_reference(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def selu_reference(x):
    return SELU_SCALE * elu_reference(x, SELU_ALPHA)


def softsign_reference(x):
    return x / (1 + np.abs(x))


def hard_sigmoid_reference(x):
    return np.clip(0.2 * x + 0.5, 0, 1)


def ultra_fast_sigmoid_reference(x):
    """Theano's scalar definition, one element at a time."""

    def tanh_approximation(h):
        if h < 1.7:
            return 1.5 * h / (1 + h)
        if h < 3:
            return 0.935409070603099 + 0.0458812946797165 * (h - 1.7)
        return 0.99505475368673

    def one(value):
        if np.isnan(value):
            return np.nan
        half = 0.5 * value
        z = tanh_approximation(half) if half >= 0 else -tanh_approximation(-half)
        return 0.5 * (z + 1.0)

    return np.vectorize(one, otypes=["float64"])(x)


# points on both sides of every piece boundary of ultra_fast_sigmoid (|x| = 3.4 and 6)
GRID = np.concatenate([np.linspace(-9, 9, 37), [-6.01, -5.99, -3.41, -3.39, 3.39, 3.41, 5.99]])


# -- values ------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "function, reference",
    [
        (nnet.elu, elu_reference),
        (lambda x: nnet.elu(x, 0.3), lambda x: elu_reference(x, 0.3)),
        (nnet.selu, selu_reference),
        (nnet.softsign, softsign_reference),
        (nnet.hard_sigmoid, hard_sigmoid_reference),
        (nnet.ultra_fast_sigmoid, ultra_fast_sigmoid_reference),
    ],
    ids=["elu", "elu-alpha", "selu", "softsign", "hard_sigmoid", "ultra_fast_sigmoid"],
)
def test_values_and_special_values(function, reference, dtype, backend):
    check(function, reference, backend, GRID.astype(dtype).reshape(4, 11))
    check(function, reference, backend, special_values(dtype))
    strided = np.random.default_rng(0).normal(size=(6, 5)).astype(dtype) * 4
    check(function, reference, backend, strided[::-2, 1::2])
    check(function, reference, backend, np.zeros((0, 3), dtype))


def test_special_values_spelled_out():
    x = np.array([np.nan, np.inf, -np.inf, -0.0, 1e300, -1e300])
    elu = run(nnet.elu, "numpy", x)
    assert_values(elu, np.array([np.nan, np.inf, -1.0, -0.0, 1e300, -1.0]))
    assert np.signbit(elu[3])
    lowest = -SELU_SCALE * SELU_ALPHA
    assert_values(
        run(nnet.selu, "numpy", x),
        np.array([np.nan, np.inf, lowest, -0.0, SELU_SCALE * 1e300, lowest]),
    )
    # inf / inf, as in Theano and jax.nn.soft_sign
    assert_values(run(nnet.softsign, "numpy", x), np.array([np.nan, np.nan, np.nan, -0.0, 1, -1]))
    assert_values(run(nnet.hard_sigmoid, "numpy", x), np.array([np.nan, 1, 0, 0.5, 1, 0]))
    top = 0.5 * (0.99505475368673 + 1)
    assert_values(
        run(nnet.ultra_fast_sigmoid, "numpy", x),
        np.array([np.nan, top, 1 - top, 0.5, top, 1 - top]),
    )


def test_selu_constants_and_self_normalizing_fixed_point():
    # Klambauer et al.: for standard normal inputs, selu keeps mean 0 and variance 1
    x = np.random.default_rng(3).normal(size=400_000)
    y = run(nnet.selu, "numpy", x)
    assert abs(y.mean()) < 0.01
    assert abs(y.var() - 1) < 0.01
    assert_values(
        run(nnet.selu, "numpy", np.array([-np.inf, 2.0])),
        np.array([-1.7580993408473766, 2 * SELU_SCALE]),
    )


def test_ultra_fast_sigmoid_is_close_to_sigmoid():
    x = np.linspace(-20, 20, 4001)
    got = run(nnet.ultra_fast_sigmoid, "numpy", x)
    assert np.max(np.abs(got - 1 / (1 + np.exp(-x)))) < 0.03
    # symmetric like the sigmoid: f(-x) = 1 - f(x)
    mirrored = run(nnet.ultra_fast_sigmoid, "numpy", -x)
    np.testing.assert_allclose(mirrored, 1 - got, atol=1e-15)


def test_elu_symbolic_alpha():
    x, alpha = T.dvector("x"), T.dscalar("alpha")
    values = np.array([-2.0, -0.5, 0.0, 1.5])
    for backend in BACKENDS:
        got = croton.function([x, alpha], nnet.elu(x, alpha), backend=backend)(values, 0.7)
        assert_values(got, elu_reference(values, 0.7))


@pytest.mark.parametrize(
    "function", [nnet.elu, nnet.selu, nnet.softsign, nnet.hard_sigmoid, nnet.ultra_fast_sigmoid]
)
def test_dtypes(function):
    assert function(T.fmatrix()).dtype == "float32"
    assert function(T.dvector()).dtype == "float64"
    assert function(T.tensor(dtype="float16", shape=(None,))).dtype == "float16"
    # integers compute in the float dtype sigmoid gives them
    assert function(T.ivector()).dtype == nnet.sigmoid(T.ivector()).dtype == "float64"
    assert function(T.bvector()).dtype == nnet.sigmoid(T.bvector()).dtype == "float16"
    x = np.array([-3, -1, 0, 2, 5], "int32")
    want = {
        nnet.elu: elu_reference,
        nnet.selu: selu_reference,
        nnet.softsign: softsign_reference,
        nnet.hard_sigmoid: hard_sigmoid_reference,
        nnet.ultra_fast_sigmoid: ultra_fast_sigmoid_reference,
    }[function](x.astype("float64"))
    for backend in BACKENDS:
        assert_values(run(function, backend, x), want)


def test_float32_stays_float32_with_python_constants():
    x = np.linspace(-8, 8, 33).astype("float32")
    for backend in BACKENDS:
        got = run(lambda v: nnet.selu(v) + nnet.hard_sigmoid(v), backend, x)
        want = (selu_reference(x.astype("float64")) + hard_sigmoid_reference(x)).astype("float32")
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
        assert got.dtype == "float32"


@pytest.mark.parametrize(
    "function", [nnet.elu, nnet.selu, nnet.softsign, nnet.hard_sigmoid, nnet.ultra_fast_sigmoid]
)
def test_complex_inputs_are_refused(function):
    with pytest.raises(TypeError, match="x must be real"):
        function(T.tensor(dtype="complex128", shape=(None,)))


# -- gradients ---------------------------------------------------------------------------

# away from the kinks (0 for elu/selu/softsign, +-2.5 for hard_sigmoid, +-3.4 and +-6 for
# ultra_fast_sigmoid), where finite differences are meaningful
SMOOTH_POINTS = np.array([[-8.0, -4.7, -2.9, -1.3, -0.4], [0.35, 1.1, 2.2, 4.4, 7.5]])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "function",
    [
        nnet.elu,
        lambda x: nnet.elu(x, 0.4),
        nnet.selu,
        nnet.softsign,
        nnet.hard_sigmoid,
        nnet.ultra_fast_sigmoid,
    ],
    ids=["elu", "elu-alpha", "selu", "softsign", "hard_sigmoid", "ultra_fast_sigmoid"],
)
def test_verify_grad(function, backend):
    verify_grad(function, [SMOOTH_POINTS], rng=np.random.default_rng(1), backend=backend)


def derivative_references():
    def ultra_fast_sigmoid_derivative(x):
        h = np.abs(0.5 * x)
        inner = 1.5 / (1 + np.minimum(h, 1.7)) ** 2
        return 0.25 * np.where(h < 1.7, inner, np.where(h < 3, 0.0458812946797165, 0.0))

    return {
        "elu": (nnet.elu, lambda x: np.where(x > 0, 1.0, np.exp(np.minimum(x, 0)))),
        "selu": (
            nnet.selu,
            lambda x: SELU_SCALE * np.where(x > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(x, 0))),
        ),
        "softsign": (nnet.softsign, lambda x: 1 / (1 + np.abs(x)) ** 2),
        "hard_sigmoid": (nnet.hard_sigmoid, lambda x: np.where(np.abs(x) <= 2.5, 0.2, 0.0)),
        "ultra_fast_sigmoid": (nnet.ultra_fast_sigmoid, ultra_fast_sigmoid_derivative),
    }


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", list(derivative_references()))
def test_gradient_against_hand_derived(name, backend):
    function, derivative = derivative_references()[name]
    # includes 0 and huge values: the unused branch of a switch must not leak nan
    x = np.concatenate([GRID, [0.0, -0.0, 1e300, -1e300, 700.0, -700.0]])
    # at hard_sigmoid's corners 0.2 * x + 0.5 is 0 or 1 only up to rounding (a fused
    # multiply-add gives -2.8e-17), which decides the one-sided derivative
    x = x[np.abs(x) != 2.5]
    v = T.dvector("v")
    got = croton.function([v], T.grad(T.sum(function(v)), v), backend=backend)(x)
    with np.errstate(over="ignore"):
        assert_values(got, derivative(x))


def test_elu_gradient_at_zero_is_alpha():
    v = T.dvector("v")
    got = croton.function([v], T.grad(T.sum(nnet.elu(v, 0.3)), v), backend="numpy")(np.array([0.0]))
    assert_values(got, np.array([0.3]))
