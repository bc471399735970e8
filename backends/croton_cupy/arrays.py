"""Products (cuBLAS), layout, shape, indexing and inner-graph maps.

Each rule is the numpy reference rule with CuPy for NumPy (same dtypes, checks and
errors), except where CuPy differs from NumPy:

- integer-array indices out of bounds wrap around in CuPy; NumPy raises. Every advanced
  index is checked first (one reduction kernel and one synchronisation per index array),
  and an offending index raises NumPy's ``IndexError``.
- a boolean mask whose length differs from its axis raises in NumPy; CuPy lets an empty
  mask through. Mask shapes are checked on the host (shapes are host values).
- ``numpy.add.at`` is ``cupyx.scatter_add``, whose atomic adds exist for int32, int64,
  uint32, uint64 and the float types: smaller integers and booleans accumulate in a
  64-bit copy; complex values accumulate their real and imaginary parts separately.

Shapes, sizes and scalar indices the host needs (``reshape``, ``alloc``, slice bounds)
are read back from the device with ``int(...)``/``.get()``.
"""

from __future__ import annotations

import numpy as np

from croton.compile.host_loops import map_kernel
from croton.compile.program import single_output
from croton.ops.blas import Dot, Gemm, Matmul, check_batch_axes, unchecked_batch_axes
from croton.ops.cumulative import CumOp
from croton.ops.elemwise import DimShuffle
from croton.ops.map import Map
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
    check_mask_shape,
    check_no_runtime_broadcast,
)
from croton_cupy import kernels, runtime
from croton_cupy.lowering import lowers


def _out_dtype(node, i: int = 0) -> np.dtype:
    return np.dtype(node.outputs[i].type.dtype)


# -- layout --------------------------------------------------------------------------------


@lowers(DimShuffle)
def _dimshuffle(op, node):
    kept, permutation, inserted = op.view_steps()
    cupy = runtime.load_cupy()

    def kernel(x):
        if kept is not None:
            x = x.reshape([x.shape[i] for i in kept])
        if permutation is not None:
            x = x.transpose(permutation)
        if inserted:
            x = cupy.expand_dims(x, inserted)
        return x

    return kernel


# -- products ------------------------------------------------------------------------------


@lowers(Dot)
def _dot(op, node):
    dtype = _out_dtype(node)
    cupy = runtime.load_cupy()

    def kernel(a, b):
        return cupy.dot(a, b).astype(dtype, copy=False)

    return kernel


def scale_and_add(dtype) -> object:
    """The kernel ``out = beta * c + alpha * product`` (`Gemm`'s epilogue) for ``dtype``."""
    name = np.dtype(dtype).name
    return kernels.elementwise(
        f"{name} c, {name} alpha, {name} product, {name} beta",
        f"{name} out",
        "out = beta * c + alpha * product",
    )


@lowers(Gemm)
def _gemm(op, node):
    dtype = _out_dtype(node)
    epilogue = scale_and_add(dtype)
    cupy = runtime.load_cupy()

    def kernel(c, alpha, a, b, beta):
        # one cuBLAS product, then one elementwise pass writing over it: ``beta * c`` is
        # formed even where beta is 0, so nan and inf in C propagate as in NumPy
        product = cupy.matmul(a, b).astype(dtype, copy=False)
        if np.broadcast_shapes(product.shape, c.shape) != product.shape:
            return epilogue(c, alpha, product, beta)  # C stretches a product of one row
        return epilogue(c, alpha, product, beta, product)

    return kernel


@lowers(Matmul)
def _matmul(op, node):
    dtype = _out_dtype(node)
    checked = unchecked_batch_axes(*(x.type for x in node.inputs))
    cupy = runtime.load_cupy()

    def kernel(a, b):
        check_batch_axes(a.shape, b.shape, checked)
        return cupy.matmul(a, b).astype(dtype, copy=False)

    return kernel


# -- shapes --------------------------------------------------------------------------------


@lowers(Shape)
def _shape(op, node):
    cupy = runtime.load_cupy()

    def kernel(x):
        return cupy.asarray(np.asarray(x.shape, dtype="int64"))

    return kernel


@lowers(Reshape)
def _reshape(op, node):
    cupy = runtime.load_cupy()

    def kernel(x, shape):
        return cupy.reshape(x, tuple(shape.tolist()))

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
    cupy = runtime.load_cupy()

    def kernel(value, *shape):
        shape = tuple(int(s) for s in shape)
        check_alloc_value(shape, value.shape, unknown)
        out = cupy.empty(shape, dtype=dtype)
        out[...] = value
        return out

    return kernel


