"""Batch normalization (``croton.tensor.nnet.bn``) against numpy, on the numpy and numba
backends."""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.gradient import verify_grad
from croton.graph.type import TensorType
from croton.tensor.nnet import bn

BACKENDS = ["numpy", "numba"]


def variable(value, name):
    return TensorType(value.dtype.name, shape=(None,) * value.ndim)(name)


def assert_values(got, want, tolerance=None):
    want = np.asarray(want)
    assert isinstance(got, np.ndarray), type(got)
    assert got.dtype == want.dtype, f"dtype {got.dtype}, expected {want.dtype}"
    assert got.shape == want.shape, f"shape {got.shape}, expected {want.shape}"
    tolerance = tolerance or {"float32": 1e-5}.get(want.dtype.name, 1e-12)
    np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance, equal_nan=True)


def normalized_axes(axes, ndim):
    if axes == "per-activation":
        return (0,)
    if axes == "spatial":
        return (0, *range(2, ndim))
    return tuple(axes)


def to_inputs(parameter, axes, ndim):
    """A parameter in the reduced layout, given the inputs' dimensions."""
    return parameter if parameter.ndim == ndim else np.expand_dims(parameter, axes)


def from_inputs(statistic, axes, parameter_ndim):
    return statistic if statistic.ndim == parameter_ndim else np.squeeze(statistic, axes)


def train_reference(x, gamma, beta, axes, epsilon, factor, running_mean, running_var):
    axes = normalized_axes(axes, x.ndim)
    g, b = to_inputs(gamma, axes, x.ndim), to_inputs(beta, axes, x.ndim)
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    invstd = 1 / np.sqrt(var + epsilon)
    out = (x - mean) * (g * invstd) + b
    m = np.prod([x.shape[a] for a in axes])
    results = [out, from_inputs(mean, axes, gamma.ndim), from_inputs(invstd, axes, gamma.ndim)]
    if running_mean is not None:
        new_mean = to_inputs(running_mean, axes, x.ndim) * (1 - factor) + mean * factor
        new_var = to_inputs(running_var, axes, x.ndim) * (1 - factor) + m / (m - 1) * var * factor
        results += [from_inputs(new_mean, axes, gamma.ndim), from_inputs(new_var, axes, gamma.ndim)]
    return [np.asarray(r, x.dtype) for r in results]


def inference_reference(x, gamma, beta, mean, var, axes, epsilon):
    axes = normalized_axes(axes, x.ndim)
    g, b, m, v = (to_inputs(p, axes, x.ndim) for p in (gamma, beta, mean, var))
    return np.asarray((x - m) * (g / np.sqrt(v + epsilon)) + b, x.dtype)


# (inputs shape, axes, parameter shape)
LAYOUTS = [
    ((6, 4), "per-activation", (4,)),
    ((6, 4), "per-activation", (1, 4)),
    ((3, 2, 4, 5), "per-activation", (2, 4, 5)),
    ((3, 2, 4, 5), "spatial", (2,)),
    ((3, 2, 4, 5), "spatial", (1, 2, 1, 1)),
    ((3, 4, 5), (1,), (3, 5)),
    ((3, 4, 5), [2, 0], (4,)),
    ((3, 4, 5), (0, 1, 2), ()),
]
LAYOUT_IDS = [
    "pa-2d",
    "pa-2d-full",
    "pa-4d",
    "spatial-4d",
    "spatial-4d-full",
    "tuple-1",
    "tuple-20",
    "all",
]


def draw(rng, shape, dtype, low=-2.0, high=2.0):
    return rng.uniform(low, high, size=shape).astype(dtype)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("layout", LAYOUTS, ids=LAYOUT_IDS)
def test_train_with_running_averages(layout, backend):
    shape, axes, parameter_shape = layout
    rng = np.random.default_rng(0)
    x = draw(rng, shape, "float64") * 3 + 1
    gamma, beta = draw(rng, parameter_shape, "float64"), draw(rng, parameter_shape, "float64")
    running_mean = draw(rng, parameter_shape, "float64")
    running_var = draw(rng, parameter_shape, "float64", 0.5, 2.0)
    values = [x, gamma, beta, running_mean, running_var]
    variables = [variable(v, n) for v, n in zip(values, ["x", "g", "b", "rm", "rv"])]
    outputs = bn.batch_normalization_train(
        *variables[:3],
        axes=axes,
        epsilon=1e-3,
        running_average_factor=0.3,
        running_mean=variables[3],
        running_var=variables[4],
    )
    assert len(outputs) == 5
    got = croton.function(variables, list(outputs), backend=backend)(*values)
    want = train_reference(x, gamma, beta, axes, 1e-3, 0.3, running_mean, running_var)
    for g, w in zip(got, want):
        assert_values(g, w)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_train_without_running_averages(dtype, backend):
    rng = np.random.default_rng(1)
    x = draw(rng, (5, 3, 2, 2), dtype)
    gamma, beta = draw(rng, (3,), dtype), draw(rng, (3,), dtype)
    variables = [variable(v, n) for v, n in zip([x, gamma, beta], "xgb")]
    outputs = bn.batch_normalization_train(*variables, axes="spatial")
    assert len(outputs) == 3
    assert [o.dtype for o in outputs] == [dtype] * 3
    got = croton.function(variables, list(outputs), backend=backend)(x, gamma, beta)
    want = train_reference(x.astype("float64"), gamma, beta, "spatial", 1e-4, 0.1, None, None)
    for g, w in zip(got, want):
        assert_values(g, w.astype(dtype))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("layout", LAYOUTS, ids=LAYOUT_IDS)
