"""The compile tier: every generated kernel compiled with NVRTC, no GPU needed.

CuPy compiles a kernel only at its first launch, so on a machine without a GPU nothing
would ever show that a rule generates bad CUDA. This module rebuilds the complete program
CuPy hands NVRTC for each kernel in `croton_cupy.kernels.GENERATED` (CuPy's headers, the
parameter declarations, the loop or reduction around the generated expressions) and
compiles it for real architectures with NVRTC, which needs no driver:

>>> from croton_cupy import compile_tier, kernels
>>> compile_tier.compile_sources(kernels.GENERATED, ("sm_80", "sm_90"))  # doctest: +SKIP

Many kernels go into one translation unit (each in a namespace of its own), so CuPy's
headers are parsed once per batch rather than once per kernel; a batch that fails is
narrowed down to the kernels that fail, and each is recompiled alone, exactly as CuPy
would compile it, so the error names the kernel and shows the compiler's log against
the numbered source it refers to.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from croton_cupy import kernels

#: how to get what the compile tier needs
INSTALL_HINT = 'install it with `pip install "croton[cuda-compile]"`'

#: the architectures the compile tier checks by default (A100, H100)
DEFAULT_ARCHS = ("sm_80", "sm_90")

# CuPy's `_scalar.get_typename`: the C spelling of each dtype, and the header it needs
_C_TYPES = {
    "float64": "double",
    "float32": "float",
    "float16": "float16",
    "complex128": "thrust::complex<double>",
    "complex64": "thrust::complex<float>",
    "int64": "long long",
    "int32": "int",
    "int16": "short",
    "int8": "signed char",
    "uint64": "unsigned long long",
    "uint32": "unsigned int",
    "uint16": "unsigned short",
    "uint8": "unsigned char",
    "bool": "bool",
}
_TYPE_HEADERS = {"float16": '#include "cupy/float16.cuh"'}

# what CuPy prepends to the source of ElementwiseKernel and ReductionKernel
_CUPY_HEADERS = ("cupy/complex.cuh", "cupy/carray.cuh", "cupy/atomics.cuh", "cupy/math_constants.h")
_CUPY_PRELUDE = "".join(f"#include <{header}>\n" for header in _CUPY_HEADERS)
# what CuPy's CUB block reduction puts before its kernel
_CUB_PRELUDE = "\n#include <cub/block/block_reduce.cuh>\n#include <cub/block/block_load.cuh>\n"
# CuPy's default block size for its own reduction kernel on CUDA
_REDUCTION_BLOCK_SIZE = 512
# a CUB reduction of a contiguous segment this long or longer takes CuPy's CUB path
_CUB_ITEMS_PER_THREAD = 4
_CUB_BLOCK_SIZE = 512

_KINDS = ("elementwise", "reduction", "raw")


# ---------------------------------------------------------------------------------------
# where NVRTC and the headers are


def _package_dir(module_name: str) -> str | None:
    """The directory of an installed package (namespace packages included), or None."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(module_name)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    locations = list(spec.submodule_search_locations or ())
    if locations:
        return locations[0]
    return os.path.dirname(spec.origin) if spec.origin else None


def _runtime_include_dir() -> str | None:
    """The directory holding ``cuda_runtime.h``: the pip wheel's, else CUDA_PATH's."""
    candidates = []
    wheel = _package_dir("nvidia.cuda_runtime")
    if wheel is not None:
        candidates.append(os.path.join(wheel, "include"))
    for variable in ("CUDA_PATH", "CUDA_HOME"):
        if os.environ.get(variable):
            candidates.append(os.path.join(os.environ[variable], "include"))
    for directory in candidates:
        if os.path.isfile(os.path.join(directory, "cuda_runtime.h")):
            return directory
    return None


