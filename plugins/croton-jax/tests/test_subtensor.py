"""Indexing, `set_subtensor` and `inc_subtensor`: jax vs numpy, bounds and repeats."""

from __future__ import annotations

import numpy as np
import pytest

import croton.tensor as T
from croton.ops.subtensor import IncSubtensor, Subtensor

RNG = np.random.default_rng(2)
M = RNG.normal(size=(4, 5))
C = RNG.normal(size=(3, 4, 5))
MASK_ROWS = np.array([True, False, True, True])

CONSTANT_INDICES = [
    (1,),
    (-1,),
    (slice(1, 3),),
    (slice(None, None, -2),),
    (slice(None), 2),
    (1, slice(-3, None)),
    (np.array([0, 2, 2, -1]),),
    (slice(None), np.array([[0, 1], [4, 4]])),
    (np.array([0, 3]), np.array([1, 4])),
    (MASK_ROWS,),
    (M > 0,),
    (MASK_ROWS, 2),
]


@pytest.mark.parametrize("index", CONSTANT_INDICES, ids=range(len(CONSTANT_INDICES)))
def test_subtensor_constant_index(pair, index):
    x = T.dmatrix("x")
    f = pair([x], x[index])
    assert Subtensor in f.op_classes()
    f.check(M)


def test_subtensor_separated_arrays_go_first_as_numpy(pair):
    x = T.dtensor3("x")
    index = (np.array([0, 2]), slice(1, 3), np.array([4, 0]))
    pair([x], x[index]).check(C)


def test_subtensor_symbolic_integers_slices_and_arrays(pair):
    x = T.dmatrix("x")
    i, start, stop = T.lscalars("i", "start", "stop")
    rows = T.lvector("rows")
    f = pair([x, i, start, stop, rows], [x[i], x[start:stop, i], x[rows, 1:], x[rows][:, i]])
    f.check(M, np.asarray(-2), np.asarray(1), np.asarray(4), np.array([3, 0, 3]))
    f.check(M, np.asarray(0), np.asarray(-1), np.asarray(10), np.array([], dtype="int64"))


@pytest.mark.parametrize("bad", [4, -5])
def test_integer_out_of_bounds_raises_like_numpy(pair, bad):
    # jax would clamp the index; the backend checks it and raises numpy's IndexError
    x = T.dmatrix("x")
    i = T.lscalar("i")
    f = pair([x, i], x[i] * 2)
    f.check(M, np.asarray(3))
    error = f.check_raises(IndexError, M, np.asarray(bad))
    assert "out of bounds" in str(error)


def test_array_index_out_of_bounds_raises_like_numpy(pair):
    x = T.dmatrix("x")
    rows = T.lvector("rows")
    f = pair([x, rows], x[:, rows])
    f.check(M, np.array([0, -5, 4]))
    f.check_raises(IndexError, M, np.array([0, 5]))


def test_unsigned_indices(pair):
    x = T.dvector("x")
    rows = T.tensor(dtype="uint8", shape=(None,))
    f = pair([x, rows], x[rows])
    f.check(np.arange(5.0), np.array([4, 0, 4], dtype="uint8"))
    f.check_raises(IndexError, np.arange(5.0), np.array([5], dtype="uint8"))


def test_mask_computed_from_data_runs_eagerly(pair):
    x = T.dmatrix("x")
    f = pair([x], [x[x > 0], (x[x > 0] * 2).sum()])
    assert "-- eager --" in f.jax.source()
    f.check(M)
    f.check(-np.abs(M))  # an empty selection


def test_mask_shape_must_match(pair):
    x = T.dmatrix("x")
    mask = T.bvector("mask")
    f = pair([x, mask], x[T.neq(mask, 0)])
    f.check(M, np.array([1, 0, 1, 0], dtype="int8"))
    f.check_raises(IndexError, M, np.array([1, 0, 1], dtype="int8"))


SET_INDICES = [
    (slice(1, 3),),
    (slice(None), -1),
    (np.array([0, 2, 2, 0, 3]),),
    (np.array([1, 1, 1]), np.array([2, 2, 2])),
    (slice(None), np.array([4, 0, 4])),
    (MASK_ROWS,),
]


@pytest.mark.parametrize("index", SET_INDICES, ids=range(len(SET_INDICES)))
@pytest.mark.parametrize("operation", [T.set_subtensor, T.inc_subtensor])
def test_set_and_inc_subtensor(pair, operation, index):
    x = T.dmatrix("x")
    shape = M[index].shape
    y = T.tensor(dtype="float64", shape=(None,) * len(shape))
    f = pair([x, y], operation(x[index], y))
    assert IncSubtensor in f.op_classes()
    # distinct values, so a wrong choice among repeated indices would show
    f.check(M, np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape))


def test_repeated_indices_set_last_and_accumulate(pair):
    x = T.dvector("x")
    rows = T.lvector("rows")
    y = T.dvector("y")
    f = pair([x, rows, y], [T.set_subtensor(x[rows], y), T.inc_subtensor(x[rows], y)])
    got_set, got_inc = f.check(np.zeros(4), np.array([1, 1, 3, 1, -1]), np.arange(1.0, 6.0))
    np.testing.assert_array_equal(got_set, [0.0, 4.0, 0.0, 5.0])  # the last write to 1 is 4
    np.testing.assert_array_equal(got_inc, [0.0, 7.0, 0.0, 8.0])  # 1 + 2 + 4 and 3 + 5


def test_set_subtensor_broadcasts_scalars_and_rows(pair):
    x = T.dmatrix("x")
    s = T.dscalar("s")
    row = T.drow("row")
    f = pair([x, s, row], [T.set_subtensor(x[1:, :], s), T.inc_subtensor(x[[0, 0]], row)])
    f.check(M, np.asarray(2.5), np.arange(5.0)[None, :])


def test_inc_subtensor_with_mask_from_data(pair):
    x = T.dmatrix("x")
    f = pair([x], [T.set_subtensor(x[x < 0], 0.0), T.inc_subtensor(x[x > 1], 10.0)])
    f.check(M)


def test_inc_subtensor_integers_and_booleans(pair):
    x = T.ivector("x")
    b = T.bvector("b")
    rows = T.lvector("rows")
    flags = T.neq(b, 0)
    f = pair(
        [x, b, rows],
        [T.inc_subtensor(x[rows], 2**30), T.inc_subtensor(flags[rows], T.constant(True))],
    )
    f.check(
        np.array([1, 2**31 - 1, -3], dtype="int32"),
        np.array([0, 1, 0], "int8"),
        np.array([1, 1, 2]),
    )


def test_set_subtensor_out_of_bounds_leaves_nothing_written(pair):
    x = T.dvector("x")
    rows = T.lvector("rows")
    f = pair([x, rows], T.set_subtensor(x[rows], 1.0))
    f.check_raises(IndexError, np.zeros(3), np.array([0, 3]))


def test_subtensor_value_must_fit_the_selection(pair):
    x = T.dmatrix("x")
    y = T.dvector("y")
    f = pair([x, y], T.set_subtensor(x[:, 0], y))
    f.check(M, np.arange(4.0))
    f.check_raises(ValueError, M, np.ones(1))  # unknown static length: no stretching


def test_a_constant_indexed_by_computed_positions(pair):
    x = T.dvector("x")
    table = T.constant(np.arange(10.0, 15.0))
    pair([x], table[T.argsort(x)] * 2).check(np.asarray([0.3, -1.0, 2.0, 0.5, 0.0]))
