"""``specialize``: cheaper forms of the same computation."""

from __future__ import annotations

import numpy as np

from croton.graph.basic import Variable
from croton.ops.blas import Dot
from croton.ops.elemwise import DimShuffle, Elemwise
from croton.ops.reduce import Reduce
from croton.rewrite.engine import EquilibriumPass, node_rewriter
from croton.rewrite.pattern import P
from croton.tensor import math as tm

x = P.var("x")
#: (an integer to the power -1 raises, as in NumPy; its reciprocal would truncate)
inexact = P.var("x", constraint=lambda var: var.dtype.startswith(("float", "complex")))

RULES = [
    (x**2, lambda x: tm.sqr(x), "pow_two_sqr"),  # x ** 2 -> sqr(x)
    (x**0.5, lambda x: tm.sqrt(x), "pow_half_sqrt"),  # x ** 0.5 -> sqrt(x)
    (inexact**-1, lambda x: tm.reciprocal(x), "pow_minus_one_reciprocal"),  # x**-1 -> 1/x
    (x * P.var("x"), lambda x: tm.sqr(x), "mul_self_sqr"),  # x * x -> sqr(x)
]


@node_rewriter(tracks=[Reduce], name="sum_mul_dot")
def sum_of_product_to_dot(fgraph, node):
    """sum(a * b) of two vectors -> dot(a, b)."""
    from croton.tensor.blas import dot

    if node.op.kind != "sum" or node.op.axis != (0,) or node.op.prologue is not None:
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


def _scale_of(var):
    """The scalar that ``var`` broadcasts (a number, or a 0-d variable), or None.

    ``var`` qualifies when all its axes have static length 1.
    """
    from croton.rewrite.pattern import constant_value

    if any(length != 1 for length in var.type.shape):
        return None
    value = constant_value(var)
    if value is not None:
        return value if np.ndim(value) == 0 and np.isrealobj(value) else None
    while var.owner is not None and isinstance(var.owner.op, DimShuffle):
        var = var.owner.inputs[0]
    return var if var.ndim == 0 or all(n == 1 for n in var.type.shape) else None


def _scaled_terms(var):
    """``var`` as ``(scale, core)``, the scale a number or a 0-d variable (1 if none)."""
    owner = var.owner
    if owner is not None and isinstance(owner.op, Elemwise):
        name = owner.op.scalar_op.name
        if name == "mul":
            for i in (0, 1):
                scale = _scale_of(owner.inputs[i])
                if scale is not None:
                    return scale, owner.inputs[1 - i]
        if name == "neg":
            scale, core = _scaled_terms(owner.inputs[0])
            return -scale, core
    return 1, var


def _as_scalar(scale, dtype: str):
    """``scale`` (a number or a variable with only length-1 axes) as a 0-d ``dtype`` tensor."""
    if not isinstance(scale, Variable):
        return tm.as_tensor_variable(np.asarray(scale, dtype=dtype))
    if scale.ndim:
        scale = scale.dimshuffle([])
    return tm.cast(scale, dtype)


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
    """beta * C + alpha * dot(A, B) -> Gemm(C, alpha, A, B, beta): one BLAS call.

    The scales are constants or scalar variables, 1 where absent; ``-`` negates one.
    """
    from croton.ops.blas import Gemm

    left, right = node.inputs
    (a_scale, a_core), (b_scale, b_core) = _scaled_terms(left), _scaled_terms(right)
    if node.op.scalar_op.name == "sub":
        b_scale = -b_scale

    def only_here(term, core) -> bool:  # the product is not needed elsewhere
        return len(fgraph.clients.get(core, ())) == 1 and len(fgraph.clients.get(term, ())) == 1

    if _is_matrix_dot(b_core) and only_here(right, b_core):
        (alpha, product), (beta, c) = (b_scale, b_core), (a_scale, a_core)
    elif _is_matrix_dot(a_core) and only_here(left, a_core):
        (alpha, product), (beta, c) = (a_scale, a_core), (b_scale, b_core)
    else:
        return None
    out = node.outputs[0]
    if c.ndim != 2 or not out.dtype.startswith("float") or {c.dtype, product.dtype} != {out.dtype}:
        return None
    if any(p == 1 and o != 1 for p, o in zip(product.type.shape, out.type.shape)):
        return None  # C, not the product, sets the shape
    a, b = product.owner.inputs
    return [Gemm()(c, _as_scalar(alpha, out.dtype), a, b, _as_scalar(beta, out.dtype))]


specialize_pass = EquilibriumPass("specialize", [sum_of_product_to_dot, scale_and_add_to_gemm])
specialize_pass.rules(*RULES)
