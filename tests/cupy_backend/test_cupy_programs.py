"""The programs CuPy builds around a kernel: croton's copies are CuPy's, character for character.

Where this CuPy exposes its private code generators, the programs are compared with
theirs; either way they hold what CuPy's templates put there.
"""

from __future__ import annotations

import numpy as np
import pytest

from croton_cupy import cupy_programs, kernels

pytest.importorskip("cupy", reason='needs cupy (pip install "croton[cuda-compile]")')


def _record(kernel) -> kernels.KernelSource:
    """The `kernels.GENERATED` record of a kernel object made by the kernel factory."""
    return kernels.GENERATED[kernel.name]


def test_programs_of_each_kind():
    ew = _record(kernels.elementwise("float32 x", "float32 y", "y = x"))
    one = _record(kernels.reduction("float32 x", "float32 y", "x", "a + b", "y = a", "0", "float"))
    two = _record(
        kernels.reduction(
            "float32 x, float32 w", "float32 y", "x * w", "a + b", "y = a", "0", "float"
        )
    )
    raw = _record(kernels.raw('extern "C" __global__ void KERNEL() {}'))
    assert [p.form for p in cupy_programs.programs(ew)] == ["elementwise"]
    assert [p.form for p in cupy_programs.programs(one)] == [
        "reduction",
        "cub reduction",
        "cub reduction, first pass",
        "cub reduction, second pass",
    ]
    assert [p.form for p in cupy_programs.programs(two)] == ["reduction"]
    [program] = cupy_programs.programs(raw)
    assert program.source == f'extern "C" __global__ void {raw.name}() {{}}'


def test_cub_programs_rename_the_parameters_as_cupy_does():
    kernel = _record(
        kernels.reduction("float32 v", "float64 r", "v * v", "a + b", "r = a", "0", "double")
    )
    one_pass, first, second = cupy_programs.programs(kernel)[1:]
    assert "static_cast<_type_reduce>(in0 * in0)" in one_pass.code
    assert "#define POST_MAP(a)   (out0 = a)" in one_pass.code
    assert (
        "typedef float type_in0_raw;" in one_pass.code
        and "typedef double type_out0_raw;" in one_pass.code
    )
    assert f"void {kernel.name}_pass1(const void* _raw_in0, void* _raw_out0" in first.code
    assert first.defines == ("-DFIRST_PASS=1",) and second.defines == ("-DSECOND_PASS=1",)
    assert "BlockLoadT(temp_storage_load).Load(" in second.code  # its map is in0 itself


def test_elementwise_source_has_the_loop_and_typed_references():
    kernel = kernels.elementwise("float32 x, raw int64 idx", "complex64 y", "y = x + idx[0]")
    source = cupy_programs.full_source(_record(kernel))
    assert source.startswith("#include <cupy/complex.cuh>\n#include <cupy/carray.cuh>\n")
    assert f'extern "C" __global__ void {kernel.name}(' in source
    assert "const CArray<float, 1, 1, 1> _raw_x" in source
    assert "const CArray<long long, 1, 1, 1> idx" in source  # raw: indexed by the kernel
    assert "CArray<thrust::complex<float>, 1, 1, 1> _raw_y" in source
    assert "CUPY_FOR(i, _ind.size())" in source and "_ind.set(i);" in source
    assert "const float &x = _raw_x[_ind.get()];" in source
    assert "thrust::complex<float> &y = _raw_y[_ind.get()];" in source
    assert "CIndexer<1, 1> _ind" in source
    strided = cupy_programs.full_source(_record(kernel), 3, contiguous=False, index_32_bits=False)
    assert "const CArray<float, 3, 0, 0> _raw_x" in strided and "CIndexer<3, 0> _ind" in strided


def test_reduction_source_has_cupys_macros():
    kernel = kernels.reduction("float16 x", "float32 y", "x", "a + b", "y = a", "0", "float")
    source = cupy_programs.full_source(_record(kernel), 1, out_ndim=0)
    assert '#include "cupy/float16.cuh"' in source
    assert "#define REDUCE(a, b) (a + b)" in source and "#define POST_MAP(a) (y = a)" in source
    assert "typedef float _type_reduce;" in source and "typedef int IndexT;" in source
    assert "const float16 x = _raw_x[_in_ind.get()];" in source
    assert "float &y = _raw_y[_out_ind.get()];" in source


def test_a_generic_type_is_refused():
    kernel = kernels.KernelSource("elementwise", "croton_ew_0", ("T x", "T y", "y = x", ""))
    with pytest.raises(ValueError, match="concrete dtypes"):
        cupy_programs.full_source(kernel)


def test_c_types_are_cupys():
    from cupy._core import _scalar

    for dtype, ctype in cupy_programs.C_TYPES.items():
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
    actual = cupy_programs.full_source(
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
    assert cupy_programs.full_source(_record(kernel), 2, out_ndim=1, contiguous=False) == expected
