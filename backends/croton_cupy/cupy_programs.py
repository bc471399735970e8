"""The programs CuPy builds around a kernel, reproduced without a device.

CuPy generates the CUDA it compiles for an ``ElementwiseKernel`` or a ``ReductionKernel``
at the kernel's first launch, from templates in ``cupy/_core/_kernel.pyx``,
``_reduction.pyx`` and ``_cub_reduction.pyx``: its headers, parameter declarations for
the arrays' dtypes and dimensions, the loop (or the block reduction) around the
expressions the kernel was made with. `full_source` and `programs` build the same text
for a record of `croton_cupy.kernels.GENERATED`, so the compile tier
(`croton_cupy.compile_tier`) can compile exactly what CuPy would.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from croton_cupy import kernels

#: CuPy's `_scalar.get_typename`: the C spelling of each dtype
C_TYPES = {
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
CUPY_PRELUDE = "".join(f"#include <{header}>\n" for header in _CUPY_HEADERS)
# what CuPy's CUB block reduction puts before its kernel
_CUB_PRELUDE = "\n#include <cub/block/block_reduce.cuh>\n#include <cub/block/block_load.cuh>\n"
# CuPy's default block size for its own reduction kernel on CUDA
_REDUCTION_BLOCK_SIZE = 512
# CuPy's CUB block reduction of a long segment (`_get_cub_block_specs`)
_CUB_ITEMS_PER_THREAD = 4
_CUB_BLOCK_SIZE = 512

_KINDS = ("elementwise", "reduction", "raw")


@dataclass(frozen=True)
class _Param:
    """One parameter of a kernel's ``in_params``/``out_params`` (CuPy's ParameterInfo)."""

    name: str
    dtype: str
    raw: bool
    is_const: bool

    @property
    def ctype(self) -> str:
        return C_TYPES[self.dtype]


def _parse_params(text: str, is_const: bool, kernel_name: str) -> tuple[_Param, ...]:
    """The parameters of ``in_params``/``out_params`` text, read as CuPy reads them."""
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
        if dtype not in C_TYPES:
            raise ValueError(
                f"kernel {kernel_name}: parameter {name!r} has type {type_name!r}; generated "
                f"kernels declare concrete dtypes ({', '.join(C_TYPES)})"
            )
        params.append(_Param(name, dtype, raw, const))
    return tuple(params)


def _typename(dtype: str, type_decls: set[str]) -> str:
    if dtype in _TYPE_HEADERS:
        type_decls.add(_TYPE_HEADERS[dtype])
    return C_TYPES[dtype]


def _format_type_decls(type_decls: set[str]) -> str:
    return "\n".join(sorted(type_decls)) + "\n\n" if type_decls else ""


def _array_param(
    param: _Param, ndim: int, contiguous: bool, index_32_bits: bool, type_decls
) -> str:
    element = _typename(param.dtype, type_decls)
    ctype = f"CArray<{element}, {ndim}, {int(contiguous)}, {int(index_32_bits)}>"
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


def _cub_programs(kernel: kernels.KernelSource) -> list[Program]:
    """The CUB programs CuPy may build for a reduction: none unless one input, one output."""
    fields = kernel.fields
    ins = _parse_params(fields["in_params"], True, kernel.name)
    outs = _parse_params(fields["out_params"], False, kernel.name)
    if len(ins) != 1 or len(outs) != 1:
        return []
    prelude = CUPY_PRELUDE + _CUB_PRELUDE
    options = ("--std=c++17", "-DCUB_DISABLE_BF16_SUPPORT")
    map_expr, post_map_expr = fields["map_expr"], fields["post_map_expr"]
    if (ins[0].name, outs[0].name) != ("in0", "out0"):
        # CuPy renames the parameters in0/out0 by replacing their names in the text
        map_expr = map_expr.replace(ins[0].name, "in0")
        post_map_expr = post_map_expr.replace(outs[0].name, "out0")
    return [
        Program(
            kernel.name,
            "cub reduction",
            prelude,
            _cub_code(kernel, "", map_expr, post_map_expr),
            options,
        ),
        Program(
            kernel.name,
            "cub reduction, first pass",
            prelude,
            _cub_code(kernel, "_pass1", map_expr, post_map_expr),
            options,
            ("-DFIRST_PASS=1",),
        ),
        Program(
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
        return kernels.named_source(kernel.fields["code"], kernel.name)
    if kernel.kind == "elementwise":
        code = _elementwise_code(kernel, ndim, contiguous, index_32_bits, frozenset(scalars))
    else:
        out_ndim = max(ndim - 1, 0) if out_ndim is None else out_ndim
        code = _reduction_code(kernel, ndim, out_ndim, contiguous, index_32_bits)
    return CUPY_PRELUDE + code


@dataclass(frozen=True)
class Program:
    """One program CuPy may compile for a kernel: the kernel in one of its forms.

    ``source`` is the text CuPy hands NVRTC, ``options`` and ``defines`` the options it
    adds (``defines`` are ``-D`` options, which differ between the passes of a CUB
    reduction).
    """

    kernel: str  # the kernel's name
    form: str  # "elementwise", "reduction", "cub reduction, first pass", "raw", ...
    prelude: str  # CuPy's headers, put first
    code: str  # the rest of the program
    options: tuple[str, ...] = ()
    defines: tuple[str, ...] = ()

    @property
    def source(self) -> str:
        return self.prelude + self.code


def programs(kernel: kernels.KernelSource) -> list[Program]:
    """The programs CuPy may build for ``kernel``, in their most common launch.

    An elementwise kernel: over contiguous arrays (one dimension). A reduction: CuPy's
    own reduction kernel over a strided two-dimensional input (one axis kept), and, for
    a reduction of one input into one output, the three CUB kernels CuPy uses instead
    when the reduced axes are contiguous and long (one pass; two passes for a full
    reduction). A raw kernel: its code.
    """
    if kernel.kind == "raw":
        return [Program(kernel.name, "raw", "", full_source(kernel))]
    if kernel.kind == "elementwise":
        code = full_source(kernel).removeprefix(CUPY_PRELUDE)
        return [Program(kernel.name, "elementwise", CUPY_PRELUDE, code)]
    code = full_source(kernel, 2, out_ndim=1, contiguous=False).removeprefix(CUPY_PRELUDE)
    return [Program(kernel.name, "reduction", CUPY_PRELUDE, code), *_cub_programs(kernel)]
