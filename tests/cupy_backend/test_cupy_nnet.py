"""The cupy backend's softmax, log-softmax and softmax cross-entropy kernels.

Without a GPU: the rules are registered and lower, each makes one raw kernel per op and
dtype with a hashed name, the source is templated from a fixed table (no user strings),
and it compiles with NVRTC for sm_80 and sm_90. With one (the ``gpu`` fixture): values
against the numpy backend for every axis, non-contiguous and empty inputs, rows holding
-inf, nan and huge values, float16, targets out of range, and the gradients of a small
MLP's loss. (Not ``test_nnet.py``: tests/ops has one, and basenames must be unique.)
"""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.ops.nnet import CrossEntropySoftmax, LogSoftmax, Softmax
from croton.tensor import nnet
from croton_cupy import kernels
from croton_cupy import nnet as cupy_nnet

DTYPES = ("float16", "float32", "float64")
ARCHS = ("sm_80", "sm_90")


def _raw_sources(dtype):
    return {
        "softmax": cupy_nnet.softmax_source(dtype, log=False),
        "logsoftmax": cupy_nnet.softmax_source(dtype, log=True),
        "crossentropy": cupy_nnet.crossentropy_source(dtype),
    }


# -- without a GPU ------------------------------------------------------------------------


@pytest.mark.parametrize("op_class", [Softmax, LogSoftmax, CrossEntropySoftmax])
def test_the_ops_have_cupy_rules(cupy_backend, op_class):
    assert cupy_backend.registry.lookup_class(op_class) is not None


@pytest.mark.parametrize("dtype", DTYPES)
def test_lowering_makes_one_raw_kernel_per_op_and_dtype(cupy_backend, dtype):
    x = T.tensor(dtype=dtype, shape=(None, None, None), name="user_name_x")
    m = T.tensor(dtype=dtype, shape=(None, None), name="user_name_m")
    y = T.lvector("user_name_y")
    outputs = [nnet.softmax(x, axis=1), nnet.logsoftmax(x, axis=0), CrossEntropySoftmax()(m, y)]
    croton.function([x, m, y], outputs, backend=cupy_backend, mode="NONE")
    for kind, source in _raw_sources(dtype).items():
        matches = [
            name
            for name, made in kernels.GENERATED.items()
            if made.kind == "raw" and made.parts[0] == source
        ]
        assert len(matches) == 1, kind
        (name,) = matches
        assert name.startswith("croton_raw_") and len(name) == len("croton_raw_") + 16
        assert "user_name" not in source
    # a second function reuses the kernels
    before = len(kernels.GENERATED)
    croton.function([x, m, y], outputs, backend=cupy_backend, mode="NONE")
    assert len(kernels.GENERATED) == before


def test_the_axis_is_a_host_side_layout_not_a_kernel_variant(cupy_backend):
    x = T.dtensor3("x")
    for axis in (0, 1, 2, -1):
        croton.function([x], nnet.softmax(x, axis=axis), backend=cupy_backend, mode="NONE")
    softmax_kernels = [
        made
        for made in kernels.GENERATED.values()
        if made.kind == "raw" and made.parts[0] == cupy_nnet.softmax_source("float64", log=False)
    ]
    assert len(softmax_kernels) == 1


def test_float16_is_computed_in_float():
    source = cupy_nnet.softmax_source("float16", log=False)
    assert "#include <cuda_fp16.h>" in source
    assert "typedef __half value_t;" in source and "typedef float acc_t;" in source
    assert "__half2float" in source and "__float2half" in source
    assert "cuda_fp16" not in cupy_nnet.softmax_source("float32", log=False)
    assert "typedef double acc_t;" in cupy_nnet.crossentropy_source("float64")


def test_the_kernels_reduce_by_warp_shuffles_and_shared_memory():
    source = cupy_nnet.softmax_source("float32", log=True)
    assert "__shfl_xor_sync" in source and "__shared__ acc_t partials[32]" in source
    # the max keeps a nan (NumPy's max propagates it); exp and log are the accurate ones
    assert "a != a" in source
    assert "expf(" in source and "logf(" in source and "__expf" not in source


def test_other_dtypes_are_refused_by_name():
    with pytest.raises(TypeError, match="float16, float32 or float64, not int32"):
        cupy_nnet.softmax_source("int32", log=False)


@pytest.mark.parametrize(
    ("n", "threads"), [(1, 32), (10, 32), (33, 64), (500, 512), (100_000, 512)]
)
def test_threads_per_row(n, threads):
    assert cupy_nnet.threads_for(n) == threads
    assert threads % 32 == 0 and threads <= 1024


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("arch", ARCHS)
def test_the_kernels_compile_with_nvrtc(nvrtc, dtype, arch):
    records = [
        kernels.KernelSource("raw", f"croton_raw_{kind}_{dtype}", (source,))
        for kind, source in _raw_sources(dtype).items()
    ]
    assert nvrtc.compile_sources(records, arch) == len(records)


# -- on a GPU -----------------------------------------------------------------------------


