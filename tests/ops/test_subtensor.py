"""Indexing: basic and advanced ``x[index]``, `set_subtensor` and `inc_subtensor`."""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.gradient import verify_grad
from croton.graph.traversal import toposort
from croton.graph.type import TensorType
from croton.ops.subtensor import IncSubtensor, Subtensor

rng = np.random.default_rng(7)
M = rng.normal(size=(4, 5))
C = rng.normal(size=(3, 4, 5))
MASK_ROWS = np.array([True, False, True, True])
MASK_2D = M > 0


def run(outputs, inputs, *values):
    """Compile ``outputs`` of ``inputs`` and evaluate at ``values``."""
    return croton.function(inputs, outputs)(*values)


def assert_same(got, expected):
    """Same dtype, shape and values as the numpy result."""
    expected = np.asarray(expected)
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    np.testing.assert_array_equal(got, expected)


def assert_static_shape_fits(var, shape):
    """Every known static length of ``var`` is the real one."""
    assert var.ndim == len(shape)
    for static, real in zip(var.type.shape, shape, strict=True):
        assert static is None or static == real, (var.type.shape, shape)


def numpy_set(a, index, y):
    out = a.copy()
    out[index] = y
    return out


def numpy_inc(a, index, y):
    """``a[index] += y`` with repeated indices accumulating (``numpy.add.at``)."""
    out = a.copy()
    np.add.at(out, index, y)
    return out


def assert_infer_shape(out, inputs, values, op_type):
    """``infer_shape`` of the node computing ``out`` agrees with the computed shape."""
    node = out.owner
    assert isinstance(node.op, op_type), node.op
    input_shapes = [tuple(inp.shape[i] for i in range(inp.ndim)) for inp in node.inputs]
    (inferred,) = node.op.infer_shape(node, input_shapes)
    assert len(inferred) == out.ndim
    lengths = [T.as_tensor_variable(s) for s in inferred]
    results = croton.function(inputs, [out, *lengths], on_unused_input="ignore")(*values)
    assert [int(v) for v in results[1:]] == list(results[0].shape)


# Index expressions applied to a (4, 5) matrix and a (3, 4, 5) tensor; the same Python
# index goes to numpy and to croton.
MATRIX_INDICES = [
    np.s_[1:3],
    np.s_[::-1],
    np.s_[::-2, 1::2],
    np.s_[-1:0:-1, ::-3],
    np.s_[-3:, :-2],
    np.s_[None:2, -10:10],
    np.s_[3:1],
    np.s_[2],
    np.s_[-1],
    np.s_[1, -2],
    np.s_[..., 1],
    np.s_[None, 1],
    np.s_[:, None],
    np.s_[None, :, None, 2],
    np.s_[[0, 2, -1]],
    np.s_[[3, 3, 0]],
    np.s_[:, [4, 0]],
    np.s_[np.array([[0, 1], [2, 3]])],
    np.s_[[0, 1, 2], [4, 3, 2]],
    np.s_[np.array([[0], [3]]), np.array([1, 2, 4])],
    np.s_[1:, [0, 2]],
    np.s_[[0, 2], ::-1],
    np.s_[2, [0, 1]],
    np.s_[MASK_ROWS],
    np.s_[MASK_2D],
    np.s_[:, M[0] > 0],
    np.s_[MASK_ROWS, 1:4],
    np.s_[None, [1, 2]],
    np.s_[[1, 2], None],
    np.s_[...],
    np.s_[()],
    np.s_[[]],
    np.s_[1:, np.array([], dtype=int)],
]

TENSOR3_INDICES = [
    np.s_[..., 1],
    np.s_[1, ..., 2],
    np.s_[:, ::-1, 1:],
    np.s_[[0, 1], :, [1, 2]],
    np.s_[0, :, [1, 2]],
    np.s_[:, [0, 1], [1, 2]],
    np.s_[:, [0, 3], 1],
    np.s_[[0, 2], 1:3, 4],
    np.s_[1:, [0, 2], ::-1],
    np.s_[[[0], [2]], :, [1, 2, 3]],
    np.s_[:, MASK_2D],
    np.s_[C[:, 0, 0] > 0],
    np.s_[C[:, :, 0] > 0, 1:],
    np.s_[[0, 1], None, [1, 2]],
    np.s_[:, None, [0, 1]],
    np.s_[None, [0, 1], :, [1, 2]],
    np.s_[..., None, [0, 1]],
    np.s_[:, [0, 1], None, [1, 2]],
]


