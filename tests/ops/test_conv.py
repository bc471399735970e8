"""conv2d and its gradient ops on the numpy, numba and jax backends, against direct loops."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.gradient import verify_grad
from croton.ops.conv import Conv2d, Conv2dGradInputs, Conv2dGradWeights
from croton.tensor.nnet.conv import conv2d_grad_wrt_inputs, conv2d_grad_wrt_weights


def _pads(border_mode, kernel_shape, dilation):
    effective = [(k - 1) * d + 1 for k, d in zip(kernel_shape, dilation)]
    if border_mode == "valid":
        return (0, 0)
    if border_mode == "full":
        return tuple(e - 1 for e in effective)
    if border_mode == "half":
        return tuple(e // 2 for e in effective)
    if isinstance(border_mode, int):
        return (border_mode, border_mode)
    return tuple(border_mode)


def reference(x, w, gz=None, border_mode="valid", subsample=(1, 1), filter_flip=True,
              filter_dilation=(1, 1), num_groups=1):  # fmt: skip
    """Direct loops: the convolution, and given ``gz`` the gradients of ``sum(out * gz)``."""
    b, c, rows, columns = x.shape
    f, cg, kh, kw = w.shape
    (sh, sw), (dh, dw) = (np.broadcast_to(v, 2) for v in (subsample, filter_dilation))
    ph, pw = _pads(border_mode, (kh, kw), filter_dilation)
    xp = np.zeros((b, c, rows + 2 * ph, columns + 2 * pw))
    xp[:, :, ph : ph + rows, pw : pw + columns] = x
    wk = w[:, :, ::-1, ::-1] if filter_flip else w
    oh = (rows + 2 * ph - (kh - 1) * dh - 1) // sh + 1
    ow = (columns + 2 * pw - (kw - 1) * dw - 1) // sw + 1
    out = np.zeros((b, f, oh, ow))
    gxp, gwk = np.zeros_like(xp), np.zeros(w.shape)
    fg = f // num_groups
    for n in range(b):
        for o in range(f):
            g = o // fg
            for y in range(oh):
                for z in range(ow):
                    for ci in range(cg):
                        for i in range(kh):
                            for j in range(kw):
                                at = (n, g * cg + ci, y * sh + i * dh, z * sw + j * dw)
                                out[n, o, y, z] += wk[o, ci, i, j] * xp[at]
                                if gz is not None:
                                    gxp[at] += wk[o, ci, i, j] * gz[n, o, y, z]
                                    gwk[o, ci, i, j] += xp[at] * gz[n, o, y, z]
    gx = gxp[:, :, ph : ph + rows, pw : pw + columns]
    gw = gwk[:, :, ::-1, ::-1] if filter_flip else gwk
    return out, gx, gw


#: (id, input shape, filter shape, conv2d parameters)
CONFIGS = [
    ("valid", (2, 3, 6, 7), (4, 3, 3, 2), {}),
    ("full", (2, 2, 5, 5), (3, 2, 3, 3), {"border_mode": "full"}),
    ("half-even-filter", (1, 2, 6, 5), (2, 2, 4, 3), {"border_mode": "half"}),
    ("int-pad", (2, 2, 5, 6), (3, 2, 2, 3), {"border_mode": 2}),
    ("tuple-pad-stride", (2, 3, 7, 8), (2, 3, 3, 3), {"border_mode": (1, 2), "subsample": (2, 3)}),
    ("stride-leaves-rows", (1, 1, 8, 9), (2, 1, 3, 2), {"subsample": (2, 4)}),
    ("correlation", (2, 2, 6, 6), (3, 2, 3, 2), {"filter_flip": False}),
    ("dilation", (1, 2, 9, 8), (2, 2, 3, 2), {"filter_dilation": (2, 3), "border_mode": "half"}),
    ("groups", (2, 4, 6, 6), (6, 2, 3, 3), {"num_groups": 2, "border_mode": 1, "subsample": 2}),
    ("depthwise", (1, 3, 5, 5), (3, 1, 3, 3), {"num_groups": 3, "filter_flip": False}),
    # 8 * 3 * 3 taps: the numba backend's im2col and BLAS path
    ("many-taps", (2, 8, 7, 6), (5, 8, 3, 3), {"border_mode": "half", "subsample": (1, 2)}),
    ("many-taps-groups", (2, 16, 6, 6), (4, 8, 3, 3), {"num_groups": 2, "filter_flip": False}),
]

NUMBA_CONFIGS = ["tuple-pad-stride", "dilation", "groups", "many-taps-groups"]


def _values(input_shape, filter_shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return (
        rng.normal(size=input_shape).astype(dtype),
        rng.normal(size=filter_shape).astype(dtype),
    )


def _check_config(config_id, backend, dtype):
    _, input_shape, filter_shape, params = next(c for c in CONFIGS if c[0] == config_id)
    xv, wv = _values(input_shape, filter_shape, dtype)
    x, w = T.tensor4("x", dtype=dtype), T.tensor4("w", dtype=dtype)
    gz = T.tensor4("gz", dtype=dtype)
    y = T.nnet.conv2d(x, w, **params)
    gx, gw = T.grad(T.sum(y * gz), [x, w])
    want_y, _, _ = reference(xv.astype("float64"), wv.astype("float64"), **params)
    gzv = np.random.default_rng(1).normal(size=want_y.shape).astype(dtype)
    want_y, want_gx, want_gw = reference(
        xv.astype("float64"), wv.astype("float64"), gzv.astype("float64"), **params
    )
    f = croton.function([x, w, gz], [y, gx, gw], backend=backend)
    tolerance = 1e-4 if dtype == "float32" else 1e-10
    for got, want in zip(f(xv, wv, gzv), (want_y, want_gx, want_gw)):
        assert got.dtype == np.dtype(dtype)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("config_id", [c[0] for c in CONFIGS])
def test_values_and_gradients_numpy(config_id, dtype):
    _check_config(config_id, "numpy", dtype)


#: the compiling backends (the JAX plugin is a separate distribution: where installed)
COMPILED = ["numba"] + (["jax"] if importlib.util.find_spec("croton_jax") else [])


@pytest.mark.parametrize("backend", COMPILED)
@pytest.mark.parametrize("config_id", NUMBA_CONFIGS)
def test_values_and_gradients_compiled(config_id, backend):
    _check_config(config_id, backend, "float64")


def test_float32_numba():
    _check_config("many-taps", "numba", "float32")


@pytest.mark.parametrize("config_id", ["valid", "tuple-pad-stride", "dilation", "groups"])
def test_verify_grad(config_id):
    _, input_shape, filter_shape, params = next(c for c in CONFIGS if c[0] == config_id)
    xv, wv = _values(input_shape, filter_shape, "float64")
    verify_grad(lambda x, w: T.nnet.conv2d(x, w, **params), [xv, wv], backend="numpy")


def test_verify_grad_numba():
    _, input_shape, filter_shape, params = CONFIGS[4]
    xv, wv = _values(input_shape, filter_shape, "float64")
    verify_grad(lambda x, w: T.nnet.conv2d(x, w, **params), [xv, wv], backend="numba")


@pytest.mark.parametrize("config_id", ["tuple-pad-stride", "groups"])
def test_second_derivatives(config_id):
    """The gradient ops' own gradients (expressed with the other two ops)."""
    _, input_shape, filter_shape, params = next(c for c in CONFIGS if c[0] == config_id)
    xv, wv = _values(input_shape, filter_shape, "float64")

    def grad_of(wrt):
        def gradient(x, w):
            cost = T.sum(T.nnet.conv2d(x, w, **params) ** 2)
            return T.grad(cost, x if wrt == "input" else w)

        return gradient

    verify_grad(grad_of("input"), [xv, wv], backend="numpy")
    verify_grad(grad_of("filters"), [xv, wv], backend="numpy")


