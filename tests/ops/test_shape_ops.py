"""Shape ops: reshape, dimshuffle, alloc, join, split, arange, eye, tile, repeat, ..."""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.gradient import verify_grad
from croton.graph.type import TensorType
from croton.ops.map import Map, map_over_index
from croton.ops.shape import Alloc, ARange, Eye, Join, Repeat, Reshape, Shape, SpecifyShape, Split
from croton.tensor.shape import (
    horizontal_stack,
    roll,
    shape_padaxis,
    shape_padleft,
    shape_padright,
    vertical_stack,
)

rng = np.random.default_rng(42)
A = rng.normal(size=(3, 4))
B = rng.normal(size=(2, 3, 4))


def run(outputs, inputs, *values):
    """Compile ``outputs`` of ``inputs`` and evaluate at ``values``."""
    return croton.function(inputs, outputs)(*values)


def static(*shape, dtype="float64", name=None):
    """An input with a fully or partly known static shape."""
    return TensorType(dtype, shape=shape)(name)


def assert_same(got, expected):
    """Same dtype, shape and values as the numpy result."""
    expected = np.asarray(expected)
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)


def assert_infer_shape(out, inputs, values, op_type):
    """``infer_shape`` of the node computing ``out`` agrees with the computed shapes."""
    node = out.owner
    assert isinstance(node.op, op_type), node.op
    input_shapes = [tuple(inp.shape[i] for i in range(inp.ndim)) for inp in node.inputs]
    inferred = node.op.infer_shape(node, input_shapes)
    assert len(inferred) == len(node.outputs)
    lengths = [T.as_tensor_variable(s) for shape in inferred for s in shape]
    fn = croton.function(inputs, list(node.outputs) + lengths, on_unused_input="ignore")
    results = fn(*values)
    computed = results[: len(node.outputs)]
    got = [int(v) for v in results[len(node.outputs) :]]
    assert got == [d for array in computed for d in array.shape]
    for shape, var in zip(inferred, node.outputs, strict=True):
        assert len(shape) == var.ndim


# -- reshape and flatten ---------------------------------------------------------------


@pytest.mark.parametrize("new_shape", [(2, -1), (-1,), (12,), (3, 2, 2), (-1, 3, 1), (1, 12)])
def test_reshape_values(new_shape):
    x = T.dmatrix("x")
    assert_same(run(x.reshape(new_shape), [x], A), A.reshape(new_shape))


def test_reshape_symbolic_shape():
    x = T.dmatrix("x")
    out = x.reshape((x.shape[0], -1))
    assert out.ndim == 2
    assert_same(run(out, [x], A), A)
    swapped = T.reshape(x, (x.shape[1], x.shape[0]))
    assert_same(run(swapped, [x], A), A.reshape(4, 3))
    n = T.lscalar("n")
    assert_same(run(x.reshape((n, -1)), [x, n], A, 6), A.reshape(6, -1))


def test_reshape_shape_vector_needs_ndim():
    x, s = T.dmatrix("x"), T.lvector("s")
    with pytest.raises(ValueError, match="ndim"):
        T.reshape(x, s)
    assert_same(run(T.reshape(x, s, ndim=3), [x, s], A, [2, 2, 3]), A.reshape(2, 2, 3))


def test_reshape_keeps_dtype():
    x = T.imatrix("x")
    data = np.arange(12, dtype="int32").reshape(3, 4)
    assert_same(run(x.reshape((6, 2)), [x], data), data.reshape(6, 2))


def test_reshape_static_shapes():
    x = static(3, 4)
    assert x.reshape((2, -1)).type.shape == (2, 6)
    assert x.reshape((x.shape[0], -1)).type.shape == (3, 4)
    assert x.flatten().type.shape == (12,)
    m = T.dmatrix()
    assert m.reshape((3, m.shape[1])).type.shape == (3, None)
    assert m.reshape((2, -1)).type.shape == (2, None)
    assert m.reshape((1, -1)).broadcastable == (True, False)


def test_reshape_errors():
    x = static(3, 4)
    with pytest.raises(ValueError):
        x.reshape((5, 2))
    with pytest.raises(ValueError):
        x.reshape((5, -1))
    with pytest.raises(ValueError):
        T.dmatrix().reshape((-1, -1))
    m = T.dmatrix("m")
    f = croton.function([m], m.reshape((5, -1)))
    with pytest.raises(ValueError):
        f(A)