def _cases():
    for index in MATRIX_INDICES:
        yield "matrix", index
    for index in TENSOR3_INDICES:
        yield "tensor3", index


CASES = list(_cases())
IDS = [f"{kind}-{i}" for i, (kind, _) in enumerate(CASES)]


def _input(kind):
    return (T.dmatrix("x"), M) if kind == "matrix" else (T.dtensor3("x"), C)


@pytest.mark.parametrize("kind, index", CASES, ids=IDS)
def test_getitem_matches_numpy(kind, index):
    x, data = _input(kind)
    out = x[index]
    expected = data[index]
    assert_same(run(out, [x], data), expected)
    assert_static_shape_fits(out, expected.shape)


@pytest.mark.parametrize("kind, index", CASES, ids=IDS)
def test_static_shape_matches_numpy(kind, index):
    data = M if kind == "matrix" else C
    x = TensorType("float64", shape=data.shape)("x")
    out = x[index]
    expected = data[index]
    if out.type.shape != expected.shape:
        # only boolean masks built from data may leave a length unknown
        assert None in out.type.shape
        assert_static_shape_fits(out, expected.shape)
    assert_same(run(out, [x], data), expected)


@pytest.mark.parametrize("kind, index", CASES, ids=IDS)
def test_set_subtensor_matches_numpy(kind, index):
    x, data = _input(kind)
    y = rng.normal(size=data[index].shape)
    assert_same(run(T.set_subtensor(x[index], y), [x], data), numpy_set(data, index, y))
    assert_same(run(T.set_subtensor(x[index], -1.0), [x], data), numpy_set(data, index, -1.0))


@pytest.mark.parametrize("kind, index", CASES, ids=IDS)
def test_inc_subtensor_matches_numpy(kind, index):
    x, data = _input(kind)
    y = rng.normal(size=data[index].shape)
    assert_same(run(T.inc_subtensor(x[index], y), [x], data), numpy_inc(data, index, y))
    assert_same(run(T.inc_subtensor(x[index], 2.0), [x], data), numpy_inc(data, index, 2.0))


def test_symbolic_slice_bounds():
    x, a, b, s = T.dmatrix("x"), T.lscalar("a"), T.iscalar("b"), T.lscalar("s")
    f = croton.function([x, a, b, s], x[a:b:s])
    for start, stop, step in [(1, 3, 1), (-1, 0, -1), (3, -5, -2), (0, 10, 2), (-10, 2, 1)]:
        assert_same(f(M, start, stop, step), M[start:stop:step])
    g = croton.function([x, a], [x[a:], x[:a], x[::a], x[1, a:]])
    for value in (1, -2, 3):
        got = g(M, value)
        for result, want in zip(got, [M[value:], M[:value], M[::value], M[1, value:]], strict=True):
            assert_same(result, want)


def test_symbolic_integer_indices():
    x, i, j = T.dtensor3("x"), T.lscalar("i"), T.bscalar("j")
    f = croton.function([x, i, j], [x[i], x[i, j], x[-1, i, j], x[:, j]])
    for a, b in [(0, 1), (-1, -2), (2, 3)]:
        got = f(C, a, b)
        for value, want in zip(got, [C[a], C[a, b], C[-1, a, b], C[:, b]], strict=True):
            assert_same(value, want)
    with pytest.raises(IndexError):
        f(C, 3, 0)


def test_symbolic_integer_arrays_and_masks():
    x, idx = T.dmatrix("x"), T.lvector("idx")
    mat = T.lmatrix("mat")
    f = croton.function([x, idx, mat], [x[idx], x[idx, idx], x[mat], x[:, idx], x[mat, idx]])
    index, matrix = np.array([3, 0, 0, -1]), np.array([[1, 2, 0, 0], [3, 3, 1, 0]])
    got = f(M, index, matrix)
    expected = [M[index], M[index, index], M[matrix], M[:, index], M[matrix, index]]
    for value, want in zip(got, expected, strict=True):
        assert_same(value, want)
    b = T.TensorType("bool", shape=(None, None))("b")
    g = croton.function([x, b], [x[b], x[x > 0.5], x[b[:, 0]]])
    for value, want in zip(g(M, MASK_2D), [M[MASK_2D], M[M > 0.5], M[MASK_2D[:, 0]]], strict=True):
        assert_same(value, want)


