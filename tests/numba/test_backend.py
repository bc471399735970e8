"""The numba backend: whole-graph compilation, Python steps, parallel loops, the disk cache."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

pytest.importorskip("numba")

import croton  # noqa: E402
import croton.tensor as T  # noqa: E402
from croton_numba.backend import NumbaExecutable, SegmentWarning, _Segment  # noqa: E402


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CROTON_CACHE_DIR", str(tmp_path / "cache"))


def _steps(f) -> list:
    executable = f._executable
    assert isinstance(executable, NumbaExecutable)
    return executable._program.nodes


def _chain(x, y, lib=T):
    return lib.exp(-((x * y) ** 2)) * lib.sin(x) + lib.log1p(y * y) / (1 + abs(x))


def test_the_benchmark_chain_matches_numpy():
    x, y = T.dvectors("x", "y")
    f = croton.function([x, y], _chain(x, y), backend="numba")
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=1000), rng.normal(size=1000)
    expected = np.exp(-((a * b) ** 2)) * np.sin(a) + np.log1p(b * b) / (1 + np.abs(a))
    np.testing.assert_allclose(f(a, b), expected, rtol=1e-12)


def test_a_training_step_is_one_jitted_segment():
    rng = np.random.default_rng(1)
    W = croton.shared(rng.normal(size=(4, 3)), name="W")
    b = croton.shared(np.zeros(3), name="b")
    x, t = T.dmatrix("x"), T.dvector("t")
    p = T.nnet.sigmoid(T.dot(x, W) + b).sum(axis=1)
    cost = T.mean((p - t) ** 2)
    gW, gb = T.grad(cost, [W, b])
    updates = [(W, W - 0.1 * gW), (b, b - 0.1 * gb)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", SegmentWarning)
        f = croton.function([x, t], cost, updates=updates, backend="numba")
    (step,) = _steps(f)
    assert isinstance(step, _Segment) and len(step.nodes) > 5
    reference_W = croton.shared(W.get_value(), name="W")
    reference_b = croton.shared(b.get_value(), name="b")
    p0 = T.nnet.sigmoid(T.dot(x, reference_W) + reference_b).sum(axis=1)
    cost0 = T.mean((p0 - t) ** 2)
    g0W, g0b = T.grad(cost0, [reference_W, reference_b])
    g = croton.function(
        [x, t],
        cost0,
        updates=[(reference_W, reference_W - 0.1 * g0W), (reference_b, reference_b - 0.1 * g0b)],
        backend="numpy",
    )
    data, targets = rng.normal(size=(8, 4)), rng.normal(size=8)
    for _ in range(3):
        np.testing.assert_allclose(f(data, targets), g(data, targets), rtol=1e-12)
    np.testing.assert_allclose(W.get_value(), reference_W.get_value(), rtol=1e-12)
    np.testing.assert_allclose(b.get_value(), reference_b.get_value(), rtol=1e-12, atol=1e-15)


def test_a_node_that_cannot_lower_runs_between_segments_and_is_reported():
    x = T.TensorType("float16", shape=(None,))("x")
    total = T.sum(T.exp(x) * 2)  # a float16 reduction: numba runs it as a Python step
    with pytest.warns(SegmentWarning, match="float16"):
        f = croton.function([x], T.tanh(total) + x, backend="numba")
    kinds = [type(step).__name__ for step in _steps(f)]
    assert "Apply" in kinds and "_Segment" in kinds  # the Python step, then jitted code
    a = np.linspace(-1, 1, 4).astype(np.float16)
    expected = croton.function([x], T.tanh(total) + x, backend="numpy")(a)
    np.testing.assert_allclose(f(a).astype(np.float64), expected, rtol=1e-3)
    assert f._executable.python_steps[0][0].op.__class__.__name__ == "Reduce"


def test_sort_runs_numpys_sort_as_a_host_step_and_numbas_inside_a_loop():
    x = T.dmatrix("x")
    outputs = [T.sort(x, axis=1) * 2, T.argsort(x, axis=0, kind="stable")]
    with warnings.catch_warnings():
        warnings.simplefilter("error", SegmentWarning)  # a host step by design: no warning
        f = croton.function([x], outputs, backend="numba")
        # in a scan's step a host step would make the whole loop one: numba sorts there
        rows, _ = croton.scan(lambda r: [T.sort(r)[::-1], T.argsort(r, kind="stable")], sequences=x)
        g = croton.function([x], rows, backend="numba")
    assert "Apply" in [type(step).__name__ for step in _steps(f)]
    assert all(isinstance(step, _Segment) for step in _steps(g))
    assert f._executable.python_steps == [] and g._executable.python_steps == []
    a = np.random.default_rng(3).integers(0, 4, size=(6, 7)).astype(np.float64)
    a[1, 2] = a[4, 0] = np.nan
    got_sorted, got_order = f(a)
    np.testing.assert_array_equal(got_sorted, np.sort(a, axis=1) * 2)
    np.testing.assert_array_equal(got_order, np.argsort(a, axis=0, kind="stable"))
    got_rows, got_row_order = g(a)
    np.testing.assert_array_equal(got_rows, np.sort(a, axis=1)[:, ::-1])
    np.testing.assert_array_equal(got_row_order, np.argsort(a, axis=1, kind="stable"))


def test_runtime_errors_name_the_failing_part():
    x, y = T.dvectors("x", "y")
    f = croton.function([x, y], T.exp(x) + y, backend="numba")
    with pytest.raises(ValueError, match="do not match"):
        f(np.ones(3), np.ones(4))


@pytest.mark.parametrize("threshold", [0, 10**9])
def test_an_integer_to_a_negative_power_raises_as_in_numpy(threshold):
    x, y = T.lvectors("x", "y")
    w = croton.shared(np.ones(3), name="w")
    outputs = [x**y, T.sum((x + 1) ** (y * 2))]
    with croton.config.change(
        numba_parallel=True, numba_parallel_threshold=threshold, numba_threaded_compile="eager"
    ):
        f = croton.function([x, y], outputs, backend="numba", updates=[(w, w + 1)])
        g = croton.function([x, y], outputs, backend="numpy")
    a, b = np.arange(-3, 3), np.array([0, 1, 2, 3, 2, 1])
    for got, want in zip(f(a, b), g(a, b)):
        np.testing.assert_array_equal(got, want)
    for exponents in (np.array([0, 1, 2, -1, 2, 1]), np.array([-2] * 6)):
        with pytest.raises(ValueError, match="Integers to negative integer powers"):
            f(a, exponents)
    np.testing.assert_array_equal(w.get_value(), np.full(3, 2.0))  # the failed calls: no update


@pytest.mark.parametrize("budget", [0, 150])
def test_a_long_run_of_nodes_is_cut_into_segments_by_its_length(budget):
    # unrewritten, every operation is a node of its own (and tens of lines of loop)
    x, y = T.dvectors("x", "y")
    out = x
    for k in range(12):
        out = T.sin(out) * y + k
    with croton.config.change(numba_segment_lines=budget, numba_parallel=False):
        f = croton.function([x, y], [out, out.sum()], backend="numba", mode="NONE")
    steps = _steps(f)
    assert all(isinstance(step, _Segment) for step in steps)
    assert len(steps) > 3 if budget else len(steps) == 1
    a, b = np.linspace(-1, 1, 7), np.linspace(0.5, 2, 7)
    want = a
    for k in range(12):
        want = np.sin(want) * b + k
    got, total = f(a, b)
    np.testing.assert_allclose(got, want, rtol=1e-13)
    np.testing.assert_allclose(total, want.sum(), rtol=1e-13)


def test_runs_are_cut_where_their_code_would_pass_the_budget():
    from croton.graph.fgraph import FunctionGraph
    from croton_numba.backend import _Step
    from croton_numba.backend import _steps as cut

    x = T.dvector("x")
    out = x
    for _ in range(8):
        out = T.sin(out)
    fgraph = FunctionGraph([x], [out])
    nodes = fgraph.toposort()
    layout = [("jit", node) for node in nodes]
    layout[5] = ("python", nodes[5], None)  # a Python step ends a run whatever its length
    lengths = dict.fromkeys(range(8), 50)
    lengths[2] = 200  # longer than the budget: a segment of its own
    steps = cut(fgraph, nodes, layout, lengths, 120)
    shape = [len(s.nodes) if isinstance(s, _Segment) else "py" for s in steps]
    assert shape == [2, 1, 2, "py", 2]
    assert isinstance(steps[3], _Step)
    assert [len(s.nodes) for s in cut(fgraph, nodes, layout, lengths, 0)[::2]] == [5, 2]


@pytest.mark.parametrize("threshold", [0, 10**9])
def test_parallel_and_serial_loops_agree(threshold):
    x, y = T.dmatrices("x", "y")
    outputs = [_chain(x, y), T.sum((x - y) ** 2, axis=0), T.max(x * y, axis=1), T.sum(x)]
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(300, 200)), rng.normal(size=(300, 200))
    expected = croton.function([x, y], outputs, backend="numpy")(a, b)
    with croton.config.change(
        numba_parallel=True, numba_parallel_threshold=threshold, numba_threaded_compile="eager"
    ):
        f = croton.function([x, y], outputs, backend="numba")
    assert all(tier.upgraded is not None for tier in f._executable.tiers)
    for got, want in zip(f(a, b), expected):
        np.testing.assert_allclose(got, want, rtol=1e-11)


def test_the_threaded_variant_is_built_in_the_background_when_a_call_needs_it():
    x, y = T.dvectors("x", "y")
    with croton.config.change(numba_parallel_threshold=1000, numba_threaded_compile="background"):
        f = croton.function([x, y], _chain(x, y), backend="numba")
    (tier,) = f._executable.tiers
    serial = tier.serial
    rng = np.random.default_rng(4)
    small, large = rng.normal(size=(2, 10)), rng.normal(size=(2, 5000))
    np.testing.assert_allclose(f(*small), _chain(*small, lib=np), rtol=1e-12)
    assert tier._process is None and tier.upgraded is None  # small work: no threads wanted
    np.testing.assert_allclose(f(*large), _chain(*large, lib=np), rtol=1e-12)  # still serial
    assert tier.wait()  # the background process built it ...
    assert f._executable._program.function.__globals__["k0"] is tier.upgraded  # ... in place
    assert tier.upgraded is not serial
    np.testing.assert_allclose(f(*large), _chain(*large, lib=np), rtol=1e-12)
    # compiling the same graph again loads the threaded machine code at once
    with croton.config.change(numba_parallel_threshold=1000):
        again = croton.function([x, y], _chain(x, y), backend="numba")
    assert again._executable.tiers[0].upgraded is not None


def test_a_threaded_variant_wanted_at_compile_time_is_the_only_one_built():
    # (as when its machine code is on disk: a second process loads one variant, not two)
    x, y = T.dvectors("x", "y")
    with croton.config.change(numba_parallel_threshold=1000, numba_threaded_compile="eager"):
        f = croton.function([x, y], T.cosh(x) * T.tanh(y) - x / 3, backend="numba")
    (tier,) = f._executable.tiers
    assert tier.upgraded is not None
    assert tier.upgraded.signatures and tier.serial.signatures == []
    rng = np.random.default_rng(5)
    for size in (10, 5000):
        a, b = rng.normal(size=(2, size))
        np.testing.assert_allclose(f(a, b), np.cosh(a) * np.tanh(b) - a / 3, rtol=1e-12)


@pytest.mark.parametrize("level", [1, 3])
def test_segments_compile_at_the_configured_llvm_level(level, monkeypatch):
    from numba.core import codegen
    from numba.core import config as numba_config

    levels = []
    original = codegen.create_pass_builder

    def recording(tm, opt, **options):
        levels.append(opt)
        return original(tm, opt=opt, **options)

    monkeypatch.setattr(codegen, "create_pass_builder", recording)
    before = numba_config.OPT
    x, y = T.dvectors("x", "y")
    graph = T.tanh(x) * (y + float(level))  # a graph no other test compiles
    with croton.config.change(numba_opt=level, numba_parallel=False):
        f = croton.function([x, y], graph, backend="numba")
    # numba's "cheap" inlining passes run at 0 whatever the level; the full ones at ours
    assert set(levels) == {0, level}
    assert numba_config.OPT == before  # numba's own level is back for other code
    a, b = np.random.default_rng(level).normal(size=(2, 7))
    np.testing.assert_allclose(f(a, b), np.tanh(a) * (b + level), rtol=1e-14)


def test_serial_only_graphs_have_no_tiers():
    x, y = T.dvectors("x", "y")
    with croton.config.change(numba_parallel=False):
        f = croton.function([x, y], _chain(x, y), backend="numba")
    assert f._executable.tiers == []
    assert "prange" not in f._executable.source()


def test_non_contiguous_and_broadcast_inputs():
    x, r = T.dmatrix("x"), T.drow("r")
    f = croton.function([x, r], T.tanh(x) * r + x.T.T, backend="numba")
    rng = np.random.default_rng(3)
    a = rng.normal(size=(6, 8))[::2, ::-3]
    row = rng.normal(size=(1, 3))
    np.testing.assert_allclose(f(a, row), np.tanh(a) * row + a, rtol=1e-12)


@pytest.mark.parametrize("threshold", [0, 10**9])
@pytest.mark.parametrize("shape", [(19, 530), (3, 9, 270), (1, 1), (0, 4)])
def test_transposed_inputs_run_in_tiles_and_match_numpy(shape, threshold):
    # inputs read across their rows go tile by tile (8 x 256 of the last two axes,
    # with partial tiles at the edges); the others row by row, in the same loop
    x = T.TensorType("float64", shape=(None,) * len(shape))("x")
    order = tuple(reversed(range(len(shape))))
    rng = np.random.default_rng(12)
    a = rng.normal(size=shape)
    b = rng.normal(size=shape[::-1]).transpose(order)  # a transposed array as input
    y = T.TensorType("float64", shape=(None,) * len(shape))("y")
    z = x.dimshuffle(order)
    with croton.config.change(numba_parallel_threshold=threshold, numba_threaded_compile="eager"):
        f = croton.function(
            [x, y],
            [z * 2 + 1, T.tanh(z) - z.dimshuffle(order)[::-1].dimshuffle(order), y - x],
            backend="numba",
        )
    expected = [
        a.transpose(order) * 2 + 1,
        np.tanh(a.transpose(order)) - a[::-1].transpose(order),
        b - a,
    ]
    for got, want in zip(f(a, b), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_large_arrays_are_advised_huge_pages_and_hold_what_numpy_computes():
    # (8 MB outputs: past NumPy's 4 MB threshold; set_subtensor's copy is numba's own)
    from croton_numba import prelude

    x = T.dvector("x")
    f = croton.function([x], [x * 4 - 1, T.set_subtensor(x[::7], 0.5)], backend="numba")
    a = np.random.default_rng(13).normal(size=10**6)
    scaled, replaced = f(a)
    np.testing.assert_array_equal(scaled, a * 4 - 1)  # (exact, fused or not)
    want = a.copy()
    want[::7] = 0.5
    np.testing.assert_array_equal(replaced, want)
    if sys.platform.startswith("linux"):
        assert prelude._MADVISE is not None
    assert f._executable.source().count(".nbytes)") == 1  # (the elementwise output)


def test_joins_and_cumulative_sums_along_every_axis_match_numpy():
    x, y = T.dtensor3("x"), T.ltensor3("y")
    rng = np.random.default_rng(14)
    a = rng.normal(size=(3, 4, 5))
    b = rng.integers(-5, 5, size=(3, 4, 5))
    outputs, expected = [], []
    for axis in (0, 1, 2, -1):
        outputs += [T.concatenate([x, y, x[:, :, ::-1]], axis=axis), T.cumsum(x, axis=axis)]
        outputs.append(T.cumprod(y, axis=axis))
        expected += [np.concatenate([a, b, a[:, :, ::-1]], axis=axis), np.cumsum(a, axis=axis)]
        expected.append(np.cumprod(b, axis=axis))
    f = croton.function([x, y], outputs, backend="numba")
    for got, want in zip(f(a, b), expected, strict=True):
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-12)
    g = croton.function([x, y], T.concatenate([x, y], axis=1), backend="numba")
    with pytest.raises(ValueError, match="join: the inputs differ in length along axis 0"):
        g(a, b[:2])


@pytest.mark.parametrize("threshold", [0, 10**9])
def test_argmax_along_rows_finds_the_first_extreme_or_nan(threshold):
    # integers: two passes over each row (the extreme in four lanes, then its first
    # position); floats: blocks of 128 integer keys, then the block holding the answer
    rng = np.random.default_rng(15)
    for dtype in ["float64", "float32", "int32", "bool"]:
        x = T.TensorType(dtype, (None, None, None))("x")
        outputs = [T.argmax(x, axis=2), T.argmin(x, axis=-1), T.argmax(x, axis=1)]
        with croton.config.change(
            numba_parallel_threshold=threshold, numba_threaded_compile="eager"
        ):
            f = croton.function([x], outputs, backend="numba")
        for shape in [(2, 3, 9), (3, 2, 1), (2, 2, 4), (2, 9, 127), (1, 9, 129), (2, 9, 300)]:
            a = rng.integers(-3, 3, size=shape).astype(dtype)  # (ties)
            if dtype.startswith("float"):
                m = shape[-1]
                a[0, 0, -1] = np.nan
                a[0, 1, 0] = -0.0
                a[-1, 0] = -0.0  # -0.0 and 0.0 tie: the first wins
                a[-1, 0, m // 2 :] = 0.0
                if shape[1] == 9:
                    a[0, 2, m // 3] = -np.nan  # a nan of either sign is the extreme
                    a[0, 2, -1] = np.inf
                    a[0, 3] = np.nan
                    a[0, 4] = -np.inf
                    a[0, 5, :] = np.inf
                    a[0, 5, m - 1] = -np.inf
                    a[0, 6] = -0.0
                    a[0, 6, -1] = -np.finfo(dtype).smallest_subnormal
                    a[0, 7, : m // 2] = -np.inf
                    a[0, 8, m // 2 :] = np.nan
            want = [a.argmax(axis=2), a.argmin(axis=-1), a.argmax(axis=1)]
            for got, expected in zip(f(a), want, strict=True):
                np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("threshold", [0, 10**9])
def test_max_and_min_of_float_lines_in_vector_lanes_match_numpy(threshold):
    # lines of finite floats reduce in vector lanes (no nan, signs of zeros unknown
    # there); a line with a nan or an infinity takes the exact loop, and a zero result
    # is found again in order: values and signs of zeros as NumPy's. Whole arrays go
    # in runs of rows to threads; leading axes reduce four rows at a time.
    rng = np.random.default_rng(16)
    for dtype in ["float64", "float32"]:
        x = T.TensorType(dtype, (None, None, None))("x")
        outputs = [
            T.max(x, axis=2),
            T.min(x, axis=-1),
            T.max(x, axis=(1, 2)),
            T.min(x),
            T.max(x[:, :, ::-2], axis=2),  # lines with a stride
            T.min(x.dimshuffle(0, 2, 1), axis=2),  # lines across memory
            T.max(x, axis=0),  # rows of kept elements, four at a time
            T.min(x, axis=(0, 1)),
        ]
        with croton.config.change(
            numba_parallel_threshold=threshold, numba_threaded_compile="eager"
        ):
            f = croton.function([x], outputs, backend="numba")
        source = f._executable.source()
        assert "_max_line(" in source and "_min_line(" in source
        for shape in [(2, 4, 1), (2, 9, 7), (3, 9, 129), (2, 9, 1000), (9, 5, 300)]:
            a = rng.normal(size=shape).astype(dtype)
            m = shape[-1]
            a[0, 0, m // 2] = np.nan
            a[0, 1, -1] = np.inf
            a[0, 2, 0] = -np.inf
            # zeros whose sign the vector lanes may lose (between tied 0.0 and -0.0
            # NumPy's own choice depends on the length, so no line here has both)
            a[1, 0] = -np.abs(a[1, 0])
            a[1, 0, m // 2] = -0.0  # the largest is -0.0
            a[1, 1] = np.abs(a[1, 1])
            a[1, 1, m // 2] = -0.0  # the smallest is -0.0
            a[1, 2] = -0.0
            a[1, 3] = -np.abs(a[1, 3])
            a[1, 3, 0] = 0.0
            a[-1, -1] = np.nan if m == 1 else a[-1, -1]
            for got, expected in zip(f(a), [w(a) for w in _EXTREMES], strict=True):
                np.testing.assert_array_equal(got, expected)
                assert np.array_equal(np.signbit(got), np.signbit(expected)), (got, expected)
            finite = rng.normal(size=shape).astype(dtype)  # every line in vector lanes
            for got, expected in zip(f(finite), [w(finite) for w in _EXTREMES], strict=True):
                np.testing.assert_array_equal(got, expected)


_EXTREMES = [
    lambda a: a.max(axis=2),
    lambda a: a.min(axis=-1),
    lambda a: a.max(axis=(1, 2)),
    lambda a: a.min(),
    lambda a: a[:, :, ::-2].max(axis=2),
    lambda a: a.transpose(0, 2, 1).min(axis=2),
    lambda a: a.max(axis=0),
    lambda a: a.min(axis=(0, 1)),
]


@pytest.mark.parametrize("threshold", [0, 10**9])
def test_reshaping_a_transpose_copies_it_in_tiles(threshold):
    x, m = T.dtensor3("x"), T.dmatrix("m")
    outputs = [
        x.dimshuffle(2, 0, 1).reshape((-1,)),
        x.dimshuffle(0, 2, 1).reshape((x.shape[0], -1)),
        m.T.flatten(),
        m[::2, ::-1].reshape((-1,)),
        m.reshape((-1,)),
    ]
    with croton.config.change(numba_parallel_threshold=threshold, numba_threaded_compile="eager"):
        f = croton.function([x, m], outputs, backend="numba")
    rng = np.random.default_rng(16)
    a, b = rng.normal(size=(3, 5, 300)), rng.normal(size=(17, 270))
    for a_, b_ in [(a, b), (np.asfortranarray(a), np.asfortranarray(b))]:
        want = [
            a_.transpose(2, 0, 1).reshape(-1),
            a_.transpose(0, 2, 1).reshape(3, -1),
            b_.T.flatten(),
            b_[::2, ::-1].reshape(-1),
            b_.reshape(-1),
        ]
        for got, expected in zip(f(a_, b_), want, strict=True):
            np.testing.assert_array_equal(got, expected)


def test_numba_is_the_default_backend_when_installed():
    with croton.config.change(backend=None):
        assert croton.backend.select_backend().name == "numba"


def test_numbas_openmp_threads_wait_passively_unless_the_user_chose():
    # (spinning threads took the cores from the BLAS's threads; see croton_numba.backend)
    code = "import os, croton_numba.backend; print(os.environ['OMP_WAIT_POLICY'])"
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    for chosen, expected in [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")]:
        if chosen:
            env["OMP_WAIT_POLICY"] = chosen
        run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        assert run.stdout.strip() == expected


# -- the disk cache ------------------------------------------------------------------------

_PROGRAM = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    import croton, croton.tensor as T
    x, y = T.dvectors("x", "y")
    f = croton.function([x, y], T.exp(x) * y + T.sum(T.sin(x - y)), backend="numba")
    value = f(np.arange(5.0), np.ones(5))
    expected = np.exp(np.arange(5.0)) + np.sum(np.sin(np.arange(5.0) - 1))
    assert np.allclose(value, expected), (value, expected)
    print("ok")
    """
)


