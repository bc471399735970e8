"""Matrix products: dot, matmul and ``@``, outer, tensordot, batched_dot."""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.gradient import verify_grad
from croton.graph.type import TensorType
from croton.ops.blas import Dot, Matmul

rng = np.random.default_rng(11)


def data(*shape, dtype="float64"):
    """Random data of ``shape``: normal floats, or small integers for integer dtypes."""
    if np.dtype(dtype).kind in "iu":
        return rng.integers(-3, 4, size=shape).astype(dtype)
    if np.dtype(dtype).kind == "b":
        return rng.integers(0, 2, size=shape).astype(bool)
    return rng.normal(size=shape).astype(dtype)


def variable(shape, dtype="float64", name=None):
    """An input of ``len(shape)`` dimensions with unknown lengths."""
    return TensorType(dtype, shape=(None,) * len(shape))(name)


def assert_close(got, expected):
    """Same dtype and shape as the numpy result, equal values within float tolerance."""
    expected = np.asarray(expected)
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    np.testing.assert_allclose(
        got, expected, rtol=1e-6 if got.dtype == "float32" else 1e-12, atol=1e-12
    )


def evaluate(build, *arrays):
    """``build`` applied to fresh inputs shaped like ``arrays``, evaluated on them."""
    inputs = [variable(a.shape, a.dtype.name) for a in arrays]
    return croton.function(inputs, build(*inputs))(*arrays)


SHAPE_PAIRS = [
    ((4,), (4,)),
    ((3, 4), (4,)),
    ((4,), (4, 5)),
    ((3, 4), (4, 5)),
    ((2, 3, 4), (4, 5)),
    ((2, 3, 4), (4,)),
    ((4,), (2, 4, 5)),
    ((3, 4), (2, 4, 5)),
    ((2, 3, 4), (3, 4, 5)),
    ((2, 1, 3, 4), (4, 2)),
    ((), (3, 4)),
    ((3,), ()),
    ((), ()),
]


@pytest.mark.parametrize("a_shape, b_shape", SHAPE_PAIRS)
def test_dot_matches_numpy(a_shape, b_shape):
    a, b = data(*a_shape), data(*b_shape)
    assert_close(evaluate(T.dot, a, b), np.dot(a, b))
    assert_close(evaluate(lambda x, y: x.dot(y), a, b), np.dot(a, b))


@pytest.mark.parametrize(
    "a_dtype, b_dtype",
    [
        ("int64", "int64"),
        ("int32", "int32"),
        ("int8", "int16"),
        ("int32", "float32"),
        ("float32", "float32"),
        ("float32", "float64"),
        ("int64", "float64"),
        ("uint8", "int8"),
        ("bool", "bool"),
    ],
)
@pytest.mark.parametrize("a_shape, b_shape", [((3, 4), (4, 2)), ((4,), (4,)), ((2, 3, 4), (4, 2))])
def test_dot_dtypes_follow_numpy(a_dtype, b_dtype, a_shape, b_shape):
    a, b = data(*a_shape, dtype=a_dtype), data(*b_shape, dtype=b_dtype)
    assert_close(evaluate(T.dot, a, b), np.dot(a, b))


def test_dot_static_shapes_and_errors():
    a, b = TensorType("float64", (3, 4))(), TensorType("float64", (4, 5))()
    assert T.dot(a, b).type.shape == (3, 5)
    assert T.dot(a, T.dvector()).type.shape == (3,)
    assert T.dot(TensorType("float64", (2, 3, 4))(), b).type.shape == (2, 3, 5)
    assert T.dot(a, TensorType("float64", (2, 4, 6))()).type.shape == (3, 2, 6)
    with pytest.raises(ValueError):
        T.dot(a, a)
    x, y = T.dmatrices("x", "y")
    f = croton.function([x, y], T.dot(x, y))
    with pytest.raises(ValueError):
        f(data(3, 4), data(3, 4))


MATMUL_PAIRS = [
    ((3, 4), (4, 5)),
    ((4,), (4,)),
    ((4,), (4, 5)),
    ((3, 4), (4,)),
    ((2, 3, 4), (2, 4, 5)),
    ((2, 3, 4), (4, 5)),
    ((3, 4), (2, 4, 5)),
    ((4,), (2, 4, 5)),
    ((2, 3, 4), (4,)),
]


@pytest.mark.parametrize("a_shape, b_shape", MATMUL_PAIRS)
def test_matmul_matches_numpy(a_shape, b_shape):
    a, b = data(*a_shape), data(*b_shape)
    expected = np.matmul(a, b)
    assert_close(evaluate(T.matmul, a, b), expected)
    assert_close(evaluate(lambda x, y: x @ y, a, b), expected)


