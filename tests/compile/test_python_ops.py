"""Ops written in Python, as Theano's "Extending Theano" tutorial writes them: an `Op`
subclass with ``perform`` (and ``infer_shape``, ``grad``), and functions wrapped by
``as_op``. They run on every backend without a lowering rule; a compiling backend runs them
as Python steps between its compiled code and says so. Values are checked against numpy."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.backend import PythonStepWarning
from croton.compile.ops import as_op

BACKENDS = ["numpy", "numba"]


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


class DoubleOp(croton.Op):
    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return croton.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        x = inputs[0]
        z = output_storage[0]
        z[0] = x * 2

    def infer_shape(self, node, i0_shapes):
        return i0_shapes

    def grad(self, inputs, output_grads):
        return [output_grads[0] * 2]


def _compile(inputs, outputs, backend, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PythonStepWarning)
        return croton.function(inputs, outputs, backend=backend, **kwargs)


def test_the_tutorials_double_op(backend):
    x = T.matrix()
    data = np.random.default_rng(0).random((5, 4))
    f = _compile([x], DoubleOp()(x), backend)
    np.testing.assert_allclose(f(data), data * 2)
    # between compiled code on both sides, with its gradient and its shape
    y = T.exp(DoubleOp()(T.sin(x)) + 1)
    g = _compile([x], [y, T.grad(y.sum(), x), DoubleOp()(x).shape], backend)
    value, gradient, shape = g(data)
    np.testing.assert_allclose(value, np.exp(2 * np.sin(data) + 1))
    np.testing.assert_allclose(gradient, np.exp(2 * np.sin(data) + 1) * 2 * np.cos(data))
    np.testing.assert_array_equal(shape, [5, 4])


def test_a_compiling_backend_says_it_runs_python(backend):
    x = T.dvector("x")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        croton.function([x], DoubleOp()(x) + 1, backend=backend)
    said = [w for w in caught if issubclass(w.category, PythonStepWarning)]
    if backend == "numpy":
        assert not said
    else:
        assert len(said) == 1 and "DoubleOp through its Python perform()" in str(said[0].message)


def test_as_op_with_infer_shape_and_two_outputs(backend):
    def shape_of_dot(node, input_shapes):
        a, b = input_shapes
        return [a[:-1] + b[-1:], a[:1]]

    @as_op(itypes=[T.fmatrix, T.fmatrix], otypes=[T.fmatrix, T.fvector], infer_shape=shape_of_dot)
    def dot_and_norms(a, b):
        return np.dot(a, b), np.linalg.norm(a, axis=1)

    x, y = T.fmatrices("x", "y")
    product, norms = dot_and_norms(x, y)
    f = _compile([x, y], [product * 2, norms, product.shape], backend)
    rng = np.random.default_rng(1)
    a, b = rng.random((3, 4), dtype="float32"), rng.random((4, 2), dtype="float32")
    got, got_norms, shape = f(a, b)
    assert got.dtype == np.float32 and got_norms.dtype == np.float32
    np.testing.assert_allclose(got, 2 * (a @ b), rtol=1e-6)
    np.testing.assert_allclose(got_norms, np.linalg.norm(a, axis=1), rtol=1e-6)
    np.testing.assert_array_equal(shape, [3, 2])
    # the shape comes from infer_shape: the function is not run for it
    only_shape = _compile([x, y], [product.shape[0], product.shape[1]], backend)
    np.testing.assert_array_equal(only_shape(a, b), [3, 2])
    assert not any(node.op is dot_and_norms for node in only_shape.maker.fgraph.toposort())


def test_as_op_checks_its_input_types():
    @as_op(itypes=[T.dmatrix], otypes=[T.dmatrix])
    def twice(a):
        return a * 2

    with pytest.raises(TypeError, match=r"input 0 must be TensorType\(float64"):
        twice(T.fmatrix("f"))
    with pytest.raises(TypeError, match="takes 1 inputs, got 2"):
        twice(T.dmatrix(), T.dmatrix())
    with pytest.raises(TypeError, match="list of TensorTypes"):
        as_op(itypes=["float64"], otypes=[T.dmatrix])(lambda a: a)
    with pytest.raises(NotImplementedError, match="gradient"):
        x = T.dmatrix()
        T.grad(twice(x).sum(), x)


class _Storing(croton.Op):
    """Stores what it is told to: for the checks on ``perform``'s results."""

    __props__ = ("result",)

    def __init__(self, result):
        self.result = result

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return croton.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        if self.result == "input":
            output_storage[0][0] = inputs[0]
        elif self.result == "matrix":
            output_storage[0][0] = np.ones((2, 2))
        elif self.result == "complex":
            output_storage[0][0] = inputs[0] * 1j
        elif self.result == "raise":
            raise ValueError("perform failed")


def test_perform_results_are_checked(backend):
    x = T.dvector("x")
    for result, error, message in [
        ("nothing", ValueError, r"did not store its output 0"),
        ("matrix", TypeError, r"stored a 2-d value as its output 0"),
        ("complex", TypeError, r"stored complex128 data as its output 0"),
    ]:
        f = _compile([x], _Storing(result)(x), backend)
        with pytest.raises(error, match=message):
            f(np.ones(3))


def test_a_perform_returning_its_input_returns_a_copy(backend):
    x = T.dvector("x")
    f = _compile([x], _Storing("input")(x), backend)
    data = np.arange(3.0)
    out = f(data)
    np.testing.assert_array_equal(out, data)
    assert not np.shares_memory(out, data)


def test_a_failing_perform_leaves_shared_variables_untouched(backend):
    w = croton.shared(np.arange(3.0), name="w")
    x = T.dvector("x")
    f = _compile([x], _Storing("raise")(x), backend, updates=[(w, w + x)])
    with pytest.raises(ValueError, match="perform failed"):
        f(np.ones(3))
    np.testing.assert_array_equal(w.get_value(), np.arange(3.0))


def test_perform_runs_only_when_the_function_is_called(backend):
    """numba compiles by running the graph once on made-up inputs; a Python op is not run
    then (it might print, or fail on such values)."""
    calls = []

    @as_op(itypes=[T.dvector], otypes=[T.dvector])
    def recorded(a):
        calls.append(a.copy())
        return a + 1

    x = T.dvector("x")
    f = _compile([x], T.exp(recorded(T.sin(x))) * 2, backend)
    assert calls == []
    data = np.array([0.5, -1.0])
    np.testing.assert_allclose(f(data), np.exp(np.sin(data) + 1) * 2)
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0], np.sin(data))


class _DeclaredTypes(croton.Op):
    """The tutorial's second DoubleOp: types declared, no make_node."""

    __props__ = ()
    itypes = [T.dmatrix]
    otypes = [T.dmatrix]

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0] * 2


def test_an_op_declaring_itypes_and_otypes_needs_no_make_node(backend):
    x = T.dmatrix("x")
    f = _compile([x], _DeclaredTypes()(x) + 1, backend)
    data = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(f(data), data * 2 + 1)
    with pytest.raises(TypeError, match="input 0 must be"):
        _DeclaredTypes()(T.fmatrix())
    with pytest.raises(NotImplementedError, match="defines no make_node"):
        croton.Op()(x)


def test_variables_keep_a_users_notes_in_tag():
    x = T.dmatrix("x")
    x.tag.test_value = np.ones((2, 2))  # (Theano's debugging idiom: kept, not used)
    assert x.tag.test_value.shape == (2, 2)
    assert not hasattr(T.dmatrix("y").tag, "test_value")