def _run(cache_dir, *, count: int = 1):
    env = {**os.environ, "CROTON_CACHE_DIR": str(cache_dir)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as on users' machines: .pyc files are written
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _PROGRAM],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(count)
    ]
    results = [p.communicate(timeout=600) for p in processes]
    for process, (out, err) in zip(processes, results):
        assert process.returncode == 0, err.decode()
        assert out.decode().strip() == "ok"


def _machine_code(cache_dir):
    pycache = cache_dir / "numba" / "__pycache__"
    return {p.name: p.stat().st_mtime_ns for p in pycache.iterdir()} if pycache.is_dir() else {}


def test_a_second_process_reuses_the_machine_code(tmp_path):
    cache_dir = tmp_path / "shared-cache"
    _run(cache_dir)
    first = _machine_code(cache_dir)
    assert any(name.endswith(".nbc") for name in first)
    assert any(name.endswith(".pyc") for name in first)  # Python's bytecode, beside it
    _run(cache_dir)
    assert _machine_code(cache_dir) == first  # nothing was compiled or written again


def test_two_processes_compiling_at_once_share_a_sound_cache(tmp_path):
    cache_dir = tmp_path / "raced-cache"
    _run(cache_dir, count=3)
    _run(cache_dir)  # and the result loads


def test_a_corrupt_entry_is_detected_and_rebuilt(tmp_path):
    cache_dir = tmp_path / "corrupt-cache"
    _run(cache_dir)
    modules = sorted((cache_dir / "numba").glob("g_*.py"))
    assert modules
    modules[0].write_text(modules[0].read_text()[:40])  # a half-written module
    for cached in (cache_dir / "numba" / "__pycache__").iterdir():
        cached.write_bytes(b"garbage")  # unreadable machine code
    _run(cache_dir)
    _run(cache_dir)


