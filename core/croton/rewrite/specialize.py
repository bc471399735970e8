"""``specialize``: cheaper forms of the same computation."""

from __future__ import annotations

from croton.ops.blas import Dot
from croton.ops.elemwise import Elemwise
from croton.ops.reduce import Reduce
from croton.rewrite.engine import EquilibriumPass, node_rewriter
from croton.rewrite.pattern import P
from croton.tensor import math as tm

x = P.var("x")

RULES = [
    (x**2, lambda x: tm.sqr(x), "pow_two_sqr"),  # x ** 2 -> sqr(x)
    (x**0.5, lambda x: tm.sqrt(x), "pow_half_sqrt"),  # x ** 0.5 -> sqrt(x)
    (x**-1, lambda x: tm.reciprocal(x), "pow_minus_one_reciprocal"),  # x ** -1 -> reciprocal(x)
    (x * P.var("x"), lambda x: tm.sqr(x), "mul_self_sqr"),  # x * x -> sqr(x)
]


@node_rewriter(tracks=[Reduce], name="sum_mul_dot")
def sum_of_product_to_dot(fgraph, node):
    """sum(a * b) of two vectors -> dot(a, b)."""
    from croton.tensor.blas import dot

    if node.op.kind != "sum" or node.op.axis != (0,):
        return None
    (product,) = node.inputs
    owner = product.owner
    if owner is None or not isinstance(owner.op, Elemwise) or owner.op.scalar_op.name != "mul":
        return None
    a, b = owner.inputs
    if a.ndim != 1 or b.ndim != 1 or 1 in (a.type.shape[0], b.type.shape[0]):
        return None
    if not a.dtype.startswith("float") or a.dtype != b.dtype or node.outputs[0].dtype != a.dtype:
        return None
    return [dot(a, b)]


def _scaled_terms(var):
    """``var`` as ``(scale, core)`` with a constant scalar scale (1 if none)."""
    from croton.rewrite.pattern import constant_value

    owner = var.owner
    if owner is not None and isinstance(owner.op, Elemwise):
        name = owner.op.scalar_op.name
        if name == "mul":
            for i in (0, 1):
                value = constant_value(owner.inputs[i])
                if value is not None and owner.inputs[i].type.shape in ((), (1, 1)):
                    return value, owner.inputs[1 - i]
        if name == "neg":
            scale, core = _scaled_terms(owner.inputs[0])
            return -scale, core
    return 1, var


def _is_matrix_dot(var) -> bool:
    owner = var.owner
    return (
        owner is not None
        and isinstance(owner.op, Dot)
        and owner.inputs[0].ndim == 2
        and owner.inputs[1].ndim == 2
    )


@node_rewriter(tracks=[("elemwise", "add"), ("elemwise", "sub")], name="gemm")
def scale_and_add_to_gemm(fgraph, node):
    """beta * C + alpha * dot(A, B) -> Gemm(C, alpha, A, B, beta): one BLAS call."""
    from croton.ops.blas import Gemm

    left, right = node.inputs
    sign = -1 if node.op.scalar_op.name == "sub" else 1
    (a_scale, a_core), (b_scale, b_core) = _scaled_terms(left), _scaled_terms(right)
    b_scale = sign * b_scale
    if _is_matrix_dot(b_core) and len(fgraph.clients.get(b_core, ())) == 1:
        (alpha, product), (beta, c) = (b_scale, b_core), (a_scale, a_core)
    elif _is_matrix_dot(a_core) and len(fgraph.clients.get(a_core, ())) == 1:
        (alpha, product), (beta, c) = (a_scale, a_core), (b_scale, b_core)
    else:
        return None
    out = node.outputs[0]
    if c.ndim != 2 or c.dtype != out.dtype or product.dtype != out.dtype or not out.dtype.startswith("float"):
        return None
    a, b = product.owner.inputs
    return [Gemm()(c, tm.as_tensor_variable(alpha).astype(out.dtype), a, b, tm.as_tensor_variable(beta).astype(out.dtype))]


specialize_pass = EquilibriumPass("specialize", [sum_of_product_to_dot, scale_and_add_to_gemm])
specialize_pass.rules(*RULES)
