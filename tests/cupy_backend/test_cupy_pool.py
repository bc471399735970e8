"""The cupy backend's pooling rules: their CUDA kernels compile, and on a GPU they agree
with the numpy reference, gradients included.

(Not ``test_pool.py``: ``tests/ops`` has one, and test directories are not packages.)
"""

from __future__ import annotations

import itertools
import warnings

import host_cuda
import numpy as np
import pytest
from host_cuda import host_rules_fixture  # noqa: F401 (the host_rules fixture)

import croton
import croton.tensor as T
from croton.backend import FallbackWarning, resolve_rules
from croton.ops.pool import AveragePoolGrad, MaxPoolGrad, MaxPoolGradGrad, Pool
from croton.tensor.signal.pool import pool_2d
from croton.testing.cases_pool import pool_cases
from croton.testing.compare import check_case
from croton_cupy import kernels
from croton_cupy import pool as rules

GEOMETRIES = [
    {"ws": (2, 2)},
    {"ws": (3, 2), "ignore_border": False, "stride": (2, 1)},
    {"ws": (3, 3), "stride": (2, 1), "pad": (1, 2)},
    {"ws": (2, 3), "ignore_border": False},
]
MODES = ("max", "sum", "average_inc_pad", "average_exc_pad")
#: the geometries each mode takes: average_inc_pad with a partial border (no
#: ignore_border) is the same as without padding, which Pool refuses
VARIANTS = [
    (geometry, mode)
    for geometry, mode in itertools.product(GEOMETRIES, MODES)
    if mode != "average_inc_pad" or geometry.get("ignore_border", True)
]


def _sources():
    """Every kind of pooling kernel, for each geometry, mode and a few dtypes."""
    for geometry, mode in VARIANTS:
        op = Pool(**geometry, mode=mode)
        dtypes = ("float32", "float64") if mode.startswith("average") else ("int32", "float64")
        for dtype in dtypes:
            yield rules.pool_source(op, dtype, dtype)
        if mode == "max":
            grad = MaxPoolGrad(**geometry)
            yield rules.max_pool_grad_source(grad, "float32", "float32", "float32")
            yield rules.max_pool_grad_source(grad, "int64", "float64", "float64")
            gradgrad = MaxPoolGradGrad(**geometry)
            yield rules.max_pool_grad_grad_source(gradgrad, "float64", "float64", "float64")
        else:
            yield rules.average_pool_grad_source(AveragePoolGrad(**geometry, mode=mode), "float32")


def test_every_pooling_kernel_compiles_with_nvrtc(nvrtc):
    records = {}
    for source in _sources():
        name = kernels.raw(source).name
        records[name] = kernels.GENERATED[name]
    assert len(records) > 30
    assert nvrtc.compile_sources(records, ("sm_80", "sm_90")) == 2 * len(records)


def test_kernels_bake_in_the_geometry_and_are_named_by_their_content():
    op = Pool((3, 2), stride=(2, 1), pad=(1, 0), mode="average_inc_pad")
    source = rules.pool_source(op, "float64", "float64")
    assert "r * 2 - 1" in source and "c * 1 - 0" in source
    assert "const double* x, double* out" in source
    kernel = kernels.raw(source)
    assert kernel.name.startswith("croton_raw_")
    assert kernels.GENERATED[kernel.name].parts[0] == source
    assert kernels.raw(source) is kernel
    other = rules.pool_source(
        Pool((3, 2), stride=(2, 1), pad=(1, 0), mode="sum"), "float64", "float64"
    )
    assert kernels.raw(other).name != kernel.name


def test_integer_max_pooling_uses_the_integer_type():
    source = rules.pool_source(Pool((2, 2)), "int32", "int32")
    assert "const int* x, int* out" in source


def test_the_rules_are_registered(cupy_backend):
    for op_class in (Pool, MaxPoolGrad, MaxPoolGradGrad, AveragePoolGrad):
        assert op_class in cupy_backend.registry


