"""pool_2d and its gradient ops, on every backend, against a direct numpy reference."""

from __future__ import annotations

import importlib.util
import itertools
import warnings

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.gradient import verify_grad
from croton.ops.pool import AveragePoolGrad, MaxPoolGrad, MaxPoolGradGrad, Pool
from croton.tensor.signal import pool
from croton.tensor.signal.pool import pool_2d

MODES = ("max", "sum", "average_inc_pad", "average_exc_pad")
BACKENDS = ["numpy", "numba"] + (["jax"] if importlib.util.find_spec("croton_jax") else [])
#: (ws, ignore_border, stride, pad)
GEOMETRIES = [
    ((2, 2), True, None, (0, 0)),
    ((2, 2), False, None, (0, 0)),
    ((3, 2), True, (1, 1), (0, 0)),
    ((3, 2), False, (2, 1), (0, 0)),
    ((2, 3), False, (3, 3), (0, 0)),
    ((3, 3), True, (2, 1), (1, 2)),
    ((2, 3), True, None, (1, 1)),
]


# -- a slow, direct reference: Theano's definition, one window at a time ---------------------


def reference_length(n, ws, stride, pad, ignore_border):
    n = n + 2 * pad
    if ignore_border:
        return n // stride if ws == stride else max((n - ws) // stride + 1, 0)
    if stride >= ws:
        return (n - 1) // stride + 1
    return max(0, (n - 1 - ws + stride) // stride) + 1


def regions(shape, ws, ignore_border, stride, pad, mode):
    """Yield ``(r, c, rows, columns, count)``: each window's input cells and divisor."""
    stride = stride or ws
    lengths = [reference_length(shape[a], ws[a], stride[a], pad[a], ignore_border) for a in (0, 1)]
    for r in range(lengths[0]):
        for c in range(lengths[1]):
            spans, count = [], 1
            for a, index in ((0, r), (1, c)):
                # in padded coordinates, clipped to the padded image
                start = index * stride[a]
                end = min(start + ws[a], shape[a] + 2 * pad[a])
                if mode == "average_inc_pad":
                    count *= end - start
                start, end = max(start, pad[a]), min(end, shape[a] + pad[a])
                if mode != "average_inc_pad":
                    count *= end - start
                spans.append(range(start - pad[a], end - pad[a]))
            yield r, c, spans[0], spans[1], count


def reference_pool(x, ws, ignore_border, stride, pad, mode):
    stride = stride or ws
    lengths = [
        reference_length(x.shape[-2 + a], ws[a], stride[a], pad[a], ignore_border) for a in (0, 1)
    ]
    dtype = "float64" if mode.startswith("average") and x.dtype.kind != "f" else x.dtype
    out = np.zeros(x.shape[:-2] + tuple(lengths), dtype=dtype)
    for lead in np.ndindex(*x.shape[:-2]):
        image = x[lead]
        for r, c, rows, columns, count in regions(
            image.shape, ws, ignore_border, stride, pad, mode
        ):
            cells = [image[i, j] for i in rows for j in columns]
            if mode == "max":
                value = max(cells)
            else:
                value = sum(float(v) for v in cells)
                if mode != "sum":
                    value = value / count
            out[lead + (r, c)] = value
    return out


def reference_grad(x, gz, ws, ignore_border, stride, pad, mode):
    """The gradient of ``sum(pool(x) * gz)``; max windows pay every cell equal to the max."""
    gx = np.zeros(x.shape, dtype="float64")
    for lead in np.ndindex(*x.shape[:-2]):
        image = x[lead]
        for r, c, rows, columns, count in regions(
            image.shape, ws, ignore_border, stride, pad, mode
        ):
            g = gz[lead + (r, c)]
            if mode == "max":
                top = max(image[i, j] for i in rows for j in columns)
            for i in rows:
                for j in columns:
                    if mode == "max":
                        gx[lead + (i, j)] += g if image[i, j] == top else 0.0
                    elif mode == "sum":
                        gx[lead + (i, j)] += g
                    else:
                        gx[lead + (i, j)] += g / count
    return gx


def distinct(shape, dtype="float64", seed=0):
    """Values without ties, far enough apart for finite differences."""
    rng = np.random.default_rng(seed)
    values = rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 - 1.0
    return values.astype(dtype)


def tolerance(dtype):
    return {"float32": 1e-5}.get(np.dtype(dtype).name, 1e-12)


# -- forward ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("geometry", GEOMETRIES, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_forward_matches_reference_on_numpy(mode, geometry, dtype):
    ws, ignore_border, stride, pad = geometry
    x = T.tensor(dtype, shape=(None, None, None, None))
    y = pool_2d(x, ws, ignore_border=ignore_border, stride=stride, pad=pad, mode=mode)
    f = croton.function([x], y, backend="numpy")
    for shape in [(2, 3, 5, 7), (1, 1, 4, 4), (2, 1, 6, 3)]:
        value = np.random.default_rng(1).normal(size=shape).astype(dtype)
        want = reference_pool(value, ws, ignore_border, stride, pad, mode)
        got = f(value)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=tolerance(dtype), atol=tolerance(dtype))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode", MODES)
