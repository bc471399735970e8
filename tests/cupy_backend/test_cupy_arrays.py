"""The cupy backend's rules for products, layout, shapes, indexing and maps.

Without a GPU: every rule is registered, the conformance cases of these ops lower, the
kernels the rules make have concrete types and hashed names and compile with NVRTC.
With one (the ``gpu`` fixture): values, dtypes and errors agree with the numpy backend,
on non-contiguous and empty inputs too. (The file is not called ``test_arrays.py``:
test directories are not packages, and basenames must be unique.)
"""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.autodiff import jacobian
from croton.ops.blas import Dot, Gemm, Matmul
from croton.ops.elemwise import DimShuffle
from croton.ops.map import Map
from croton.ops.shape import Alloc, ARange, Eye, Join, Repeat, Reshape, Shape, SpecifyShape, Split
from croton.ops.subtensor import IncSubtensor, Subtensor
from croton.testing.cases import all_cases
from croton_cupy import arrays, kernels
from croton_cupy.backend import CupyExecutable

OP_CLASSES = (
    DimShuffle,
    Dot,
    Gemm,
    Matmul,
    Shape,
    Reshape,
    SpecifyShape,
    Alloc,
    Join,
    Split,
    ARange,
    Eye,
    Repeat,
    Subtensor,
    IncSubtensor,
    Map,
)
FAMILIES = tuple(cls.__name__ for cls in OP_CLASSES)
CASES = [case for case in all_cases() if case.id.split("/")[0] in FAMILIES]


# -- without a GPU ------------------------------------------------------------------------


@pytest.mark.parametrize("op_class", OP_CLASSES, ids=FAMILIES)
def test_every_op_of_the_family_has_a_cupy_rule(cupy_backend, op_class):
    assert cupy_backend.registry.lookup_class(op_class) is not None


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_the_conformance_cases_lower(cupy_backend, case):
    inputs, outputs = case.build()
    # no fallback: a node the cupy backend cannot lower raises MissingLoweringError
    function = croton.function(
        inputs, outputs, backend=cupy_backend, mode="NONE", on_unused_input="ignore"
    )
    assert isinstance(function._executable, CupyExecutable)
    assert function.maker.backend is cupy_backend


def test_a_map_compiles_its_inner_graph_for_the_cupy_backend(cupy_backend):
    x = T.dvector("x")
    j = jacobian(T.tanh(x) * x.sum(), x)
    function = croton.function([x], j, backend=cupy_backend, mode="NONE")
    nodes = function.maker.fgraph.toposort()
    maps = [node for node in nodes if isinstance(node.op, Map)]
    assert maps  # the jacobian stays a loop
    rule = cupy_backend.registry.lookup_class(Map)
    assert callable(rule(maps[0].op, maps[0]))


def test_lowering_touches_no_device(cupy_backend, monkeypatch):
    from croton_cupy import runtime

    cupy = runtime.load_cupy()
    for name in ("asarray", "empty", "zeros", "arange", "matmul", "dot"):
        monkeypatch.setattr(cupy, name, _refuse(name), raising=True)
    a, b, c = T.dmatrix("a"), T.dmatrix("b"), T.dmatrix("c")
    i = T.lvector("i")
    outputs = [
        Gemm()(c, T.constant(0.5), a, b, T.constant(2.0)),
        T.inc_subtensor(a[i], b[0]),
        T.concatenate([a, b]).reshape((-1,)),
        T.arange(i.shape[0]),
    ]
    croton.function([a, b, c, i], outputs, backend=cupy_backend, mode="NONE")


def _refuse(name):
    def refused(*args, **kwargs):
        raise AssertionError(f"cupy.{name} ran while lowering")

    return refused


def test_gemm_epilogue_is_one_hashed_kernel_per_dtype():
    first = arrays.scale_and_add("float32")
    assert arrays.scale_and_add(np.float32) is first
    assert arrays.scale_and_add("float64") is not first
    (name,) = [
        n
        for n, s in kernels.GENERATED.items()
        if s.kind == "elementwise" and s.fields["in_params"].startswith("float32 c,")
    ]
    assert name.startswith("croton_ew_") and len(name) == len("croton_ew_") + 16
    fields = kernels.GENERATED[name].fields
    assert fields["in_params"] == "float32 c, float32 alpha, float32 product, float32 beta"
    assert fields["out_params"] == "float32 out"
    assert fields["operation"] == "out = beta * c + alpha * product"