def test_integer_dtypes_index_as_numpy():
    i = T.ivector("i")
    data = np.arange(10, dtype="int32")
    assert_same(run(i[[1, -1]], [i], data), data[[1, -1]])
    assert_same(run(i[::3], [i], data), data[::3])
    assert_same(run(T.inc_subtensor(i[[0, 0]], 1), [i], data), numpy_inc(data, [0, 0], 1))


def test_repeated_indices_accumulate():
    x, y, idx = T.dvector("x"), T.dvector("y"), T.lvector("idx")
    f = croton.function([x, y, idx], T.inc_subtensor(x[idx], y))
    data, values, index = np.zeros(4), np.array([1.0, 2.0, 3.0, 4.0]), np.array([1, 1, 3, 1])
    assert_same(f(data, values, index), np.array([0.0, 7.0, 0.0, 3.0]))
    m = T.dmatrix("m")
    g = croton.function([m], T.inc_subtensor(m[[0, 0, 2], [1, 1, 1]], 1.0))
    assert_same(g(np.zeros((3, 2))), numpy_inc(np.zeros((3, 2)), ([0, 0, 2], [1, 1, 1]), 1.0))
    s = croton.function([x, y, idx], T.set_subtensor(x[idx], y))
    assert s(data, values, np.array([0, 1, 2, 3])).tolist() == [1.0, 2.0, 3.0, 4.0]


def test_set_and_inc_broadcast_value_and_cast():
    x = T.dmatrix("x")
    row = np.arange(5.0)
    assert_same(run(T.set_subtensor(x[1:3], row), [x], M), numpy_set(M, np.s_[1:3], row))
    assert_same(run(T.inc_subtensor(x[[0, 0]], row), [x], M), numpy_inc(M, [0, 0], row))
    col = T.dcol("col")
    col_data = np.array([[1.0], [2.0]])
    assert_same(
        run(T.set_subtensor(x[1:3], col), [x, col], M, col_data), numpy_set(M, np.s_[1:3], col_data)
    )
    i = T.ivector("i")
    out = T.inc_subtensor(x[0], i)
    assert out.dtype == "float64"
    ints = np.arange(5, dtype="int32")
    assert_same(run(out, [x, i], M, ints), numpy_inc(M, 0, ints))


def test_set_subtensor_value_of_unknown_length_does_not_stretch():
    x, v = T.dmatrix("x"), T.dvector("v")
    f = croton.function([x, v], T.set_subtensor(x[1:3], v))
    assert_same(f(M, np.ones(5)), numpy_set(M, np.s_[1:3], np.ones(5)))
    with pytest.raises(ValueError):
        f(M, np.ones(1))


def test_set_subtensor_errors():
    x = T.dmatrix("x")
    with pytest.raises(TypeError):
        T.set_subtensor(x, 1.0)
    with pytest.raises(TypeError):
        T.inc_subtensor(x + 1, 1.0)
    with pytest.raises(ValueError):
        T.set_subtensor(x[1:3], np.ones((2, 2, 5)))
    leading = np.arange(10.0).reshape(1, 2, 5)
    assert_same(run(T.set_subtensor(x[1:3], leading), [x], M), numpy_set(M, np.s_[1:3], leading))
    with pytest.raises(ValueError):
        T.set_subtensor(TensorType("float64", shape=(4, 5))()[1:3], np.ones(4))
    with pytest.raises(ValueError):
        T.inc_subtensor(TensorType("float64", shape=(4, 5))()[1:2, 0], np.ones(3))


def test_static_shapes():
    x = TensorType("float64", shape=(4, 5))("x")
    assert x[1:3].type.shape == (2, 5)
    assert x[::-2, 1].type.shape == (2,)
    assert x[None, :, None].type.shape == (1, 4, 1, 5)
    assert x[[0, 1, 1]].type.shape == (3, 5)
    assert x[MASK_ROWS].type.shape == (3, 5)
    assert x[MASK_2D].type.shape == (int(MASK_2D.sum()),)
    assert x[T.lscalar() :].type.shape == (None, 5)
    assert x[T.lvector()].type.shape == (None, 5)
    assert x[T.TensorType("bool", shape=(4,))()].type.shape == (None, 5)
    assert T.dmatrix()[1:3].type.shape == (None, None)
    assert T.set_subtensor(x[1:3], 0.0).type.shape == (4, 5)


