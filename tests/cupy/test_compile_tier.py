"""The compile tier: every kernel the conformance cases generate compiles with NVRTC.

Runs without a GPU (NVRTC needs no driver); skipped where cupy, NVRTC or the CUDA
runtime headers are not installed (``pip install "croton[cuda-compile]"``).
"""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np
import pytest

from croton_cupy import compile_tier, kernels

_reason = compile_tier.unavailable_reason()
pytestmark = pytest.mark.skipif(_reason is not None, reason=f"compile tier unavailable: {_reason}")


def _record(kernel) -> kernels.KernelSource:
    """The `kernels.GENERATED` record of a kernel object made by the kernel factory."""
    return kernels.GENERATED[kernel.name]


# ---------------------------------------------------------------------------------------
# every conformance case


def _graphs_of(case, backend):
    """Compile ``case`` as `check_case` does (forward, gradients) and as users do (FAST_RUN)."""
    import croton
    from croton.testing.compare import _gradient_function, _weights, run_case

    inputs, outputs = case.build()
    for mode in ("NONE", "FAST_RUN"):
        inputs, outputs = case.build()
        croton.function(inputs, outputs, backend=backend, mode=mode, on_unused_input="ignore")
    if case.grad:
        rng = np.random.default_rng(0)
        values = case.values(rng)
        with np.errstate(all="ignore"):
            expected = run_case(case, "numpy", values)
        _gradient_function(case, backend, _weights(rng, expected))


def _op_named(message: str) -> str:
    """The op class a `MissingLoweringError` names ("croton.ops.reduce.Reduce")."""
    match = re.search(r"\(([\w.]+)\)\. Backends that lower it", message)
    return match.group(1) if match else message.splitlines()[0]


def _listing(by_reason: dict[str, list[str]], shown: int = 6) -> str:
    return "\n".join(
        f"  {reason}: {len(ids)} case(s): {', '.join(sorted(ids)[:shown])}{', ...' if len(ids) > shown else ''}"
        for reason, ids in sorted(by_reason.items())
    )


def test_every_conformance_case_compiles(cupy_backend):
    from croton.backend import MissingLoweringError
    from croton.testing.cases import all_cases

    missing, broken = defaultdict(list), defaultdict(list)
    for case in all_cases():
        try:
            _graphs_of(case, cupy_backend)
        except MissingLoweringError as err:
            missing[_op_named(str(err))].append(case.id)
        except Exception as err:  # a rule that fails while lowering: reported below
            first_line = str(err).splitlines()[0] if str(err) else ""
            broken[f"{type(err).__name__}: {first_line}"].append(case.id)
    made = dict(kernels.GENERATED)
    compiled = compile_tier.compile_sources(made, compile_tier.DEFAULT_ARCHS) if made else 0
    problems = []
    if broken:
        problems.append(f"cases that fail while lowering on cupy:\n{_listing(broken)}")
    if missing:
        problems.append(
            f"ops the cupy backend does not lower yet, and the cases that need them:\n{_listing(missing)}"
        )
    assert not problems, (
        f"({len(made)} kernels generated, {compiled} programs compiled)\n" + "\n\n".join(problems)
    )


# ---------------------------------------------------------------------------------------
# the tier catches errors


def test_a_broken_kernel_is_named_with_the_compiler_message():
    good = kernels.elementwise("float32 x", "float32 y", "y = x * 2.0f")
    bad = kernels.elementwise("float32 x", "float32 y", "y = x + croton_no_such_name")
    with pytest.raises(compile_tier.KernelCompileError) as caught:
        compile_tier.compile_sources([_record(good), _record(bad)], "sm_80")
    message = str(caught.value)
    assert bad.name in message
    assert good.name not in message
    assert 'identifier "croton_no_such_name" is undefined' in message
    # the numbered program the log's line numbers refer to
    assert "| y = x + croton_no_such_name;" in message
    [failure] = caught.value.failures
    assert failure.kernel == bad.name and failure.arch == "sm_80"


def test_a_type_error_fails_for_every_arch():
    bad = kernels.elementwise("float32 x", "bool y", "y = x.real_part()")
    with pytest.raises(compile_tier.KernelCompileError) as caught:
        compile_tier.compile_sources([_record(bad)], ("sm_80", "sm_90"))
    assert sorted(f.arch for f in caught.value.failures) == ["sm_80", "sm_90"]