@functools.cache
def include_dirs() -> tuple[str, ...]:
    """The include directories CuPy gives NVRTC, in its order, found from the packages.

    CuPy's bundled CCCL (cub, thrust, libcudacxx) first, then CuPy's own headers, then
    the CUDA runtime headers (and NVRTC's, where its wheel is installed).
    """
    cupy_dir = _package_dir("cupy")
    if cupy_dir is None:
        raise RuntimeError(f"cupy is not installed: {INSTALL_HINT}")
    cupy_include = os.path.join(cupy_dir, "_core", "include")
    cccl = os.path.join(cupy_include, "cupy", "_cccl")
    dirs = [os.path.join(cccl, name) for name in ("cub", "thrust", "libcudacxx")]
    dirs.append(cupy_include)
    runtime_include = _runtime_include_dir()
    if runtime_include is None:
        raise RuntimeError(
            f"the CUDA runtime headers (cuda_runtime.h) are not installed: {INSTALL_HINT}"
        )
    dirs.append(runtime_include)
    nvrtc_wheel = _package_dir("nvidia.cuda_nvrtc")
    if nvrtc_wheel is not None and os.path.isdir(os.path.join(nvrtc_wheel, "include")):
        dirs.append(os.path.join(nvrtc_wheel, "include"))
    return tuple(dirs)


@functools.cache
def unavailable_reason() -> str | None:
    """Why kernels cannot be compiled here (no cupy, NVRTC or CUDA headers), or None."""
    if _package_dir("cupy") is None:
        return f"cupy is not installed ({INSTALL_HINT})"
    try:
        from cupy_backends.cuda.libs import nvrtc

        nvrtc.getVersion()
    except Exception as err:  # the binding imports but the library is missing, say
        return f"NVRTC is not available ({err}); {INSTALL_HINT}"
    if _runtime_include_dir() is None:
        return f"the CUDA runtime headers (cuda_runtime.h) are not installed ({INSTALL_HINT})"
    return None


def _arch_option(arch: str | int) -> str:
    text = str(arch)
    digits = text.removeprefix("sm_").removeprefix("compute_")
    if not digits.isdigit():
        raise ValueError(f"arch must be like 'sm_80' or 80, not {arch!r}")
    return f"-arch=sm_{digits}"