def _agree(inputs, outputs, *values, rtol=None):
    results = []
    for backend in ("numpy", "cupy"):
        function = croton.function(inputs, outputs, backend=backend, on_unused_input="ignore")
        with np.errstate(all="ignore"):
            results.append(function(*[np.copy(v) for v in values]))
    expected, actual = results
    if not isinstance(expected, list):
        expected, actual = [expected], [actual]
    for e, a in zip(expected, actual, strict=True):
        assert type(a) is np.ndarray and a.dtype == e.dtype and a.shape == e.shape
        tolerance = rtol or {"float16": 2e-3, "float32": 1e-5, "float64": 1e-12}[e.dtype.name]
        np.testing.assert_allclose(a, e, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_softmax_and_logsoftmax_along_every_axis(gpu, dtype, axis):
    rng = np.random.default_rng(0)
    x = T.tensor(dtype=dtype, shape=(None, None, None), name="x")
    value = (rng.normal(size=(3, 5, 70)) * 3).astype(dtype)
    outputs = [nnet.softmax(x, axis=axis), nnet.logsoftmax(x, axis=axis)]
    _agree([x], outputs, value)
    _agree([x], outputs, value[::-1, ::2, 5::3])  # non-contiguous
    _agree([x], outputs, np.zeros((3, 0, 4), dtype=dtype))  # empty


def test_rows_longer_than_a_block(gpu):
    rng = np.random.default_rng(1)
    x = T.fmatrix("x")
    _agree([x], [nnet.softmax(x), nnet.logsoftmax(x)], rng.normal(size=(3, 5000)).astype("f4"))


@pytest.mark.parametrize("dtype", DTYPES)
def test_special_values_behave_as_in_numpy(gpu, dtype):
    x = T.tensor(dtype=dtype, shape=(None, None), name="x")
    inf, nan = np.inf, np.nan
    value = np.array(
        [
            [1000.0, -1000.0, 0.0, 3.0],  # huge values: no overflow
            [-inf, 1.0, 2.0, -inf],  # -inf entries: probability 0, log -inf
            [-inf, -inf, -inf, -inf],  # only -inf: nan
            [inf, 1.0, 2.0, 3.0],  # +inf: nan
            [nan, 1.0, 2.0, 3.0],  # nan: nan
            [60000.0, 60000.0, -60000.0, 0.0],
        ]
    ).astype(dtype)
    results = []
    for backend in ("numpy", "cupy"):
        function = croton.function([x], [nnet.softmax(x), nnet.logsoftmax(x)], backend=backend)
        with np.errstate(all="ignore"):
            results.append(function(value))
    for expected, actual in zip(*results, strict=True):
        assert actual.dtype == expected.dtype
        np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected))
        np.testing.assert_array_equal(np.isinf(actual), np.isinf(expected))
        finite = np.isfinite(expected)
        np.testing.assert_allclose(actual[finite], expected[finite], rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("dtype", DTYPES)
def test_crossentropy_softmax(gpu, dtype):
    rng = np.random.default_rng(2)
    x = T.tensor(dtype=dtype, shape=(None, None), name="x")
    y = T.lvector("y")
    out = CrossEntropySoftmax()(x, y)
    logits = (rng.normal(size=(6, 40)) * 4).astype(dtype)
    _agree([x, y], out, logits, np.array([0, 39, 2, -1, -40, 7]))
    _agree([x, y], out, logits[::-1, ::3], np.array([0, 12, 2, -1, -13, 7]))
    _agree([x, y], out, logits[:1], np.array([3, 4, 5]))  # one row, several targets
    _agree([x, y], out, logits, np.array([3]))  # one target, several rows
    _agree([x, y], out, np.zeros((0, 40), dtype=dtype), np.zeros(0, dtype="int64"))
    small = T.bvector("small")
    _agree([x, small], CrossEntropySoftmax()(x, small), logits, np.arange(6, dtype="int8"))


def test_crossentropy_targets_out_of_range_raise_as_in_numpy(gpu):
    x, y = T.dmatrix("x"), T.lvector("y")
    out = CrossEntropySoftmax()(x, y)
    for targets in (np.array([0, 5]), np.array([-6, 1])):
        messages = []
        for backend in ("numpy", "cupy"):
            with pytest.raises(IndexError) as error:
                croton.function([x, y], out, backend=backend)(np.zeros((2, 5)), targets)
            messages.append(str(error.value).splitlines()[0])
        assert messages[0] == messages[1]
        assert "out of range for 5 classes" in messages[1]
    unsigned = T.vector("unsigned", dtype="uint64")
    with pytest.raises(IndexError, match="out of range for 5 classes"):
        croton.function([x, unsigned], CrossEntropySoftmax()(x, unsigned), backend="cupy")(
            np.zeros((2, 5)), np.array([1, 5], dtype="uint64")
        )


def test_the_gradients_of_a_small_mlp_loss(gpu):
    rng = np.random.default_rng(3)
    x, y = T.fmatrix("x"), T.lvector("y")
    w1 = croton.shared(rng.normal(size=(20, 16)).astype("float32") * 0.3, name="w1")
    b1 = croton.shared(np.zeros(16, dtype="float32"), name="b1")
    w2 = croton.shared(rng.normal(size=(16, 5)).astype("float32") * 0.3, name="w2")
    hidden = T.tanh(T.dot(x, w1) + b1)
    probabilities = nnet.softmax(T.dot(hidden, w2))
    loss = nnet.categorical_crossentropy(probabilities, y).mean()
    log_loss = -nnet.logsoftmax(T.dot(hidden, w2))[T.arange(y.shape[0]), y].mean()
    outputs = [loss, log_loss, *T.grad(loss, [w1, b1, w2]), *T.grad(log_loss, [w1, w2])]
    values = (rng.normal(size=(32, 20)).astype("float32"), rng.integers(0, 5, size=32))
    _agree([x, y], outputs, *values, rtol=2e-5)
