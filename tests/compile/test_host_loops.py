"""The host loops shared by the numpy and cupy backends: the two ways of keeping per-step
rows agree, a preallocated buffer grows and checks shapes, and the kernels run with
numpy as the array module on the reference backend's compiled inner graphs."""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.compile.host_loops import (
    PreallocatedRows,
    StackedRows,
    ifelse_kernel,
    map_kernel,
    scan_kernel,
)
from croton.ifelse import ifelse
from croton.ops.ifelse import IfElse
from croton.ops.map import map_over_index
from croton.ops.scan import Scan


def _compile():
    from croton_numpy.backend import NumpyBackend

    return NumpyBackend.shared().compile


def _node(inputs, outputs, op_class):
    f = croton.function(inputs, outputs, backend="numpy")
    (node,) = [n for n in f.maker.fgraph.toposort() if isinstance(n.op, op_class)]
    return node


@pytest.mark.parametrize("grows", [False, True])
def test_both_row_keepers_give_the_same_rows(grows):
    values = [np.full((2,), k, dtype="float64") for k in range(40)]
    stacked = StackedRows(np, np.dtype("float32"), 40, grows)
    buffered = PreallocatedRows(np, np.dtype("float32"), 40, grows)
    for t, value in enumerate(values):
        stacked.append(value, "scan", "state 0", t)
        buffered.append(value, "scan", "state 0", t)
    assert stacked.count == buffered.count == 40
    expected, actual = stacked.result(), buffered.result()
    assert actual.dtype == expected.dtype == np.float32
    np.testing.assert_array_equal(actual, expected)


def test_a_preallocated_buffer_refuses_a_row_of_another_shape():
    rows = PreallocatedRows(np, np.dtype("float64"), 3, False)
    rows.append(np.zeros(2), "scan 'acc'", "per-step output 0", 0)
    with pytest.raises(
        ValueError, match=r"scan 'acc': per-step output 0 has shape \(3,\) at step 1"
    ):
        rows.append(np.zeros(3), "scan 'acc'", "per-step output 0", 1)


@pytest.mark.parametrize("rows", [StackedRows, PreallocatedRows])
@pytest.mark.parametrize("n_steps", [0, 1, 25])
def test_a_scan_kernel_agrees_with_either_row_keeper(rows, n_steps):
    x = T.dmatrix("x")
    s0 = T.dvector("s0")
    (totals, doubled), _ = croton.scan(
        lambda row, s: [s + row, T.concatenate([row, row])], sequences=x, outputs_info=[s0, None]
    )
    node = _node([x, s0], [totals, doubled], Scan)
    kernel = scan_kernel(node.op, node, _compile(), lambda: np, rows)
    xs = np.arange(n_steps * 3, dtype="float64").reshape(n_steps, 3)
    outputs = kernel(np.asarray(n_steps), xs, np.ones((1, 3)))
    assert [o.shape for o in outputs] == [(n_steps, 3), (n_steps, 6)]
    np.testing.assert_array_equal(outputs[0], 1 + np.cumsum(xs, axis=0))
    np.testing.assert_array_equal(outputs[1], np.concatenate([xs, xs], axis=1))


def test_a_map_kernel_stacks_its_steps_and_learns_empty_shapes_from_a_trial():
    i, v = T.lscalar("i"), T.dvector("v")
    (rows,) = map_over_index(i, T.lscalar("n"), [v * i])
    node = rows.owner
    kernel = map_kernel(node.op, node, _compile(), lambda: np)
    value = np.array([0.1, -0.4, 0.7])
    (full,) = kernel(np.asarray(4), value)
    np.testing.assert_array_equal(full, np.arange(4)[:, None] * value)
    (empty,) = kernel(np.asarray(0), value)
    assert empty.shape == (0, 3) and empty.dtype == np.float64


def test_an_ifelse_kernel_copies_an_argument_it_passes_on():
    c, a, b = T.dscalar("c"), T.dvector("a"), T.dvector("b")
    node = _node([c, a, b], ifelse(c, a, b), IfElse)
    kernel = ifelse_kernel(node.op, node, _compile(), lambda: np)
    a_value, b_value = np.ones(2), np.zeros(2)
    (picked,) = kernel(np.asarray(np.nan), a_value, b_value)
    np.testing.assert_array_equal(picked, a_value)
    assert picked is not a_value
    (picked,) = kernel(np.asarray(0.0), a_value, b_value)
    np.testing.assert_array_equal(picked, b_value)