def test_reshape_to_scalar_and_back():
    v = T.dvector("v")
    out = v.reshape(())
    assert out.ndim == 0
    assert_same(run(out, [v], np.array([2.5])), np.array(2.5))
    s = T.dscalar("s")
    assert_same(run(s.reshape((1, 1)), [s], 3.0), np.full((1, 1), 3.0))


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_flatten(ndim):
    x = T.dtensor3("x")
    expected = B.reshape(B.shape[: ndim - 1] + (-1,))
    out = x.flatten(ndim)
    assert out.ndim == ndim
    assert_same(run(out, [x], B), expected)
    assert_same(run(T.flatten(x, outdim=ndim), [x], B), expected)


def test_flatten_static_and_errors():
    assert static(2, 3, 4).flatten(2).type.shape == (2, 12)
    with pytest.raises(ValueError):
        T.dmatrix().flatten(3)
    with pytest.raises(ValueError):
        T.dmatrix().flatten(0)


# -- dimshuffle, transpose ---------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern, expected",
    [
        ((1, 0), lambda a: a.T),
        (("x", 0, 1), lambda a: a[None]),
        ((0, "x", 1), lambda a: a[:, None]),
        ((1, "x", 0, "x"), lambda a: a.T[:, None, :, None]),
    ],
)
def test_dimshuffle(pattern, expected):
    x = T.dmatrix("x")
    out = x.dimshuffle(*pattern)
    assert out.type.shape == tuple(1 if p == "x" else None for p in pattern)
    assert_same(run(out, [x], A), expected(A))


def test_dimshuffle_drops_broadcastable_axes():
    r, c = T.drow("r"), T.dcol("c")
    row_data, col_data = A[:1], A[:, :1]
    assert_same(run(r.dimshuffle(1), [r], row_data), row_data[0])
    assert_same(run(c.dimshuffle(0), [c], col_data), col_data[:, 0])
    assert_same(run(c.dimshuffle("x", 0), [c], col_data), col_data.T)
    with pytest.raises(ValueError, match="broadcastable"):
        T.dmatrix().dimshuffle(0)


def test_transpose_and_T():
    x = T.dtensor3("x")
    assert_same(run(x.T, [x], B), B.T)
    assert_same(run(x.transpose(2, 0, 1), [x], B), B.transpose(2, 0, 1))
    assert_same(run(T.transpose(x, (1, 0, 2)), [x], B), B.transpose(1, 0, 2))
    assert static(2, 3, 4).T.type.shape == (4, 3, 2)


def test_shape():
    x = T.dtensor3("x")
    s = x.shape
    assert s.dtype == "int64"
    assert s.type.shape == (3,)
    assert_same(run(s, [x], B), np.array(B.shape))
    assert_same(run(T.shape(x)[-1], [x], B), np.array(4))
    assert_same(run(s.size, [x], B), np.array(3))


# -- alloc and filled arrays -------------------------------------------------------------


def test_alloc_and_broadcast_to():
    v, n = T.dvector("v"), T.lscalar("n")
    row = A[0]
    assert_same(run(T.alloc(v, 3, 4), [v], row), np.broadcast_to(row, (3, 4)))
    assert_same(run(T.alloc(v, n, 2, 4), [v, n], row, 5), np.broadcast_to(row, (5, 2, 4)))
    assert_same(run(T.broadcast_to(v, (2, 4)), [v], row), np.broadcast_to(row, (2, 4)))
    assert_same(run(T.alloc(v, (2, 4)), [v], row), np.broadcast_to(row, (2, 4)))
    s = T.dscalar("s")
    assert_same(run(T.alloc(s, 2, 3), [s], 1.5), np.full((2, 3), 1.5))
    c = T.dcol("c")
    assert_same(run(T.alloc(c, 3, 5), [c], A[:, :1]), np.broadcast_to(A[:, :1], (3, 5)))


def test_alloc_static_shape_and_dtype():
    v = T.ivector("v")
    out = T.alloc(v, 3, 4)
    assert out.dtype == "int32"
    assert out.type.shape == (3, 4)
    x = static(2, 5)
    assert T.alloc(0.0, x.shape[1], T.lscalar()).type.shape == (5, None)
    assert T.alloc(static(None, 4), 2, 3, T.lscalar()).type.shape == (2, 3, 4)