def test_test_form(layout, backend):
    shape, axes, parameter_shape = layout
    rng = np.random.default_rng(2)
    x = draw(rng, shape, "float64")
    gamma, beta, mean = (draw(rng, parameter_shape, "float64") for _ in range(3))
    var = draw(rng, parameter_shape, "float64", 0.1, 3.0)
    values = [x, gamma, beta, mean, var]
    variables = [variable(v, n) for v, n in zip(values, ["x", "g", "b", "m", "v"])]
    out = bn.batch_normalization_test(*variables, axes=axes, epsilon=1e-5)
    got = croton.function(variables, out, backend=backend)(*values)
    assert_values(got, inference_reference(x, gamma, beta, mean, var, axes, 1e-5))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode", ["low_mem", "high_mem"])
def test_batch_normalization(mode, backend):
    rng = np.random.default_rng(3)
    x = draw(rng, (4, 3), "float64")
    gamma, beta, mean = (draw(rng, (1, 3), "float64") for _ in range(3))
    std = draw(rng, (1, 3), "float64", 0.5, 2.0)
    values = [x, gamma, beta, mean, std]
    # the parameters broadcast along axis 0, so they are declared rows
    variables = [T.dmatrix("x")] + [T.drow(n) for n in ["g", "b", "m", "s"]]
    out = T.nnet.batch_normalization(*variables, mode=mode)
    got = croton.function(variables, out, backend=backend)(*values)
    assert_values(got, (x - mean) / std * gamma + beta)
    assert T.nnet.batch_normalization is bn.batch_normalization


def test_running_averages_track_the_data_through_updates():
    rng = np.random.default_rng(4)
    x = T.dmatrix("x")
    gamma, beta = croton.shared(np.ones(3)), croton.shared(np.zeros(3))
    running_mean, running_var = croton.shared(np.zeros(3)), croton.shared(np.ones(3))
    _, _, _, new_mean, new_var = bn.batch_normalization_train(
        x,
        gamma,
        beta,
        running_average_factor=0.5,
        running_mean=running_mean,
        running_var=running_var,
    )
    step = croton.function(
        [x], [], updates=[(running_mean, new_mean), (running_var, new_var)], backend="numba"
    )
    batches = [rng.normal(2.0, 3.0, size=(50, 3)) for _ in range(3)]
    want_mean, want_var = np.zeros(3), np.ones(3)
    for batch in batches:
        step(batch)
        want_mean = 0.5 * want_mean + 0.5 * batch.mean(axis=0)
        want_var = 0.5 * want_var + 0.5 * batch.var(axis=0, ddof=1)  # unbiased, as in Theano
    assert_values(running_mean.get_value(), want_mean)
    assert_values(running_var.get_value(), want_var)


def test_symbolic_epsilon_and_factor():
    x, eps, factor = T.dmatrix("x"), T.dscalar("eps"), T.dscalar("f")
    g, b, rm, rv = (T.dvector(n) for n in ("g", "b", "rm", "rv"))
    outputs = bn.batch_normalization_train(
        x, g, b, epsilon=eps, running_average_factor=factor, running_mean=rm, running_var=rv
    )
    values = [np.random.default_rng(5).normal(size=(4, 2)), np.ones(2), np.zeros(2)]
    values += [np.zeros(2), np.ones(2)]
    got = croton.function([x, g, b, rm, rv, eps, factor], list(outputs))(*values, 0.01, 0.2)
    want = train_reference(values[0], *values[1:3], "per-activation", 0.01, 0.2, *values[3:])
    for g_, w in zip(got, want):
        assert_values(g_, w)