def test_index_errors():
    x = TensorType("float64", shape=(4, 5))("x")
    with pytest.raises(IndexError):
        x[4]
    with pytest.raises(IndexError):
        x[1, 2, 3]
    with pytest.raises(IndexError):
        x[..., ...]
    with pytest.raises(IndexError):
        x[1.5]
    with pytest.raises(IndexError):
        x[T.dvector()]
    with pytest.raises(IndexError):
        x[np.ones(3, dtype=bool)]
    with pytest.raises(ValueError):
        x[::0]
    i = T.lvector("i")
    g = croton.function([x, i], x[i])
    with pytest.raises(IndexError):
        g(M, np.array([0, 7]))


def test_take():
    x, i = T.dmatrix("x"), T.lvector("i")
    index = np.array([2, 0, 2])
    assert_same(run(T.take(x, i, axis=1), [x, i], M, index), np.take(M, index, axis=1))
    assert_same(run(T.take(x, i), [x, i], M, index), np.take(M, index))


# -- gradients ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "index",
    [
        np.s_[1:3, ::-2],
        np.s_[-1],
        np.s_[None, 1, ::2],
        np.s_[[0, 0, 2]],
        np.s_[[0, 0, 2], [1, 1, 3]],
        np.s_[:, [4, 0, 4]],
        np.s_[1:, [0, 2]],
        np.s_[MASK_2D],
        np.s_[MASK_ROWS, 2:],
        np.s_[np.array([[0, 3], [3, 3]])],
    ],
)
def test_subtensor_gradient(index):
    verify_grad(lambda x: x[index], [M], rng=np.random.default_rng(3))


def test_subtensor_gradient_tensor3_separated_arrays():
    verify_grad(lambda x: x[[0, 1, 1], :, [1, 2, 2]], [C], rng=np.random.default_rng(4))


def test_subtensor_gradient_symbolic_index():
    x, i = T.dmatrix("x"), T.lscalar("i")
    g = croton.function([x, i], T.grad(x[i:, i].sum(), x))(M, 2)
    expected = np.zeros_like(M)
    expected[2:, 2] = 1
    assert_same(g, expected)


@pytest.mark.parametrize(
    "index, y_shape",
    [
        (np.s_[1:3, ::2], (2, 3)),
        (np.s_[1:3, ::2], (3,)),
        (np.s_[2], (5,)),
        (np.s_[2], ()),
        (np.s_[[0, 2, 1]], (3, 5)),
        (np.s_[[0, 0, 2]], (3, 5)),
        (np.s_[[0, 0, 2], [1, 1, 4]], (3,)),
        (np.s_[:, [4, 4]], (4, 2)),
        (np.s_[MASK_2D], (int(MASK_2D.sum()),)),
        (np.s_[MASK_ROWS], (5,)),
    ],
)
@pytest.mark.parametrize("set_instead_of_inc", [False, True])
def test_inc_and_set_subtensor_gradient(index, y_shape, set_instead_of_inc):
    update = T.set_subtensor if set_instead_of_inc else T.inc_subtensor
    y = rng.normal(size=y_shape)

    def fun(x, y):
        return update(x[index], y) * T.constant(M + 2)

    verify_grad(fun, [M, y], rng=np.random.default_rng(5))


def test_set_subtensor_gradient_hides_overwritten_entries():
    x, y = T.dvector("x"), T.dvector("y")
    cost = (T.set_subtensor(x[[1, 3]], y) * np.arange(1.0, 5.0)).sum()
    gx, gy = croton.function([x, y], T.grad(cost, [x, y]))(np.ones(4), np.ones(2))
    assert_same(gx, np.array([1.0, 0.0, 3.0, 0.0]))
    assert_same(gy, np.array([2.0, 4.0]))
    repeated = (T.set_subtensor(x[[1, 1, 3]], y) * np.arange(1.0, 5.0)).sum()
    gx, gy = croton.function([x, y], T.grad(repeated, [x, y]))(np.ones(4), np.ones(3))
    assert_same(gx, np.array([1.0, 0.0, 3.0, 0.0]))
    assert_same(gy, np.array([0.0, 2.0, 4.0]))
    scalar = T.dscalar("scalar")
    broadcast = (T.set_subtensor(x[[2, 2]], scalar) * np.arange(1.0, 5.0)).sum()
    g = croton.function([x, scalar], T.grad(broadcast, scalar), on_unused_input="ignore")
    assert_same(g(np.ones(4), 1.0), np.array(3.0))


