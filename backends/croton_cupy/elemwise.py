"""Elementwise ops and reductions: kernels generated from the scalar graph.

An `Elemwise` node (one scalar op, a cast, or a fused `Composite`) becomes one
``cupy.ElementwiseKernel`` whose body is the scalar program, one typed local per step
(`croton_cupy.cuda_code`). A `Reduce` node becomes one ``cupy.ReductionKernel`` whose
``map_expr`` runs the fused prologue; an `Argmax` node one reduction over
(value, index) pairs.
"""

from __future__ import annotations

import numpy as np

from croton.ops.composite import Composite
from croton.ops.elemwise import Elemwise, check_runtime_lengths, runtime_broadcast_checks
from croton.ops.reduce import Argmax, Reduce
from croton_cupy import cuda_code, kernels, runtime
from croton_cupy.lowering import lowers


def _parameters(dtypes, prefix: str) -> str:
    return ", ".join(f"{cuda_code.ctype(d)} {prefix}{k}" for k, d in enumerate(dtypes))


def elementwise_body(scalar_op, input_dtypes, out_dtype: str) -> tuple[list[str], str]:
    """Statements computing one element from the inputs ``in0, in1...``; and the result.

    The inputs are read into typed locals ``x0, x1...``; a `Composite` gives one local
    per step, a single scalar op one expression.
    """
    reads = [
        f"const {cuda_code.value_type(d)} x{k} = {cuda_code.read(f'in{k}', d)};"
        for k, d in enumerate(input_dtypes)
    ]
    names = [f"x{k}" for k in range(len(input_dtypes))]
    if isinstance(scalar_op, Composite):
        statements, result = cuda_code.program_statements(
            scalar_op.program, names, scalar_op.input_dtypes
        )
        result_dtype = scalar_op.program[-1][2]
        if result_dtype != out_dtype:
            result = cuda_code.convert(result, result_dtype, out_dtype)
        return reads + statements, result
    expression = cuda_code.step_expression(scalar_op, names, list(input_dtypes), out_dtype)
    return reads, expression


def elementwise_kernel(scalar_op, input_dtypes, out_dtype: str):
    """The ``ElementwiseKernel`` computing ``scalar_op`` over inputs of ``input_dtypes``.

    Where the statements can set `cuda_code.STATUS` (an integer power), the kernel takes
    one more output, ``raw int32`` `cuda_code.ERROR`, which an element that sets it sets
    to 1: call it through `checked_launch`.
    """
    statements, result = elementwise_body(scalar_op, input_dtypes, out_dtype)
    store = cuda_code.assignment("out0", result, out_dtype, out_dtype)
    lines = [*statements, store + ";"]
    out_params = f"{cuda_code.ctype(out_dtype)} out0"
    if cuda_code.sets_status(lines):
        lines = [f"int {cuda_code.STATUS} = 0;", *lines]
        lines.append(f"if ({cuda_code.STATUS}) {cuda_code.ERROR}[0] = 1;")
        out_params += f", raw int32 {cuda_code.ERROR}"
    return kernels.elementwise(
        _parameters(input_dtypes, "in"),
        out_params,
        "\n".join(lines),
        cuda_code.preamble([*input_dtypes, out_dtype, *_program_dtypes(scalar_op)]),
    )


def reports_errors(kernel) -> bool:
    """Whether an elementwise ``kernel`` takes the error output (see `elementwise_kernel`)."""
    return cuda_code.ERROR in kernels.GENERATED[kernel.name].fields["out_params"]


def checked_launch(kernel, out_dtype: str, args):
    """Run an elementwise ``kernel`` that reports errors; raise NumPy's error if an
    element did (reading one flag from the device: only such kernels wait for it)."""
    cupy = runtime.load_cupy()
    out = cupy.empty(np.broadcast_shapes(*(a.shape for a in args)), dtype=out_dtype)
    error = cupy.zeros(1, dtype=np.int32)
    kernel(*args, out, error)
    if int(error[0]):
        raise ValueError(cuda_code.ERROR_MESSAGE)
    return out


def _program_dtypes(scalar_op) -> list[str]:
    if not isinstance(scalar_op, Composite):
        return []
    dtypes = [dtype for _, _, dtype in scalar_op.program]
    for _, args, _ in scalar_op.program:
        dtypes += [ref[2] for ref in args if ref[0] == "literal"]
    return dtypes