def test_forward_and_gradient_on_every_backend(backend, mode, tmp_path):
    """Every geometry at once, in one compiled function per backend and mode."""
    rng = np.random.default_rng(2)
    x = T.dtensor3("x")
    value = distinct((2, 7, 8))
    outputs, wants = [], []
    for ws, ignore_border, stride, pad in GEOMETRIES:
        y = pool_2d(x, ws, ignore_border=ignore_border, stride=stride, pad=pad, mode=mode)
        forward = reference_pool(value, ws, ignore_border, stride, pad, mode)
        gz = rng.normal(size=forward.shape)
        outputs += [y, croton.grad((y * gz).sum(), x)]
        wants += [forward, reference_grad(value, gz, ws, ignore_border, stride, pad, mode)]
    got = croton.function([x], outputs, backend=backend)(value)
    for g, w in zip(got, wants):
        assert g.dtype == np.float64 and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_ranks_and_float32(backend):
    """2-d, 3-d and 4-d inputs (the leading axes are independent images), float32 kept."""
    for shape in [(5, 6), (3, 5, 6), (2, 2, 5, 6)]:
        x = T.tensor("float32", shape=(None,) * len(shape))
        value = np.random.default_rng(3).normal(size=shape).astype("float32")
        outputs = [
            pool_2d(x, (2, 2), ignore_border=False, mode="max"),
            pool_2d(
                x, (3, 2), ignore_border=True, stride=(1, 2), pad=(1, 0), mode="average_exc_pad"
            ),
        ]
        got = croton.function([x], outputs, backend=backend)(value)
        wants = [
            reference_pool(value, (2, 2), False, None, (0, 0), "max"),
            reference_pool(value, (3, 2), True, (1, 2), (1, 0), "average_exc_pad"),
        ]
        for g, w in zip(got, wants):
            assert g.dtype == np.float32 and g.shape == w.shape
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_non_contiguous_input(backend):
    x = T.dtensor4("x")
    value = np.random.default_rng(4).normal(size=(3, 2, 8, 6)).transpose(1, 0, 3, 2)[:, :, ::-1]
    y = pool_2d(x, (2, 3), ignore_border=False, stride=(1, 2), mode="sum")
    got = croton.function([x], y, backend=backend)(value)
    np.testing.assert_allclose(got, reference_pool(value, (2, 3), False, (1, 2), (0, 0), "sum"))


@pytest.mark.parametrize("backend", BACKENDS)
def test_integer_images(backend):
    """Max and sum keep an integer dtype; averages of integers are float64."""
    x = T.imatrix("x")
    value = np.random.default_rng(5).integers(-50, 50, size=(5, 7)).astype("int32")
    outputs = [pool_2d(x, (2, 3), ignore_border=False, mode=m) for m in MODES]
    got = croton.function([x], outputs, backend=backend)(value)
    for mode, g in zip(MODES, got):
        want = reference_pool(value, (2, 3), False, None, (0, 0), mode)
        assert g.dtype == want.dtype, mode
        np.testing.assert_allclose(g, want)


@pytest.mark.parametrize("backend", BACKENDS)
def test_padded_cells_never_win_a_max(backend):
    x = T.dmatrix("x")
    value = -np.arange(1.0, 10.0).reshape(3, 3)  # every value below the padding's zero
    y = pool_2d(x, (2, 2), ignore_border=True, stride=(2, 2), pad=(1, 1))
    got = croton.function([x], y, backend=backend)(value)
    np.testing.assert_array_equal(got, [[-1.0, -2.0], [-4.0, -5.0]])


