"""The numpy backend's lowering rules: ``rule(op, node) -> kernel(*input_values)``.

A kernel returns its output as an ndarray of exactly the node's output dtype (a tuple
for a multi-output node).
"""

from __future__ import annotations

import numpy as np

from croton.backend import LoweringRegistry
from croton.compile.host_loops import map_kernel
from croton.compile.program import single_output
from croton.ops.blas import Dot, Gemm, Matmul, check_batch_axes, unchecked_batch_axes
from croton.ops.composite import Composite
from croton.ops.cumulative import CumOp
from croton.ops.elemwise import (
    DimShuffle,
    Elemwise,
    check_runtime_lengths,
    runtime_broadcast_checks,
)
from croton.ops.map import Map
from croton.ops.nnet import CrossEntropySoftmax, LogSoftmax, Softmax, check_target_classes
from croton.ops.reduce import Argmax, Reduce
from croton.ops.shape import (
    Alloc,
    ARange,
    Eye,
    Join,
    Repeat,
    Reshape,
    Shape,
    SpecifyShape,
    Split,
    check_alloc_value,
    check_arange_step,
    check_specified_shape,
    check_split_sizes,
)
from croton.ops.sort import ArgSort, Sort
from croton.ops.subtensor import (
    IncSubtensor,
    Subtensor,
    build_index,
    check_no_runtime_broadcast,
)
from croton_numpy.scalar_kernels import SCALAR_KERNELS

registry = LoweringRegistry("numpy")
lowers = registry.lowers


def _out_dtype(node, i: int = 0) -> np.dtype:
    return np.dtype(node.outputs[i].type.dtype)


def composite_function(composite: Composite):
    """Run a composite's steps one after another on whole arrays, as unfused."""
    steps = []
    for scalar_op, args, dtype in composite.program:
        if scalar_op.name == "cast":
            function = None
        else:
            function = SCALAR_KERNELS[scalar_op.name]
        steps.append((function, args, np.dtype(dtype)))

    def run(*inputs):
        values = []
        for function, args, dtype in steps:
            arguments = [
                inputs[a[1]]
                if a[0] == "input"
                else values[a[1]]
                if a[0] == "step"
                else np.asarray(a[1], dtype=a[2])
                for a in args
            ]
            result = arguments[0].astype(dtype) if function is None else function(*arguments)
            values.append(np.asarray(result, dtype=dtype))
        return values[-1]

    return run


@lowers(Elemwise)
def _elemwise(op, node):
    dtype = _out_dtype(node)
    name = op.scalar_op.name
    if name == "cast":

        def function(x):
            return x.astype(dtype)

    elif isinstance(op.scalar_op, Composite):
        function = composite_function(op.scalar_op)
    else:
        function = SCALAR_KERNELS[name]
    checks = runtime_broadcast_checks([x.type for x in node.inputs], node.outputs[0].ndim)
    if not checks:

        def kernel(*args):
            return np.asarray(function(*args), dtype=dtype)

        return kernel

    def checked(*args):
        check_runtime_lengths(checks, args)
        return np.asarray(function(*args), dtype=dtype)

    return checked


@lowers(DimShuffle)
def _dimshuffle(op, node):
    kept, permutation, inserted = op.view_steps()

    def kernel(x):
        if kept is not None:
            x = x.reshape([x.shape[i] for i in kept])
        if permutation is not None:
            x = x.transpose(permutation)
        if inserted:
            x = np.expand_dims(x, inserted)
        return x

    return kernel


_REDUCERS = {
    "sum": np.sum,
    "prod": np.prod,
    "max": np.max,
    "min": np.min,
    "all": np.all,
    "any": np.any,
}


@lowers(Reduce)
def _reduce(op, node):
    dtype = _out_dtype(node)
    reducer = _REDUCERS[op.kind]
    axis = op.axis
    if op.kind in ("sum", "prod"):

        def kernel(x):
            return np.asarray(reducer(x, axis=axis, dtype=dtype))

    else:

        def kernel(x):
            return np.asarray(reducer(x, axis=axis), dtype=dtype)

    if op.prologue is None:
        return kernel
    prologue = composite_function(op.prologue)
    mapped = op._mapped(node.inputs)
    checks = runtime_broadcast_checks([x.type for x in mapped.inputs], mapped.outputs[0].ndim)

    def fused(*inputs):
        check_runtime_lengths(checks, inputs)
        return kernel(np.asarray(prologue(*inputs), dtype=mapped.outputs[0].dtype))

    return fused


@lowers(Argmax)
def _argmax(op, node):
    find = np.argmax if op.kind == "max" else np.argmin
    axis = op.axis

    def kernel(x):
        return np.asarray(find(x, axis=axis), dtype="int64")

    return kernel


@lowers(Dot)
def _dot(op, node):
    dtype = _out_dtype(node)

    def kernel(a, b):
        return np.asarray(np.dot(a, b), dtype=dtype)

    return kernel


@lowers(Gemm)
def _gemm(op, node):
    dtype = _out_dtype(node)

    def kernel(c, alpha, a, b, beta):
        return np.asarray(beta * c + alpha * np.dot(a, b), dtype=dtype)

    return kernel