def test_alloc_unknown_length_must_match():
    v = T.dvector("v")
    f = croton.function([v], T.alloc(v, 3, 4))
    with pytest.raises(ValueError):
        f(np.ones(1))
    with pytest.raises(ValueError):
        T.alloc(static(3), 2, 4)


@pytest.mark.parametrize(
    "build, expected",
    [
        (lambda: T.zeros((2, 3)), np.zeros((2, 3))),
        (lambda: T.ones((2, 3)), np.ones((2, 3))),
        (lambda: T.zeros(4, dtype="int32"), np.zeros(4, dtype="int32")),
        (lambda: T.ones((2,), dtype="int8"), np.ones(2, dtype="int8")),
        (lambda: T.full((2, 2), 7), np.full((2, 2), 7)),
        (lambda: T.full((2, 2), 1.5), np.full((2, 2), 1.5)),
        (lambda: T.full((3,), 2, dtype="float32"), np.full(3, 2, dtype="float32")),
        (lambda: T.eye(3), np.eye(3)),
    ],
)
def test_filled_constants(build, expected):
    out = build()
    assert out.type.shape == expected.shape
    assert_same(run(out, []), expected)


def test_zeros_follow_floatx():
    with croton.config.change(floatX="float32"):
        assert T.zeros((2,)).dtype == "float32"
        assert T.ones((2,)).dtype == "float32"
        assert T.eye(2).dtype == "float32"
    assert T.zeros((2,)).dtype == "float64"


def test_zeros_with_symbolic_shape():
    x = T.dtensor3("x")
    assert_same(run(T.zeros(x.shape), [x], B), np.zeros(B.shape))
    assert_same(run(T.ones((x.shape[0], 2)), [x], B), np.ones((2, 2)))


def test_like_constructors_and_fill():
    x, i = T.dmatrix("x"), T.imatrix("i")
    data = np.arange(6, dtype="int32").reshape(2, 3)
    assert_same(run(T.zeros_like(x), [x], A), np.zeros_like(A))
    assert_same(run(T.ones_like(i), [i], data), np.ones_like(data))
    assert_same(run(x.zeros_like(dtype="int64"), [x], A), np.zeros(A.shape, dtype="int64"))
    assert_same(run(i.ones_like(), [i], data), np.ones_like(data))
    assert_same(run(T.fill(x, 2.5), [x], A), np.full(A.shape, 2.5))
    assert static(2, 3).zeros_like().type.shape == (2, 3)


# -- join, stack, split ------------------------------------------------------------------


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_join_and_concatenate(axis):
    x, y = T.dmatrices("x", "y")
    other = rng.normal(size=(3, 4))
    expected = np.concatenate([A, other, A], axis=axis)
    assert_same(run(T.join(axis, x, y, x), [x, y], A, other), expected)
    assert_same(run(T.concatenate([x, y, x], axis=axis), [x, y], A, other), expected)


def test_join_mixed_dtypes_and_static_shape():
    i, f = T.ivector("i"), T.fvector("f")
    idata, fdata = np.arange(3, dtype="int32"), np.ones(2, dtype="float32")
    assert_same(run(T.concatenate([i, f]), [i, f], idata, fdata), np.concatenate([idata, fdata]))
    assert T.concatenate([static(2, 3), static(4, 3)]).type.shape == (6, 3)
    assert T.concatenate([static(2, 3), static(None, 3)]).type.shape == (None, 3)
    assert T.concatenate([static(2, None), static(2, 3)], axis=1).type.shape == (2, None)
    with pytest.raises(ValueError):
        T.concatenate([static(2, 3), static(2, 4)])
    x = T.dmatrix()
    assert T.join(0, x) is x


def test_join_runtime_mismatch_raises():
    x, y = T.dmatrices("x", "y")
    f = croton.function([x, y], T.concatenate([x, y]))
    with pytest.raises(ValueError):
        f(A, np.ones((2, 5)))


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
def test_stack(axis):
    x, y = T.dmatrices("x", "y")
    other = A * 2
    out = T.stack([x, y, x], axis=axis)
    assert out.ndim == 3
    assert_same(run(out, [x, y], A, other), np.stack([A, other, A], axis=axis))


