"""Rules for reductions, matrix products and the softmax family."""

from __future__ import annotations

from croton.ops.blas import Dot, Gemm, Matmul, check_batch_axes, unchecked_batch_axes
from croton.ops.elemwise import check_runtime_lengths, runtime_broadcast_checks
from croton.ops.nnet import CrossEntropySoftmax, LogSoftmax, Softmax
from croton.ops.reduce import Argmax, Reduce
from croton_jax.checks import require
from croton_jax.lazy_jax import jnp, lax
from croton_jax.lowering.common import (
    lowers,
    out_dtype,
    within,
)
from croton_jax.lowering.elemwise import scalar_function

_NUMPY_NAMES = {"max": "maximum", "min": "minimum"}


def _reducer(kind: str):
    return {
        "sum": jnp.sum,
        "prod": jnp.prod,
        "max": jnp.max,
        "min": jnp.min,
        "all": jnp.all,
        "any": jnp.any,
    }[kind]


def _check_not_empty(kind: str, shape, axis) -> None:
    """numpy's max and min refuse to reduce an axis of length zero (no identity)."""
    if any(shape[a] == 0 for a in axis):
        raise ValueError(
            f"zero-size array to reduction operation {_NUMPY_NAMES[kind]} which has no identity"
        )


@lowers(Reduce)
def _reduce(op, node):
    dtype = out_dtype(node)
    kind, axis = op.kind, op.axis

    def reduce(x):
        if kind in ("sum", "prod"):
            return _reducer(kind)(x, axis=axis, dtype=dtype)
        if kind in ("max", "min"):
            _check_not_empty(kind, x.shape, axis)
        return _reducer(kind)(x, axis=axis).astype(dtype)

    if op.prologue is None:
        return reduce
    prologue = scalar_function(op.prologue, [x.type.dtype for x in node.inputs])
    mapped_dtype = op.prologue.program[-1][2]
    checks = runtime_broadcast_checks([x.type for x in node.inputs], node.inputs[0].ndim)

    def fused(*inputs):
        check_runtime_lengths(checks, inputs)
        mapped = jnp.asarray(prologue(*inputs)).astype(mapped_dtype)
        return reduce(mapped)

    return fused


@lowers(Argmax)
def _argmax(op, node):
    find = jnp.argmax if op.kind == "max" else jnp.argmin
    axis = op.axis

    def kernel(x):
        if (x.size == 0) if axis is None else (x.shape[axis] == 0):
            raise ValueError(f"attempt to get arg{op.kind} of an empty sequence")
        return find(x, axis=axis).astype("int64")

    return kernel


def _product(a, b, matmul: bool = False):
    """``numpy.dot`` or ``numpy.matmul``, at full precision (never TF32 or bfloat16 passes)."""
    function = jnp.matmul if matmul else jnp.dot
    inner = a.shape[-1], b.shape[-2] if b.ndim > 1 else b.shape[0]
    if inner[0] != inner[1]:
        raise ValueError(
            f"shapes {tuple(a.shape)} and {tuple(b.shape)} not aligned: "
            f"{inner[0]} (dim {a.ndim - 1}) != {inner[1]} (dim {max(b.ndim - 2, 0)})"
        )
    if a.dtype == jnp.bool_:  # numpy: a logical or of ands
        counts = function(a.astype("int64"), b.astype("int64"))
        return counts != 0
    return function(a, b, precision=lax.Precision.HIGHEST)


@lowers(Dot)
def _dot(op, node):
    dtype = out_dtype(node)

    def kernel(a, b):
        return _product(a, b).astype(dtype)

    return kernel


@lowers(Gemm)
def _gemm(op, node):
    dtype = out_dtype(node)

    def kernel(c, alpha, a, b, beta):
        return (beta * c + alpha * _product(a, b)).astype(dtype)

    return kernel


@lowers(Matmul)
def _matmul(op, node):
    dtype = out_dtype(node)
    checked = unchecked_batch_axes(*(x.type for x in node.inputs))

    def kernel(a, b):
        check_batch_axes(a.shape, b.shape, checked)
        return _product(a, b, matmul=True).astype(dtype)

    return kernel


@lowers(Softmax)
def _softmax(op, node):
    axis = op.axis
    dtype = out_dtype(node)

    def kernel(x):
        shifted = jnp.exp(x - jnp.max(x, axis=axis, keepdims=True, initial=-jnp.inf))
        return (shifted / jnp.sum(shifted, axis=axis, keepdims=True)).astype(dtype)

    return kernel


@lowers(LogSoftmax)
def _logsoftmax(op, node):
    axis = op.axis
    dtype = out_dtype(node)

    def kernel(x):
        shifted = x - jnp.max(x, axis=axis, keepdims=True, initial=-jnp.inf)
        total = jnp.sum(jnp.exp(shifted), axis=axis, keepdims=True)
        return (shifted - jnp.log(total)).astype(dtype)

    return kernel


@lowers(CrossEntropySoftmax)
def _crossentropy_softmax(op, node):
    dtype = out_dtype(node)

    def kernel(x, y):
        rows, classes = x.shape
        # numpy's order: the range of the targets, then the row maximum, then the lookup
        if y.size and classes == 0:
            raise IndexError(f"target classes out of range for {classes} classes")
        require(
            within(y, classes),
            IndexError,
            f"target classes out of range for {classes} classes",
        )
        if classes == 0:
            raise ValueError("zero-size array to reduction operation maximum which has no identity")
        if y.shape[0] not in (rows, 1):
            raise IndexError(
                "shape mismatch: indexing arrays could not be broadcast together with shapes "
                f"({rows},) ({y.shape[0]},)"
            )
        shifted = x - jnp.max(x, axis=1, keepdims=True, initial=-jnp.inf)
        log_probabilities = shifted - jnp.log(jnp.sum(jnp.exp(shifted), axis=1, keepdims=True))
        if y.dtype.kind == "i":
            y = jnp.where(y < 0, y.astype("int64") + classes, y)
        picked = log_probabilities[jnp.arange(rows), y]
        return (-picked).astype(dtype)

    return kernel
