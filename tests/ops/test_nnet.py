"""Neural-network functions (``croton.tensor.nnet``) on the numpy backend, against numpy."""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.gradient import verify_grad
from croton.graph.type import TensorType
from croton.ops.nnet import LogSoftmax, Softmax
from croton.tensor import nnet


def compile_(inputs, outputs, **kwargs):
    return croton.function(inputs, outputs, backend="numpy", **kwargs)


def evaluate(function, *values):
    variables = [
        TensorType(v.dtype.name, shape=(None,) * v.ndim)(f"x{i}") for i, v in enumerate(values)
    ]
    with np.errstate(all="ignore"):
        output = function(*variables)
        got = compile_(variables, output)(*values)
        unrewritten = compile_(variables, output, mode="NONE")(*values)
    assert_matches(unrewritten, got)
    return got


def assert_matches(got, want, rtol: float | None = None) -> None:
    want = np.asarray(want)
    assert isinstance(got, np.ndarray), type(got)
    assert got.dtype == want.dtype, f"dtype {got.dtype}, expected {want.dtype}"
    assert got.shape == want.shape, f"shape {got.shape}, expected {want.shape}"
    if want.dtype.kind == "f":
        default = {"float32": 1e-5}.get(want.dtype.name, 1e-12)
        np.testing.assert_allclose(
            got, want, rtol=rtol or default, atol=rtol or default, equal_nan=True
        )
    else:
        np.testing.assert_array_equal(got, want)


def softmax_reference(x, axis=-1):
    x = np.asarray(x, dtype="float64")
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def logsoftmax_reference(x, axis=-1):
    x = np.asarray(x, dtype="float64")
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


_rng = np.random.default_rng(0)
MATRIX = _rng.uniform(-3, 3, size=(4, 5))
TENSOR3 = _rng.uniform(-3, 3, size=(2, 3, 4))


# -- sigmoid, softplus, relu -----------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_and_softplus_values(dtype):
    x = np.array([-1000.0, -30.0, -1.0, -0.0, 0.5, 30.0, 1000.0], dtype)
    wide = x.astype("float64")
    with np.errstate(over="ignore"):
        assert_matches(evaluate(nnet.sigmoid, x), (1 / (1 + np.exp(-wide))).astype(dtype))
        assert_matches(
            evaluate(nnet.softplus, x),
            np.where(wide > 30, wide, np.log1p(np.exp(wide))).astype(dtype),
        )
    assert np.isfinite(evaluate(nnet.softplus, x)).all()
    assert_matches(
        evaluate(nnet.sigmoid, np.array([np.nan, np.inf, -np.inf], dtype)),
        np.array([np.nan, 1, 0], dtype),
    )
    assert_matches(
        evaluate(nnet.softplus, np.array([np.nan, np.inf, -np.inf], dtype)),
        np.array([np.nan, np.inf, 0], dtype),
    )


def test_sigmoid_of_tiny_values_keeps_precision():
    got = evaluate(nnet.sigmoid, np.array([-700.0, -50.0]))
    np.testing.assert_allclose(got, np.exp([-700.0, -50.0]), rtol=1e-12)


def test_sigmoid_and_softplus_dtypes():
    assert nnet.sigmoid(T.fmatrix()).dtype == "float32"
    assert nnet.sigmoid(T.imatrix()).dtype == "float64"
    assert nnet.softplus(T.bvector()).dtype == "float16"
    assert_matches(
        evaluate(nnet.sigmoid, np.array([0, 2], "int32")), 1 / (1 + np.exp(-np.array([0.0, 2.0])))
    )


@pytest.mark.parametrize("alpha", [0, 0.1, 1.5])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_relu_values(alpha, dtype):
    x = np.array([[-2.0, -0.5, -0.0, 0.0, 0.5, 3.0]], dtype)
    want = np.where(x > 0, x, np.asarray(alpha, dtype) * x).astype(dtype)
    assert_matches(evaluate(lambda v: nnet.relu(v, alpha), x), want)
    assert_matches(evaluate(lambda v: nnet.relu(v, alpha), x.T.copy().T), want)