def test_stack_scalars_and_static_shape():
    a, b = T.dscalars("a", "b")
    assert_same(run(T.stack([a, b, a]), [a, b], 1.0, 2.0), np.array([1.0, 2.0, 1.0]))
    assert T.stack([static(2, 3), static(2, 3)], axis=1).type.shape == (2, 2, 3)


@pytest.mark.parametrize("sizes, axis", [([1, 3], 1), ([2, 0, 1], 0), ([3, 1], -1), ([4], 1)])
def test_split(sizes, axis):
    x = T.dmatrix("x")
    pieces = T.split(x, sizes, len(sizes), axis=axis)
    assert len(pieces) == len(sizes)
    expected = np.split(A, np.cumsum(sizes)[:-1], axis=axis)
    for got, want in zip(run(pieces, [x], A), expected, strict=True):
        assert_same(got, want)


def test_split_symbolic_sizes_and_errors():
    x, s = T.dmatrix("x"), T.lvector("s")
    f = croton.function([x, s], T.split(x, s, 2, axis=1))
    left, right = f(A, [3, 1])
    assert_same(left, A[:, :3])
    assert_same(right, A[:, 3:])
    with pytest.raises(ValueError):
        f(A, [2, 1])
    with pytest.raises(ValueError):
        f(A, [1, 1, 2])
    assert [p.type.shape for p in T.split(static(3, 4), [1, 3], 2, axis=1)] == [(3, 1), (3, 3)]
    with pytest.raises(ValueError):
        T.split(static(3, 4), [1, 2], 2, axis=1)
    with pytest.raises(ValueError):
        T.split(x, [1, 2], 3, axis=1)


# -- arange, eye -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((5,), {}),
        ((2, 10, 3), {}),
        ((10, 2, -3), {}),
        ((5, 2), {}),
        ((0, 1, 0.3), {}),
        ((0.5, 3), {}),
        ((-1.5, 1.0, 0.25), {}),
        ((np.int32(4),), {}),
        ((np.float32(3),), {}),
        ((6,), {"dtype": "int32"}),
        ((0, 2, 0.5), {"dtype": "float32"}),
    ],
)
def test_arange_constants(args, kwargs):
    out = T.arange(*args, **kwargs)
    expected = np.arange(*args, **kwargs)
    assert out.type.shape == expected.shape
    assert_same(run(out, []), expected)


def test_arange_symbolic():
    n, start, f = T.lscalar("n"), T.iscalar("start"), T.dscalar("f")
    assert_same(run(T.arange(n), [n], 5), np.arange(5))
    assert_same(run(T.arange(start, n, 2), [start, n], 1, 8), np.arange(1, 8, 2))
    assert_same(run(T.arange(n, 0, -2), [n], 7), np.arange(7, 0, -2))
    assert_same(run(T.arange(f), [f], 2.5), np.arange(2.5))
    assert_same(run(T.arange(0.0, f, 0.5), [f], 2.0), np.arange(0.0, 2.0, 0.5))
    assert T.arange(n).dtype == "int64"
    assert T.arange(start).dtype == "int64"
    assert T.arange(T.fscalar()).dtype == "float32"
    assert T.arange(static(None, 7).shape[1]).type.shape == (7,)
    with pytest.raises(ValueError):
        croton.function([n], T.arange(0, 5, n))(0)


@pytest.mark.parametrize(
    "n, m, k", [(3, None, 0), (3, 4, 0), (3, 4, 1), (4, 3, -1), (2, 3, 5), (3, 3, -3)]
)
def test_eye(n, m, k):
    out = T.eye(n, m, k)
    expected = np.eye(n, m, k)
    assert out.type.shape == expected.shape
    assert_same(run(out, []), expected)


def test_eye_symbolic_and_dtype():
    n, k = T.lscalar("n"), T.iscalar("k")
    assert_same(run(T.eye(n, 2, k, dtype="int32"), [n, k], 3, -1), np.eye(3, 2, -1, dtype="int32"))
    x = T.dmatrix("x")
    assert_same(run(T.identity_like(x), [x], A), np.eye(3, 4))


# -- tile, repeat, squeeze ---------------------------------------------------------------


@pytest.mark.parametrize("reps", [2, (2, 3), (1, 1), (2, 1, 3), (3,), (2, 2, 1, 1)])
def test_tile(reps):
    x = T.dmatrix("x")
    expected = np.tile(A, reps)
    out = T.tile(x, reps)
    assert out.ndim == expected.ndim
    assert_same(run(out, [x], A), expected)
    assert T.tile(static(*A.shape), reps).type.shape == expected.shape