@lowers(Matmul)
def _matmul(op, node):
    dtype = _out_dtype(node)
    checked = unchecked_batch_axes(*(x.type for x in node.inputs))

    def kernel(a, b):
        check_batch_axes(a.shape, b.shape, checked)
        return np.asarray(np.matmul(a, b), dtype=dtype)

    return kernel


@lowers(Softmax)
def _softmax(op, node):
    axis = op.axis

    def kernel(x):
        shifted = np.exp(x - np.max(x, axis=axis, keepdims=True, initial=-np.inf))
        return shifted / np.sum(shifted, axis=axis, keepdims=True)

    return kernel


@lowers(LogSoftmax)
def _logsoftmax(op, node):
    axis = op.axis

    def kernel(x):
        shifted = x - np.max(x, axis=axis, keepdims=True, initial=-np.inf)
        return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))

    return kernel


@lowers(CrossEntropySoftmax)
def _crossentropy_softmax(op, node):
    def kernel(x, y):
        if y.size:
            check_target_classes(y.min(), y.max(), x.shape[1])
        shifted = x - np.max(x, axis=1, keepdims=True)
        log_probabilities = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
        return -log_probabilities[np.arange(x.shape[0]), y]

    return kernel


@lowers(Shape)
def _shape(op, node):
    def kernel(x):
        return np.asarray(x.shape, dtype="int64")

    return kernel


@lowers(Reshape)
def _reshape(op, node):
    def kernel(x, shape):
        return np.reshape(x, tuple(shape.tolist()))

    return kernel


@lowers(SpecifyShape)
def _specify_shape(op, node):
    expected = op.shape

    def kernel(x):
        check_specified_shape(expected, x.shape)
        return x

    return kernel


@lowers(Alloc)
def _alloc(op, node):
    dtype = _out_dtype(node)
    unknown = [i for i, s in enumerate(node.inputs[0].type.shape) if s is None]

    def kernel(value, *shape):
        shape = tuple(int(s) for s in shape)
        check_alloc_value(shape, value.shape, unknown)
        out = np.empty(shape, dtype=dtype)
        out[...] = value
        return out

    return kernel


@lowers(Join)
def _join(op, node):
    axis = op.axis

    def kernel(*tensors):
        return np.concatenate(tensors, axis=axis)

    return kernel


@lowers(Split)
def _split(op, node):
    axis, n = op.axis, op.n_splits

    def kernel(x, sizes):
        check_split_sizes(sizes, x.shape[axis], n)
        return tuple(np.split(x, np.cumsum(sizes)[:-1], axis=axis))

    return single_output(kernel, node)


@lowers(ARange)
def _arange(op, node):
    dtype = _out_dtype(node)

    def kernel(start, stop, step):
        check_arange_step(step)
        return np.arange(start, stop, step, dtype=dtype)

    return kernel


@lowers(Eye)
def _eye(op, node):
    dtype = _out_dtype(node)

    def kernel(n, m, k):
        return np.eye(int(n), int(m), int(k), dtype=dtype)

    return kernel


@lowers(CumOp)
def _cumulative(op, node):
    accumulate = np.cumsum if op.mode == "add" else np.cumprod
    axis, dtype = op.axis, np.dtype(node.outputs[0].type.dtype)

    def kernel(x):
        return accumulate(x, axis=axis, dtype=dtype)

    return kernel


@lowers(Sort, ArgSort)
def _sort(op, node):
    axis, kind = op.axis, op.kind
    if isinstance(op, Sort):
        return lambda x: np.sort(x, axis=axis, kind=kind)
    return lambda x: np.argsort(x, axis=axis, kind=kind).astype(np.int64, copy=False)


@lowers(Repeat)
def _repeat(op, node):
    axis = op.axis

    def kernel(x, repeats):
        return np.repeat(x, repeats, axis=axis)

    return kernel


@lowers(Subtensor)
def _subtensor(op, node):
    spec = op.spec

    def kernel(x, *index):
        return np.asarray(x[build_index(spec, index)])

    return kernel


def _masks_to_arrays(index: tuple) -> tuple:
    """Boolean masks replaced by their integer coordinates (for ``numpy.add.at``)."""
    result = []
    for item in index:
        if isinstance(item, np.ndarray) and item.dtype == bool:
            result.extend(np.nonzero(item))
        else:
            result.append(item)
    return tuple(result)


@lowers(IncSubtensor)
def _incsubtensor(op, node):
    spec = op.spec
    accumulate = op.is_advanced and not op.set_instead_of_inc
    set_values = op.set_instead_of_inc
    y_type = node.inputs[1].type
    unknown_axes = [axis for axis, length in enumerate(y_type.shape) if length is None]

    def kernel(x, y, *index):
        out = x.copy()
        where = build_index(spec, index)
        if unknown_axes and any(y.shape[axis] == 1 for axis in unknown_axes):
            check_no_runtime_broadcast(x[where].shape, y.shape, unknown_axes)
        if set_values:
            out[where] = y
        elif accumulate:
            np.add.at(out, _masks_to_arrays(where), y)
        else:
            out[where] += y
        return out

    return kernel


@lowers(Map)
def _map(op, node):
    from croton_numpy.backend import NumpyBackend

    kernel = map_kernel(op, node, NumpyBackend.shared().compile, lambda: np)
    return single_output(kernel, node)


# the rules of the ops with modules of their own
from croton_numpy import conv, ifelse, linalg, pool, random, scan  # noqa: E402,F401,I001