def test_gradient_functions_match_grad():
    _, input_shape, filter_shape, params = CONFIGS[4]
    xv, wv = _values(input_shape, filter_shape, "float64")
    want_y, _, _ = reference(xv, wv, **params)
    gzv = np.random.default_rng(2).normal(size=want_y.shape)
    _, want_gx, want_gw = reference(xv, wv, gzv, **params)
    x, w, gz = T.tensor4("x"), T.tensor4("w"), T.tensor4("gz")
    gx = conv2d_grad_wrt_inputs(gz, w, input_shape, **params)
    gw = conv2d_grad_wrt_weights(x, gz, filter_shape, **params)
    assert gx.type.shape[2:] == input_shape[2:] and gw.type.shape[2:] == filter_shape[2:]
    got_gx, got_gw = croton.function([x, w, gz], [gx, gw], backend="numpy")(xv, wv, gzv)
    np.testing.assert_allclose(got_gx, want_gx, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(got_gw, want_gw, rtol=1e-10, atol=1e-10)


def test_static_shapes_and_infer_shape():
    x = T.tensor4("x")
    w = T.tensor4("w")
    y = T.nnet.conv2d(
        x, w, input_shape=(None, 3, 10, 11), filter_shape=(4, 3, 3, 3), subsample=(2, 3)
    )
    assert y.type.shape == (None, 4, 4, 3)
    assert y.dtype == "float64"
    z = T.nnet.conv2d(x, w, border_mode="full", filter_dilation=(2, 1))
    f = croton.function([x, w], z.shape, backend="numpy")
    xv, wv = _values((2, 3, 6, 5), (4, 3, 3, 2), "float64")
    np.testing.assert_array_equal(
        f(xv, wv), reference(xv, wv, None, "full", (1, 1), True, (2, 1))[0].shape
    )


def test_shape_hint_checked_when_called():
    x, w = T.tensor4("x"), T.tensor4("w")
    f = croton.function([x, w], T.nnet.conv2d(x, w, image_shape=(2, 1, 5, 5)), backend="numpy")
    xv, wv = _values((2, 1, 6, 5), (1, 1, 2, 2), "float64")
    with pytest.raises(Exception, match="shape|length"):
        f(xv, wv)


def test_integer_inputs_become_float64():
    x = T.tensor4("x", dtype="int32")
    w = T.tensor4("w", dtype="int32")
    y = T.nnet.conv2d(x, w)
    assert y.dtype == "float64"
    xv = np.arange(2 * 1 * 4 * 4, dtype="int32").reshape(2, 1, 4, 4)
    wv = np.ones((1, 1, 2, 2), dtype="int32")
    got = croton.function([x, w], y, backend="numpy")(xv, wv)
    np.testing.assert_allclose(got, reference(xv.astype(float), wv.astype(float))[0])


def test_theano_import_paths():
    from croton.tensor.nnet import conv
    from croton.tensor.nnet import conv2d as from_nnet

    assert conv.conv2d is from_nnet is T.nnet.conv2d


def test_ops_compare_by_parameters():
    assert Conv2d("valid", 1, True, 1, 1) == Conv2d(border_mode=(0, 0), subsample=(1, 1))
    assert Conv2d(border_mode=1) == Conv2d(border_mode=(1, 1))
    assert Conv2d(border_mode="full") != Conv2d(border_mode="half")
    assert Conv2dGradInputs(num_groups=2) != Conv2dGradWeights(num_groups=2)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"border_mode": "same"}, "border_mode"),
        ({"border_mode": (1, -1)}, "border_mode"),
        ({"border_mode": (1, 2, 3)}, "border_mode"),
        ({"subsample": (0, 1)}, "subsample"),
        ({"filter_dilation": 0}, "filter_dilation"),
        ({"num_groups": 0}, "num_groups"),
    ],
)
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        T.nnet.conv2d(T.tensor4(), T.tensor4(), **kwargs)


