"""How a graph is run: one jitted function, static inputs, eager barriers, the XLA options."""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T

RNG = np.random.default_rng(4)
M = RNG.normal(size=(3, 4))


def _segments(f) -> tuple[int, int]:
    source = f.source()
    return source.count("-- jit --"), source.count("-- eager --")


def test_whole_graph_is_one_jitted_function(pair):
    x, w = T.dmatrices("x", "w")
    b = T.dvector("b")
    hidden = T.tanh(T.dot(x, w) + b)
    f = pair([x, w, b], [T.nnet.softmax(hidden), hidden.sum(axis=0), hidden.shape])
    assert f.jax.maker.backend.name == "jax"
    assert f.jax.source().startswith("jax program(")
    assert _segments(f.jax) == (1, 0)
    assert "[static]" not in f.jax.source()
    f.check(M, RNG.normal(size=(4, 2)), np.array([0.5, -0.5]))
    f.check(M[:1], RNG.normal(size=(4, 2)), np.array([0.5, -0.5]))  # new shapes: traced again


def test_values_from_static_shapes_are_computed_while_tracing(pair):
    x = T.dmatrix("x")
    half = x.shape[0] // 2
    f = pair([x], [x[:half], T.zeros((x.shape[1], half)), x.reshape((-1, x.shape[0]))])
    assert _segments(f.jax) == (1, 0)
    assert "# while tracing" in f.jax.source()
    f.check(np.arange(12.0).reshape(4, 3))
    f.check(np.arange(12.0).reshape(6, 2))


def test_small_inputs_that_decide_shapes_are_static(pair):
    x = T.dvector("x")
    n, k = T.lscalars("n", "k")
    f = pair([x, n, k], [T.arange(n) * 2.0, x[:k], x * n])
    source = f.jax.source()
    assert _segments(f.jax) == (1, 0)
    assert "v0 [static]" not in source and "v1 [static]" in source and "v2 [static]" in source
    for n_value, k_value in [(3, 2), (5, 4), (3, 2), (0, -1)]:
        f.check(np.arange(5.0), np.asarray(n_value), np.asarray(k_value))


def test_shape_from_data_cuts_the_graph(pair):
    x = T.dvector("x")
    positive = x[x > 0]
    f = pair([x], [positive * 2, T.arange(positive.shape[0]), T.exp(x).sum()])
    # the mask and its count are jitted first, then the selection and the arange run
    # eagerly, then what depends on them is jitted again
    assert _segments(f.jax) == (2, 2)
    f.check(np.array([1.0, -2.0, 3.0]))
    f.check(np.array([-1.0, -2.0]))


def test_repeat_counts_from_data_run_eagerly(pair):
    x = T.dvector("x")
    counts = T.cast(T.abs(x), "int64")
    f = pair([x], T.repeat(x, counts, axis=0) + 1)
    assert _segments(f.jax)[1] == 1
    f.check(np.array([2.0, -1.0, 0.0, 3.5]))


def test_function_without_nodes(pair):
    x, y = T.dvectors("x", "y")
    f = pair([x, y], [x, y, x], on_unused_input="ignore")
    f.check(np.arange(3.0), np.ones(2))


def test_constant_outputs(pair):
    x = T.dvector("x")
    pair([x], [T.constant(np.arange(3.0)), x + 1], on_unused_input="ignore").check(np.ones(2))


def test_xla_does_not_simplify_away_overflow(pair):
    # XLA's algebraic simplifier would turn log(exp(x)) into x and exp(a)/exp(b) into
    # exp(a - b); without croton's rewrites numpy overflows, and so must jax
    x = T.dvector("x")
    f = pair([x], [T.log(T.exp(x)), T.exp(x) / T.exp(x), (x * 1e300) * 1e300 / 1e300], mode="NONE")
    got = f.check(np.array([1000.0, -1000.0, 1.0, -0.0]))
    assert np.isinf(got[0][0]) and np.isnan(got[1][0])


def test_float16_rounds_after_every_op(pair):
    x = T.tensor(dtype="float16", shape=(None,))
    f = pair([x], (x * np.float16(2)) / np.float16(2), mode="NONE")
    got = f.check(np.array([60000.0, 1.5], dtype="float16"))
    assert np.isinf(got[0])  # 120000 overflows float16 before the division


def test_errors_name_the_failing_node():
    x = T.dmatrix("x")
    i = T.lscalar("i")
    f = croton.function([x, i], T.exp(x)[i], backend="jax")
    with pytest.raises(IndexError) as info:
        f(M, 7)
    assert "Subtensor" in str(info.value) and "backend 'jax'" in str(info.value)
    assert "test_program.py" in str(info.value)  # where the failing variable was made
    assert type(info.value.node.op).__name__ == "Subtensor"


def test_same_function_from_many_threads():
    from concurrent.futures import ThreadPoolExecutor

    x = T.dvector("x")
    f = croton.function([x], T.sum(x**2), backend="jax")
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda k: f(np.full(k % 5 + 1, float(k))), range(40)))
    for k, result in enumerate(results):
        assert result == (k % 5 + 1) * float(k) ** 2