@pytest.mark.parametrize("dtype", ["int8", "int64", "uint8", "uint64"])
def test_bounds_checks_respect_signedness(dtype):
    arrays.out_of_range_check(dtype)
    (source,) = [
        s
        for s in kernels.GENERATED.values()
        if s.kind == "reduction" and s.fields["in_params"] == f"{dtype} index, int64 length"
    ]
    # -length would wrap around for an unsigned index
    assert ("-length" in source.fields["map_expr"]) == dtype.startswith("int")
    assert source.fields["reduce_expr"] == "a || b" and source.fields["identity"] == "false"


def test_the_kernels_compile_for_sm80_and_sm90(nvrtc):
    for dtype in ("float16", "float32", "float64", "complex64", "complex128", "int32", "bool"):
        arrays.scale_and_add(dtype)
    for dtype in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"):
        arrays.out_of_range_check(dtype)
    sources = [
        s
        for s in kernels.GENERATED.values()
        if (s.kind == "elementwise" and "alpha * product" in s.fields["operation"])
        or (s.kind == "reduction" and s.fields["in_params"].endswith(" index, int64 length"))
    ]
    assert len(sources) >= 15
    assert nvrtc.compile_sources(sources, ("sm_80", "sm_90")) >= 2 * len(sources)


# -- on a GPU -----------------------------------------------------------------------------


def _both(inputs, outputs, values, **kwargs):
    """Outputs of the numpy and cupy backends on ``values`` (copies for each)."""
    results = []
    for backend in ("numpy", "cupy"):
        function = croton.function(
            inputs, outputs, backend=backend, on_unused_input="ignore", **kwargs
        )
        results.append(function(*[np.copy(v) for v in values]))
    return results


def _agree(inputs, outputs, *values, **kwargs):
    expected, actual = _both(inputs, outputs, values, **kwargs)
    if not isinstance(expected, list):
        expected, actual = [expected], [actual]
    for e, a in zip(expected, actual, strict=True):
        assert type(a) is np.ndarray
        assert a.dtype == e.dtype and a.shape == e.shape
        # cuBLAS sums in another order than NumPy's BLAS: float32 agrees to about 1e-6
        tolerance = 1e-5 if e.dtype in (np.float32, np.complex64) else 1e-12
        np.testing.assert_allclose(a, e, rtol=tolerance, atol=tolerance)


def _raises_like_numpy(inputs, outputs, *values):
    """Both backends raise the same exception type; it is returned (cupy's)."""
    with pytest.raises(Exception) as numpy_error:
        croton.function(inputs, outputs, backend="numpy")(*values)
    with pytest.raises(numpy_error.type) as cupy_error:
        croton.function(inputs, outputs, backend="cupy")(*values)
    return cupy_error.value


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_conformance_case_on_the_gpu(gpu, case):
    from croton.testing.compare import check_case

    check_case(case, "cupy")


def test_products_of_non_contiguous_and_empty_operands(gpu):
    rng = np.random.default_rng(0)
    a, b = T.fmatrix("a"), T.fmatrix("b")
    big = rng.normal(size=(8, 10)).astype("float32")
    _agree([a, b], T.dot(a, b), big[::2, ::-3], big.T[1:5, :3])
    _agree([a, b], T.dot(a, b), np.zeros((3, 0), "float32"), np.zeros((0, 4), "float32"))
    x, y = T.dtensor3("x"), T.dtensor3("y")
    _agree([x, y], T.matmul(x, y), rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 4, 5)))
    _agree([x, y], T.matmul(x, y), rng.normal(size=(0, 3, 4)), rng.normal(size=(0, 4, 5)))
    u, v = T.lvector("u"), T.lvector("v")
    _agree([u, v], T.dot(u, v), np.arange(5), np.arange(5)[::-1])