_LOADING_PROGRAM = textwrap.dedent(
    """
    import sys
    import numpy as np
    import croton, croton.tensor as T
    x, w = T.dmatrices("x", "w")
    f = croton.function([x, w], T.tanh(T.dot(x, w)) + 1, backend="numba")
    a, b = np.arange(12.0).reshape(3, 4) / 10, np.ones((4, 5)) / 3
    assert np.allclose(f(a, b), np.tanh(a @ b) + 1)
    # a run-time error raised inside the loaded machine code
    try:
        f(a, np.ones((3, 5)))
    except ValueError as error:
        assert "shapes are not aligned" in str(error)
    else:
        raise AssertionError("misaligned shapes were accepted")
    # what a load from the cache skips (a compile needs all four): numba's registries,
    # its array module, SciPy's linear algebra and compiling numba's runtime functions
    from numba.core.runtime import rtsys
    skipped = ("numba.np.arraymath", "numba.np.arrayobj", "scipy.linalg")
    print(*(name in sys.modules for name in skipped), rtsys._init)
    import scipy.linalg  # and SciPy imported afterwards is whole
    assert scipy.linalg.cython_blas is sys.modules["scipy.linalg.cython_blas"]
    assert np.allclose(scipy.linalg.blas.dgemm(1.0, a, b), a @ b)
    """
)