@pytest.mark.parametrize(
    "a_shape, b_shape",
    [((2, 1, 3, 4), (5, 4, 2)), ((1, 3, 4), (6, 4, 2)), ((2, 1, 3, 4), (1, 3, 4, 2))],
)
def test_matmul_batch_broadcasting(a_shape, b_shape):
    a, b = data(*a_shape), data(*b_shape)
    inputs = [
        TensorType("float64", shape=tuple(1 if s == 1 else None for s in x.shape))() for x in (a, b)
    ]
    out = inputs[0] @ inputs[1]
    expected = np.matmul(a, b)
    assert_close(croton.function(inputs, out)(a, b), expected)
    assert all(s is None or s == e for s, e in zip(out.type.shape, expected.shape, strict=True))


def test_matmul_unknown_batch_lengths_do_not_broadcast():
    x, y = T.dtensor3("x"), T.dtensor3("y")
    f = croton.function([x, y], x @ y)
    a, b = data(2, 3, 4), data(2, 4, 5)
    assert_close(f(a, b), np.matmul(a, b))
    with pytest.raises(ValueError):
        f(data(1, 3, 4), data(2, 4, 5))


def test_matmul_dtypes_static_shapes_and_errors():
    i, f32 = data(2, 3, 4, dtype="int32"), data(4, 2, dtype="float32")
    assert_close(evaluate(T.matmul, i, f32), np.matmul(i, f32))
    assert_close(evaluate(T.matmul, i, i.transpose(0, 2, 1)), np.matmul(i, i.transpose(0, 2, 1)))
    a = TensorType("float64", (5, 1, 3, 4))()
    b = TensorType("float64", (2, 4, 6))()
    assert (a @ b).type.shape == (5, 2, 3, 6)
    assert (TensorType("float64", (4,))() @ b).type.shape == (2, 6)
    with pytest.raises(ValueError):
        T.matmul(T.dscalar(), T.dmatrix())
    with pytest.raises(ValueError):
        a @ TensorType("float64", (3, 5, 6))()


def test_reflected_matmul_with_numpy_operand():
    m = T.dmatrix("m")
    left, right = data(2, 3), data(3, 4)
    assert_close(croton.function([m], left @ m)(right), left @ right)
    assert_close(croton.function([m], m @ right)(left), left @ right)
    assert_close(croton.function([m], m.T @ left.T)(right), right.T @ left.T)


def test_outer():
    u, v = data(3), data(4)
    assert_close(evaluate(T.outer, u, v), np.outer(u, v))
    m = data(2, 2)
    assert_close(evaluate(T.outer, m, v), np.outer(m, v))
    iu = data(3, dtype="int32")
    assert_close(evaluate(T.outer, iu, iu), np.outer(iu, iu))


@pytest.mark.parametrize(
    "a_shape, b_shape, axes",
    [
        ((2, 3, 4), (3, 4, 5), 2),
        ((2, 3, 4), (4, 5), 1),
        ((3,), (4,), 0),
        ((2, 3), (2, 3), 2),
        ((2, 3, 4), (4, 3, 5), [[1, 2], [1, 0]]),
        ((2, 3, 4), (5, 2), [0, 1]),
        ((2, 3, 4), (4, 2, 3), [[-1, 0], [0, 1]]),
        ((2, 3, 4), (3,), [[1], [0]]),
    ],
)
def test_tensordot(a_shape, b_shape, axes):
    a, b = data(*a_shape), data(*b_shape)
    out = evaluate(lambda x, y: T.tensordot(x, y, axes), a, b)
    assert_close(out, np.tensordot(a, b, axes))
    static = T.tensordot(TensorType("float64", a_shape)(), TensorType("float64", b_shape)(), axes)
    assert static.type.shape == np.tensordot(a, b, axes).shape


def test_tensordot_errors():
    with pytest.raises(ValueError):
        T.tensordot(T.dmatrix(), T.dmatrix(), [[0], [0, 1]])
    with pytest.raises(ValueError):
        T.tensordot(T.dvector(), T.dmatrix(), 2)
    with pytest.raises(ValueError):
        T.tensordot(TensorType("float64", (2, 3))(), TensorType("float64", (2, 3))(), 1)


def _batched_dot_reference(a, b):
    if a.ndim == 1:
        return a.reshape((-1,) + (1,) * (b.ndim - 1)) * b
    if b.ndim == 1:
        return a * b.reshape((-1,) + (1,) * (a.ndim - 1))
    return np.stack(
        [np.tensordot(a[i], b[i], [[a.ndim - 2], [max(0, b.ndim - 3)]]) for i in range(len(a))]
    )