@lowers(Elemwise)
def _elemwise(op, node):
    input_dtypes = [x.type.dtype for x in node.inputs]
    out_dtype = node.outputs[0].type.dtype
    kernel = elementwise_kernel(op.scalar_op, input_dtypes, out_dtype)
    checks = runtime_broadcast_checks([x.type for x in node.inputs], node.outputs[0].ndim)
    errors = reports_errors(kernel)
    if not checks and not errors:
        return kernel

    def checked(*args):
        if checks:
            check_runtime_lengths(checks, args)
        return checked_launch(kernel, out_dtype, args) if errors else kernel(*args)

    return checked


# -- reductions ----------------------------------------------------------------------------

#: NumPy's names for the reductions without an identity, for its error message
_NUMPY_NAMES = {"max": "maximum", "min": "minimum"}


def accumulator_dtype(kind: str, mapped_dtype: str, out_dtype: str) -> str:
    """The dtype a reduction of ``kind`` accumulates in.

    Sums and products accumulate in the output dtype (NumPy's ``dtype=``), max and min
    in the input's; half precision accumulates in single, as NumPy's float16 loops do.
    """
    if kind in ("all", "any"):
        return "bool"
    dtype = out_dtype if kind in ("sum", "prod") else mapped_dtype
    return "float32" if dtype == "float16" else dtype


def _reduce_expression(kind: str, accumulator: str) -> str:
    if kind == "all":
        return "(a && b)"
    if kind == "any":
        return "(a || b)"
    name = {"sum": "add", "prod": "mul", "max": "maximum", "min": "minimum"}[kind]
    return cuda_code.SYNTAX.render(name, ["a", "b"], accumulator)


def _identity(kind: str, accumulator: str) -> str:
    dtype = np.dtype(accumulator)
    if kind in ("sum", "prod", "all", "any"):
        value = {"sum": 0, "prod": 1, "all": True, "any": False}[kind]
        return cuda_code.literal(value, accumulator)
    # max and min have no identity (empty reductions raise before launching): the
    # starting value of each thread is the bottom (top) of the order
    largest = kind == "min"
    if dtype.kind == "b":
        value = largest
    elif dtype.kind in "iu":
        info = np.iinfo(dtype)
        value = info.max if largest else info.min
    elif dtype.kind == "c":
        value = complex(np.inf, np.inf) if largest else complex(-np.inf, -np.inf)
    else:
        value = np.inf if largest else -np.inf
    return cuda_code.literal(value, accumulator)


#: parameter names of reduction kernels: not CuPy's ``in0``/``out0``, because CuPy's CUB
#: path declares the ``type_in0_raw`` its template needs only for kernels whose names
#: differ (it renames them to ``in0``/``out0`` in the expressions)
REDUCTION_INPUT = "croton_in"
REDUCTION_OUTPUT = "croton_out"


def reduction_kernel(kind: str, prologue, input_dtypes, out_dtype: str):
    """The ``ReductionKernel`` of a `Reduce` of ``kind`` (with an optional `Composite` prologue).

    ``map_expr`` converts an input element to the accumulator's type; with a prologue, it
    calls a preamble function computing one element of the prologue's output.
    """
    names = [f"{REDUCTION_INPUT}{k}" for k in range(len(input_dtypes))]
    if prologue is None:
        (mapped_dtype,) = input_dtypes
        statements, result = [], cuda_code.read(names[0], mapped_dtype)
    else:
        mapped_dtype = prologue.program[-1][2]
        statements, result = elementwise_body(prologue, input_dtypes, mapped_dtype)
    accumulator = accumulator_dtype(kind, mapped_dtype, out_dtype)
    mapped = (
        result
        if mapped_dtype == accumulator
        else cuda_code.convert(result, mapped_dtype, accumulator)
    )
    accumulator_type = cuda_code.value_type(accumulator)
    dtypes = [*input_dtypes, out_dtype, accumulator, *_program_dtypes(prologue)]
    preamble = cuda_code.preamble(dtypes)
    map_expr = mapped
    if prologue is not None:
        arguments = ", ".join(
            f"const {cuda_code.storage_type(d)} in{k}" for k, d in enumerate(input_dtypes)
        )
        preamble += "\n".join(
            [
                f"__device__ __forceinline__ {accumulator_type} _croton_map({arguments}) {{",
                *(f"  {line}" for line in statements),
                f"  return {mapped};",
                "}",
                "",
            ]
        )
        map_expr = f"_croton_map({', '.join(names)})"
    return kernels.reduction(
        ", ".join(f"{cuda_code.ctype(d)} {n}" for d, n in zip(input_dtypes, names, strict=True)),
        f"{cuda_code.ctype(out_dtype)} {REDUCTION_OUTPUT}",
        map_expr,
        _reduce_expression(kind, accumulator),
        cuda_code.assignment(REDUCTION_OUTPUT, "a", accumulator, out_dtype),
        _identity(kind, accumulator),
        accumulator_type,
        preamble,
    )