def test_gemm_matches_numpy_including_nan_in_c_with_beta_zero(gpu):
    rng = np.random.default_rng(1)
    c, a, b = T.dmatrix("c"), T.dmatrix("a"), T.dmatrix("b")
    alpha, beta = T.dscalar("alpha"), T.dscalar("beta")
    out = Gemm()(c, alpha, a, b, beta)
    c_value = rng.normal(size=(3, 2))
    c_value[0, 0] = np.nan
    for beta_value in (0.0, -1.5):
        _agree(
            [c, alpha, a, b, beta],
            out,
            c_value,
            np.asarray(0.7),
            rng.normal(size=(3, 5)),
            rng.normal(size=(5, 2)),
            np.asarray(beta_value),
        )
    row = T.TensorType("float64", shape=(1, None))("row")
    _agree(
        [row, alpha, a, b, beta],
        Gemm()(row, alpha, a, b, beta),
        rng.normal(size=(1, 2)),
        np.asarray(2.0),
        rng.normal(size=(4, 3)),
        rng.normal(size=(3, 2)),
        np.asarray(0.5),
    )


def test_matmul_refuses_batch_lengths_that_would_stretch(gpu):
    x, y = T.dtensor3("x"), T.dtensor3("y")
    error = _raises_like_numpy([x, y], T.matmul(x, y), np.ones((2, 3, 4)), np.ones((1, 4, 5)))
    assert "do not broadcast at run time" in str(error)


def test_layout_and_shape_ops(gpu):
    rng = np.random.default_rng(2)
    x = T.dtensor3("x")
    strided = rng.normal(size=(4, 6, 8))[::-1, ::2, 1::3]
    _agree([x], [x.dimshuffle(2, "x", 0, 1), x.shape, x.reshape((x.shape[0], -1))], strided)
    _agree([x], [x.flatten(), T.specify_shape(x, (4, None, None))], strided)
    n = T.lscalar("n")
    _agree([x, n], T.alloc(x[0, 0], n, x.shape[2]), strided, np.asarray(3))
    _agree([x, n], T.alloc(x[0, 0], n, x.shape[2]), strided, np.asarray(0))
    m = T.dmatrix("m")
    _agree([m], T.concatenate([m, m[:0], m * 2], axis=0), rng.normal(size=(3, 2)).T)
    _agree([m], T.split(m, [2, 0, 1], 3, axis=1), rng.normal(size=(2, 3)))
    _agree([m], T.repeat(m, 2, axis=1), rng.normal(size=(2, 3))[:, ::-1])
    r = T.lvector("r")
    _agree([m, r], T.repeat(m, r, axis=0), rng.normal(size=(3, 2)), np.array([2, 0, 1]))
    _agree([n], [T.arange(n), T.eye(n, n + 2, -1, dtype="float32")], np.asarray(4))
    a, b = T.dscalar("a"), T.dscalar("b")
    _agree([a, b], T.arange(a, b, 0.3), np.asarray(-1.0), np.asarray(2.0))


def test_shape_errors_match_numpy(gpu):
    x = T.dmatrix("x")
    error = _raises_like_numpy([x], T.specify_shape(x, (3, None)), np.ones((2, 2)))
    assert "specify_shape" in str(error)
    sizes = T.lvector("sizes")
    _raises_like_numpy([x, sizes], T.split(x, sizes, 2, axis=0), np.ones((3, 2)), np.array([1, 1]))
    n = T.lscalar("n")
    error = _raises_like_numpy([n], T.arange(0, 5, n), np.asarray(0))
    assert "step must not be zero" in str(error)
    _raises_like_numpy([x, n], T.repeat(x, n, axis=0), np.ones((2, 2)), np.asarray(-1))