def test_wrong_rank():
    with pytest.raises(TypeError, match="input must be a 4-d tensor"):
        T.nnet.conv2d(T.matrix("x"), T.tensor4("w"))
    with pytest.raises(TypeError, match="filters must be a 4-d tensor"):
        T.nnet.conv2d(T.tensor4("x"), T.tensor3("w"))


def test_channel_mismatch():
    x = T.tensor4("x", shape=(None, 3, None, None))
    w = T.tensor4("w", shape=(4, 2, 3, 3))
    with pytest.raises(ValueError, match="3 channels"):
        T.nnet.conv2d(x, w)
    with pytest.raises(ValueError, match="num_groups=3"):
        T.nnet.conv2d(x, T.tensor4(shape=(4, 1, 3, 3)), num_groups=3)


def test_filter_too_large():
    x = T.tensor4("x", shape=(1, 1, 3, 3))
    w = T.tensor4("w", shape=(1, 1, 4, 4))
    with pytest.raises(ValueError, match="does not fit"):
        T.nnet.conv2d(x, w)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_run_time_errors(backend):
    x, w = T.tensor4("x"), T.tensor4("w")
    f = croton.function([x, w], T.nnet.conv2d(x, w), backend=backend)
    xv, wv = _values((1, 2, 3, 3), (1, 2, 4, 4), "float64")
    with pytest.raises(ValueError, match="fit"):
        f(xv, wv)
    xv, wv = _values((1, 3, 5, 5), (1, 2, 3, 3), "float64")
    with pytest.raises(ValueError, match="channels"):
        f(xv, wv)