def test_a_bad_kernel_is_found_in_a_large_batch():
    made = [
        _record(kernels.elementwise("float64 x", "float64 y", f"y = x + {n}.0")) for n in range(40)
    ]
    bad = _record(kernels.elementwise("int32 x", "int32 y", "y = x +* 1"))
    made.insert(17, bad)
    with pytest.raises(compile_tier.KernelCompileError) as caught:
        compile_tier.compile_sources(made, "sm_90", batch_size=100)
    assert [f.kernel for f in caught.value.failures] == [bad.name]


def test_good_kernels_of_every_kind_compile():
    made = [
        kernels.elementwise(
            "float16 h, complex64 z, raw float64 w",
            "complex128 y, bool b",
            "y = complex<double>(z) * (double)h + w[0]; b = isnan((float)h)",
            "__device__ double croton_twice(double v) { return 2 * v; }",
        ),
        kernels.reduction("float32 x", "float64 y", "x * x", "a + b", "y = sqrt(a)", "0", "double"),
        kernels.reduction(
            "float16 x, int64 n",
            "float32 y",
            "(float)x * n",
            "max(a, b)",
            "y = a",
            "-CUDART_INF_F",
            "float",
        ),
        kernels.raw(
            'extern "C" __global__ void KERNEL(float* x, int n) { if (threadIdx.x < n) x[threadIdx.x] = 1; }'
        ),
    ]
    # a reduction is CuPy's own kernel plus, for one input and one output, three CUB kernels
    assert compile_tier.compile_sources([_record(k) for k in made], ("sm_80", "sm_90")) == 2 * (
        1 + 4 + 1 + 1
    )


def test_the_cub_path_of_a_reduction_is_compiled():
    # CuPy runs a one-input reduction of a long contiguous axis through CUB, after
    # renaming its parameters in0/out0 by text replacement: "exp(x)" would become
    # "ein0p(in0)" for an input named "x", and fail there only
    bad = kernels.reduction("float32 x", "float32 y", "exp(x)", "a + b", "y = a", "0", "float")
    with pytest.raises(compile_tier.KernelCompileError) as caught:
        compile_tier.compile_sources([_record(bad)], "sm_80")
    assert {f.form for f in caught.value.failures} >= {"cub reduction"}
    assert "reduction" not in {f.form for f in caught.value.failures}


# ---------------------------------------------------------------------------------------
# the programs are CuPy's


def test_elementwise_source_has_the_loop_and_typed_references():
    kernel = kernels.elementwise("float32 x, raw int64 idx", "complex64 y", "y = x + idx[0]")
    source = compile_tier.full_source(_record(kernel))
    assert source.startswith("#include <cupy/complex.cuh>\n#include <cupy/carray.cuh>\n")
    assert f'extern "C" __global__ void {kernel.name}(' in source
    assert "const CArray<float, 1, 1, 1> _raw_x" in source
    assert "const CArray<long long, 1, 1, 1> idx" in source  # raw: indexed by the kernel
    assert "CArray<thrust::complex<float>, 1, 1, 1> _raw_y" in source
    assert "CUPY_FOR(i, _ind.size())" in source and "_ind.set(i);" in source
    assert "const float &x = _raw_x[_ind.get()];" in source
    assert "thrust::complex<float> &y = _raw_y[_ind.get()];" in source
    assert "CIndexer<1, 1> _ind" in source
    strided = compile_tier.full_source(_record(kernel), 3, contiguous=False, index_32_bits=False)
    assert "const CArray<float, 3, 0, 0> _raw_x" in strided and "CIndexer<3, 0> _ind" in strided


def test_reduction_source_has_cupys_macros():
    kernel = kernels.reduction("float16 x", "float32 y", "x", "a + b", "y = a", "0", "float")
    source = compile_tier.full_source(_record(kernel), 1, out_ndim=0)
    assert '#include "cupy/float16.cuh"' in source
    assert "#define REDUCE(a, b) (a + b)" in source and "#define POST_MAP(a) (y = a)" in source
    assert "typedef float _type_reduce;" in source and "typedef int IndexT;" in source
    assert "const float16 x = _raw_x[_in_ind.get()];" in source
    assert "float &y = _raw_y[_out_ind.get()];" in source


def test_a_generic_type_is_refused():
    kernel = kernels.KernelSource("elementwise", "croton_ew_0", ("T x", "T y", "y = x", ""))
    with pytest.raises(ValueError, match="concrete dtypes"):
        compile_tier.full_source(kernel)