def test_indexing_basic_and_advanced(gpu):
    rng = np.random.default_rng(3)
    x = T.dmatrix("x")
    i = T.lvector("i")
    k = T.lscalar("k")
    value = rng.normal(size=(5, 4))[::-1]
    _agree([x, k], [x[k:, ::-2], x[-1, k], x[k]], value, np.asarray(2))
    _agree([x, i], [x[i], x[i, i[::-1]], x[1:, i], x[x > 0]], value, np.array([0, 3, 3, -1]))
    _agree([x, i], [x[i], x[:, i]], value, np.zeros(0, dtype="int64"))
    small = T.bvector("small")
    _agree([x, small], x[small], value, np.array([4, -5, 0], dtype="int8"))
    unsigned = T.vector("unsigned", dtype="uint16")
    _agree([x, unsigned], x[:, unsigned], value, np.array([3, 0], dtype="uint16"))


def test_index_errors_match_numpy(gpu):
    x = T.dmatrix("x")
    i = T.lvector("i")
    error = _raises_like_numpy([x, i], x[i], np.ones((4, 3)), np.array([0, 4]))
    assert str(error).startswith("index 4 is out of bounds for axis 0 with size 4")
    error = _raises_like_numpy([x, i], x[:, i], np.ones((4, 3)), np.array([-4]))
    assert str(error).startswith("index -4 is out of bounds for axis 1 with size 3")
    error = _raises_like_numpy(
        [x, i], T.inc_subtensor(x[i], 1.0), np.ones((4, 3)), np.array([1, 9])
    )
    assert "out of bounds" in str(error)
    flags = T.bvector("flags")
    error = _raises_like_numpy([x, flags], x[flags > 0], np.ones((4, 3)), np.ones(3, "int8"))
    assert "boolean index did not match" in str(error)
    k = T.lscalar("k")
    _raises_like_numpy([x, k], x[k], np.ones((4, 3)), np.asarray(7))


@pytest.mark.parametrize(
    "dtype",
    [
        "float64",
        "float32",
        "float16",
        "int8",
        "uint8",
        "int16",
        "int32",
        "bool",
        "complex128",
        "complex64",
    ],
)
def test_accumulating_increments_with_repeated_indices(gpu, dtype):
    rng = np.random.default_rng(4)
    x = T.tensor(dtype=dtype, shape=(None, None), name="x")
    y = T.tensor(dtype=dtype, shape=(None, None), name="y")
    i = T.lvector("i")

    def draw(*shape):
        value = rng.integers(-3, 4, size=shape)
        if dtype.startswith("complex"):
            return (value + 1j * rng.integers(-3, 4, size=shape)).astype(dtype)
        return value.astype(dtype)

    indices = np.array([0, 2, 2, -1, 0, 2])
    _agree([x, y, i], T.inc_subtensor(x[i], y), draw(4, 3), draw(6, 3), indices)
    _agree([x, y, i], T.inc_subtensor(x[1:, i], y), draw(4, 3), draw(3, 6), indices % 3)
    _agree([x, y, i], T.set_subtensor(x[i[:2]], y), draw(4, 3), draw(2, 3), indices)
    _agree([x, y], T.inc_subtensor(x[::-2, 1:], y[:2, :2]), draw(4, 3), draw(2, 2))


def test_increments_through_masks_and_integers(gpu):
    rng = np.random.default_rng(5)
    x, v = T.dmatrix("x"), T.dvector("v")
    value = rng.normal(size=(3, 4))
    _agree([x], [T.set_subtensor(x[x < 0], 0.0), T.inc_subtensor(x[x > 0], 1.0)], value)
    _agree([x, v], T.inc_subtensor(x[x[:, 0] > -10], v), value, rng.normal(size=4))
    n = T.imatrix("n")
    _agree([n], T.set_subtensor(n[1, -1], 7), np.zeros((3, 4), dtype="int32"))


def test_increment_refuses_a_value_that_would_stretch(gpu):
    x, y = T.dmatrix("x"), T.dmatrix("y")
    error = _raises_like_numpy([x, y], T.inc_subtensor(x[1:], y), np.ones((4, 3)), np.ones((1, 3)))
    assert "unknown static length" in str(error)


def test_map_jacobian_and_an_empty_map(gpu):
    rng = np.random.default_rng(6)
    x = T.dvector("x")
    _agree([x], jacobian(T.tanh(x) * x.sum(), x), rng.normal(size=4))
    _agree([x], jacobian(T.tanh(x) * x.sum(), x), np.zeros(0))
