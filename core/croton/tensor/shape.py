"""Shape manipulation and array creation with Theano's names."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from croton.graph.type import normalize_dtype
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
)
from croton.tensor.variable import as_tensor_variable, constant

_shape_op = Shape()
_alloc_op = Alloc()


def shape(x):
    """The shape of ``x`` as a symbolic int64 vector."""
    return _shape_op(as_tensor_variable(x))


def _shape_vector(new_shape):
    """A shape given as ints, scalars or a vector, as an int64 vector variable."""
    from croton.tensor.math import cast

    if isinstance(new_shape, (int, np.integer)):
        new_shape = (new_shape,)
    if isinstance(new_shape, (list, tuple)):
        if all(isinstance(s, (int, np.integer)) for s in new_shape):
            return constant(np.asarray(new_shape, dtype="int64"))
        return stack([cast(as_tensor_variable(s), "int64") for s in new_shape])
    new_shape = as_tensor_variable(new_shape)
    return new_shape if new_shape.dtype == "int64" else cast(new_shape, "int64")


def reshape(x, newshape, ndim: int | None = None):
    """``x`` with a new shape; one entry may be -1."""
    x = as_tensor_variable(x)
    vector = _shape_vector(newshape)
    if ndim is None:
        ndim = vector.type.shape[0]
        if ndim is None:
            raise ValueError(f"reshape of {x}: the number of dimensions is unknown; pass ndim=")
    return Reshape(ndim)(x, vector)


def flatten(x, ndim: int = 1, outdim: int | None = None):
    """Collapse the trailing dimensions of ``x`` so that ``ndim`` remain."""
    x = as_tensor_variable(x)
    ndim = outdim if outdim is not None else ndim
    if not 1 <= ndim <= max(x.ndim, 1):
        raise ValueError(f"flatten: ndim={ndim} is out of range for {x.ndim}-d {x}")
    s = shape(x)
    return reshape(x, [s[i] for i in range(ndim - 1)] + [-1], ndim=ndim)


def squeeze(x, axis=None):
    """Drop axes of static length 1 (all of them, or those in ``axis``)."""
    x = as_tensor_variable(x)
    if axis is None:
        drop = [i for i, s in enumerate(x.type.shape) if s == 1]
    else:
        drop = [a % x.ndim for a in ([axis] if isinstance(axis, int) else axis)]
        x = specify_shape(x, [1 if i in drop else s for i, s in enumerate(x.type.shape)])
    return x.dimshuffle([i for i in range(x.ndim) if i not in drop])


def specify_shape(x, static_shape: Sequence[int | None]):
    """``x`` with a declared static shape, checked when the function runs."""
    x = as_tensor_variable(x)
    if tuple(static_shape) == x.type.shape:
        return x
    return SpecifyShape(static_shape)(x)


def addbroadcast(x, *axes):
    """Declare ``axes`` of ``x`` to have length 1, so they broadcast."""
    x = as_tensor_variable(x)
    return specify_shape(x, [1 if i in axes else s for i, s in enumerate(x.type.shape)])


def unbroadcast(x, *axes):
    """Forget that ``axes`` of ``x`` have length 1."""
    x = as_tensor_variable(x)
    return specify_shape(x, [None if i in axes else s for i, s in enumerate(x.type.shape)])


def patternbroadcast(x, broadcastable: Sequence[bool]):
    """Set the broadcastable pattern of ``x``."""
    x = as_tensor_variable(x)
    return specify_shape(x, [1 if b else (s if s != 1 else None) for b, s in zip(broadcastable, x.type.shape)])


def alloc(value, *shape):
    """An array of ``shape`` filled with ``value`` (broadcast from the right)."""
    return _alloc_op(as_tensor_variable(value), *shape)


def broadcast_to(x, shape_):
    """``x`` broadcast to ``shape_`` (a new array)."""
    if isinstance(shape_, (list, tuple)):
        return alloc(x, *shape_)
    shape_ = as_tensor_variable(shape_)
    return alloc(x, *[shape_[i] for i in range(shape_.type.shape[0])])


def _filled(value, shape_, dtype):
    dtype = normalize_dtype("floatX" if dtype is None else dtype)
    if isinstance(shape_, (int, np.integer)):
        shape_ = (shape_,)
    if not isinstance(shape_, (list, tuple)):
        shape_ = as_tensor_variable(shape_)
        shape_ = [shape_[i] for i in range(shape_.type.shape[0])]
    return alloc(constant(np.asarray(value, dtype=dtype)), *shape_)


def zeros(shape_, dtype=None):
    """An array of zeros (``floatX`` by default)."""
    return _filled(0, shape_, dtype)


def ones(shape_, dtype=None):
    """An array of ones (``floatX`` by default)."""
    return _filled(1, shape_, dtype)


def full(shape_, fill_value, dtype=None):
    """An array filled with ``fill_value``."""
    if dtype is None:
        dtype = np.asarray(fill_value).dtype.name
    return _filled(fill_value, shape_, dtype)


def _like(x, value, dtype):
    x = as_tensor_variable(x)
    dtype = x.dtype if dtype is None else normalize_dtype(dtype)
    s = shape(x)
    return alloc(constant(np.asarray(value, dtype=dtype)), *[s[i] for i in range(x.ndim)])


def zeros_like(x, dtype=None):
    """Zeros of the shape (and dtype, by default) of ``x``."""
    return _like(x, 0, dtype)


def ones_like(x, dtype=None):
    """Ones of the shape (and dtype, by default) of ``x``."""
    return _like(x, 1, dtype)


def fill(model, value):
    """``value`` broadcast to the shape of ``model`` (Theano's ``fill``)."""
    value = as_tensor_variable(value)
    model = as_tensor_variable(model)
    s = shape(model)
    return alloc(value, *[s[i] for i in range(model.ndim)])


second = fill


def join(axis: int, *tensors):
    """Concatenate ``tensors`` along ``axis`` (Theano's argument order)."""
    tensors = [as_tensor_variable(t) for t in tensors]
    if len(tensors) == 1:
        return tensors[0]
    ndim = tensors[0].ndim
    return Join(axis % ndim if ndim else axis)(*tensors)


def concatenate(tensor_list, axis: int = 0):
    """Concatenate a list of tensors along ``axis``."""
    return join(axis, *tensor_list)


def stack(tensors, axis: int = 0):
    """Stack equal-shape tensors along a new axis."""
    tensors = [as_tensor_variable(t) for t in tensors]
    ndim = tensors[0].ndim
    axis = axis % (ndim + 1)
    pattern = list(range(axis)) + ["x"] + list(range(axis, ndim))
    return join(axis, *[t.dimshuffle(pattern) for t in tensors])


def split(x, splits_size, n_splits: int, axis: int = 0):
    """Split ``x`` along ``axis`` into pieces of lengths ``splits_size``."""
    x = as_tensor_variable(x)
    sizes = _shape_vector(splits_size)
    outputs = Split(n_splits, axis % x.ndim)(x, sizes)
    return outputs if isinstance(outputs, list) else [outputs]


def arange(start, stop=None, step=1, dtype=None):
    """``numpy.arange`` as a graph; the dtype follows NumPy's for the arguments."""
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        dtype = np.result_type(*[as_tensor_variable(v).dtype if hasattr(v, "type") else v for v in (start, stop, step)])
        dtype = "int64" if dtype.kind in "biu" else dtype.name
    dtype = normalize_dtype(dtype)
    from croton.tensor.math import cast

    args = [cast(as_tensor_variable(v), dtype) for v in (start, stop, step)]
    return ARange(dtype)(*args)


def eye(n, m=None, k: int = 0, dtype=None):
    """An ``n`` by ``m`` matrix with ones on diagonal ``k``."""
    dtype = normalize_dtype("floatX" if dtype is None else dtype)
    return Eye(dtype)(n, n if m is None else m, k)


def identity_like(x, dtype=None):
    """An identity matrix of the shape of matrix ``x``."""
    x = as_tensor_variable(x)
    return eye(x.shape[0], x.shape[1], 0, dtype or x.dtype)


def tile(x, reps):
    """``numpy.tile``: ``reps`` is a tuple of ints or integer scalars."""
    x = as_tensor_variable(x)
    reps = list(reps) if isinstance(reps, (list, tuple)) else [reps]
    ndim = max(x.ndim, len(reps))
    reps = [1] * (ndim - len(reps)) + reps
    x = x.dimshuffle(["x"] * (ndim - x.ndim) + list(range(x.ndim)))
    s = shape(x)
    # interleave a new axis of length reps[i] before each axis, broadcast, and merge
    pattern = []
    for i in range(ndim):
        pattern += ["x", i]
    expanded = alloc(x.dimshuffle(pattern), *[d for i in range(ndim) for d in (reps[i], s[i])])
    return reshape(expanded, [reps[i] * s[i] for i in range(ndim)], ndim=ndim)


def repeat(x, repeats, axis=None):
    """``numpy.repeat``: repeat elements of ``x`` along ``axis`` (flattened if None)."""
    x = as_tensor_variable(x)
    if axis is None:
        x = flatten(x)
        axis = 0
    return Repeat(axis % x.ndim)(x, repeats)