def test_tile_symbolic_reps():
    x, r = T.dvector("x"), T.lscalar("r")
    assert_same(run(T.tile(x, (r, 2)), [x, r], A[0], 3), np.tile(A[0], (3, 2)))
    reps = T.constant(np.array([2, 1]))
    assert_same(run(T.tile(x, reps), [x], A[0]), np.tile(A[0], (2, 1)))


@pytest.mark.parametrize(
    "repeats, axis",
    [(2, 0), (3, 1), (2, None), (0, 1), ([1, 0, 2], 0), ([1, 2, 0, 3], -1), (1, None), ([2], 1)],
)
def test_repeat(repeats, axis):
    x = T.dmatrix("x")
    expected = np.repeat(A, repeats, axis=axis)
    out = T.repeat(x, repeats, axis=axis)
    assert_same(run(out, [x], A), expected)
    assert_same(run(x.repeat(repeats, axis=axis), [x], A), expected)
    assert T.repeat(static(*A.shape), repeats, axis).type.shape == expected.shape


def test_repeat_symbolic():
    x, r, rv = T.dmatrix("x"), T.lscalar("r"), T.lvector("rv")
    assert_same(run(T.repeat(x, r, axis=1), [x, r], A, 2), np.repeat(A, 2, axis=1))
    assert_same(
        run(T.repeat(x, rv, axis=0), [x, rv], A, [3, 0, 1]), np.repeat(A, [3, 0, 1], axis=0)
    )
    assert_same(run(T.repeat(x, rv, axis=0), [x, rv], A, [2]), np.repeat(A, [2], axis=0))
    with pytest.raises(ValueError):
        T.repeat(static(3, 4), [1, 2], axis=0)
    i = T.ivector("i")
    data = np.arange(3, dtype="int32")
    assert_same(run(T.repeat(i, 2), [i], data), np.repeat(data, 2))
    with pytest.raises(TypeError):
        T.repeat(x, 1.5)


def test_squeeze():
    assert T.drow().squeeze().type.shape == (None,)
    x = static(1, None, 1)
    assert x.squeeze().type.shape == (None,)
    assert x.squeeze(axis=0).type.shape == (None, 1)
    assert T.squeeze(x, axis=(0, 2)).type.shape == (None,)
    data = rng.normal(size=(1, 3, 1))
    assert_same(run(x.squeeze(), [x], data), np.squeeze(data))
    m = T.dmatrix("m")
    f = croton.function([m], m.squeeze(axis=0))
    assert_same(f(A[:1]), A[0])
    with pytest.raises(ValueError):
        f(A)


# -- addbroadcast, unbroadcast, specify_shape --------------------------------------------


def test_addbroadcast_unbroadcast_patternbroadcast():
    x = T.dmatrix("x")
    b = T.addbroadcast(x, 0)
    assert b.broadcastable == (True, False)
    assert T.unbroadcast(b, 0).broadcastable == (False, False)
    assert T.patternbroadcast(x, (False, True)).broadcastable == (False, True)
    assert T.addbroadcast(x, 0, 1).type.shape == (1, 1)
    f = croton.function([x], b)
    assert_same(f(A[:1]), A[:1])
    with pytest.raises(ValueError):
        f(A)
    y = T.dmatrix("y")
    assert_same(run(b + y, [x, y], A[:1], A), A[:1] + A)


def test_specify_shape():
    x = T.dmatrix("x")
    out = T.specify_shape(x, (3, None))
    assert out.type.shape == (3, None)
    f = croton.function([x], out * 2)
    assert_same(f(A), A * 2)
    with pytest.raises(ValueError, match="specify_shape"):
        f(A.T)
    assert T.specify_shape(x, (None, None)) is x
    with pytest.raises(ValueError):
        T.specify_shape(static(2, 3), (3, 3))
    with pytest.raises(ValueError):
        T.specify_shape(x, (3,))