def test_c_types_are_cupys():
    from cupy._core import _scalar

    for dtype, ctype in compile_tier._C_TYPES.items():
        assert _scalar.get_typename(np.dtype(dtype)) == ctype, dtype


def _cupy_private(module: str, name: str):
    """A private CuPy code generator, or a skip where this CuPy has none by that name."""
    import importlib

    function = getattr(importlib.import_module(module), name, None)
    if function is None:
        pytest.skip(f"this CuPy has no {module}.{name} to compare with")
    return function


@pytest.mark.parametrize(
    ("ndim", "contiguous", "index_32_bits"), [(1, True, True), (3, False, False)]
)
def test_elementwise_source_is_what_cupy_generates(ndim, contiguous, index_32_bits):
    import cupy
    from cupy._core import _carray, _kernel
    from cupy._core.core import _cupy_header_list

    generate = _cupy_private("cupy._core._kernel", "_get_elementwise_kernel_code")
    kernel = kernels.elementwise(
        "float16 h, int8 k, raw float64 w",
        "float64 y, bool b",
        "y = (double)h * k + w[0]; b = y > 0",
        "#define C 1",
    )
    fields = _record(kernel).fields
    params = (
        _kernel._get_param_info(fields["in_params"], True)
        + _kernel._get_param_info(fields["out_params"], False)
        + _kernel._get_param_info("CIndexer _ind", False)
    )
    arginfos = tuple(
        _kernel._ArgInfo(1, cupy.ndarray, p.dtype, ndim, contiguous, index_32_bits)
        for p in params[:-1]
    ) + (_kernel._ArgInfo(2, _carray.Indexer, None, ndim, True, index_32_bits),)
    expected = "".join(f"#include <{h}>\n" for h in _cupy_header_list) + generate(
        arginfos, _kernel._TypeMap(()), params, fields["operation"], kernel.name, fields["preamble"]
    )
    actual = compile_tier.full_source(
        _record(kernel), ndim, contiguous=contiguous, index_32_bits=index_32_bits
    )
    assert actual == expected


def test_reduction_source_is_what_cupy_generates():
    import cupy
    from cupy._core import _carray, _kernel, _scalar
    from cupy._core.core import _cupy_header_list

    generate = _cupy_private("cupy._core._reduction", "_ReductionKernel_get_cached_function_code")
    kernel = kernels.reduction(
        "float16 x, int32 n", "float32 y", "x * n", "a + b", "y = a / 2", "0", "double"
    )
    fields = _record(kernel).fields
    info = _kernel._get_param_info
    ins, outs = info(fields["in_params"], True), info(fields["out_params"], False)
    params = (
        ins
        + outs
        + info("CIndexer _in_ind, CIndexer _out_ind", False)
        + info("int32 _block_stride", True)
    )
    arginfos = (
        tuple(_kernel._ArgInfo(1, cupy.ndarray, p.dtype, 2, False, True) for p in ins)
        + tuple(_kernel._ArgInfo(1, cupy.ndarray, p.dtype, 1, True, True) for p in outs)
        + (
            _kernel._ArgInfo(2, _carray.Indexer, None, 2, True, True),
            _kernel._ArgInfo(2, _carray.Indexer, None, 1, True, True),
            _kernel._ArgInfo(3, _scalar.CScalar, np.dtype("int32"), 0, True, True),
        )
    )
    expected = "".join(f"#include <{h}>\n" for h in _cupy_header_list) + generate(
        len(ins),
        len(outs),
        params,
        arginfos,
        _kernel._TypeMap((("IndexT", "int32"),)),
        kernel.name,
        512,
        fields["reduce_type"],
        fields["identity"],
        fields["map_expr"],
        fields["reduce_expr"],
        fields["post_map_expr"],
        fields["preamble"],
        (),
    )
    assert compile_tier.full_source(_record(kernel), 2, out_ndim=1, contiguous=False) == expected


def test_unavailable_reason_names_the_extra(monkeypatch):
    monkeypatch.setattr(compile_tier, "_package_dir", lambda name: None)
    compile_tier.unavailable_reason.cache_clear()
    try:
        assert 'pip install "croton[cuda-compile]"' in compile_tier.unavailable_reason()
    finally:
        monkeypatch.undo()
        compile_tier.unavailable_reason.cache_clear()


def test_a_bad_arch_is_refused():
    with pytest.raises(ValueError, match="sm_80"):
        compile_tier.compile_sources([], "ampere")
