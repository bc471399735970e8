"""Theano names that are spelled differently elsewhere in croton: the loops made of scan
(`croton.map`, `reduce`, `foldl`, `foldr`), `croton.clone`, ``T.sgn``, ``T.iround``,
``T.verify_grad``, Theano's ``stack(a, b)`` and constant axes for ``join``. Values are
checked against numpy."""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T

BACKENDS = ["numpy", "numba"]


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


def test_map_reduce_and_folds(backend):
    v = T.dvector("v")
    squares, updates = croton.map(lambda x: x**2, sequences=v)
    assert not updates
    total, _ = croton.reduce(lambda x, acc: acc + x, sequences=v, outputs_info=T.constant(0.0))
    # (a fold from the right sees the last row first: the digits read backwards)
    left, _ = croton.foldl(lambda x, acc: acc * 10 + x, sequences=v, outputs_info=T.constant(0.0))
    right, _ = croton.foldr(lambda x, acc: acc * 10 + x, sequences=v, outputs_info=T.constant(0.0))
    scaled, _ = croton.map(lambda x, k: x * k, sequences=v, non_sequences=T.constant(3.0))
    f = croton.function([v], [squares, total, left, right, scaled], backend=backend)
    data = np.array([1.0, 2.0, 3.0])
    got = f(data)
    np.testing.assert_array_equal(got[0], data**2)
    assert got[1].shape == () and float(got[1]) == 6.0
    assert float(got[2]) == 123.0 and float(got[3]) == 321.0
    np.testing.assert_array_equal(got[4], data * 3)
    assert croton.scan_module.map is croton.map


def test_reduce_of_several_outputs_gives_each_last_value():
    v = T.dvector("v")
    (total, biggest), _ = croton.reduce(
        lambda x, s, m: [s + x, T.maximum(m, x)],
        sequences=v,
        outputs_info=[T.constant(0.0), T.constant(-np.inf)],
    )
    f = croton.function([v], [total, biggest])
    data = np.array([3.0, -1.0, 7.0, 2.0])
    assert [float(r) for r in f(data)] == [data.sum(), data.max()]


def test_clone_copies_the_graph_with_replacements():
    x, y = T.dscalars("x", "y")
    z = T.exp(x) + y
    copy = croton.clone(z)
    assert copy is not z and copy.owner is not z.owner
    assert croton.function([x, y], copy)(0.0, 2.0) == 3.0
    swapped = croton.clone(z, replace={y: x * 2})
    np.testing.assert_allclose(croton.function([x], swapped)(1.0), np.exp(1.0) + 2.0)
    np.testing.assert_allclose(croton.function([x, y], z)(1.0, 5.0), np.exp(1.0) + 5.0)
    a, b = croton.clone([z, z * 3], replace=[(x, y)])
    np.testing.assert_allclose(croton.function([y], [a, b])(1.0), [np.e + 1, 3 * (np.e + 1)])
    with pytest.raises(TypeError, match="strict=True"):
        croton.clone(z, replace={y: T.fscalar("f")})
    loose = croton.clone(z, replace={y: T.fscalar("f")}, strict=False)
    assert loose.dtype == "float64"


def test_clone_without_shared_inputs_makes_new_inputs():
    x = T.dvector("x")
    w = croton.shared(np.ones(2), name="w")
    z = (x * w).sum()
    copy = croton.clone(z, share_inputs=False)
    (new_x,) = [v for v in croton.graph.traversal.free_inputs([copy]) if v.name == "x"]
    assert new_x is not x and new_x.type == x.type
    assert w in croton.graph.traversal.free_inputs([copy])
    assert croton.function([new_x], copy)([1.0, 2.0]) == 3.0


def test_sgn_iround_and_verify_grad_under_theanos_names(backend):
    x = T.dvector("x")
    f = croton.function([x], [T.sgn(x), T.iround(x)], backend=backend)
    data = np.array([-2.5, -0.0, 0.5, 1.5, 2.6])
    sign, rounded = f(data)
    np.testing.assert_array_equal(sign, np.sign(data))
    assert rounded.dtype == np.int64
    np.testing.assert_array_equal(rounded, np.round(data).astype("int64"))
    assert T.verify_grad is croton.gradient.verify_grad


def test_stack_takes_theanos_older_form_and_join_takes_constant_axes(backend):
    x, y = T.dvectors("x", "y")
    m = T.dmatrix("m")
    outputs = [
        T.stack(x, y),
        T.stack([x, y], 1),
        T.stack([x, y], axis=-1),
        T.join(T.constant(1), m, m),
        T.join(np.int64(0), m, m),
    ]
    f = croton.function([x, y, m], outputs, backend=backend)
    a, b, c = np.arange(3.0), np.arange(3.0, 6.0), np.arange(4.0).reshape(2, 2)
    expected = [
        np.stack([a, b]),
        np.stack([a, b], 1),
        np.stack([a, b], -1),
        np.concatenate([c, c], 1),
        np.concatenate([c, c], 0),
    ]
    for got, want in zip(f(a, b, c), expected):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(TypeError, match="axis must be known when the graph is built"):
        T.join(T.lscalar("s"), m, m)
    with pytest.raises(TypeError, match="the axis must be an int"):
        T.stack([x, y], axis=1.5)