def test_relu_keeps_integers_and_takes_symbolic_alpha():
    x = np.array([-3, 0, 4], "int32")
    assert_matches(evaluate(nnet.relu, x), np.maximum(x, 0))
    v, a = T.vector(), T.scalar()
    got = compile_([v, a], nnet.relu(v, a))(np.array([-2.0, 3.0]), 0.25)
    assert_matches(got, np.array([-0.5, 3.0]))
    assert_matches(
        evaluate(nnet.relu, np.array([np.nan, np.inf, -np.inf])), np.array([np.nan, np.inf, 0.0])
    )
    assert_matches(
        evaluate(lambda u: nnet.relu(u, 0.1), np.array([np.nan, -np.inf])),
        np.array([np.nan, -np.inf]),
    )
    assert_matches(
        evaluate(lambda u: nnet.relu(u, np.array(0.5)), np.array([-2.0, 3.0])),
        np.array([-1.0, 3.0]),
    )
    assert nnet.relu(T.fvector(), 0.1).dtype == "float32"


def test_relu_gradient():
    x = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
    v = T.vector()
    for alpha, want in [(0, [0, 0, 0, 1, 1]), (0.1, [0.1, 0.1, 0.1, 1, 1])]:
        got = compile_([v], T.grad(T.sum(nnet.relu(v, alpha)), v))(x)
        assert_matches(got, np.array(want, "float64"))
    verify_grad(lambda v: nnet.relu(v, 0.2), [np.array([-2.0, -0.5, 0.5, 3.0])])


@pytest.mark.parametrize("function", [nnet.sigmoid, nnet.softplus, T.tanh])
def test_activation_gradients(function):
    verify_grad(function, [_rng.uniform(-5, 5, size=(3, 4))], rng=np.random.default_rng(1))
    verify_grad(
        function, [_rng.uniform(-5, 5, size=(3,)).astype("float32")], rng=np.random.default_rng(1)
    )


# -- softmax, logsoftmax ---------------------------------------------------------------


@pytest.mark.parametrize("axis", [-1, 0, 1, -2])
def test_softmax_of_matrix_over_any_axis(axis):
    got = evaluate(lambda v: nnet.softmax(v, axis=axis), MATRIX)
    assert_matches(got, softmax_reference(MATRIX, axis))
    np.testing.assert_allclose(got.sum(axis=axis), 1.0, rtol=1e-12)
    assert_matches(
        evaluate(lambda v: nnet.logsoftmax(v, axis=axis), MATRIX),
        logsoftmax_reference(MATRIX, axis),
    )


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_softmax_of_tensor3(axis):
    assert_matches(
        evaluate(lambda v: nnet.softmax(v, axis), TENSOR3), softmax_reference(TENSOR3, axis)
    )
    assert_matches(
        evaluate(lambda v: nnet.logsoftmax(v, axis), TENSOR3), logsoftmax_reference(TENSOR3, axis)
    )


def test_softmax_default_axis_is_last_and_vector_input():
    assert_matches(evaluate(nnet.softmax, MATRIX), softmax_reference(MATRIX, -1))
    vector = MATRIX[0]
    assert_matches(evaluate(nnet.softmax, vector), softmax_reference(vector))
    assert_matches(evaluate(nnet.log_softmax, vector), logsoftmax_reference(vector))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_is_stable_for_large_inputs(dtype):
    x = np.array([[1000.0, 1000.0], [1000.0, 0.0], [-1000.0, -1000.0], [0.0, -1000.0]], dtype)
    sm = evaluate(nnet.softmax, x)
    assert_matches(sm, np.array([[0.5, 0.5], [1.0, 0.0], [0.5, 0.5], [1.0, 0.0]], dtype))
    lsm = evaluate(nnet.logsoftmax, x)
    log_half = np.log(0.5)
    assert_matches(
        lsm,
        np.array(
            [[log_half, log_half], [0.0, -1000.0], [log_half, log_half], [0.0, -1000.0]], dtype
        ),
    )
    assert np.isfinite(lsm).all()