def _options(arch: str | int, extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    """NVRTC options as CuPy assembles them (`assemble_cupy_compiler_options` and co)."""
    dirs = include_dirs()
    std = () if any("-std=" in option for option in extra) else ("--std=c++17",)
    return (
        *(f"-I{d}" for d in dirs[:3]),
        *extra,
        *std,
        *(f"-I{d}" for d in dirs[3:]),
        "-ftz=true",
        _arch_option(arch),
        "--device-as-default-execution-space",
    )


# ---------------------------------------------------------------------------------------
# CuPy's templates


@dataclass(frozen=True)
class _Param:
    """One parameter of a kernel's ``in_params``/``out_params`` (CuPy's ParameterInfo)."""

    name: str
    dtype: str
    raw: bool
    is_const: bool

    @property
    def ctype(self) -> str:
        return _C_TYPES[self.dtype]


def _parse_params(text: str, is_const: bool, kernel_name: str) -> tuple[_Param, ...]:
    if not text.strip():
        return ()
    params = []
    for declaration in text.strip().split(","):
        words = declaration.split()
        if len(words) < 2:
            raise ValueError(f"kernel {kernel_name}: cannot read the parameter {declaration!r}")
        type_name, name = words[-2:]
        raw, const = False, is_const
        for keyword in words[:-2]:
            if keyword == "raw":
                raw = True
            elif keyword == "_non_const":
                const = False
            else:
                raise ValueError(
                    f"kernel {kernel_name}: unknown keyword {keyword!r} in {declaration!r}"
                )
        try:
            dtype = np.dtype(type_name).name
        except TypeError:
            dtype = None
        if dtype not in _C_TYPES:
            raise ValueError(
                f"kernel {kernel_name}: parameter {name!r} has type {type_name!r}; generated "
                f"kernels declare concrete dtypes ({', '.join(_C_TYPES)})"
            )
        params.append(_Param(name, dtype, raw, const))
    return tuple(params)


def _typename(dtype: str, type_decls: set[str]) -> str:
    if dtype in _TYPE_HEADERS:
        type_decls.add(_TYPE_HEADERS[dtype])
    return _C_TYPES[dtype]


def _format_type_decls(type_decls: set[str]) -> str:
    return "\n".join(sorted(type_decls)) + "\n\n" if type_decls else ""


def _array_param(
    param: _Param, ndim: int, contiguous: bool, index_32_bits: bool, type_decls
) -> str:
    ctype = f"CArray<{_typename(param.dtype, type_decls)}, {ndim}, {int(contiguous)}, {int(index_32_bits)}>"
    name = param.name if param.raw else f"_raw_{param.name}"
    return f"{'const ' if param.is_const else ''}{ctype} {name}"


def _scalar_param(param: _Param, type_decls) -> str:
    return f"{'const ' if param.is_const else ''}{_typename(param.dtype, type_decls)} {param.name}"


def _typedefs(pairs: Iterable[tuple[str, str]], type_decls) -> str:
    return "".join(f"typedef {_typename(dtype, type_decls)} {alias};\n" for alias, dtype in pairs)


def _elementwise_code(
    kernel: kernels.KernelSource, ndim, contiguous, index_32_bits, scalars
) -> str:
    fields = kernel.fields
    params = _parse_params(fields["in_params"], True, kernel.name) + _parse_params(
        fields["out_params"], False, kernel.name
    )
    type_decls: set[str] = set()
    declarations, references = [], []
    for param in params:
        if param.name in scalars and not param.raw:
            declarations.append(_scalar_param(param, type_decls))
            continue
        declarations.append(_array_param(param, ndim, contiguous, index_32_bits, type_decls))
        if not param.raw:
            const = "const " if param.is_const else ""
            references.append(
                f"{const}{param.ctype} &{param.name} = _raw_{param.name}[_ind.get()];"
            )
    declarations.append(f"CIndexer<{ndim}, {int(index_32_bits)}> _ind")
    operation = "\n".join([*references, fields["operation"]])
    # the layout (indentation included) of CuPy's `_get_simple_elementwise_kernel_code`
    return (
        f"\n    {_format_type_decls(type_decls)}\n"
        f"    {fields['preamble']}\n"
        f'    extern "C" __global__ void {kernel.name}({", ".join(declarations)}) {{\n'
        "      ;\n"
        "      #pragma unroll 1\n"
        "      CUPY_FOR(i, _ind.size()) {\n"
        "        _ind.set(i);\n"
        f"        {operation};\n"
        "      }\n"
        "      ;\n"
        "    }\n"
        "    "
    )


def _reduce_type(fields: dict, outs: tuple[_Param, ...]) -> str:
    reduce_type = fields["reduce_type"]
    return outs[0].ctype if reduce_type is None else reduce_type


def _reduction_code(kernel: kernels.KernelSource, ndim, out_ndim, contiguous, index_32_bits) -> str:
    """CuPy's own reduction kernel (`_create_reduction_function_code`)."""
    fields = kernel.fields
    ins = _parse_params(fields["in_params"], True, kernel.name)
    outs = _parse_params(fields["out_params"], False, kernel.name)
    type_decls: set[str] = set()
    declarations = [_array_param(p, ndim, contiguous, index_32_bits, type_decls) for p in ins]
    declarations += [_array_param(p, out_ndim, True, index_32_bits, type_decls) for p in outs]
    bits = int(index_32_bits)
    declarations += [f"CIndexer<{ndim}, {bits}> _in_ind", f"CIndexer<{out_ndim}, {bits}> _out_ind"]
    declarations.append("const int _block_stride")
    typedefs = _typedefs([("IndexT", "int32")], type_decls)
    input_expr = "\n".join(
        (f"const {p.ctype} {p.name}" if p.is_const else f"{p.ctype}& {p.name}")
        + f" = _raw_{p.name}[_in_ind.get()];"
        for p in ins
        if not p.raw
    )
    output_expr = "\n".join(
        f"{p.ctype} &{p.name} = _raw_{p.name}[_out_ind.get()];"
        for p in outs
        if not p.raw and not p.is_const
    )
    block = _REDUCTION_BLOCK_SIZE
    identity = "" if fields["identity"] is None else str(fields["identity"])
    return (
        f"\n{_format_type_decls(type_decls)}{typedefs}\n{fields['preamble']}\n"
        f"#define REDUCE(a, b) ({fields['reduce_expr']})\n"
        f"#define POST_MAP(a) ({fields['post_map_expr']})\n"
        "#define _REDUCE(_offset) if (_tid < _offset) {"
        "   _type_reduce _a = _sdata[_tid], _b = _sdata[(_tid + _offset)];"
        "   _sdata[_tid] = REDUCE(_a, _b); }\n"
        "\n"
        f"typedef {_reduce_type(fields, outs)} _type_reduce;\n"
        f'extern "C" __global__ void {kernel.name}({", ".join(declarations)}) {{\n'
        f"  __shared__ char _sdata_raw[{block} * sizeof(_type_reduce)];\n"
        "  _type_reduce *_sdata = reinterpret_cast<_type_reduce*>(_sdata_raw);\n"
        "  unsigned int _tid = threadIdx.x;\n"
        "\n"
        "  IndexT _J_offset = _tid >> __popc(_block_stride - 1); // _tid / _block_stride\n"
        "  ptrdiff_t _j_offset = (ptrdiff_t)_J_offset * _out_ind.size();\n"
        f"  IndexT _J_stride = {block} >> __popc(_block_stride - 1);\n"
        "  ptrdiff_t _j_stride = (ptrdiff_t)_J_stride * _out_ind.size();\n"
        "\n"
        "  for (ptrdiff_t _i_base = (ptrdiff_t)blockIdx.x * _block_stride;\n"
        "       _i_base < _out_ind.size();\n"
        "       _i_base += (ptrdiff_t)gridDim.x * _block_stride) {\n"
        f"    _type_reduce _s = _type_reduce({identity});\n"
        "    ptrdiff_t _i =\n"
        "        _i_base + (_tid & (_block_stride - 1));  // _tid % _block_stride\n"
        "    IndexT _J = _J_offset;\n"
        "    for (ptrdiff_t _j = _i + _j_offset; _j < _in_ind.size();\n"
        "         _j += _j_stride, _J += _J_stride) {\n"
        "      _in_ind.set(_j);\n"
        f"      {input_expr}\n"
        f"      _type_reduce _a = static_cast<_type_reduce>({fields['map_expr']});\n"
        "      _s = REDUCE(_s, _a);\n"
        "    }\n"
        "    _sdata[_tid] = _s;\n"
        "    __syncthreads();\n"
        f"    for (unsigned int _block = {block} / 2;\n"
        "         _block >= _block_stride; _block >>= 1) {\n"
        "      if (_tid < _block) {\n"
        "        _REDUCE(_block);\n"
        "      }\n"
        "      __syncthreads();\n"
        "    }\n"
        "    if (_tid < _block_stride) {\n"
        "      _s = _sdata[_tid];\n"
        "    }\n"
        "    if (_tid < _block_stride && _i < _out_ind.size()) {\n"
        "      _out_ind.set(static_cast<ptrdiff_t>(_i));\n"
        f"      {output_expr}\n"
        "      POST_MAP(_s);\n"
        "    }\n"
        "  }\n"
        "}"
    )


def _cub_code(kernel: kernels.KernelSource, suffix: str, map_expr: str, post_map_expr: str) -> str:
    """CuPy's CUB block reduction (`_create_cub_reduction_function` in _cub_reduction.pyx).

    ``map_expr`` and ``post_map_expr`` are the kernel's, with its parameters already
    renamed ``in0``/``out0`` as CuPy renames them. The code is CuPy's without its
    comments and its HIP branches.

    CuPy takes this path for a ReductionKernel with one input and one output whose
    reduced axes are contiguous and at least 128 long; a full reduction runs it twice
    (``FIRST_PASS`` into a work area, ``SECOND_PASS`` over the partial results).
    """
    fields = kernel.fields
    ins = _parse_params(fields["in_params"], True, kernel.name)
    outs = _parse_params(fields["out_params"], False, kernel.name)
    type_decls: set[str] = set()
    pairs = [("IndexT", "int32"), ("sizeT", "int32")]
    if (ins[0].name, outs[0].name) != ("in0", "out0"):
        pairs += [("type_in0_raw", ins[0].dtype), ("type_out0_raw", outs[0].dtype)]
    declarations = (
        "const void* _raw_in0, void* _raw_out0, const int _segment_size, const int _array_size"
    )
    typedefs = _typedefs(pairs, type_decls)
    identity = "" if fields["identity"] is None else str(fields["identity"])
    load_with_cub = map_expr == "in0"
    code = [
        f"{_format_type_decls(type_decls)}{typedefs}\n{fields['preamble']}\n",
        f"typedef {_reduce_type(fields, outs)} _type_reduce;\n",
        "static_assert(sizeof(_type_reduce) <= 32,",
        '    "The intermediate reduction type is assumed to be at most 32 bytes.");\n',
        f"#define ITEMS_PER_THREAD  {_CUB_ITEMS_PER_THREAD}",
        f"#define BLOCK_SIZE        {_CUB_BLOCK_SIZE}\n",
        "#if defined FIRST_PASS",
        "    typedef type_in0_raw  type_mid_in;",
        "    typedef _type_reduce  type_mid_out;",
        "    #define POST_MAP(a)   out0 = a;",
        "#elif defined SECOND_PASS",
        "    typedef _type_reduce  type_mid_in;",
        "    typedef type_out0_raw type_mid_out;",
        f"    #define POST_MAP(a)   ({post_map_expr})",
        "#else  // one-pass reduction",
        "    typedef type_in0_raw  type_mid_in;",
        "    typedef type_out0_raw type_mid_out;",
        f"    #define POST_MAP(a)   ({post_map_expr})",
        "#endif\n",
        "struct _reduction_op {",
        "    __device__ __forceinline__ _type_reduce operator()(",
        "        const _type_reduce &a, const _type_reduce &b) const {",
        f"        return {fields['reduce_expr']};",
        "    }",
        "};\n",
        'extern "C"',
        f"__global__ void {kernel.name}{suffix}({declarations}) {{",
        "  unsigned int _tid = threadIdx.x;",
    ]
    if load_with_cub:
        code += [
            "  typedef cub::BlockLoad<_type_reduce, BLOCK_SIZE,",
            "                         ITEMS_PER_THREAD, cub::BLOCK_LOAD_DIRECT> BlockLoadT;",
            "  __shared__ typename BlockLoadT::TempStorage temp_storage_load;",
        ]
    code += [
        "  typedef cub::BlockReduce<_type_reduce, BLOCK_SIZE> BlockReduceT;",
        "  __shared__ typename BlockReduceT::TempStorage temp_storage;",
        "  _reduction_op op;",
        "  const type_mid_in* _in0 = static_cast<const type_mid_in*>(_raw_in0);",
        "  type_mid_out* _out0 = static_cast<type_mid_out*>(_raw_out0);",
        "  _type_reduce _sdata[ITEMS_PER_THREAD];",
        "  #pragma unroll",
        "  for (int j = 0; j < ITEMS_PER_THREAD; j++) {",
        f"      _sdata[j] = _type_reduce({identity});",
        "  }",
        "  size_t segment_idx = size_t(blockIdx.x) * _segment_size;",
        "  const type_mid_in* segment_head = _in0 + segment_idx;",
        "  size_t i = 0;",
        "  int tile_size = (BLOCK_SIZE * ITEMS_PER_THREAD < _segment_size ?",
        "                   BLOCK_SIZE * ITEMS_PER_THREAD :",
        "                   _segment_size);",
        "  sizeT _seg_size = _segment_size;",
        "  #if defined FIRST_PASS",
        "  if (_array_size > 0) {",
        "      if (_array_size - segment_idx <= _segment_size) {",
        "          _seg_size = _array_size - segment_idx;",
        "      }",
        "  }",
        "  #endif",
        f"  _type_reduce aggregate = _type_reduce({identity});",
        "  for (i = 0; i < _seg_size; i += BLOCK_SIZE * ITEMS_PER_THREAD) {",
        "      if (_seg_size - i <= tile_size) { tile_size = _seg_size - i; }",
    ]
    if load_with_cub:
        code += [
            "      BlockLoadT(temp_storage_load).Load(segment_head + i, _sdata, tile_size,",
            f"                                         _type_reduce({identity}));",
        ]
    else:
        code += [
            "      #pragma unroll",
            "      for (int j = 0; j < ITEMS_PER_THREAD; j++) {",
            "          int e_idx = _tid * ITEMS_PER_THREAD + j;",
            "          #if defined FIRST_PASS",
            "          IndexT _J = (segment_idx + i + e_idx);",
            "          #else",
            "          IndexT _J = (segment_idx + i + e_idx) % _seg_size;",
            "          #endif",
            "          if (e_idx < tile_size) {",
            "              const type_mid_in in0 = *(segment_head + i + e_idx);",
            f"              _sdata[j] = static_cast<_type_reduce>({map_expr});",
            "          } else {",
            f"              _sdata[j] = _type_reduce({identity});",
            "          }",
            "      }",
        ]
    code += [
        "      aggregate = op(aggregate, BlockReduceT(temp_storage).Reduce(_sdata, op));",
        "      __syncthreads();",
        "  }",
        "  if (_tid == 0) {",
        "      type_mid_out& out0 = *(_out0 + blockIdx.x);",
        "      POST_MAP(aggregate);",
        "  }",
        "}",
    ]
    return "\n".join(code) + "\n"


def _cub_units(kernel: kernels.KernelSource) -> list:
    """The CUB programs CuPy may build for a reduction: none unless one input, one output."""
    fields = kernel.fields
    ins = _parse_params(fields["in_params"], True, kernel.name)
    outs = _parse_params(fields["out_params"], False, kernel.name)
    if len(ins) != 1 or len(outs) != 1:
        return []
    prelude = _CUPY_PRELUDE + _CUB_PRELUDE
    options = ("--std=c++17", "-DCUB_DISABLE_BF16_SUPPORT")
    map_expr, post_map_expr = fields["map_expr"], fields["post_map_expr"]
    if (ins[0].name, outs[0].name) != ("in0", "out0"):
        # CuPy renames the parameters in0/out0 by replacing their names in the text
        map_expr = map_expr.replace(ins[0].name, "in0")
        post_map_expr = post_map_expr.replace(outs[0].name, "out0")
    return [
        _Unit(
            kernel.name,
            "cub reduction",
            prelude,
            _cub_code(kernel, "", map_expr, post_map_expr),
            options,
        ),
        _Unit(
            kernel.name,
            "cub reduction, first pass",
            prelude,
            _cub_code(kernel, "_pass1", map_expr, post_map_expr),
            options,
            ("-DFIRST_PASS=1",),
        ),
        _Unit(
            kernel.name,
            "cub reduction, second pass",
            prelude,
            _cub_code(kernel, "_pass2", "in0", post_map_expr),
            options,
            ("-DSECOND_PASS=1",),
        ),
    ]


def full_source(
    kernel: kernels.KernelSource,
    ndim: int = 1,
    *,
    out_ndim: int | None = None,
    contiguous: bool = True,
    index_32_bits: bool = True,
    scalars: Iterable[str] = (),
) -> str:
    """The complete CUDA program CuPy hands NVRTC when it first launches ``kernel``.

    Parameters
    ----------
    kernel
        A record from `croton_cupy.kernels.GENERATED`.
    ndim
        The number of dimensions of the array arguments after CuPy has merged contiguous
        axes (1 for contiguous arrays, the case CuPy launches most); for a reduction, of
        its inputs.
    out_ndim
        For a reduction: the dimensions of its outputs (default ``ndim - 1``).
    contiguous
        Whether the (input) arrays are C-contiguous, which selects CuPy's ``CArray``
        specialisation.
    index_32_bits
        Whether the arrays are small enough for 32-bit indexing.
    scalars
        Names of elementwise inputs passed as host scalars rather than device arrays.

    Returns
    -------
    str
        CuPy's headers followed by the kernel's code, laid out as CuPy's templates lay it
        out (``"raw"`` kernels: their code as written, with the kernel's name).
    """
    if kernel.kind not in _KINDS:
        raise ValueError(f"kernel {kernel.name} has kind {kernel.kind!r}; expected one of {_KINDS}")
    if ndim < 0:
        raise ValueError(f"ndim must be >= 0, not {ndim}")
    if kernel.kind == "raw":
        return kernel.fields["code"].replace("KERNEL", kernel.name)
    if kernel.kind == "elementwise":
        code = _elementwise_code(kernel, ndim, contiguous, index_32_bits, frozenset(scalars))
    else:
        out_ndim = max(ndim - 1, 0) if out_ndim is None else out_ndim
        code = _reduction_code(kernel, ndim, out_ndim, contiguous, index_32_bits)
    return _CUPY_PRELUDE + code


# ---------------------------------------------------------------------------------------
# compiling


@dataclass(frozen=True)
class _Unit:
    """One program to compile: a kernel in one of the forms CuPy may build it."""

    kernel: str  # the kernel's name
    form: str  # which of CuPy's programs ("elementwise", "cub first pass", ...)
    prelude: str  # what CuPy puts first (its headers), shared by a batch
    code: str  # the rest of the program
    options: tuple[str, ...] = ()  # options CuPy adds for this program
    defines: tuple[str, ...] = ()  # -D options that differ between programs of a batch

    @property
    def source(self) -> str:
        return self.prelude + self.code


def _units(kernel: kernels.KernelSource) -> list[_Unit]:
    """The programs CuPy may build for ``kernel`` (a reduction has more than one)."""
    if kernel.kind == "raw":
        return [_Unit(kernel.name, "raw", "", full_source(kernel))]
    if kernel.kind == "elementwise":
        code = full_source(kernel).removeprefix(_CUPY_PRELUDE)
        return [_Unit(kernel.name, "elementwise", _CUPY_PRELUDE, code)]
    code = full_source(kernel, 2, out_ndim=1, contiguous=False).removeprefix(_CUPY_PRELUDE)
    return [_Unit(kernel.name, "reduction", _CUPY_PRELUDE, code), *_cub_units(kernel)]


@dataclass
class CompileFailure:
    """A kernel that NVRTC rejects: its name, the program, and the compiler's log."""

    kernel: str
    form: str
    arch: str
    log: str
    source: str

    def __str__(self) -> str:
        lines = self.source.splitlines()
        width = len(str(len(lines)))
        numbered = "\n".join(f"{n:>{width}} | {line}" for n, line in enumerate(lines, 1))
        return (
            f"generated CUDA kernel {self.kernel} ({self.form}) does not compile for "
            f"{self.arch}; NVRTC says:\n{self.log.strip()}\n--- the program NVRTC compiled "
            f"(line numbers as in the log) ---\n{numbered}"
        )


class KernelCompileError(Exception):
    """Generated kernels NVRTC rejects; ``failures`` lists each with its log and source."""

    def __init__(self, failures: list[CompileFailure]):
        self.failures = failures
        names = sorted({f.kernel for f in failures})
        head = f"{len(names)} generated CUDA kernel(s) do not compile: {', '.join(names)}"
        super().__init__("\n\n".join([head, *(str(f) for f in failures)]))


def _nvrtc_compile(source: str, options: tuple[str, ...], filename: str = "kern.cu") -> str | None:
    """Compile ``source`` to a cubin; None when it compiles, else NVRTC's log."""
    from cupy_backends.cuda.libs import nvrtc

    program = nvrtc.createProgram(source, filename, (), ())
    try:
        try:
            nvrtc.compileProgram(program, list(options))
        except nvrtc.NVRTCError as err:
            log = nvrtc.getProgramLog(program)
            return log if log.strip() else str(err)
        nvrtc.getCUBIN(program)
        return None
    finally:
        nvrtc.destroyProgram(program)


_BATCH_FILE = "croton_kernels.cu"
_LINE_REFERENCE = re.compile(
    rf"{re.escape(_BATCH_FILE)}\((\d+)\)|line (\d+) of {re.escape(_BATCH_FILE)}"
)
# macros CuPy's templates define at file scope: undefined after each kernel of a batch
_TEMPLATE_MACROS = ("REDUCE", "POST_MAP", "_REDUCE", "ITEMS_PER_THREAD", "BLOCK_SIZE")
_INCLUDE = re.compile(r"^\s*#\s*include\b.*$", re.MULTILINE)


def _batch_source(units: list[_Unit]) -> tuple[str, list[tuple[int, int]]]:
    """One translation unit holding every unit, and the line range each occupies.

    Each kernel sits in a namespace of its own (its typedefs and preamble functions
    cannot clash with another's; ``extern "C"`` keeps its symbol name); headers it
    includes are included once at the top first, so including them again inside the
    namespace adds nothing.
    """
    includes = dict.fromkeys(m.group(0).strip() for u in units for m in _INCLUDE.finditer(u.code))
    parts = [units[0].prelude, *includes, ""]
    text = "\n".join(parts)
    line = text.count("\n") + 1
    spans = []
    for index, unit in enumerate(units):
        macros = [d.removeprefix("-D").partition("=") for d in unit.defines]
        defines = [f"#define {name} {value}" for name, _, value in macros]
        undefines = [f"#undef {name}" for name, _, _ in macros]
        block = "\n".join(
            [
                f"// {unit.kernel} ({unit.form})",
                *defines,
                f"namespace croton_compile_tier_{index} {{",
                unit.code,
                "}",
                *undefines,
                *(f"#undef {macro}" for macro in _TEMPLATE_MACROS),
                "",
            ]
        )
        start = line
        line += block.count("\n")
        spans.append((start, line))
        text += block
    return text, spans


def _alone(unit: _Unit, arch: str) -> CompileFailure | None:
    """Compile ``unit`` exactly as CuPy would: None, or its failure."""
    log = _nvrtc_compile(unit.source, _options(arch, unit.options + unit.defines))
    return None if log is None else CompileFailure(unit.kernel, unit.form, arch, log, unit.source)


def _compile_batch(units: list[_Unit], arch: str) -> list[CompileFailure]:
    """Compile ``units`` together; narrow a failure down to the units that fail."""
    if len(units) == 1:
        failure = _alone(units[0], arch)
        return [] if failure is None else [failure]
    source, spans = _batch_source(units)
    log = _nvrtc_compile(source, _options(arch, units[0].options), _BATCH_FILE)
    if log is None:
        return []
    # the log names lines of the batch: the kernels there are the suspects
    lines = {int(a or b) for a, b in _LINE_REFERENCE.findall(log)}
    suspects = [i for i, (start, end) in enumerate(spans) if any(start <= n < end for n in lines)]
    if suspects and len(suspects) < len(units):
        failures = [f for i in suspects if (f := _alone(units[i], arch)) is not None]
        if failures:
            rest = [u for i, u in enumerate(units) if i not in set(suspects)]
            return failures + _compile_batch(rest, arch)
    # nothing to blame by line (an error inside a header, or one only in the batch): halve
    half = len(units) // 2
    return _compile_batch(units[:half], arch) + _compile_batch(units[half:], arch)


def compile_sources(
    sources: Mapping[str, kernels.KernelSource] | Iterable[kernels.KernelSource],
    arch: str | int | Iterable[str | int] = DEFAULT_ARCHS,
    *,
    batch_size: int = 200,
    workers: int | None = None,
) -> int:
    """Compile the kernels with NVRTC for ``arch``, as CuPy would; raise if any fails.

    Parameters
    ----------
    sources
        Kernel records (`croton_cupy.kernels.GENERATED` or its values); duplicates by
        name are compiled once.
    arch
        An architecture (``"sm_80"`` or ``80``) or several.
    batch_size
        How many programs go into one translation unit.
    workers
        Threads compiling batches at once (NVRTC releases the GIL); default: the CPUs.

    Returns
    -------
    int
        The number of programs compiled (a reduction is several: CuPy's own kernel and
        its CUB kernels).

    Raises
    ------
    KernelCompileError
        Naming every kernel that does not compile, with NVRTC's log and the numbered
        program it refers to.
    RuntimeError
        When the tier cannot run here (see `unavailable_reason`).
    """
    reason = unavailable_reason()
    if reason is not None:
        raise RuntimeError(f"the CUDA compile tier cannot run here: {reason}")
    records = sources.values() if isinstance(sources, Mapping) else sources
    unique = {record.name: record for record in records}
    archs = [arch] if isinstance(arch, (str, int)) else list(arch)
    for each in archs:
        _arch_option(each)
    groups: dict[tuple, list[_Unit]] = {}
    for name in sorted(unique):
        for unit in _units(unique[name]):
            groups.setdefault((unit.prelude, unit.options), []).append(unit)
    jobs = [
        (units[start : start + batch_size], str(each))
        for each in archs
        for units in groups.values()
        for start in range(0, len(units), batch_size)
    ]
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        results = list(pool.map(lambda job: _compile_batch(*job), jobs))
    failures = [failure for result in results for failure in result]
    if failures:
        raise KernelCompileError(failures)
    return sum(len(units) for units in groups.values()) * len(archs)