def test_nan_propagates_through_max():
    x = T.dmatrix("x")
    value = np.arange(16.0).reshape(4, 4)
    value[0, 1] = np.nan
    for backend in BACKENDS:
        got = croton.function([x], pool_2d(x, (2, 2), ignore_border=True), backend=backend)(value)
        assert np.isnan(got[0, 0]) and got[1, 1] == 15.0, backend


def test_empty_images_and_windows_larger_than_the_image():
    x = T.dtensor4("x")
    outputs = [
        pool_2d(x, (3, 3), ignore_border=True),
        pool_2d(x, (3, 3), ignore_border=False),
    ]
    for backend in BACKENDS:
        f = croton.function([x], outputs, backend=backend)
        small, partial = f(np.ones((2, 1, 2, 2)))
        assert small.shape == (2, 1, 0, 0)
        np.testing.assert_array_equal(partial, np.ones((2, 1, 1, 1)))
        empty, empty_partial = f(np.ones((0, 1, 4, 4)))
        assert empty.shape == (0, 1, 1, 1) and empty_partial.shape == (0, 1, 2, 2)


def test_static_and_inferred_shapes():
    x = T.tensor("float64", shape=(2, 3, 7, 9))
    y = pool_2d(x, (3, 2), ignore_border=False, stride=(2, 4))
    assert y.type.shape == (2, 3, 3, 3)
    z = pool_2d(T.dtensor4("z"), (3, 3), ignore_border=True, stride=(2, 1), pad=(1, 2))
    shape = croton.function([z.owner.inputs[0]], z.shape, backend="numpy")
    value = np.zeros((1, 2, 7, 5))
    assert tuple(shape(value)) == reference_pool(value, (3, 3), True, (2, 1), (1, 2), "max").shape


# -- gradients ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("geometry", GEOMETRIES[1::2] + GEOMETRIES[-1:], ids=str)
def test_verify_grad_on_numpy(mode, geometry):
    ws, ignore_border, stride, pad = geometry
    verify_grad(
        lambda x: pool_2d(x, ws, ignore_border=ignore_border, stride=stride, pad=pad, mode=mode),
        [distinct((2, 5, 6), seed=6)],
        backend="numpy",
    )