def test_a_second_process_loads_machine_code_without_numbas_compiler(tmp_path):
    # numba refreshes its compiler's registries (SciPy's linear algebra among them)
    # before loading machine code, and imports the modules of the functions the code
    # inlined (numba's arrays); croton's generated functions load without either
    env = {**os.environ, "CROTON_CACHE_DIR": str(tmp_path / "cache")}
    lines = []
    for _ in range(2):
        run = subprocess.run(
            [sys.executable, "-c", _LOADING_PROGRAM], env=env, capture_output=True, text=True
        )
        assert run.returncode == 0, run.stderr
        lines.append(run.stdout.strip())
    assert lines[0].startswith("True True")  # the first process compiled
    assert lines[1] == "False False False False"


def test_cache_info_and_clear(tmp_path, capsys, monkeypatch):
    from croton.cli import main

    cache_dir = tmp_path / "cli-cache"
    monkeypatch.setenv("CROTON_CACHE_DIR", str(cache_dir))
    x = T.dvector("x")
    croton.function([x], T.exp(x), backend="numba")(np.ones(2))
    assert main(["cache", "info"]) == 0
    line = [l for l in capsys.readouterr().out.splitlines() if l.startswith("numba:")][0]
    # one module for the serial variant of the graph, one for its threaded variant
    assert str(cache_dir / "numba") in line and "modules 2" in line
    assert main(["cache", "clear"]) == 0
    assert "removed" in capsys.readouterr().out
    assert not (cache_dir / "numba").exists()