@lowers(Join)
def _join(op, node):
    axis = op.axis
    cupy = runtime.load_cupy()

    def kernel(*tensors):
        return cupy.concatenate(tensors, axis=axis)

    return kernel


@lowers(Split)
def _split(op, node):
    axis, n = op.axis, op.n_splits
    cupy = runtime.load_cupy()

    def kernel(x, sizes):
        sizes = sizes.get()
        check_split_sizes(sizes, x.shape[axis], n)
        return tuple(cupy.split(x, np.cumsum(sizes)[:-1].tolist(), axis=axis))

    return single_output(kernel, node)


@lowers(ARange)
def _arange(op, node):
    dtype = _out_dtype(node)
    integral = all(x.dtype.startswith(("int", "uint")) for x in node.inputs)
    # CuPy fills start + i * step in the output dtype: NumPy's values exactly when the
    # bounds are integers; otherwise NumPy's own arange runs on the host and is copied
    on_device = integral and dtype.kind in "iuf"
    cupy = runtime.load_cupy()

    def kernel(start, stop, step):
        start, stop, step = start.get(), stop.get(), step.get()
        check_arange_step(step)
        if on_device:
            return cupy.arange(int(start), int(stop), int(step), dtype=dtype)
        return cupy.asarray(np.arange(start, stop, step, dtype=dtype))

    return kernel


@lowers(Eye)
def _eye(op, node):
    dtype = _out_dtype(node)
    cupy = runtime.load_cupy()

    def kernel(n, m, k):
        return cupy.eye(int(n), int(m), int(k), dtype=dtype)

    return kernel


@lowers(CumOp)
def _cumulative(op, node):
    cupy = runtime.load_cupy()
    accumulate = cupy.cumsum if op.mode == "add" else cupy.cumprod
    axis, dtype = op.axis, _out_dtype(node)

    def kernel(x):
        return accumulate(x, axis=axis, dtype=dtype)

    return kernel


@lowers(Sort, ArgSort)
def _sort(op, node):
    """CuPy's sorts are stable (radix sorts): every kind gives the stable order."""
    cupy = runtime.load_cupy()
    axis = op.axis
    if isinstance(op, Sort):
        return lambda x: cupy.sort(x, axis=axis, kind="stable")
    return lambda x: cupy.argsort(x, axis=axis, kind="stable").astype(np.int64, copy=False)


@lowers(Repeat)
def _repeat(op, node):
    axis = op.axis
    cupy = runtime.load_cupy()

    def kernel(x, repeats):
        if not np.can_cast(repeats.dtype, np.intp, "safe"):
            raise TypeError(
                f"Cannot cast array data from {repeats.dtype!r} to {np.dtype(np.intp)!r} "
                "according to the rule 'safe'"
            )
        if repeats.ndim == 1:
            return cupy.repeat(x, repeats, axis=axis)
        # a 0-d count reaches CuPy as a host int (its array path takes 1-d counts)
        count = int(repeats)
        if count < 0:
            raise ValueError("negative dimensions are not allowed")
        return cupy.repeat(x, count, axis=axis)

    return kernel


# -- indexing ------------------------------------------------------------------------------


def out_of_range_check(dtype):
    """A reduction: whether any entry of an index array of ``dtype`` falls outside a length.

    ``check(index, numpy.int64(length))`` is a 0-d bool device array, true when some
    entry is ``< -length`` or ``>= length`` (NumPy's bounds for an index into an axis).
    """
    name = np.dtype(dtype).name
    if name.startswith("uint"):
        outside = "index >= length"  # (-length would wrap around in unsigned arithmetic)
    else:
        outside = "index < -length || index >= length"
    return kernels.reduction(
        f"{name} index, int64 length",
        "bool out",
        f"({outside})",
        "a || b",
        "out = a",
        "false",
        "bool",
    )


def check_index_bounds(checks) -> None:
    """Raise NumPy's ``IndexError`` if an integer index array leaves the axis it indexes.

    One reduction per array, and one synchronisation for them all.

    Parameters
    ----------
    checks
        ``(index, length, axis)`` triples: a device array of integers, the length of the
        axis it indexes and the axis's position (for the message).
    """
    checks = [(index, length, axis) for index, length, axis in checks if index.size]
    if not checks:
        return
    flags = [
        out_of_range_check(index.dtype)(index, np.int64(length)) for index, length, _ in checks
    ]
    if len(flags) == 1:
        outside = [bool(flags[0])]
    else:
        outside = runtime.load_cupy().stack(flags).get().tolist()
    for (index, length, axis), flagged in zip(checks, outside, strict=True):
        if flagged:
            host = index.get().ravel()
            below = (host < -length) if host.dtype.kind == "i" else False
            bad = host[(host >= length) | below]
            raise IndexError(
                f"index {int(bad[0])} is out of bounds for axis {axis} with size {length}"
            )