@pytest.mark.parametrize(
    "a_shape, b_shape",
    [
        ((2, 3, 4), (2, 4, 5)),
        ((2, 3, 4), (2, 4)),
        ((2, 4), (2, 4, 5)),
        ((2, 4), (2, 4)),
        ((2, 3, 6, 4), (2, 4, 5)),
        ((2, 3, 4), (2, 5, 4, 6)),
        ((2,), (2, 3)),
        ((2, 3, 4), (2,)),
    ],
)
def test_batched_dot(a_shape, b_shape):
    a, b = data(*a_shape), data(*b_shape)
    assert_close(evaluate(T.batched_dot, a, b), _batched_dot_reference(a, b))
    if len(a_shape) == 3 and len(b_shape) == 3:
        assert_close(evaluate(T.batched_dot, a, b), np.matmul(a, b))


# -- gradients ---------------------------------------------------------------------------


@pytest.mark.parametrize("a_shape, b_shape", SHAPE_PAIRS)
def test_dot_gradient(a_shape, b_shape):
    verify_grad(T.dot, [data(*a_shape), data(*b_shape)], rng=np.random.default_rng(1))


@pytest.mark.parametrize(
    "a_shape, b_shape", MATMUL_PAIRS + [((2, 1, 3, 4), (5, 4, 2)), ((1, 3, 4), (4, 4, 2))]
)
def test_matmul_gradient(a_shape, b_shape):
    verify_grad(T.matmul, [data(*a_shape), data(*b_shape)], rng=np.random.default_rng(2))


@pytest.mark.parametrize(
    "a_shape, b_shape, axes",
    [
        ((2, 3, 4), (3, 4, 5), 2),
        ((2, 3, 4), (4, 3, 5), [[1, 2], [1, 0]]),
        ((3,), (2,), 0),
        ((2, 3), (2, 3), 2),
    ],
)
def test_tensordot_gradient(a_shape, b_shape, axes):
    verify_grad(
        lambda x, y: T.tensordot(x, y, axes),
        [data(*a_shape), data(*b_shape)],
        rng=np.random.default_rng(3),
    )


def test_outer_and_batched_dot_gradients():
    verify_grad(T.outer, [data(3), data(4)], rng=np.random.default_rng(4))
    verify_grad(T.batched_dot, [data(2, 3, 4), data(2, 4, 2)], rng=np.random.default_rng(5))
    verify_grad(T.batched_dot, [data(2, 3, 4), data(2, 4)], rng=np.random.default_rng(6))


def test_dot_gradient_values():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    a, b = data(3, 4), data(4, 2)
    gx, gy = croton.function([x, y], T.grad(T.dot(x, y).sum(), [x, y]))(a, b)
    assert_close(gx, np.ones((3, 2)) @ b.T)
    assert_close(gy, a.T @ np.ones((3, 2)))


def test_dot_gradient_of_integer_operand_is_disconnected():
    x, i = T.dvector("x"), T.ivector("i")
    (gx,) = T.grad(T.dot(x, i), [x])
    assert_close(
        croton.function([x, i], gx, on_unused_input="ignore")(
            data(3), np.array([1, 2, 3], dtype="int32")
        ),
        np.array([1.0, 2.0, 3.0]),
    )


# -- infer_shape ---------------------------------------------------------------------------


def _check_infer_shape(out, inputs, values, op_type):
    node = out.owner
    assert isinstance(node.op, op_type), node.op
    input_shapes = [tuple(inp.shape[i] for i in range(inp.ndim)) for inp in node.inputs]
    (inferred,) = node.op.infer_shape(node, input_shapes)
    lengths = [T.as_tensor_variable(s) for s in inferred]
    results = croton.function(inputs, [out, *lengths], on_unused_input="ignore")(*values)
    assert [int(v) for v in results[1:]] == list(results[0].shape)


@pytest.mark.parametrize(
    "a_shape, b_shape", [((3, 4), (4, 5)), ((3, 4), (4,)), ((4,), (4, 5)), ((4,), (4,))]
)
def test_dot_infer_shape(a_shape, b_shape):
    a, b = variable(a_shape), variable(b_shape)
    _check_infer_shape(T.dot(a, b), [a, b], [data(*a_shape), data(*b_shape)], Dot)


@pytest.mark.parametrize(
    "a_static, b_static, a_shape, b_shape",
    [
        ((None, None, None), (None, None, None), (2, 3, 4), (2, 4, 5)),
        ((1, None, None), (None, None, None), (1, 3, 4), (6, 4, 5)),
        ((None, 1, None, None), (1, None, None, None), (2, 1, 3, 4), (1, 5, 4, 2)),
    ],
)
def test_matmul_infer_shape(a_static, b_static, a_shape, b_shape):
    a, b = TensorType("float64", a_static)("a"), TensorType("float64", b_static)("b")
    _check_infer_shape(T.matmul(a, b), [a, b], [data(*a_shape), data(*b_shape)], Matmul)