@pytest.mark.parametrize("mode", MODES)
def test_verify_grad_on_numba(mode):
    verify_grad(
        lambda x: pool_2d(x, (3, 2), ignore_border=True, stride=(2, 1), pad=(1, 1), mode=mode),
        [distinct((2, 5, 4), seed=7)],
        backend="numba",
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_tied_maxima_all_receive_the_gradient(backend):
    x = T.dmatrix("x")
    value = np.array([[1.0, 3.0, 3.0, 0.0], [3.0, 2.0, 1.0, 3.0]])
    y = pool_2d(x, (2, 2), ignore_border=True, stride=(1, 1))  # overlapping windows
    gz = np.array([[1.0, 10.0, 100.0]])
    g = croton.function([x], croton.grad((y * gz).sum(), x), backend=backend)(value)
    # window 0 ties at (0,1), (1,0); window 1 at (0,1), (0,2); window 2 at (0,2), (1,3)
    np.testing.assert_array_equal(g, [[0.0, 11.0, 110.0, 0.0], [1.0, 0.0, 0.0, 100.0]])
    np.testing.assert_array_equal(g, reference_grad(value, gz, (2, 2), True, (1, 1), (0, 0), "max"))


def test_second_derivatives_on_numpy():
    """Gradients of the gradient ops (MaxPoolGradGrad, AveragePoolGrad's pool)."""
    for mode in MODES:

        def gradient(x, mode=mode):
            y = pool_2d(x, (3, 2), ignore_border=True, stride=(1, 2), pad=(1, 1), mode=mode)
            return croton.grad((y**2).sum(), x)

        verify_grad(gradient, [distinct((2, 5, 4), seed=8)], backend="numpy")


@pytest.mark.parametrize("backend", BACKENDS[1:])
def test_second_derivatives_agree_with_numpy(backend):
    x = T.dtensor4("x")
    value = distinct((2, 2, 5, 6), seed=9)
    outputs = []
    for mode in ("max", "average_exc_pad"):  # (sum and the other average share their code)
        y = pool_2d(x, (2, 3), ignore_border=False, stride=(2, 1), mode=mode)
        g = croton.grad((y**2).sum(), x)
        outputs.append(croton.grad((g**2 * np.linspace(0, 1, 6)).sum(), x))
    want = croton.function([x], outputs, backend="numpy")(value)
    got = croton.function([x], outputs, backend=backend)(value)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


def test_gradient_ops_in_the_graph():
    x = T.dtensor4("x")
    g = croton.grad(pool_2d(x, (2, 2)).sum(), x)
    assert isinstance(g.owner.op, MaxPoolGrad)
    g = croton.grad(pool_2d(x, (2, 2), mode="sum").sum(), x)
    assert isinstance(g.owner.op, AveragePoolGrad)
    y = pool_2d(x, (2, 2))
    gg = croton.grad(croton.grad((y**2).sum(), x).sum(), x, disconnected_inputs="ignore")
    ops = {
        type(node.op) for node in croton.function([x], gg, backend="numpy").maker.fgraph.toposort()
    }
    assert MaxPoolGradGrad in ops


# -- the API ------------------------------------------------------------------------------


def test_module_exports_theano_names():
    assert pool.pool_2d is pool_2d and T.signal.pool.pool_2d is pool_2d
    assert pool.Pool is Pool and pool.MaxPoolGrad is MaxPoolGrad
    assert pool.AveragePoolGrad is AveragePoolGrad


def test_defaults():
    x = T.dtensor4("x")
    y = pool_2d(x, (2, 2))
    assert y.owner.op == Pool((2, 2), ignore_border=True, stride=(2, 2), pad=(0, 0), mode="max")


def test_deprecated_names_warn_and_work():
    x = T.dtensor4("x")
    with pytest.warns(DeprecationWarning, match="'ds'"):
        a = pool_2d(x, ds=(2, 2), ignore_border=True)
    with pytest.warns(DeprecationWarning, match="'st'"):
        b = pool_2d(x, (3, 3), ignore_border=True, st=(1, 1))
    with pytest.warns(DeprecationWarning, match="'padding'"):
        c = pool_2d(x, (3, 3), ignore_border=True, padding=(1, 1))
    assert a.owner.op == Pool((2, 2))
    assert b.owner.op == Pool((3, 3), stride=(1, 1))
    assert c.owner.op == Pool((3, 3), pad=(1, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pool_2d(x, ws=(2, 2), stride=(1, 1), pad=(1, 1))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({}, ValueError, "window size ws"),
        ({"ws": (2, 2), "ds": (2, 2)}, ValueError, "pass only ws"),
        ({"ws": (2, 2), "stride": (1, 1), "st": (1, 1)}, ValueError, "pass only stride"),
        ({"ws": (2, 2), "pad": (1, 1), "padding": (1, 1)}, ValueError, "pass only pad"),
        ({"ws": (2, 2), "mode": "average"}, ValueError, "mode must be one of"),
        (
            {"ws": (2, 2), "pad": (1, 1), "ignore_border": False},
            NotImplementedError,
            "ignore_border=True",
        ),
        ({"ws": (2, 2), "pad": (2, 0)}, NotImplementedError, "smaller than the window"),
        ({"ws": 2}, TypeError, "ws must be two ints"),
        ({"ws": (2.0, 2)}, TypeError, "ws must be two ints"),
        ({"ws": (0, 2)}, ValueError, "ws must be positive"),
        ({"ws": (2, 2), "stride": (0, 1)}, ValueError, "stride must be positive"),
        ({"ws": (2, 2), "pad": (-1, 0)}, ValueError, "pad must not be negative"),
        ({"ws": T.ivector("w")}, TypeError, "known when the graph is built"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        pool_2d(T.dtensor4("x"), **kwargs)


def test_bad_inputs():
    with pytest.raises(TypeError, match="last two axes"):
        pool_2d(T.dvector("v"), (2, 2))
    with pytest.raises(TypeError, match="integer or floating-point"):
        pool_2d(T.bmatrix("b") > 0, (2, 2))


def test_constant_window_tensor():
    x = T.dmatrix("x")
    y = pool_2d(x, T.constant(np.array([2, 2])), stride=T.constant(np.array([1, 1])))
    assert y.owner.op == Pool((2, 2), stride=(1, 1))


def test_ops_are_equal_only_with_equal_parameters():
    ops = [
        Pool(ws, ignore_border=ib, stride=st, pad=p, mode=m)
        for (ws, ib, st, p), m in itertools.product(GEOMETRIES, MODES)
    ]
    assert len(set(ops)) == len(ops)
    assert Pool((2, 2), stride=None) == Pool((2, 2), stride=(2, 2))