def _check_advanced(spec, x_shape: tuple, where: tuple) -> None:
    """NumPy's checks on the arrays of an index, which CuPy does not make."""
    checks = []
    axis = 0
    for entry, item in zip(spec, where, strict=True):
        kind = entry[0]
        if axis + (item.ndim if kind == "mask" else 1) > len(x_shape):
            break  # too many indices: CuPy says so
        if kind == "array":
            checks.append((item, x_shape[axis], axis))
            axis += 1
        elif kind == "mask":
            check_mask_shape(item.shape, x_shape, axis)
            axis += item.ndim
        else:
            axis += 1
    check_index_bounds(checks)


@lowers(Subtensor)
def _subtensor(op, node):
    spec = op.spec
    advanced = any(entry[0] in ("array", "mask") for entry in spec)

    def kernel(x, *index):
        where = build_index(spec, index)
        if advanced:
            _check_advanced(spec, x.shape, where)
        return x[where]

    return kernel


def _masks_to_arrays(spec, x_shape: tuple, where: tuple) -> tuple:
    """Boolean masks replaced by their integer coordinates, each checked against its axis.

    As in the numpy rule (``numpy.add.at`` of ``numpy.nonzero``): a mask is not checked
    against its axis's length, but the coordinates it gives are.
    """
    cupy = runtime.load_cupy()
    result = []
    checks = []
    axis = 0
    for entry, item in zip(spec, where, strict=True):
        kind = entry[0]
        if kind == "mask":
            for coordinates in cupy.nonzero(item):
                if axis < len(x_shape):
                    checks.append((coordinates, x_shape[axis], axis))
                result.append(coordinates)
                axis += 1
            continue
        if kind == "array" and axis < len(x_shape):
            checks.append((item, x_shape[axis], axis))
        result.append(item)
        axis += 1
    check_index_bounds(checks)
    return tuple(result)


#: the dtypes ``cupyx.scatter_add`` adds atomically (CuPy 14)
_ATOMIC_ADD = frozenset(("int32", "int64", "uint32", "uint64", "float16", "float32", "float64"))


def scatter_add(out, where: tuple, values) -> None:
    """``numpy.add.at(out, where, values)`` on the device, in place, for every dtype.

    ``out`` must be C-contiguous (a fresh copy).
    """
    import cupyx

    cupy = runtime.load_cupy()
    dtype = out.dtype
    if dtype.name in _ATOMIC_ADD:
        cupyx.scatter_add(out, where, values)
    elif dtype.kind == "c":
        # the real and imaginary parts, each a float array of out's shape
        parts = out.view(dtype=f"float{dtype.itemsize * 4}").reshape(*out.shape, 2)
        values = cupy.asarray(values, dtype=dtype)
        cupyx.scatter_add(parts, where, cupy.stack([values.real, values.imag], axis=-1))
    else:
        # bool, 8- and 16-bit integers: sum in 64 bits, then wrap (or test) as NumPy does
        wide = out.astype("int64")
        cupyx.scatter_add(wide, where, cupy.asarray(values).astype("int64"))
        out[...] = wide.astype(dtype)


@lowers(IncSubtensor)
def _incsubtensor(op, node):
    spec = op.spec
    advanced = op.is_advanced
    accumulate = advanced and not op.set_instead_of_inc
    set_values = op.set_instead_of_inc
    y_type = node.inputs[1].type
    unknown_axes = [axis for axis, length in enumerate(y_type.shape) if length is None]

    def kernel(x, y, *index):
        out = x.copy()
        where = build_index(spec, index)
        if accumulate:
            where = _masks_to_arrays(spec, x.shape, where)
        elif advanced:
            _check_advanced(spec, x.shape, where)
        if unknown_axes and any(y.shape[axis] == 1 for axis in unknown_axes):
            check_no_runtime_broadcast(x[where].shape, y.shape, unknown_axes)
        if set_values:
            out[where] = y
        elif accumulate:
            scatter_add(out, where, y)
        else:
            out[where] += y
        return out

    return kernel


# -- inner graphs --------------------------------------------------------------------------


@lowers(Map)
def _map(op, node):
    from croton_cupy.backend import CupyBackend

    kernel = map_kernel(op, node, CupyBackend.shared().compile, lambda: runtime.load_cupy())
    return single_output(kernel, node)