# -- gradients -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fun, points",
    [
        (lambda x: x.reshape((2, -1)), [A]),
        (lambda x: x.reshape((x.shape[1], -1)), [A]),
        (lambda x: x.flatten(), [B]),
        (lambda x: x.flatten(2), [B]),
        (lambda x: x.dimshuffle(2, "x", 0, 1), [B]),
        (lambda x: x.T, [A]),
        (lambda x: T.alloc(x, 2, 3, 4), [A]),
        (lambda x: T.alloc(x, 2, 3, 4), [A[:1]]),
        (lambda x: T.alloc(x, 5, 3), [np.array(0.7)]),
        (lambda x: T.broadcast_to(x, (2, 3, 4)), [A[0]]),
        (lambda x, y: T.join(0, x, y, x), [A, A[:2]]),
        (lambda x, y: T.concatenate([x, y], axis=1), [A, A[:, :1]]),
        (lambda x: T.split(x, [1, 3], 2, axis=1)[1], [A]),
        (lambda x: T.split(x, [2, 1], 2, axis=0)[0] * 2, [A]),
        (lambda x, y: T.stack([x, y, x], axis=1), [A, -A]),
        (lambda x, y: T.stack([x, y]), [np.array(1.5), np.array(-0.5)]),
        (lambda x: T.tile(x, (2, 3)), [A]),
        (lambda x: T.tile(x, (2, 1, 2)), [A]),
        (lambda x: T.repeat(x, 2, axis=1), [A]),
        (lambda x: T.repeat(x, [1, 0, 3], axis=0), [A]),
        (lambda x: T.repeat(x, 3), [A]),
        (lambda x: T.specify_shape(x, (3, 4)) * 2, [A]),
        (lambda x: T.squeeze(x.reshape((1, 3, 4))), [A]),
        (lambda x: T.fill(x, 2.0) * x, [A]),
    ],
)
def test_gradients(fun, points):
    verify_grad(fun, points, rng=np.random.default_rng(1))


def test_split_gradient_of_both_pieces():
    def fun(x):
        left, right = T.split(x, [1, 3], 2, axis=1)
        return left.sum() * right

    verify_grad(fun, [A], rng=np.random.default_rng(2))


def test_split_gradient_of_one_piece_is_zero_elsewhere():
    x = T.dmatrix("x")
    left, _ = T.split(x, [1, 3], 2, axis=1)
    g = croton.function([x], T.grad(left.sum(), x))(A)
    expected = np.zeros_like(A)
    expected[:, 0] = 1
    assert_same(g, expected)


def test_repeat_gradient_counts_copies():
    x = T.dvector("x")
    g = croton.function([x], T.grad(T.repeat(x, [2, 0, 3]).sum(), x))(np.ones(3))
    assert_same(g, np.array([2.0, 0.0, 3.0]))


# -- infer_shape ---------------------------------------------------------------------------


def test_infer_shape_shape_and_reshape():
    x, n = T.dmatrix("x"), T.lscalar("n")
    assert_infer_shape(T.shape(x), [x], [A], Shape)
    assert_infer_shape(x.reshape((3, -1)), [x], [A], Reshape)
    assert_infer_shape(x.reshape((-1,)), [x], [A], Reshape)
    assert_infer_shape(x.reshape((x.shape[1], -1, n)), [x, n], [A, 1], Reshape)
    t = T.dtensor3("t")
    assert_infer_shape(t.flatten(2), [t], [B], Reshape)


def test_infer_shape_alloc_join_split():
    v, n, x = T.dvector("v"), T.lscalar("n"), T.dmatrix("x")
    assert_infer_shape(T.alloc(v, n, 2, 4), [v, n], [A[0], 3], Alloc)
    assert_infer_shape(T.join(1, x, x, x), [x], [A], Join)
    assert_infer_shape(T.join(0, x, x[1:]), [x], [A], Join)
    s = T.lvector("s")
    assert_infer_shape(T.split(x, s, 3, axis=1)[0], [x, s], [A, [1, 0, 3]], Split)


def test_infer_shape_arange_eye_repeat_specify():
    n, k, f = T.lscalar("n"), T.lscalar("k"), T.dscalar("f")
    assert_infer_shape(T.arange(n), [n], [5], ARange)
    assert_infer_shape(T.arange(n, 0, -3), [n], [10], ARange)
    assert_infer_shape(T.arange(n, 2), [n], [5], ARange)
    assert_infer_shape(T.arange(0.5, f, 0.3), [f], [2.0], ARange)
    assert_infer_shape(T.eye(n, 3, k), [n, k], [4, 1], Eye)
    x, rv = T.dmatrix("x"), T.lvector("rv")
    assert_infer_shape(T.repeat(x, 3, axis=1), [x], [A], Repeat)
    assert_infer_shape(T.repeat(x, rv, axis=0), [x, rv], [A, [2, 0, 1]], Repeat)
    assert_infer_shape(T.repeat(x, n, axis=0), [x, n], [A, 2], Repeat)
    assert_infer_shape(T.repeat(x, rv, axis=1), [x, rv], [A, [3]], Repeat)
    assert_infer_shape(T.specify_shape(x, (3, None)), [x], [A], SpecifyShape)