def test_softmax_dtypes():
    assert_matches(
        evaluate(nnet.softmax, MATRIX.astype("float32")),
        softmax_reference(MATRIX).astype("float32"),
        rtol=1e-5,
    )
    ints = np.array([[1, 2, 3]], "int32")
    assert_matches(evaluate(nnet.softmax, ints), softmax_reference(ints))
    assert nnet.logsoftmax(T.bmatrix()).dtype == "float64"


def test_softmax_of_special_values():
    x = np.array([[-np.inf, 0.0, 1.0], [np.nan, 0.0, 1.0]])
    got = evaluate(nnet.softmax, x)
    assert_matches(got[0], softmax_reference(x[:1])[0])
    assert np.isnan(got[1]).all()
    assert_matches(
        evaluate(nnet.logsoftmax, x[:1]), np.array([[-np.inf, *logsoftmax_reference(x[:1, 1:])[0]]])
    )


def test_softmax_of_zero_size_and_non_contiguous_input():
    for function in (nnet.softmax, nnet.logsoftmax):
        assert_matches(evaluate(function, np.zeros((0, 3))), np.zeros((0, 3)))
        assert_matches(evaluate(function, np.zeros((3, 0))), np.zeros((3, 0)))
        assert_matches(
            evaluate(lambda v, function=function: function(v, axis=0), np.zeros((0, 3))),
            np.zeros((0, 3)),
        )
    base = _rng.uniform(-3, 3, size=(6, 8))
    for x in (base.T, base[::2, 1::3]):
        assert_matches(evaluate(nnet.softmax, x), softmax_reference(x))
        assert_matches(evaluate(lambda v: nnet.logsoftmax(v, 0), x), logsoftmax_reference(x, 0))


def test_softmax_rejects_scalars_and_bad_axes():
    with pytest.raises(ValueError, match="scalar"):
        nnet.softmax(T.scalar())
    with pytest.raises(ValueError, match="out of range"):
        nnet.softmax(T.matrix(), axis=2)
    with pytest.raises(ValueError, match="out of range"):
        nnet.logsoftmax(T.matrix(), axis=-3)
    with pytest.raises(TypeError, match="one integer axis"):
        nnet.softmax(T.matrix(), axis=None)
    with pytest.raises(ValueError):
        Softmax(2)(T.matrix())
    with pytest.raises(ValueError):
        LogSoftmax(-3)(T.matrix())


@pytest.mark.parametrize("axis", [-1, 0, 1])
@pytest.mark.parametrize("function", [nnet.softmax, nnet.logsoftmax])
def test_softmax_gradients(function, axis):
    verify_grad(lambda v: function(v, axis=axis), [MATRIX.copy()], rng=np.random.default_rng(2))
    verify_grad(lambda v: function(v, axis=axis), [TENSOR3.copy()], rng=np.random.default_rng(2))


def test_softmax_gradient_for_large_inputs_is_finite():
    x = T.matrix()
    weights = np.array([[1.0, 2.0], [3.0, -1.0]])
    g = compile_([x], T.grad(T.sum(nnet.logsoftmax(x) * weights), x))
    got = g(np.array([[1000.0, 1000.0], [1000.0, -1000.0]]))
    assert_matches(got, np.array([[-0.5, 0.5], [1.0, -1.0]]))


# -- cross-entropies -------------------------------------------------------------------

PROBABILITIES = softmax_reference(MATRIX)
LABELS = np.array([0, 4, 2, 2], "int64")
ONE_HOT = np.eye(5)[LABELS]


def test_categorical_crossentropy_with_one_hot_targets():
    got = evaluate(nnet.categorical_crossentropy, PROBABILITIES, ONE_HOT)
    assert_matches(got, -np.sum(ONE_HOT * np.log(PROBABILITIES), axis=-1))
    soft = softmax_reference(MATRIX[::-1])
    assert_matches(
        evaluate(nnet.categorical_crossentropy, PROBABILITIES, soft),
        -np.sum(soft * np.log(PROBABILITIES), axis=-1),
    )


@pytest.mark.parametrize("dtype", ["int64", "int32", "int8"])
def test_categorical_crossentropy_with_integer_targets(dtype):
    labels = LABELS.astype(dtype)
    got = evaluate(nnet.categorical_crossentropy, PROBABILITIES, labels)
    assert_matches(got, -np.log(PROBABILITIES[np.arange(4), LABELS]))
    assert_matches(got, evaluate(nnet.categorical_crossentropy, PROBABILITIES, ONE_HOT))