def _takes_a_buffer(f) -> bool:
    """Whether an elementwise kernel writes its result into an input's buffer."""
    return re.search(r"\bk\d+_out = k\d+_a\d+\n|\bout = a\d+\n", f.source()) is not None


def test_an_elementwise_output_takes_a_dead_intermediate_buffer():
    x, w, r = T.dmatrix("x"), T.dmatrix("w"), T.drow("r")
    shared = croton.shared(np.arange(4.0), name="s")
    product = T.dot(x, w)  # a fresh array read by one elementwise node only
    f = croton.function(
        [x, w, r], T.tanh(product) + r, updates=[(shared, shared * 3)], backend="numba"
    )
    assert _takes_a_buffer(f)
    rng = np.random.default_rng(5)
    a, b, row = rng.normal(size=(3, 4)), rng.normal(size=(4, 5)), rng.normal(size=(1, 5))
    copies = [v.copy() for v in (a, b, row)]
    np.testing.assert_allclose(f(a, b, row), np.tanh(a @ b) + row, rtol=1e-12)
    for given, copy in zip((a, b, row), copies):
        np.testing.assert_array_equal(given, copy)  # inputs are never written
    np.testing.assert_array_equal(shared.get_value(), np.arange(4.0) * 3)


def _layouts(a):
    """``a`` (a matrix) as C-ordered, F-ordered, strided, reversed and broadcast views."""
    rows, columns = a.shape
    spread = np.zeros((2 * rows, 3 * columns), a.dtype)
    spread[::2, ::3] = a
    reversed_ = np.ascontiguousarray(a[::-1, ::-1])[::-1, ::-1]
    views = [a, np.asfortranarray(a), spread[::2, ::3], reversed_]
    if rows == 1:
        views.append(np.broadcast_to(a, (1, columns)))  # a zero stride on a length-1 axis
    return views