def _lowered(backend, inputs, outputs, own):
    """Compile for ``backend`` (ops other helpers' rules cover may fall back to numpy) and
    check that every node of the classes ``own`` got the backend's own rule; those nodes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FallbackWarning)
        f = croton.function(inputs, outputs, backend=backend, allow_fallback=True)
    nodes = [n for n in f.maker.fgraph.toposort() if isinstance(n.op, own)]
    for node, (rule, fell_back) in zip(nodes, resolve_rules(nodes, backend, False)):
        assert not fell_back and callable(rule(node.op, node))
    return nodes


@pytest.mark.parametrize("mode", MODES)
def test_pooling_and_its_gradient_lower_without_a_device(cupy_backend, mode):
    x = T.tensor4("images")
    geometry = {"ws": (3, 3), "stride": (2, 1), "pad": (1, 1)}
    pooled = pool_2d(x, **geometry, mode=mode)
    (gx,) = croton.grad(pooled.sum(), [x])
    before = set(kernels.GENERATED)
    nodes = _lowered(cupy_backend, [x], [pooled, gx], (Pool, MaxPoolGrad, AveragePoolGrad))
    assert {type(n.op) for n in nodes} == {Pool, MaxPoolGrad if mode == "max" else AveragePoolGrad}
    for name in set(kernels.GENERATED) - before:
        assert "images" not in kernels.GENERATED[name].parts[0]


def test_the_second_derivative_of_max_pooling_lowers(cupy_backend):
    x = T.dmatrix("x")
    pooled = pool_2d(x, (2, 2), ignore_border=False)
    (gx,) = croton.grad((pooled**2).sum(), [x])
    (ggx,) = croton.grad(gx.sum(), [x])
    nodes = _lowered(cupy_backend, [x], ggx, (MaxPoolGradGrad,))
    assert nodes


# ---------------------------------------------------------------------------- on a GPU


def _both(inputs, outputs):
    return (
        croton.function(inputs, outputs, backend="numpy"),
        croton.function(inputs, outputs, backend="cupy"),
    )


@pytest.mark.parametrize(("geometry", "mode"), VARIANTS)
def test_pooling_matches_numpy_with_gradients(gpu, geometry, mode):
    x = T.tensor4("x")
    pooled = pool_2d(x, **geometry, mode=mode)
    cost = (pooled * T.arange(pooled.size).reshape(pooled.shape)).sum()
    (gx,) = croton.grad(cost, [x])
    reference, device = _both([x], [pooled, gx])
    # ties in a max: integers as floats, so a window's max is often repeated
    value = np.random.default_rng(0).integers(-3, 4, size=(2, 3, 7, 6)).astype("float64")
    for expected, actual in zip(reference(value), device(value)):
        assert actual.dtype == expected.dtype and actual.shape == expected.shape
        np.testing.assert_allclose(actual, expected, rtol=1e-12)


@pytest.mark.parametrize("dtype", ["int32", "int64", "float32", "float16"])
def test_pooling_keeps_the_dtype(gpu, dtype):
    x = T.tensor3("x", dtype=dtype)
    outputs = [pool_2d(x, (2, 2), ignore_border=False, mode=m) for m in ("max", "sum")]
    reference, device = _both([x], outputs)
    value = np.random.default_rng(1).integers(-50, 50, size=(2, 5, 5)).astype(dtype)
    for expected, actual in zip(reference(value), device(value)):
        assert actual.dtype == expected.dtype
        np.testing.assert_allclose(actual, expected, rtol=1e-3)


def test_nan_and_inf_propagate_like_numpy(gpu):
    x = T.dmatrix("x")
    reference, device = _both([x], [pool_2d(x, (2, 2)), pool_2d(x, (2, 2), mode="sum")])
    value = np.array(
        [[np.nan, 1.0, -np.inf, 2.0], [0.0, 3.0, -np.inf, -np.inf], [np.inf, 1.0, 4.0, 5.0]]
    )
    for expected, actual in zip(reference(value), device(value)):
        np.testing.assert_array_equal(actual, expected)


def test_max_pool_second_derivative_matches_numpy(gpu):
    x, g = T.tensor4("x"), T.tensor4("g")
    geometry = {"ws": (3, 2), "stride": (2, 1), "pad": (1, 1)}
    pooled = Pool(**geometry)(x)
    grad = MaxPoolGrad(**geometry)(x, pooled, g)
    gradgrad = MaxPoolGradGrad(**geometry)(x, pooled, x * 2)
    reference, device = _both([x, g], [grad, gradgrad])
    rng = np.random.default_rng(2)
    xv = rng.integers(-2, 3, size=(2, 2, 6, 5)).astype("float64")
    gv = rng.normal(size=(2, 2, 3, 6))
    for expected, actual in zip(reference(xv, gv), device(xv, gv)):
        np.testing.assert_allclose(actual, expected, rtol=1e-12)


def test_empty_and_non_contiguous_images(gpu):
    x = T.tensor3("x")
    outputs = [pool_2d(x, (2, 2), stride=(1, 1)), pool_2d(x, (4, 4))]
    reference, device = _both([x], outputs)
    value = np.random.default_rng(3).normal(size=(2, 6, 8))[:, ::2, ::2]
    for expected, actual in zip(reference(value), device(value)):
        assert actual.shape == expected.shape
        np.testing.assert_allclose(actual, expected, rtol=1e-12)


# ------------------------------------------------- the kernels' values, run on the host


_reference = host_cuda.reference


def _assert_same(actual, expected):
    host_cuda.assert_same(actual, expected, rtol=1e-6 if actual.dtype == "float32" else 1e-13)


@pytest.mark.parametrize(("geometry", "mode"), VARIANTS)
def test_pooling_kernels_agree_with_numpy_on_the_host(cupy_backend, host_rules, geometry, mode):
    rng = np.random.default_rng(0)
    x = T.tensor4("x")
    # integers as floats: a window's max is often tied
    xv = rng.integers(-3, 4, size=(2, 3, 7, 6)).astype("float64")
    pool = Pool(**geometry, mode=mode)
    node = pool(x).owner
    pooled = host_rules(cupy_backend, node, xv)
    _assert_same(pooled, _reference(node, xv))
    gz = rng.normal(size=pooled.shape)
    if mode == "max":
        grad_node = MaxPoolGrad(**geometry)(x, pool(x), T.tensor4("g")).owner
        _assert_same(
            host_rules(cupy_backend, grad_node, xv, pooled, gz),
            _reference(grad_node, xv, pooled, gz),
        )
        ggx = rng.normal(size=xv.shape)
        gg_node = MaxPoolGradGrad(**geometry)(x, pool(x), T.tensor4("g")).owner
        _assert_same(
            host_rules(cupy_backend, gg_node, xv, pooled, ggx), _reference(gg_node, xv, pooled, ggx)
        )
    else:
        grad_node = AveragePoolGrad(**geometry, mode=mode)(x, T.tensor4("g")).owner
        _assert_same(host_rules(cupy_backend, grad_node, xv, gz), _reference(grad_node, xv, gz))


@pytest.mark.parametrize("dtype", ["int32", "uint8", "int64", "float32", "float16"])
def test_pooling_keeps_integer_and_small_float_dtypes_on_the_host(cupy_backend, host_rules, dtype):
    x = T.tensor3("x", dtype=dtype)
    xv = np.random.default_rng(1).integers(0, 50, size=(2, 5, 5)).astype(dtype)
    for mode in ("max", "sum"):
        node = Pool((2, 2), ignore_border=False, mode=mode)(x).owner
        expected = _reference(node, xv)
        actual = host_rules(cupy_backend, node, xv)
        assert actual.dtype == expected.dtype
        np.testing.assert_allclose(actual, expected, rtol=1e-3)


def test_nan_inf_empty_and_strided_images_on_the_host(cupy_backend, host_rules):
    x = T.dmatrix("x")
    value = np.array(
        [[np.nan, 1.0, -np.inf, 2.0], [0.0, 3.0, -np.inf, -np.inf], [np.inf, 1.0, 4.0, 5.0]]
    )
    for mode in ("max", "sum"):
        node = Pool((2, 2), mode=mode)(x).owner
        np.testing.assert_array_equal(
            host_rules(cupy_backend, node, value), _reference(node, value)
        )
    t3 = T.tensor3("t")
    strided = np.random.default_rng(3).normal(size=(2, 6, 8))[:, ::2, ::2]
    for op in (Pool((2, 2), stride=(1, 1)), Pool((4, 4)), Pool((2, 2), mode="average_inc_pad")):
        node = op(t3).owner
        _assert_same(host_rules(cupy_backend, node, strided), _reference(node, strided))
    empty = np.zeros((0, 4, 4))
    node = Pool((2, 2), ignore_border=False)(t3).owner
    _assert_same(host_rules(cupy_backend, node, empty), _reference(node, empty))


@pytest.mark.parametrize("case", pool_cases(), ids=lambda c: c.id)
def test_every_pool_case_agrees_with_numpy_through_the_rules(monkeypatch, case):
    host = host_cuda.host_backend(
        monkeypatch, [Pool, MaxPoolGrad, MaxPoolGradGrad, AveragePoolGrad]
    )
    check_case(case, host)


@pytest.mark.parametrize("case", pool_cases(), ids=lambda c: c.id)
def test_every_pool_case_agrees_with_numpy_on_the_gpu(gpu, case):
    check_case(case, "cupy")