def test_categorical_crossentropy_rejects_bad_targets():
    with pytest.raises(TypeError):
        nnet.categorical_crossentropy(T.matrix(), T.vector())
    with pytest.raises((TypeError, ValueError)):
        nnet.categorical_crossentropy(T.tensor3(), T.lmatrix())


def test_categorical_crossentropy_gradients():
    verify_grad(
        lambda p, t: nnet.categorical_crossentropy(p, t), [PROBABILITIES.copy(), ONE_HOT.copy()]
    )
    verify_grad(lambda p: nnet.categorical_crossentropy(p, LABELS), [PROBABILITIES.copy()])
    verify_grad(lambda x: nnet.categorical_crossentropy(nnet.softmax(x), LABELS), [MATRIX.copy()])
    x, y = T.matrix(), T.lvector()
    g = compile_([x, y], T.grad(T.sum(nnet.categorical_crossentropy(nnet.softmax(x), y)), x))(
        MATRIX, LABELS
    )
    assert_matches(g, PROBABILITIES - ONE_HOT)


def test_crossentropy_softmax_1hot():
    x, y = T.matrix(), T.lvector()
    nll, sm = nnet.crossentropy_softmax_1hot(x, y)
    got_nll, got_sm = compile_([x, y], [nll, sm])(MATRIX, LABELS)
    assert_matches(got_sm, PROBABILITIES)
    assert_matches(got_nll, -logsoftmax_reference(MATRIX)[np.arange(4), LABELS])


def test_binary_crossentropy_values_and_gradients():
    output = np.array([[0.1, 0.5, 0.9], [0.3, 0.99, 0.01]])
    target = np.array([[0.0, 1.0, 1.0], [0.5, 0.0, 1.0]])
    want = -(target * np.log(output) + (1 - target) * np.log(1 - output))
    assert_matches(evaluate(nnet.binary_crossentropy, output, target), want)
    assert_matches(evaluate(lambda o: nnet.binary_crossentropy(o, 1), output), -np.log(output))
    f32 = evaluate(nnet.binary_crossentropy, output.astype("float32"), target.astype("float32"))
    assert_matches(f32, want.astype("float32"), rtol=1e-5)
    verify_grad(nnet.binary_crossentropy, [output.copy(), target.copy()])
    verify_grad(lambda o: nnet.binary_crossentropy(o, target), [output.copy()])


def test_sigmoid_binary_crossentropy_matches_and_is_stable():
    logits = np.array([-800.0, -2.0, 0.0, 3.0, 800.0])
    target = np.array([0.0, 1.0, 0.5, 0.0, 1.0])
    got = evaluate(nnet.sigmoid_binary_crossentropy, logits, target)
    assert np.isfinite(got).all()
    moderate = slice(1, 4)
    p = 1 / (1 + np.exp(-logits[moderate]))
    want = -(target[moderate] * np.log(p) + (1 - target[moderate]) * np.log(1 - p))
    np.testing.assert_allclose(got[moderate], want, rtol=1e-12)
    np.testing.assert_allclose(got[[0, 4]], [0.0, 0.0], atol=1e-300)
    verify_grad(
        nnet.sigmoid_binary_crossentropy, [logits[moderate].copy(), target[moderate].copy()]
    )


# -- infer_shape -----------------------------------------------------------------------


@pytest.mark.parametrize("op", [Softmax(0), Softmax(1), LogSoftmax(1), LogSoftmax(0)], ids=str)
def test_softmax_infer_shape(op):
    x = TensorType("float64", shape=(None, None))()
    out = op(x)
    node = out.owner
    (shape,) = op.infer_shape(node, [tuple(v.shape[i] for i in range(v.ndim)) for v in node.inputs])
    compiled = compile_([x], [out, *[T.as_tensor_variable(n) for n in shape]])
    result, *lengths = compiled(np.ones((3, 5)))
    assert tuple(int(n) for n in lengths) == result.shape == (3, 5)