# -- gradients ---------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "layout", [LAYOUTS[0], LAYOUTS[3], LAYOUTS[6]], ids=["pa", "spatial", "tuple"]
)
def test_train_gradient_verify_grad(layout, backend):
    shape, axes, parameter_shape = layout
    rng = np.random.default_rng(6)
    x = draw(rng, shape, "float64")
    gamma, beta = draw(rng, parameter_shape, "float64"), draw(rng, parameter_shape, "float64")

    def every_output(x, gamma, beta):
        out, mean, invstd = bn.batch_normalization_train(x, gamma, beta, axes=axes)
        return out.sum() + (mean * invstd).sum()

    verify_grad(
        lambda x, g, b: bn.batch_normalization_train(x, g, b, axes=axes)[0],
        [x, gamma, beta],
        rng=np.random.default_rng(7),
        backend=backend,
    )
    verify_grad(every_output, [x, gamma, beta], rng=np.random.default_rng(8), backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_test_form_and_batch_normalization_gradients(backend):
    rng = np.random.default_rng(9)
    x = draw(rng, (3, 2, 3), "float64")
    gamma, beta, mean = (draw(rng, (2,), "float64") for _ in range(3))
    var = draw(rng, (2,), "float64", 0.5, 2.0)
    verify_grad(
        lambda *v: bn.batch_normalization_test(*v, axes="spatial"),
        [x, gamma, beta, mean, var],
        rng=np.random.default_rng(10),
        backend=backend,
    )
    verify_grad(
        lambda *v: bn.batch_normalization(*v, mode="low_mem"),
        [x[:, :, 0], gamma, beta, mean, var],
        rng=np.random.default_rng(11),
        backend=backend,
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_train_gradient_against_hand_derived(backend):
    """The closed form of the batch-normalization gradient (Ioffe and Szegedy, 2015)."""
    rng = np.random.default_rng(12)
    x, dy = draw(rng, (6, 3, 2), "float64"), draw(rng, (6, 3, 2), "float64")
    gamma, beta = draw(rng, (3,), "float64"), draw(rng, (3,), "float64")
    xv, gv, bv, dyv = T.dtensor3("x"), T.dvector("g"), T.dvector("b"), T.dtensor3("dy")
    out = bn.batch_normalization_train(xv, gv, bv, axes="spatial", epsilon=1e-3)[0]
    grads = T.grad(T.sum(out * dyv), [xv, gv, bv])
    got = croton.function([xv, gv, bv, dyv], grads, backend=backend)(x, gamma, beta, dy)

    axes = (0, 2)
    centred = x - x.mean(axis=axes, keepdims=True)
    invstd = 1 / np.sqrt(x.var(axis=axes, keepdims=True) + 1e-3)
    normalized = centred * invstd
    g = gamma[None, :, None]
    dx = (
        g
        * invstd
        * (
            dy
            - dy.mean(axis=axes, keepdims=True)
            - normalized * (dy * normalized).mean(axis=axes, keepdims=True)
        )
    )
    assert_values(got[0], dx, 1e-10)
    assert_values(got[1], (dy * normalized).sum(axis=axes), 1e-10)
    assert_values(got[2], dy.sum(axis=axes), 1e-10)


# -- bad input ---------------------------------------------------------------------------


def test_bad_arguments_are_named():
    x, v, m = T.dtensor4("x"), T.dvector("v"), T.dmatrix("m")
    with pytest.raises(ValueError, match="'per-activation', 'spatial'"):
        bn.batch_normalization_train(x, v, v, axes="channel")
    with pytest.raises(ValueError, match=r"axes must be in \[0, 4\)"):
        bn.batch_normalization_train(x, v, v, axes=(0, 4))
    with pytest.raises(ValueError, match="at least one axis"):
        bn.batch_normalization_test(x, v, v, v, v, axes=())
    with pytest.raises(ValueError, match="repeat"):
        bn.batch_normalization_train(x, v, v, axes=(0, 0))
    with pytest.raises(ValueError, match="gamma has 2 dimensions"):
        bn.batch_normalization_train(x, m, m, axes="spatial")
    with pytest.raises(ValueError, match="beta has 2 dimensions"):
        bn.batch_normalization_train(x, v, m, axes="spatial")
    with pytest.raises(ValueError, match="var has 2 dimensions"):
        bn.batch_normalization_test(x, v, v, v, m, axes="spatial")
    with pytest.raises(ValueError, match="running_mean and running_var"):
        bn.batch_normalization_train(x, v, v, axes="spatial", running_mean=v)
    with pytest.raises(ValueError, match="running_var has 2 dimensions"):
        bn.batch_normalization_train(x, v, v, axes="spatial", running_mean=v, running_var=m)
    with pytest.raises(ValueError, match="epsilon must be at least 0"):
        bn.batch_normalization_train(x, v, v, axes="spatial", epsilon=-1e-3)
    with pytest.raises(TypeError, match="epsilon must be a number or a scalar"):
        bn.batch_normalization_test(x, v, v, v, v, axes="spatial", epsilon=v)
    with pytest.raises(ValueError, match="mode must be 'low_mem' or 'high_mem'"):
        bn.batch_normalization(m, v, v, v, v, mode="fast")
    with pytest.raises(TypeError, match="inputs must be real"):
        bn.batch_normalization_train(T.tensor(dtype="complex128", shape=(None, None)), v, v)


def test_full_layout_parameters_must_have_length_one_on_normalized_axes():
    x, g = T.dmatrix("x"), T.dmatrix("g")
    out = bn.batch_normalization_test(x, g, g, g, g)
    f = croton.function([x, g], out, backend="numpy")
    assert_values(f(np.ones((2, 3)), np.ones((1, 3))), np.zeros((2, 3)) + 1)
    with pytest.raises(Exception, match="(?i)shape"):
        f(np.ones((2, 3)), np.ones((2, 3)))
