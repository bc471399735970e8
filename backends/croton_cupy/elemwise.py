"""Elementwise ops and reductions: kernels generated from the scalar graph.

An `Elemwise` node (one scalar op, a cast, or a fused `Composite`) becomes one
``cupy.ElementwiseKernel`` whose body is the scalar program, one typed local per step
(`croton_cupy.cuda_code`). A `Reduce` node becomes one ``cupy.ReductionKernel`` whose
``map_expr`` runs the fused prologue; an `Argmax` node one reduction over
(value, index) pairs.
"""

from __future__ import annotations

from croton.ops.composite import Composite
from croton.ops.elemwise import Elemwise, check_runtime_lengths, runtime_broadcast_checks
from croton_cupy import cuda_code, kernels
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
    """The ``ElementwiseKernel`` computing ``scalar_op`` over inputs of ``input_dtypes``."""
    statements, result = elementwise_body(scalar_op, input_dtypes, out_dtype)
    if out_dtype == "float16" and result.startswith("_to_half("):
        result = result[len("_to_half(") : -1]  # the store rounds to half precision itself
    operation = "\n".join([*statements, f"out0 = {cuda_code.store(result, out_dtype)};"])
    return kernels.elementwise(
        _parameters(input_dtypes, "in"),
        f"{cuda_code.ctype(out_dtype)} out0",
        operation,
        cuda_code.preamble([*input_dtypes, out_dtype, *_program_dtypes(scalar_op)]),
    )


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
    if not checks:
        return kernel

    def checked(*args):
        check_runtime_lengths(checks, args)
        return kernel(*args)

    return checked