def test_inc_subtensor_gradient_with_repeated_indices():
    x, y = T.dvector("x"), T.dvector("y")
    cost = (T.inc_subtensor(x[[1, 1, 2]], y) * np.arange(1.0, 5.0)).sum()
    gx, gy = croton.function([x, y], T.grad(cost, [x, y]))(np.ones(4), np.ones(3))
    assert_same(gx, np.arange(1.0, 5.0))
    assert_same(gy, np.array([2.0, 2.0, 3.0]))
    grad_of_gather = croton.function([x], T.grad(x[[1, 1, 2]].sum(), x))(np.ones(4))
    assert_same(grad_of_gather, np.array([0.0, 2.0, 1.0, 0.0]))


# -- infer_shape ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind, index", CASES, ids=IDS)
def test_subtensor_infer_shape_matches_numpy(kind, index):
    x, data = _input(kind)
    out = x[index]
    node = out.owner
    if not isinstance(node.op, Subtensor):
        out = node.inputs[0]
    assert_infer_shape(out, [x], [data], Subtensor)


@pytest.mark.parametrize("step", [None, 1, 2, -1, -3])
def test_symbolic_slice_infer_shape(step):
    x, a, b, s = T.dvector("x"), T.lscalar("a"), T.lscalar("b"), T.lscalar("s")
    outputs = [x[a:b:s], x[a::s], x[:b:s], x[a:b:step], x[a:b], x[-2:b:step], x[a:7:step]]
    shapes = []
    for out in outputs:
        node = out.owner
        input_shapes = [tuple(v.shape[i] for i in range(v.ndim)) for v in node.inputs]
        (inferred,) = node.op.infer_shape(node, input_shapes)
        shapes.append(inferred[0])
        assert node not in toposort([T.as_tensor_variable(inferred[0])])
    f = croton.function([x, a, b, s], outputs + shapes, on_unused_input="ignore")
    data = np.arange(6.0)
    signed = 1 if step is None else step
    for start in (None, -9, -6, -2, 0, 1, 5, 6, 9):
        for stop in (None, -9, -1, 0, 2, 6, 8):
            got = f(data, 0 if start is None else start, 0 if stop is None else stop, signed)
            values, lengths = got[: len(outputs)], got[len(outputs) :]
            assert [int(n) for n in lengths] == [len(v) for v in values]
            if start is not None and stop is not None:
                assert_same(values[0], data[start:stop:signed])


@pytest.mark.parametrize(
    "build",
    [
        lambda x, i, v: x[i:, :i],
        lambda x, i, v: x[::i],
        lambda x, i, v: x[-i:, ::-i],
        lambda x, i, v: x[i],
        lambda x, i, v: x[v],
        lambda x, i, v: x[v, v],
        lambda x, i, v: x[v, i],
        lambda x, i, v: x[:, v],
        lambda x, i, v: x[x > 0],
        lambda x, i, v: x[(x > 0)[:, 0]],
        lambda x, i, v: x[v.dimshuffle(0, "x"), v],
    ],
)
def test_subtensor_infer_shape(build):
    x, i, v = T.dmatrix("x"), T.lscalar("i"), T.lvector("v")
    out = build(x, i, v)
    assert_infer_shape(out, [x, i, v], [M, 2, np.array([0, 3, 3])], Subtensor)
    node = out.owner
    input_shapes = [tuple(inp.shape[k] for k in range(inp.ndim)) for inp in node.inputs]
    (inferred,) = node.op.infer_shape(node, input_shapes)
    assert node not in toposort([T.as_tensor_variable(n) for n in inferred])


def test_subtensor_infer_shape_tensor3():
    x, v = T.dtensor3("x"), T.lvector("v")
    assert_infer_shape(x[v, :, v], [x, v], [C, np.array([0, 2])], Subtensor)
    assert_infer_shape(x[:, v, 1], [x, v], [C, np.array([0, 2, 1])], Subtensor)


@pytest.mark.parametrize("update", [T.set_subtensor, T.inc_subtensor])
def test_inc_subtensor_infer_shape(update):
    x, v, y = T.dmatrix("x"), T.lvector("v"), T.dscalar("y")
    assert_infer_shape(update(x[v], y), [x, v, y], [M, np.array([1, 1]), 2.0], IncSubtensor)
    assert_infer_shape(update(x[1:, ::2], y), [x, y], [M, 2.0], IncSubtensor)