@pytest.mark.parametrize("dtype", ["float64", "float32", "complex128"])
def test_blas_products_read_every_operand_layout(dtype):
    """Matrix-matrix, matrix-vector, vector-matrix and vector-vector products, and a
    bias added to one (a Gemm), on operands of any layout, against NumPy's."""
    kind = {"float64": "d", "float32": "f", "complex128": "c"}[dtype]
    x, y = T.matrix("x", dtype=dtype), T.matrix("y", dtype=dtype)
    u, v = T.vector("u", dtype=dtype), T.vector("v", dtype=dtype)
    row = T.row("row", dtype=dtype)
    outputs = [T.dot(x, y), T.dot(x, v), T.dot(u, y), T.dot(u, v), T.dot(x, y) * 2 + row]
    f = croton.function([x, y, u, v, row], outputs, backend="numba")
    assert "np.dot" not in f.source()
    rng = np.random.default_rng(9)

    def draw(*shape):
        values = rng.normal(size=shape)
        return (values + 1j * rng.normal(size=shape) if kind == "c" else values).astype(dtype)

    tolerance = 1e-5 if dtype == "float32" else 1e-12
    for m, k, n in [(3, 4, 5), (1, 4, 1), (4, 1, 3), (0, 3, 2), (3, 0, 2), (2, 3, 0)]:
        a, b = draw(m, k), draw(k, n)
        pairs = list(zip(_layouts(a), _layouts(b)[::-1]))
        # every layout in double precision; the other dtypes (the same code, another
        # BLAS kind) in two, as each new combination of layouts compiles anew
        for a_view, b_view in pairs if dtype == "float64" else pairs[::3]:
            c, w, bias = draw(k), draw(k), draw(1, n)
            got = f(a_view, b_view, w, c[::-1], bias)
            expected = [a @ b, a @ c[::-1], w @ b, w @ c[::-1], (a @ b) * 2 + bias]
            for value, want in zip(got, expected):
                assert value.dtype == want.dtype and value.shape == want.shape
                np.testing.assert_allclose(value, want, rtol=tolerance, atol=tolerance)
    with pytest.raises(ValueError, match="not aligned"):
        f(draw(2, 3), draw(4, 2), draw(3), draw(3), draw(1, 2))


