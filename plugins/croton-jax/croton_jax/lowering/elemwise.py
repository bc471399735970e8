"""Rules for `Elemwise` (every scalar op, composites included) and `DimShuffle`."""

from __future__ import annotations

import numpy as np

from croton.ops.composite import Composite
from croton.ops.elemwise import (
    DimShuffle,
    Elemwise,
    check_runtime_lengths,
    runtime_broadcast_checks,
)
from croton.ops.scalar import ScalarOp
from croton_jax.lazy_jax import jnp
from croton_jax.lowering.common import lowers, out_dtype


def scalar_function(scalar_op: ScalarOp, input_dtypes):
    """A jax function applying ``scalar_op`` to arrays of ``input_dtypes``.

    The arguments are cast to the dtypes croton resolves for the op (as numpy's ufunc
    loop would cast them) and the result to the op's output dtype, so jax's own type
    promotion, which differs from numpy's (``int64 + float32`` is float32 in jax),
    never decides a dtype.
    """
    input_dtypes = [np.dtype(d).name for d in input_dtypes]
    if isinstance(scalar_op, Composite):
        return composite_function(scalar_op)
    arguments, result = scalar_op.resolve(input_dtypes)
    if scalar_op.name == "cast":
        through_signed = np.dtype(input_dtypes[0]).kind == "f" and np.dtype(result).kind == "u"

        def cast(x):
            if through_signed:  # as numpy does, so negative values wrap around
                x = x.astype("int64")
            return x.astype(result)

        return cast
    from croton_jax.scalar_kernels import SCALAR_KERNELS

    kernel = SCALAR_KERNELS[scalar_op.name]
    casts = [None if a == d else a for a, d in zip(arguments, input_dtypes, strict=True)]

    def function(*args):
        if any(casts):
            args = [a if c is None else a.astype(c) for a, c in zip(args, casts, strict=True)]
        return kernel(*args).astype(result)

    return function


def composite_function(composite: Composite):
    """One jax function running a composite's program; XLA fuses it into one loop.

    Each step's result is cast to the step's dtype, exactly as the unfused graph would.
    """
    step_dtypes: list[str] = []
    steps = []
    for scalar_op, args, dtype in composite.program:
        argument_dtypes = []
        for ref in args:
            if ref[0] == "input":
                argument_dtypes.append(composite.input_dtypes[ref[1]])
            elif ref[0] == "step":
                argument_dtypes.append(step_dtypes[ref[1]])
            else:
                argument_dtypes.append(ref[2])
        steps.append((scalar_function(scalar_op, argument_dtypes), args, dtype))
        step_dtypes.append(dtype)

    def run(*inputs):
        values = []
        for function, args, dtype in steps:
            arguments = [
                inputs[ref[1]]
                if ref[0] == "input"
                else values[ref[1]]
                if ref[0] == "step"
                else np.asarray(ref[1], dtype=ref[2])
                for ref in args
            ]
            values.append(function(*arguments).astype(dtype))
        return values[-1]

    return run


@lowers(Elemwise)
def _elemwise(op, node):
    function = scalar_function(op.scalar_op, [x.type.dtype for x in node.inputs])
    dtype = out_dtype(node)
    checks = runtime_broadcast_checks([x.type for x in node.inputs], node.outputs[0].ndim)

    def kernel(*args):
        check_runtime_lengths(checks, args)
        return jnp.asarray(function(*args), dtype=dtype)

    return kernel


@lowers(DimShuffle)
def _dimshuffle(op, node):
    kept, permutation, inserted = op.view_steps()

    def kernel(x):
        if kept is not None:
            x = jnp.reshape(x, [x.shape[i] for i in kept])
        if permutation is not None:
            x = jnp.transpose(x, permutation)
        if inserted:
            x = jnp.expand_dims(x, inserted)
        return x

    return kernel