def test_axis_out_of_bounds_raises():
    x = T.dmatrix("x")
    for build in (
        lambda: T.concatenate([x, x], axis=2),
        lambda: T.stack([x, x], axis=3),
        lambda: T.stack([x, x], axis=-4),
        lambda: T.split(x, [1, 1], 2, axis=-3),
        lambda: T.repeat(x, 2, axis=2),
        lambda: T.squeeze(x, axis=5),
    ):
        with pytest.raises(np.exceptions.AxisError):
            build()


def test_negative_transpose_axes():
    x = T.dtensor3("x")
    assert_same(run(x.transpose(-1, 0, -2), [x], B), B.transpose(-1, 0, -2))
    assert_same(run(x.swapaxes(-1, 0), [x], B), B.swapaxes(-1, 0))
    with pytest.raises(ValueError):
        x.transpose(1, 0)


# -- Map: the loop behind jacobian -------------------------------------------------------


def test_map_over_index_stacks_each_step():
    x, i = T.dvector("x"), TensorType("int64", shape=())("i")
    n = T.lscalar("n")
    scaled, total, fixed = map_over_index(i, n, [x * i, (x[i] + x).sum(), T.constant(np.ones(2))])
    assert scaled.type.shape == (None, None)
    assert fixed.type.shape == (None, 2)
    data = np.arange(4.0)
    got = croton.function([x, n], [scaled, total, fixed])(data, 3)
    assert_same(got[0], np.stack([data * k for k in range(3)]))
    assert_same(got[1], np.array([(data[k] + data).sum() for k in range(3)]))
    assert_same(got[2], np.ones((3, 2)))
    empty = croton.function([x, n], scaled)(data, 0)
    assert_same(empty, np.zeros((0, 4)))
    assert map_over_index(i, 5, [x * i])[0].type.shape == (5, None)
    assert_infer_shape(scaled, [x, n], [data, 3], Map)
    assert_infer_shape(fixed, [x, n], [data, 2], Map)


def test_jacobian_runs_through_map():
    x = T.dvector("x")
    jac = croton.function([x], T.jacobian(x**2, x))(np.array([1.0, 2.0, 3.0]))
    assert_same(jac, np.diag([2.0, 4.0, 6.0]))


# -- Theano's helpers built on the ops above -----------------------------------------------


@pytest.mark.parametrize("shift", [0, 1, -1, 5, -7])
def test_roll(shift):
    x, s = T.dmatrix("x"), T.lscalar("s")
    f = croton.function([x, s], [roll(x, s, 1), roll(x, s), roll(x, shift, -2)])
    for got, want in zip(
        f(A, shift), [np.roll(A, shift, 1), np.roll(A, shift), np.roll(A, shift, 0)], strict=True
    ):
        assert_same(got, want)


def test_padding_and_stacking_helpers():
    x, v = T.dmatrix("x"), T.dvector("v")
    assert shape_padleft(x, 2).type.shape == (1, 1, None, None)
    assert shape_padright(x).type.shape == (None, None, 1)
    assert shape_padaxis(x, 1).type.shape == (None, 1, None)
    assert shape_padaxis(x, -1).type.shape == (None, None, 1)
    assert_same(run(shape_padaxis(x, 1), [x], A), A[:, None])
    got = croton.function(
        [x, v], [horizontal_stack(x, x), vertical_stack(x, v), horizontal_stack(v, v)]
    )(A, A[0])
    for value, want in zip(
        got, [np.hstack([A, A]), np.vstack([A, A[0]]), np.hstack([A[0], A[0]])], strict=True
    ):
        assert_same(value, want)


def test_roll_gradient():
    verify_grad(
        lambda x: roll(x, 2, 1) * np.arange(12.0).reshape(3, 4), [A], rng=np.random.default_rng(8)
    )
