"""Ops that make, reshape, join and split arrays: jax vs numpy, static and symbolic shapes."""

from __future__ import annotations

import numpy as np
import pytest

import croton.tensor as T
from croton.ops.shape import Alloc, ARange, Eye, Join, Repeat, Reshape, Shape, SpecifyShape, Split

RNG = np.random.default_rng(1)
M = RNG.normal(size=(3, 4))


def test_shape(pair):
    x = T.dtensor3("x")
    f = pair([x], x.shape, mode="NONE")
    assert Shape in f.op_classes()
    result = f.check(np.zeros((2, 0, 5)))
    assert result.dtype == np.int64


@pytest.mark.parametrize("new_shape", [(4, 3), (2, -1), (-1,), (12, 1), (1, 3, 4)])
def test_reshape_constant_shapes(pair, new_shape):
    x = T.dmatrix("x")
    f = pair([x], x.reshape(new_shape))
    assert Reshape in f.op_classes()
    f.check(M)


def test_reshape_with_shapes_from_the_graph(pair):
    x, y = T.dmatrices("x", "y")
    f = pair([x, y], [x.reshape((y.shape[0], -1)), x.flatten(), y.reshape(x.shape)])
    f.check(M, M.T)


def test_reshape_with_a_shape_input(pair):
    x = T.dvector("x")
    shape = T.lvector("shape")
    f = pair([x, shape], x.reshape(shape, ndim=2))
    f.check(np.arange(6.0), np.array([2, 3]))
    f.check(np.arange(6.0), np.array([-1, 2]))  # a new value: traced again
    error = f.check_raises(ValueError, np.arange(6.0), np.array([4, 2]))
    assert "cannot reshape" in str(error)


def test_specify_shape(pair):
    x = T.dmatrix("x")
    f = pair([x], T.specify_shape(x, (None, 4)) * 2)
    assert SpecifyShape in f.op_classes()
    f.check(M)
    f.check_raises(ValueError, M.T)


def test_alloc_from_static_and_symbolic_shapes(pair):
    x = T.dmatrix("x")
    v = T.dvector("v")
    n = T.lscalar("n")
    outputs = [T.alloc(v, n, v.shape[0]), T.zeros(x.shape), T.ones((2, 3), dtype="int8")]
    f = pair([x, v, n], outputs, mode="NONE")
    assert Alloc in f.op_classes()
    f.check(M, np.array([1.0, -2.0]), np.asarray(3))
    f.check(M, np.array([1.0, -2.0]), np.asarray(0))


def test_alloc_refuses_what_numpy_refuses(pair):
    v = T.dvector("v")
    n, m = T.lscalars("n", "m")
    f = pair([v, n, m], T.alloc(v, n, m))
    f.check(np.ones(2), np.asarray(2), np.asarray(2))
    f.check_raises(ValueError, np.ones(2), np.asarray(2), np.asarray(3))
    f.check_raises(ValueError, np.ones(2), np.asarray(-1), np.asarray(2))


@pytest.mark.parametrize("axis", [0, 1])
def test_join_and_stack(pair, axis):
    x, y = T.dmatrices("x", "y")
    i = T.imatrix("i")
    f = pair([x, y, i], [T.concatenate([x, y, i], axis=axis), T.stack([x, y], axis=axis)])
    assert Join in f.op_classes()
    f.check(M, M * 2, np.ones((3, 4), dtype="int32"))


def test_join_lengths_must_match(pair):
    x, y = T.dmatrices("x", "y")
    f = pair([x, y], T.concatenate([x, y], axis=0))
    f.check(M, np.zeros((1, 4)))
    f.check_raises(ValueError, M, np.zeros((1, 3)))


def test_split(pair):
    x = T.dmatrix("x")
    f = pair([x], T.split(x, [1, 3], 2, axis=1))
    assert Split in f.op_classes()
    f.check(M)


def test_split_with_sizes_input(pair):
    x = T.dvector("x")
    sizes = T.lvector("sizes")
    f = pair([x, sizes], T.split(x, sizes, 3))
    f.check(np.arange(6.0), np.array([1, 2, 3]))
    f.check(np.arange(6.0), np.array([0, 6, 0]))
    f.check_raises(ValueError, np.arange(6.0), np.array([1, 2, 2]))


def test_arange_constant_and_symbolic(pair):
    n = T.lscalar("n")
    start, step = T.dscalars("start", "step")
    outputs = [T.arange(5), T.arange(n), T.arange(start, 2.0, step), T.arange(n, 0, -2)]
    f = pair([n, start, step], outputs, mode="NONE")
    assert ARange in f.op_classes()
    f.check(np.asarray(4), np.asarray(-1.5), np.asarray(0.5))
    f.check(np.asarray(0), np.asarray(0.1), np.asarray(0.3))
    f.check(np.asarray(7), np.asarray(2.0), np.asarray(-0.25))
    f.check_raises(ValueError, np.asarray(3), np.asarray(0.0), np.asarray(0.0))


def test_arange_dtypes(pair):
    n = T.lscalar("n")
    pair([n], [T.arange(n, dtype="int8"), T.arange(n, dtype="float32")]).check(np.asarray(9))


def test_arange_from_a_static_shape(pair):
    x = T.dmatrix("x")
    pair([x], T.arange(x.shape[0]) * x.shape[1]).check(M)


@pytest.mark.parametrize("n, m, k", [(3, 3, 0), (3, 4, 1), (4, 2, -1), (2, 2, 5), (0, 3, 0)])
def test_eye(pair, n, m, k):
    ns, ms, ks = T.lscalars("n", "m", "k")
    f = pair([ns, ms, ks], [T.eye(ns, ms, ks), T.eye(ns, ms, ks, dtype="int32")])
    assert Eye in f.op_classes()
    f.check(np.asarray(n), np.asarray(m), np.asarray(k))


@pytest.mark.parametrize("repeats", [2, [1, 0, 3], [2]])
def test_repeat(pair, repeats):
    x = T.dmatrix("x")
    f = pair([x], T.repeat(x, repeats, axis=0))
    assert Repeat in f.op_classes()
    f.check(M[:, :3].T)


def test_repeat_with_counts_input_and_errors(pair):
    x = T.dvector("x")
    counts = T.lvector("counts")
    f = pair([x, counts], T.repeat(x, counts, axis=0))
    f.check(np.arange(3.0), np.array([2, 0, 1]))
    f.check_raises(ValueError, np.arange(3.0), np.array([2, 1]))
    f.check_raises(ValueError, np.arange(3.0), np.array([2, -1, 1]))


def test_tile_roll_and_squeeze(pair):
    x = T.dmatrix("x")
    col = T.dcol("c")
    f = pair([x, col], [T.tile(x, (2, 1)), T.roll(x, 1, axis=1), T.squeeze(col)])
    f.check(M, np.ones((3, 1)))