def test_a_buffer_read_twice_or_returned_is_not_taken():
    x, w = T.dmatrices("x", "w")
    product = T.dot(x, w)
    f = croton.function([x, w], [T.tanh(product) + 1, product], backend="numba")
    g = croton.function([x, w], T.tanh(product) * T.sum(product), backend="numba")
    assert not _takes_a_buffer(f) and not _takes_a_buffer(g)
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 5))
    first, second = f(a, b)
    np.testing.assert_allclose(first, np.tanh(a @ b) + 1, rtol=1e-12)
    np.testing.assert_allclose(second, a @ b, rtol=1e-12)
    np.testing.assert_allclose(g(a, b), np.tanh(a @ b) * np.sum(a @ b), rtol=1e-12)


@pytest.mark.parametrize("threshold", [0, 10**9])
@pytest.mark.parametrize("shape", [(5, 4, 700), (50, 4, 3), (3, 0, 40)])
def test_reductions_keeping_a_middle_axis_match_numpy(shape, threshold):
    # the last axis reduced and an earlier one kept: sums in rows of blocks (memory order),
    # max and min with the kept axes outside, element by element for short rows
    x = T.dtensor3("x")
    a = np.random.default_rng(9).normal(size=shape)
    cases = [
        (T.sum(x, axis=(0, 2)), np.sum(a, axis=(0, 2))),
        (T.sum(T.exp(x), axis=(0, 2)), np.sum(np.exp(a), axis=(0, 2))),
        (T.prod(1 + x * 1e-3, axis=(0, 2)), np.prod(1 + a * 1e-3, axis=(0, 2))),
        (
            T.sum(x * x, axis=2) + T.sum(x, axis=(0, 2)),
            np.sum(a * a, axis=2) + np.sum(a, axis=(0, 2)),
        ),
    ]
    if a.size:
        cases.append((T.max(x, axis=(0, 2)), np.max(a, axis=(0, 2))))
        cases.append((T.min(x[:, :, None], axis=(0, 2, 3)), np.min(a, axis=(0, 2))))
    with croton.config.change(numba_parallel_threshold=threshold, numba_threaded_compile="eager"):
        f = croton.function([x], [c for c, _ in cases], backend="numba")
    for got, (_, want) in zip(f(a), cases, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("threshold", [0, 10**9])
@pytest.mark.parametrize(
    "shape, axis", [((7, 1030), 0), ((6, 3, 1100), (0, 1)), ((5, 40, 30), 0), ((2, 9, 1500), 1)]
)
def test_sums_over_leading_axes_match_numpy(shape, axis, threshold):
    # the last axes kept and long: four steps of the last reduced axis at a time (a
    # remainder of 1-3 steps), with and without a prologue, in every accumulator dtype
    x = T.TensorType("float32", shape=(None,) * len(shape))("x")
    i = T.TensorType("int32", shape=(None,) * len(shape))("i")
    a = np.random.default_rng(10).normal(size=shape).astype("float32")
    k = np.arange(np.prod(shape), dtype="int32").reshape(shape) % 7 - 3
    cases = [
        (T.sum(x, axis=axis), np.sum(a, axis=axis, dtype="float64")),
        (T.mean(T.exp(x), axis=axis), np.mean(np.exp(a), axis=axis, dtype="float64")),
        (T.prod(1 + x * 1e-3, axis=axis), np.prod(1 + a * np.float32(1e-3), axis=axis)),
        (T.sum(i * i, axis=axis), np.sum(k * k, axis=axis)),
        (T.max(x, axis=axis), np.max(a, axis=axis)),
    ]
    with croton.config.change(numba_parallel_threshold=threshold, numba_threaded_compile="eager"):
        f = croton.function([x, i], [c for c, _ in cases], backend="numba")
    for got, (_, want) in zip(f(a, k), cases, strict=True):
        assert got.dtype == want.dtype or want.dtype == "float64"
        np.testing.assert_allclose(got, want.astype(got.dtype), rtol=1e-6)


@pytest.mark.parametrize("threshold", [0, 10**9])
@pytest.mark.parametrize("shape", [(1300,), (0,), (3, 1100), (5, 4, 700), (600, 3)])
def test_blocked_reductions_match_numpy_serial_and_threaded(shape, threshold):
    # prologue blocks, four partial sums, chunks with partial results (every axis reduced)
    x = T.TensorType("float64", shape=(None,) * len(shape))("x")
    a = np.random.default_rng(7).normal(size=shape)
    last = len(shape) - 1
    cases = [
        (T.sum(x * x), np.sum(a * a)),
        (T.sum(x, axis=last), np.sum(a, axis=last)),
        (T.prod(1 + x * 1e-3, axis=last), np.prod(1 + a * 1e-3, axis=last)),
    ]
    if a.size:
        cases.append((T.max(T.exp(x)), np.max(np.exp(a))))
    with croton.config.change(numba_parallel_threshold=threshold, numba_threaded_compile="eager"):
        f = croton.function([x], [c for c, _ in cases], backend="numba")
    for got, (_, want) in zip(f(a), cases):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_advanced_indexing_runs_jitted_and_matches_numpy():
    rng = np.random.default_rng(8)
    data = rng.normal(size=(5, 6, 7))
    x, i, n = T.dtensor3("x"), T.lvector("i"), T.lscalar("n")
    j, m = T.ivector("j"), T.TensorType("bool", shape=(None,))("m")
    rows, cols = np.array([0, -1, 3, 3]), np.array([1, 2, 0, 5], dtype=np.int32)
    mask = np.array([True, False, True, True, False, True])
    cases = [
        ([x, i], x[i], (data, rows), data[rows]),
        ([x, i, j], x[i, j], (data, rows, cols), data[rows, cols]),
        ([x, j], x[:, j, 2:], (data, cols), data[:, cols, 2:]),
        ([x, m], x[:, m], (data, mask), data[:, mask]),
        ([x, n, j], x[n, j], (data, 2, cols), data[2, cols]),
        ([x], x[x > 0.5], (data,), data[data > 0.5]),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error", SegmentWarning)  # no Python steps
        for inputs, output, values, expected in cases:
            f = croton.function(inputs, output, backend="numba")
            np.testing.assert_array_equal(f(*values), expected)
        # written: repeated positions accumulate, masks select
        g = croton.function([x, i], T.inc_subtensor(x[i], 1.0), backend="numba")
        h = croton.function([x], T.set_subtensor(x[x > 0.5], 0.0), backend="numba")
    added = data.copy()
    np.add.at(added, rows, 1.0)
    np.testing.assert_array_equal(g(data, rows), added)
    np.testing.assert_array_equal(h(data), np.where(data > 0.5, 0.0, data))
    with pytest.raises(IndexError, match="out of bounds"):
        croton.function([x, i], x[i], backend="numba")(data, np.array([9]))


def test_float16_runs_jitted_with_numpys_rounding():
    x = T.TensorType("float16", shape=(None, None))("x")
    y = T.TensorType("float16", shape=(None,))("y")
    rng = np.random.default_rng(9)
    a = (rng.normal(size=(4, 5)) * 3).astype(np.float16)
    b = rng.normal(size=5).astype(np.float16)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SegmentWarning)  # no Python steps
        f = croton.function(
            [x, y],
            [T.exp(x) * y + 1, x.T, T.cast(x, "float32") / 3, T.minimum(x, y), x[:, 1] - y[1]],
            backend="numba",
        )
    got = f(a, b)
    with np.errstate(all="ignore"):
        want = [
            np.exp(a) * b + np.float16(1),
            a.T,
            a.astype(np.float32) / 3,
            np.minimum(a, b),
            a[:, 1] - b[1],
        ]
    for value, expected in zip(got, want):
        assert value.dtype == expected.dtype
        np.testing.assert_allclose(value.astype(np.float64), expected, rtol=1e-3)
    # every half value survives the round trip through the jitted code
    every = np.arange(65536, dtype=np.uint16).view(np.float16)
    same = croton.function([y], y * np.float16(1), backend="numba")(every)
    np.testing.assert_array_equal(
        same.view(np.uint16)[~np.isnan(every)], every.view(np.uint16)[~np.isnan(every)]
    )


def test_jacobian_and_hessian_loops_run_jitted():
    x = T.dvector("x")
    with warnings.catch_warnings():
        warnings.simplefilter("error", SegmentWarning)  # the Map loop is compiled too
        jacobian = croton.function([x], T.jacobian(T.exp(x) * x.sum() + 2.5, x), backend="numba")
        hessian = croton.function([x], T.hessian((x**3).sum(), x), backend="numba")
    a = np.array([0.1, -0.3, 0.7])
    np.testing.assert_allclose(
        jacobian(a), np.diag(np.exp(a) * a.sum()) + np.exp(a)[:, None], rtol=1e-12
    )
    np.testing.assert_allclose(hessian(a), np.diag(6 * a), rtol=1e-12)
    assert jacobian(np.zeros(0)).shape == (0, 0)


def test_integer_indices_are_checked_against_the_bounds():
    x, i = T.dmatrix("x"), T.lscalar("i")
    last = croton.function([x], x[-1], backend="numba")
    column = croton.function([x, i], T.set_subtensor(x[1:, i], 5.0), backend="numba")
    value = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(last(value), value[-1])
    expected = value.copy()
    expected[1:, -3] = 5.0
    np.testing.assert_array_equal(column(value, -3), expected)
    with pytest.raises(IndexError, match="axis 0"):
        last(value[:0])
    with pytest.raises(IndexError, match="axis 1"):
        column(value, 3)
