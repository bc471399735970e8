"""The user API with Theano's names: ``import croton.tensor as T``."""

from __future__ import annotations

from croton.graph.type import TensorType
from croton.tensor import extra_ops, linalg, nlinalg, nnet, signal, slinalg
from croton.tensor.basic import CONSTRUCTORS, tensor
from croton.tensor.blas import batched_dot, dot, inner, kron, matmul, outer, tensordot, vdot
from croton.tensor.extra_ops import (
    argsort,
    bartlett,
    compress,
    cumprod,
    cumsum,
    diff,
    fill_diagonal,
    fill_diagonal_offset,
    geomspace,
    linspace,
    logspace,
    sort,
)
from croton.tensor.math import *  # noqa: F403
from croton.tensor.math import abs, all, any, max, min, pow, round, sum  # noqa: F401
from croton.tensor.shape import (
    addbroadcast,
    alloc,
    arange,
    atleast_1d,
    atleast_2d,
    atleast_3d,
    broadcast_to,
    concatenate,
    empty_like,
    expand_dims,
    eye,
    fill,
    flatten,
    flip,
    full,
    full_like,
    horizontal_stack,
    identity_like,
    join,
    matrix_transpose,
    moveaxis,
    ones,
    ones_like,
    patternbroadcast,
    repeat,
    reshape,
    roll,
    second,
    shape,
    shape_padaxis,
    shape_padleft,
    shape_padright,
    specify_shape,
    split,
    squeeze,
    stack,
    stacklists,
    swapaxes,
    tile,
    tri,
    tril,
    triu,
    unbroadcast,
    vertical_stack,
    zeros,
    zeros_like,
)
from croton.tensor.subtensor import (
    diag,
    diagonal,
    flatnonzero,
    inc_subtensor,
    nonzero,
    nonzero_values,
    set_subtensor,
    take,
    trace,
)
from croton.tensor.variable import (
    TensorConstant,
    TensorVariable,
    as_tensor_variable,
    constant,
)

globals().update(CONSTRUCTORS)
as_tensor = as_tensor_variable
transpose = lambda x, axes=None: as_tensor_variable(x).transpose(*(axes or ()))  # noqa: E731


def __getattr__(name):
    # grad, Lop, Rop and jacobian live in croton.gradient; imported lazily to avoid a cycle
    if name in ("grad", "Lop", "Rop", "jacobian", "hessian", "verify_grad"):
        from croton import gradient

        return getattr(gradient, name)
    if name in ("shared_randomstreams", "random"):
        # imported on first use: it needs croton.compile, which imports this package
        import importlib

        return importlib.import_module("croton.tensor.shared_randomstreams")
    raise AttributeError(f"module 'croton.tensor' has no attribute {name!r}")
