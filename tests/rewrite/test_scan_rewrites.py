"""Scan rewrites: invariant work leaves the loop, unused outputs go, bodies are rewritten.

Each graph is compared on real data with rewriting off (mode NONE).
"""

from __future__ import annotations

import numpy as np

import croton
import croton.tensor as T
from croton.ops.elemwise import Elemwise
from croton.ops.scan import Scan


def _scans(f):
    return [node for node in f.maker.fgraph.toposort() if isinstance(node.op, Scan)]


def _inner_ops(op):
    from croton.graph.traversal import toposort

    return [n.op for n in toposort(op.inner_outputs, stop_at=op.inner_inputs)]


def _both(inputs, outputs, **kwargs):
    fast = croton.function(inputs, outputs, backend="numpy", **kwargs)
    plain = croton.function(inputs, outputs, backend="numpy", mode="NONE", **kwargs)
    return fast, plain


def test_invariant_work_leaves_the_loop():
    x, w = T.matrix("x"), T.vector("w")
    out, _ = croton.scan(lambda row: row * T.exp(w).sum(), sequences=x)
    fast, plain = _both([x, w], out)
    (node,) = _scans(fast)
    names = [getattr(op, "scalar_op", None) for op in _inner_ops(node.op)]
    assert not any(getattr(s, "name", "") == "exp" for s in names if s is not None)
    data = np.arange(6.0).reshape(3, 2), np.array([0.1, -0.3])
    np.testing.assert_allclose(fast(*data), plain(*data))
    np.testing.assert_allclose(fast(*data), data[0] * np.exp(data[1]).sum())


def test_unused_outputs_and_self_feeding_states_are_dropped():
    x = T.vector("x")
    (running, counter, doubled), _ = croton.scan(
        lambda v, acc, c: [acc + v, c + 1.0, v * 2],
        sequences=x,
        outputs_info=[T.zeros(()), T.zeros(()), None],
    )
    fast, plain = _both([x], doubled)
    (node,) = _scans(fast)
    assert node.op.n_states == 0 and node.op.n_mapped == 1
    data = np.array([1.0, 2.0, 5.0])
    np.testing.assert_allclose(fast(data), plain(data))
    fast, plain = _both([x], running)
    (node,) = _scans(fast)
    assert node.op.n_states == 1 and node.op.n_mapped == 0
    np.testing.assert_allclose(fast(data), np.cumsum(data))


def test_a_state_read_by_a_kept_output_stays():
    x = T.vector("x")
    (hidden, readout), _ = croton.scan(
        lambda v, h: [h * 0.5 + v, h * 3], sequences=x, outputs_info=[T.zeros(()), None]
    )
    fast, plain = _both([x], readout)
    (node,) = _scans(fast)
    assert node.op.n_states == 1 and node.op.n_mapped == 1
    data = np.array([1.0, -2.0, 4.0])
    np.testing.assert_allclose(fast(data), plain(data))


def test_loop_bodies_are_rewritten_and_fused():
    x, h0 = T.matrix("x"), T.vector("h0")
    out, _ = croton.scan(
        lambda row, h: T.log(1 + T.exp(row * h)) * 2 + 1, sequences=x, outputs_info=h0
    )
    fast, plain = _both([x, h0], out)
    (node,) = _scans(fast)
    assert node.op.inner_rewritten
    elemwise = [op for op in _inner_ops(node.op) if isinstance(op, Elemwise)]
    assert len(elemwise) == 1  # one fused loop per step
    data = np.random.default_rng(0).normal(size=(4, 3)), np.ones(3)
    np.testing.assert_allclose(fast(*data), plain(*data))


def test_gradient_loops_are_simplified_and_agree():
    X, W, h0 = T.matrix("X"), T.matrix("W"), T.vector("h0")
    h, _ = croton.scan(lambda x, h: T.tanh(T.dot(x, W) + T.dot(h, W)), sequences=X, outputs_info=h0)
    g = croton.grad(h.sum(), W)
    fast, plain = _both([X, W, h0], g)
    rng = np.random.default_rng(1)
    data = rng.normal(size=(4, 2)), rng.normal(size=(2, 2)) * 0.5, rng.normal(size=2)
    np.testing.assert_allclose(fast(*data), plain(*data))


def _loops(ops):
    """Every Map and Scan among ``ops`` and, recursively, in their bodies."""
    from croton.ops.map import Map

    found = []
    for op in ops:
        if isinstance(op, (Map, Scan)):
            found += [op, *_loops(_inner_ops(op))]
    return found


def test_the_bodies_of_jacobian_and_hessian_loops_are_rewritten_at_every_depth():
    # a hessian of something holding a jacobian: a Map whose body holds the Scan of a
    # Map's gradient, as autodiff writes them (unmerged, unfused)
    from croton.autodiff import hessian, jacobian

    x = T.dvector("x")
    J = jacobian(T.sin(x) * x.sum() ** 2, x)
    H = hessian(J.sum(), x)
    written = _loops([J.owner.op, H.owner.op])
    fast, plain = _both([x], [J, H])
    loops = _loops(node.op for node in fast.maker.fgraph.toposort())
    assert {type(op).__name__ for op in loops} == {"Map", "Scan"}
    assert all(getattr(op, "inner_rewritten", False) for op in loops)
    size = sum(len(_inner_ops(op)) for op in loops)
    assert size < sum(len(_inner_ops(op)) for op in written) / 2
    point = np.array([0.3, -0.2, 0.5])
    for got, want in zip(fast(point), plain(point)):
        np.testing.assert_allclose(got, want, rtol=1e-12)