def _check_not_empty(kind: str, shape: tuple, axes: tuple) -> None:
    """NumPy's error for a max or min over no elements (which has no identity)."""
    if any(shape[a] == 0 for a in axes):
        raise ValueError(
            f"zero-size array to reduction operation {_NUMPY_NAMES[kind]} which has no identity"
        )


@lowers(Reduce)
def _reduce(op, node):
    input_dtypes = [x.type.dtype for x in node.inputs]
    out_dtype = node.outputs[0].type.dtype
    mapping = None
    if op.prologue is not None:
        mapped_dtype = op.prologue.program[-1][2]
        if cuda_code.sets_status(elementwise_body(op.prologue, input_dtypes, mapped_dtype)[0]):
            # a prologue that can fail runs as its own (checked) elementwise kernel first
            mapping = elementwise_kernel(op.prologue, input_dtypes, mapped_dtype)
    if mapping is None:
        kernel = reduction_kernel(op.kind, op.prologue, input_dtypes, out_dtype)
    else:
        kernel = reduction_kernel(op.kind, None, [mapped_dtype], out_dtype)
    axis = op.axis
    needs_elements = op.kind in _NUMPY_NAMES
    checks = []
    if op.prologue is not None:
        mapped = op._mapped(node.inputs)
        checks = runtime_broadcast_checks([x.type for x in mapped.inputs], mapped.outputs[0].ndim)

    def reduce(*args):
        if checks:
            check_runtime_lengths(checks, args)
        if mapping is not None:
            args = (checked_launch(mapping, mapped_dtype, args),)
        if needs_elements:
            shape = np.broadcast_shapes(*(tuple(a.shape) for a in args))
            _check_not_empty(op.kind, shape, axis)
        return kernel(*args, axis=axis)

    return reduce


# -- argmax and argmin ---------------------------------------------------------------------


def argmax_kernel(kind: str, dtype: str):
    """A ``ReductionKernel`` over (value, index) pairs giving the index of the max (min).

    NumPy's rules: the first index among equal values, the first nan wherever one is.
    """
    value_type = cuda_code.value_type(dtype)
    pair = f"_croton_indexed<{value_type} >"
    return kernels.reduction(
        f"{cuda_code.ctype(dtype)} {REDUCTION_INPUT}0",
        f"int64 {REDUCTION_OUTPUT}",
        f"{pair}({cuda_code.read(REDUCTION_INPUT + '0', dtype)}, _J)",
        f"_arg{kind}_pair(a, b)",
        f"{REDUCTION_OUTPUT} = a.index",
        f"{pair}()",
        pair,
        cuda_code.preamble([dtype]) + cuda_code.INDEXED_PRELUDE,
    )


@lowers(Argmax)
def _argmax(op, node):
    kernel = argmax_kernel(op.kind, node.inputs[0].type.dtype)
    axis = op.axis
    name = f"arg{op.kind}"

    def argmax(x):
        if axis is None:
            if x.size == 0:
                raise ValueError(f"attempt to get {name} of an empty sequence")
            # flattened in C order, so the reduction's position _J is the flat index
            return kernel(x.ravel(), axis=0)
        if x.shape[axis] == 0:
            raise ValueError(f"attempt to get {name} of an empty sequence")
        return kernel(x, axis=axis)

    return argmax
