"""The cupy backend's conv2d rules: im2col and col2im compile, the rules lower, their
values agree with the numpy reference (run on the host without a GPU, on the device
with one).

(Not ``test_conv.py``: ``tests/ops`` has one, and test directories are not packages.)
"""

from __future__ import annotations

import warnings

import host_cuda
import numpy as np
import pytest
from host_cuda import host_rules_fixture  # noqa: F401 (the host_rules fixture)

import croton
import croton.tensor as T
from croton.backend import FallbackWarning, resolve_rules
from croton.ops.conv import Conv2d, Conv2dGradInputs, Conv2dGradWeights
from croton.tensor.nnet import conv2d
from croton.testing.cases_conv import conv_cases
from croton.testing.compare import check_case
from croton_cupy import conv as rules
from croton_cupy import kernels

#: (variant, input shape, filter shape, conv2d parameters): the conformance catalogue's,
#: plus float32 and an odd stride with dilation
VARIANTS = [
    ("valid", (2, 3, 6, 7), (4, 3, 3, 2), {}),
    ("full", (2, 2, 5, 5), (3, 2, 3, 3), {"border_mode": "full"}),
    ("half", (1, 2, 6, 5), (2, 2, 4, 3), {"border_mode": "half"}),
    ("pad-stride", (2, 3, 7, 8), (2, 3, 3, 3), {"border_mode": (1, 2), "subsample": (2, 3)}),
    (
        "correlation-dilation",
        (1, 2, 9, 8),
        (2, 2, 3, 2),
        {"filter_flip": False, "filter_dilation": (2, 3)},
    ),
    ("groups", (2, 4, 6, 6), (6, 2, 3, 3), {"num_groups": 2, "border_mode": 1, "subsample": 2}),
    ("many-taps", (2, 8, 7, 6), (5, 8, 3, 3), {"border_mode": "half", "subsample": (1, 2)}),
    (
        "full-stride-dilation",
        (3, 2, 8, 9),
        (4, 2, 2, 3),
        {"border_mode": "full", "subsample": (3, 2), "filter_dilation": (2, 2)},
    ),
]
IDS = [v[0] for v in VARIANTS]


def test_im2col_and_col2im_compile_with_nvrtc(nvrtc):
    records = {}
    for _, _, _, params in VARIANTS:
        op = Conv2d(**params)
        for dtype in ("float32", "float64"):
            for source in (rules.im2col_source(op, dtype), rules.col2im_source(op, dtype)):
                name = kernels.raw(source).name
                records[name] = kernels.GENERATED[name]
    assert len(records) > 10
    assert nvrtc.compile_sources(records, ("sm_80", "sm_90")) == 2 * len(records)


def test_the_kernels_bake_in_strides_and_dilation_only():
    op = Conv2d(border_mode="full", subsample=(2, 3), filter_dilation=(4, 5))
    source = rules.im2col_source(op, "float32")
    assert "y * 2 + i * 4 - pad_rows" in source and "x * 3 + j * 5 - pad_columns" in source
    assert "const float* image, float* cols" in source
    # the border mode only changes the padding, a runtime size: one kernel for all
    same = rules.im2col_source(Conv2d(subsample=(2, 3), filter_dilation=(4, 5)), "float32")
    assert kernels.raw(same).name == kernels.raw(source).name
    assert kernels.raw(rules.col2im_source(op, "float32")).name.startswith("croton_raw_")


def test_the_rules_are_registered(cupy_backend):
    for op_class in (Conv2d, Conv2dGradInputs, Conv2dGradWeights):
        assert op_class in cupy_backend.registry


@pytest.mark.parametrize("variant", VARIANTS, ids=IDS)
def test_conv2d_and_its_gradients_lower_without_a_device(cupy_backend, variant):
    _, _, _, params = variant
    x, w = T.tensor4("images"), T.tensor4("filters")
    out = conv2d(x, w, **params)
    gx, gw = croton.grad((out**2).sum(), [x, w])
    before = set(kernels.GENERATED)
    with warnings.catch_warnings():
        # ops outside this module may still fall back to the reference backend
        warnings.simplefilter("ignore", FallbackWarning)
        f = croton.function([x, w], [out, gx, gw], backend=cupy_backend, allow_fallback=True)
    own = (Conv2d, Conv2dGradInputs, Conv2dGradWeights)
    nodes = [n for n in f.maker.fgraph.toposort() if isinstance(n.op, own)]
    assert {type(n.op) for n in nodes} == set(own)
    for node, (rule, fell_back) in zip(nodes, resolve_rules(nodes, cupy_backend, False)):
        assert not fell_back and callable(rule(node.op, node))
    for name in set(kernels.GENERATED) - before:
        assert "images" not in kernels.GENERATED[name].parts[0]


# ------------------------------------------------- the kernels' values, run on the host


_reference = host_cuda.reference


def _assert_same(actual, expected):
    tolerance = 1e-5 if actual.dtype == "float32" else 1e-12
    host_cuda.assert_same(actual, expected, rtol=tolerance, atol=tolerance)


def _nodes(params, dtype="float64"):
    x, w, gz = (T.tensor4(n, dtype=dtype) for n in ("x", "w", "gz"))
    shape = T.lvector("shape")
    return (
        Conv2d(**params)(x, w).owner,
        Conv2dGradInputs(**params)(w, gz, shape).owner,
        Conv2dGradWeights(**params)(x, gz, shape).owner,
    )


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("variant", VARIANTS, ids=IDS)
def test_the_three_ops_agree_with_numpy_on_the_host(cupy_backend, host_rules, variant, dtype):
    _, input_shape, filter_shape, params = variant
    rng = np.random.default_rng(0)
    x = rng.normal(size=input_shape).astype(dtype)
    w = rng.normal(size=filter_shape).astype(dtype)
    forward, grad_inputs, grad_weights = _nodes(params, dtype)
    out = host_rules(cupy_backend, forward, x, w)
    _assert_same(out, _reference(forward, x, w))
    gz = rng.normal(size=out.shape).astype(dtype)
    spatial, kernel = np.array(input_shape[2:]), np.array(filter_shape[2:])
    _assert_same(
        host_rules(cupy_backend, grad_inputs, w, gz, spatial),
        _reference(grad_inputs, w, gz, spatial),
    )
    _assert_same(
        host_rules(cupy_backend, grad_weights, x, gz, kernel),
        _reference(grad_weights, x, gz, kernel),
    )


def test_non_contiguous_empty_and_half_precision_operands_on_the_host(cupy_backend, host_rules):
    rng = np.random.default_rng(1)
    params = {"border_mode": "half", "subsample": (2, 1)}
    forward, _, grad_weights = _nodes(params)
    x = rng.normal(size=(2, 3, 10, 7))[:, :, ::2]
    w = rng.normal(size=(3, 3, 3, 3)).transpose(0, 1, 3, 2)
    _assert_same(host_rules(cupy_backend, forward, x, w), _reference(forward, x, w))
    empty = np.zeros((0, 3, 5, 7))
    _assert_same(host_rules(cupy_backend, forward, empty, w), _reference(forward, empty, w))
    gz = np.zeros((0, 3, 3, 7))
    kernel = np.array([3, 3])
    _assert_same(
        host_rules(cupy_backend, grad_weights, empty, gz, kernel),
        _reference(grad_weights, empty, gz, kernel),
    )
    half, _, _ = _nodes(params, "float16")
    xh, wh = x.astype("float16"), w.astype("float16")
    actual, expected = host_rules(cupy_backend, half, xh, wh), _reference(half, xh, wh)
    assert actual.dtype == expected.dtype == np.float16
    np.testing.assert_allclose(actual, expected, rtol=1e-2, atol=1e-2)


def test_bad_shapes_raise_the_reference_errors(cupy_backend, host_rules):
    forward, grad_inputs, grad_weights = _nodes({"num_groups": 2})
    x, w = np.zeros((1, 4, 5, 5)), np.zeros((3, 2, 3, 3))
    with pytest.raises(ValueError, match="do not fit num_groups=2"):
        host_rules(cupy_backend, forward, x, w)
    forward, grad_inputs, _ = _nodes({})
    with pytest.raises(ValueError, match="do not fit in inputs of spatial shape"):
        host_rules(cupy_backend, forward, np.zeros((1, 2, 2, 2)), np.zeros((1, 2, 3, 3)))
    with pytest.raises(ValueError, match="output_grad has shape"):
        host_rules(
            cupy_backend,
            grad_inputs,
            np.zeros((1, 2, 3, 3)),
            np.zeros((1, 1, 4, 4)),
            np.array([5, 5]),
        )


# ---------------------------------------------------------------------------- on a GPU


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("variant", VARIANTS, ids=IDS)
def test_conv2d_with_gradients_matches_numpy_on_the_gpu(gpu, variant, dtype):
    _, input_shape, filter_shape, params = variant
    x, w = T.tensor4("x", dtype=dtype), T.tensor4("w", dtype=dtype)
    out = conv2d(x, w, **params)
    gx, gw = croton.grad((out**2).sum(), [x, w])
    (ggx,) = croton.grad((gw**2).sum(), [x])  # the gradient ops' own gradients
    outputs = [out, gx, gw, ggx]
    reference = croton.function([x, w], outputs, backend="numpy")
    device = croton.function([x, w], outputs, backend="cupy")
    rng = np.random.default_rng(0)
    xv = rng.normal(size=input_shape).astype(dtype)
    wv = rng.normal(size=filter_shape).astype(dtype)
    tolerance = 1e-4 if dtype == "float32" else 1e-10
    for expected, actual in zip(reference(xv, wv), device(xv, wv)):
        assert actual.dtype == expected.dtype and actual.shape == expected.shape
        # the second-order gradient reaches 4e4: sums in another order differ by rounding
        # errors of that size, also where terms cancel to a small entry
        scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
        np.testing.assert_allclose(actual, expected, rtol=tolerance, atol=tolerance * scale)


@pytest.mark.parametrize("case", conv_cases(), ids=lambda c: c.id)
def test_every_conv_case_agrees_with_numpy_through_the_rules(monkeypatch, case):
    host = host_cuda.host_backend(monkeypatch, [Conv2d, Conv2dGradInputs, Conv2dGradWeights])
    check_case(case, host)


@pytest.mark.parametrize("case", conv_cases(), ids=lambda c: c.id)
def test_every_conv_case_agrees_with_numpy_on_the_gpu(gpu, case):
    check_case(case, "cupy")
