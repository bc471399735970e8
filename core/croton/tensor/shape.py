"""Shape manipulation and array creation with Theano's names."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from croton.graph.basic import Constant, Variable
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


def _axis(axis: int, ndim: int, what: str) -> int:
    """``axis`` in ``range(ndim)``, counting from the end when negative, as NumPy. A
    constant integer tensor is taken for its value; a symbolic one is refused."""
    if isinstance(axis, Variable):
        if not (
            isinstance(axis, Constant) and axis.ndim == 0 and axis.dtype.startswith(("int", "uint"))
        ):
            raise TypeError(
                f"{what}: the axis must be known when the graph is built (a Python int or an "
                f"integer constant), got {axis} ({axis.type})"
            )
        axis = int(axis.data)
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{what}: the axis must be an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(f"{what}: axis {axis} is out of bounds for {ndim} dimensions")
    return axis % ndim


def shape(x):
    """The shape of ``x`` as a symbolic int64 vector.

    Parameters
    ----------
    x
        A tensor (or anything `as_tensor_variable` takes).

    Returns
    -------
    TensorVariable
        An int64 vector of static length ``x.ndim``.
    """
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
    """``x`` with a new shape and the same elements, in C order.

    Parameters
    ----------
    x
        The tensor to reshape.
    newshape
        Ints and integer scalars (one entry may be -1, inferred from the size), or an
        integer vector.
    ndim
        The number of dimensions of the result; needed only when ``newshape`` is a
        vector of unknown static length.

    Returns
    -------
    TensorVariable
        The reshaped tensor, with the static lengths the constant entries fix.
    """
    x = as_tensor_variable(x)
    vector = _shape_vector(newshape)
    if ndim is None:
        ndim = vector.type.shape[0]
        if ndim is None:
            raise ValueError(f"reshape of {x}: the number of dimensions is unknown; pass ndim=")
    return Reshape(ndim)(x, vector)


def flatten(x, ndim: int = 1, outdim: int | None = None):
    """Collapse the trailing dimensions of ``x`` so that ``ndim`` remain.

    Parameters
    ----------
    x
        The tensor to flatten.
    ndim
        The number of dimensions of the result; the last one holds all trailing axes.
    outdim
        Theano's older name for ``ndim``.

    Returns
    -------
    TensorVariable
        ``x.reshape(x.shape[:ndim - 1] + (-1,))``.
    """
    x = as_tensor_variable(x)
    ndim = outdim if outdim is not None else ndim
    if not 1 <= ndim <= max(x.ndim, 1):
        raise ValueError(f"flatten: ndim={ndim} is out of range for {x.ndim}-d {x}")
    s = shape(x)
    return reshape(x, [s[i] for i in range(ndim - 1)] + [-1], ndim=ndim)


def squeeze(x, axis=None):
    """Drop axes of length 1.

    Parameters
    ----------
    x
        The tensor.
    axis
        None to drop every axis of static length 1, or an axis (or axes) to drop;
        their length is checked to be 1 when the function runs.

    Returns
    -------
    TensorVariable
        ``x`` without those axes.
    """
    x = as_tensor_variable(x)
    if axis is None:
        drop = [i for i, s in enumerate(x.type.shape) if s == 1]
    else:
        drop = [_axis(a, x.ndim, "squeeze") for a in ([axis] if isinstance(axis, int) else axis)]
        x = specify_shape(x, [1 if i in drop else s for i, s in enumerate(x.type.shape)])
    return x.dimshuffle([i for i in range(x.ndim) if i not in drop])


def specify_shape(x, static_shape: Sequence[int | None]):
    """``x`` with a declared static shape, checked when the function runs.

    Parameters
    ----------
    x
        The tensor.
    static_shape
        One entry per axis: an int (the length) or None (no claim).

    Returns
    -------
    TensorVariable
        ``x`` with that static shape; ``x`` itself when nothing changes.
    """
    x = as_tensor_variable(x)
    if tuple(static_shape) == x.type.shape:
        return x
    return SpecifyShape(static_shape)(x)


def addbroadcast(x, *axes):
    """Declare ``axes`` of ``x`` to have length 1, so they broadcast.

    Parameters
    ----------
    x
        The tensor.
    *axes
        The axes to declare; their length is checked when the function runs.

    Returns
    -------
    TensorVariable
        ``x`` with static length 1 on ``axes``.
    """
    x = as_tensor_variable(x)
    return specify_shape(x, [1 if i in axes else s for i, s in enumerate(x.type.shape)])


def unbroadcast(x, *axes):
    """Forget that ``axes`` of ``x`` have length 1.

    Parameters
    ----------
    x
        The tensor.
    *axes
        The axes whose static length becomes unknown.

    Returns
    -------
    TensorVariable
        ``x`` with unknown static length on ``axes``.
    """
    x = as_tensor_variable(x)
    return specify_shape(x, [None if i in axes else s for i, s in enumerate(x.type.shape)])


def patternbroadcast(x, broadcastable: Sequence[bool]):
    """Set the broadcastable pattern of ``x``.

    Parameters
    ----------
    x
        The tensor.
    broadcastable
        One bool per axis: True declares length 1, False forgets a length of 1.

    Returns
    -------
    TensorVariable
        ``x`` with that pattern.
    """
    x = as_tensor_variable(x)
    return specify_shape(
        x,
        [
            1 if b else (s if s != 1 else None)
            for b, s in zip(broadcastable, x.type.shape, strict=True)
        ],
    )


def alloc(value, *shape):
    """An array of ``shape`` filled with ``value`` (broadcast from the right).

    Parameters
    ----------
    value
        The fill value; its axes align with the last axes of ``shape``.
    *shape
        The lengths, as ints or integer scalars (or one tuple of them).

    Returns
    -------
    TensorVariable
        A new array of ``value``'s dtype.
    """
    if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
        shape = tuple(shape[0])
    return _alloc_op(as_tensor_variable(value), *shape)


def broadcast_to(x, shape_):
    """``x`` broadcast to ``shape_``, as a new array.

    Parameters
    ----------
    x
        The tensor; its axes align with the last axes of ``shape_``.
    shape_
        A sequence of ints and integer scalars, or an integer vector of static length.

    Returns
    -------
    TensorVariable
        An array of shape ``shape_``.
    """
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
    """An array of zeros.

    Parameters
    ----------
    shape_
        An int, a sequence of ints and integer scalars, or an integer vector.
    dtype
        The dtype; ``config.floatX`` by default.

    Returns
    -------
    TensorVariable
        The array, with the static shape the constant lengths fix.
    """
    return _filled(0, shape_, dtype)


def ones(shape_, dtype=None):
    """An array of ones.

    Parameters
    ----------
    shape_
        An int, a sequence of ints and integer scalars, or an integer vector.
    dtype
        The dtype; ``config.floatX`` by default.

    Returns
    -------
    TensorVariable
        The array, with the static shape the constant lengths fix.
    """
    return _filled(1, shape_, dtype)


def full(shape_, fill_value, dtype=None):
    """An array filled with ``fill_value``.

    Parameters
    ----------
    shape_
        An int, a sequence of ints and integer scalars, or an integer vector.
    fill_value
        A number.
    dtype
        The dtype; by default NumPy's for ``fill_value`` (int64, float64, bool, ...).

    Returns
    -------
    TensorVariable
        The array.
    """
    if dtype is None:
        dtype = np.asarray(fill_value).dtype.name
    return _filled(fill_value, shape_, dtype)


def _like(x, value, dtype):
    x = as_tensor_variable(x)
    dtype = x.dtype if dtype is None else normalize_dtype(dtype)
    s = shape(x)
    return alloc(constant(np.asarray(value, dtype=dtype)), *[s[i] for i in range(x.ndim)])


def zeros_like(x, dtype=None):
    """Zeros of the shape of ``x``.

    Parameters
    ----------
    x
        The model tensor.
    dtype
        The dtype; that of ``x`` by default.

    Returns
    -------
    TensorVariable
        An array of zeros with ``x``'s shape.
    """
    return _like(x, 0, dtype)


def ones_like(x, dtype=None):
    """Ones of the shape of ``x``.

    Parameters
    ----------
    x
        The model tensor.
    dtype
        The dtype; that of ``x`` by default.

    Returns
    -------
    TensorVariable
        An array of ones with ``x``'s shape.
    """
    return _like(x, 1, dtype)


def fill(model, value):
    """``value`` broadcast to the shape of ``model`` (Theano's ``fill``, alias ``second``).

    Parameters
    ----------
    model
        The tensor whose shape the result takes.
    value
        The fill value (a scalar, or a tensor that broadcasts to ``model``'s shape).

    Returns
    -------
    TensorVariable
        An array of ``value``'s dtype.
    """
    value = as_tensor_variable(value)
    model = as_tensor_variable(model)
    s = shape(model)
    return alloc(value, *[s[i] for i in range(model.ndim)])


second = fill


def join(axis: int, *tensors):
    """Concatenate ``tensors`` along ``axis`` (Theano's argument order).

    Parameters
    ----------
    axis
        The axis to join along; negative counts from the end.
    *tensors
        Tensors of equal rank whose other lengths agree. Mixed dtypes are promoted as
        ``numpy.concatenate`` does.

    Returns
    -------
    TensorVariable
        The joined tensor (the tensor itself when there is only one).
    """
    tensors = [as_tensor_variable(t) for t in tensors]
    if len(tensors) == 1:
        return tensors[0]
    return Join(_axis(axis, tensors[0].ndim, "join"))(*tensors)


def concatenate(tensor_list, axis: int = 0):
    """Concatenate a list of tensors along ``axis`` (``numpy.concatenate``).

    Parameters
    ----------
    tensor_list
        Tensors of equal rank whose other lengths agree.
    axis
        The axis to join along.

    Returns
    -------
    TensorVariable
        The joined tensor.
    """
    return join(axis, *tensor_list)


def stack(tensors, *more, axis: int | None = None):
    """Stack equal-shape tensors along a new axis (``numpy.stack``).

    Parameters
    ----------
    tensors
        A list of tensors of equal shape (scalars give a vector). Theano's older form,
        the tensors as separate arguments (``stack(a, b, c)``), is accepted too.
    axis
        The position of the new axis in the result; negative counts from the end.
        Also the second positional argument after a list: ``stack([a, b], 1)``.

    Returns
    -------
    TensorVariable
        A tensor of one more dimension.
    """
    if isinstance(tensors, (list, tuple)):
        if len(more) > 1 or (more and axis is not None):
            raise TypeError("stack takes a list of tensors and an axis")
        axis = more[0] if more else axis
    else:  # stack(a, b, c)
        tensors = [tensors, *more]
    axis = 0 if axis is None else axis
    tensors = [as_tensor_variable(t) for t in tensors]
    if not tensors:
        raise ValueError("stack needs at least one tensor")
    ndim = tensors[0].ndim
    axis = _axis(axis, ndim + 1, "stack")
    pattern = list(range(axis)) + ["x"] + list(range(axis, ndim))
    return join(axis, *[t.dimshuffle(pattern) for t in tensors])


def split(x, splits_size, n_splits: int, axis: int = 0):
    """Split ``x`` along ``axis`` into pieces of the given lengths (Theano's ``split``).

    Parameters
    ----------
    x
        The tensor to split.
    splits_size
        The lengths of the pieces: ints, or an integer vector; they must add up to the
        length of the axis (checked when the function runs).
    n_splits
        The number of pieces.
    axis
        The axis to split.

    Returns
    -------
    list of TensorVariable
        The pieces, in order.
    """
    x = as_tensor_variable(x)
    sizes = _shape_vector(splits_size)
    outputs = Split(n_splits, _axis(axis, x.ndim, "split"))(x, sizes)
    return outputs if isinstance(outputs, list) else [outputs]


def arange(start, stop=None, step=1, dtype=None):
    """``numpy.arange`` as a graph.

    Parameters
    ----------
    start, stop, step
        Scalars or integer/float scalar variables; ``arange(n)`` counts from 0.
    dtype
        The output dtype. By default, as NumPy: int64 for integer arguments and float64
        for numbers; a float32 variable among the arguments keeps the result float32.

    Returns
    -------
    TensorVariable
        A vector of length ``ceil((stop - start) / step)`` (0 if negative).
    """
    from croton.tensor.math import cast

    if stop is None:
        start, stop = 0, start
    if dtype is None:
        described = [
            v.dtype if isinstance(v, Variable) else np.asarray(v).item()
            for v in (start, stop, step)
        ]
        dtype = np.result_type(*described)
        dtype = "int64" if dtype.kind in "biu" else dtype.name
    dtype = normalize_dtype(dtype)
    args = [cast(as_tensor_variable(v), dtype) for v in (start, stop, step)]
    return ARange(dtype)(*args)


def eye(n, m=None, k: int = 0, dtype=None):
    """An ``n`` by ``m`` matrix with ones on diagonal ``k`` and zeros elsewhere.

    Parameters
    ----------
    n, m
        The number of rows and of columns (``m`` defaults to ``n``); ints or integer
        scalars.
    k
        The diagonal: 0 is the main one, positive above it, negative below.
    dtype
        The dtype; ``config.floatX`` by default.

    Returns
    -------
    TensorVariable
        The matrix.
    """
    dtype = normalize_dtype("floatX" if dtype is None else dtype)
    return Eye(dtype)(n, n if m is None else m, k)


def identity_like(x, dtype=None):
    """An identity matrix (ones on the main diagonal) of the shape of matrix ``x``.

    Parameters
    ----------
    x
        A matrix.
    dtype
        The dtype; that of ``x`` by default.

    Returns
    -------
    TensorVariable
        The matrix.
    """
    x = as_tensor_variable(x)
    return eye(x.shape[0], x.shape[1], 0, dtype or x.dtype)


def tile(x, reps):
    """``numpy.tile``: ``x`` repeated ``reps[i]`` times along each axis ``i``.

    Parameters
    ----------
    x
        The tensor to tile.
    reps
        An int, a sequence of ints and integer scalar variables, or an integer vector
        of static length. Shorter than ``x.ndim``, it is padded with ones on the left;
        longer, ``x`` gets new leading axes.

    Returns
    -------
    TensorVariable
        The tiled tensor, of rank ``max(x.ndim, len(reps))``.
    """
    x = as_tensor_variable(x)
    if isinstance(reps, Variable) and reps.ndim == 1:
        if reps.type.shape[0] is None:
            raise ValueError(f"tile: the number of repetitions in {reps} must be known statically")
        reps = [reps[i] for i in range(reps.type.shape[0])]
    reps = list(reps) if isinstance(reps, (list, tuple)) else [reps]
    ndim = max(x.ndim, len(reps))
    reps = [1] * (ndim - len(reps)) + reps
    x = x.dimshuffle(["x"] * (ndim - x.ndim) + list(range(x.ndim)))
    s = shape(x)
    lengths = [s[i] if x.type.shape[i] is None else x.type.shape[i] for i in range(ndim)]
    # interleave a new axis of length reps[i] before each axis, broadcast, and merge
    pattern = []
    for i in range(ndim):
        pattern += ["x", i]
    expanded = alloc(
        x.dimshuffle(pattern), *[d for i in range(ndim) for d in (reps[i], lengths[i])]
    )
    return reshape(expanded, [reps[i] * lengths[i] for i in range(ndim)], ndim=ndim)


def repeat(x, repeats, axis=None):
    """``numpy.repeat``: repeat each element of ``x`` along ``axis``.

    Parameters
    ----------
    x
        The tensor.
    repeats
        An integer (scalar or scalar variable) for every element, or an integer vector
        with one count per element along ``axis``.
    axis
        The axis; None repeats the elements of the flattened tensor.

    Returns
    -------
    TensorVariable
        The repeated tensor.
    """
    x = as_tensor_variable(x)
    if axis is None:
        x = flatten(x)
        axis = 0
    return Repeat(_axis(axis, x.ndim, "repeat"))(x, repeats)


def shape_padaxis(x, axis: int):
    """``x`` with a new axis of length 1 at ``axis`` (Theano's ``shape_padaxis``).

    Parameters
    ----------
    x
        The tensor.
    axis
        The position of the new axis in the result; negative counts from the end.

    Returns
    -------
    TensorVariable
        A view of ``x`` with one more, broadcastable, dimension.
    """
    x = as_tensor_variable(x)
    axis = _axis(axis, x.ndim + 1, "shape_padaxis")
    return x.dimshuffle(list(range(axis)) + ["x"] + list(range(axis, x.ndim)))


def shape_padleft(x, n_ones: int = 1):
    """``x`` with ``n_ones`` new leading axes of length 1.

    Parameters
    ----------
    x
        The tensor.
    n_ones
        How many axes to add.

    Returns
    -------
    TensorVariable
        A view of ``x`` with broadcastable leading axes.
    """
    x = as_tensor_variable(x)
    return x.dimshuffle(["x"] * n_ones + list(range(x.ndim)))


def shape_padright(x, n_ones: int = 1):
    """``x`` with ``n_ones`` new trailing axes of length 1.

    Parameters
    ----------
    x
        The tensor.
    n_ones
        How many axes to add.

    Returns
    -------
    TensorVariable
        A view of ``x`` with broadcastable trailing axes.
    """
    x = as_tensor_variable(x)
    return x.dimshuffle(list(range(x.ndim)) + ["x"] * n_ones)


def horizontal_stack(*tensors):
    """Join matrices side by side (along axis 1), or vectors end to end, as ``numpy.hstack``.

    Parameters
    ----------
    *tensors
        Matrices with equal numbers of rows, or vectors.

    Returns
    -------
    TensorVariable
        The joined tensor.
    """
    tensors = [as_tensor_variable(t) for t in tensors]
    return join(1 if tensors[0].ndim > 1 else 0, *tensors)


def vertical_stack(*tensors):
    """Join matrices one above the other (along axis 0), as ``numpy.vstack``.

    Parameters
    ----------
    *tensors
        Matrices with equal numbers of columns; vectors count as one-row matrices.

    Returns
    -------
    TensorVariable
        The joined matrix.
    """
    tensors = [as_tensor_variable(t) for t in tensors]
    return join(0, *[t.dimshuffle("x", 0) if t.ndim == 1 else t for t in tensors])


def roll(x, shift, axis: int | None = None):
    """``numpy.roll``: elements of ``x`` shifted cyclically by ``shift`` along ``axis``.

    Parameters
    ----------
    x
        The tensor.
    shift
        The number of places (an int or integer scalar; negative shifts backwards).
    axis
        The axis; None rolls the flattened tensor and restores the shape.

    Returns
    -------
    TensorVariable
        The rolled tensor.
    """
    x = as_tensor_variable(x)
    if axis is None:
        flat = roll(x.flatten(), shift, 0) if x.ndim else x
        return flat.reshape(shape(x), ndim=x.ndim) if x.ndim else flat
    axis = _axis(axis, x.ndim, "roll")
    length = x.shape[axis]
    cut = length - as_tensor_variable(shift) % length
    head = [slice(None)] * axis + [slice(cut, None)]
    tail = [slice(None)] * axis + [slice(None, cut)]
    return join(axis, x[tuple(head)], x[tuple(tail)])


# -- axes and triangles (NumPy's names) --------------------------------------------------


def swapaxes(x, axis1: int, axis2: int):
    """``x`` with axes ``axis1`` and ``axis2`` exchanged (a view)."""
    x = as_tensor_variable(x)
    order = list(range(x.ndim))
    a, b = _axis(axis1, x.ndim, "swapaxes"), _axis(axis2, x.ndim, "swapaxes")
    order[a], order[b] = order[b], order[a]
    return x.dimshuffle(order)


def matrix_transpose(x):
    """The transpose of the last two axes (of each matrix in a stack of them)."""
    x = as_tensor_variable(x)
    if x.ndim < 2:
        raise ValueError(f"matrix_transpose: x must have at least 2 dimensions, got {x.type}")
    return swapaxes(x, -1, -2)


def _axes(axes, ndim: int, what: str) -> list[int]:
    axes = [axes] if isinstance(axes, (int, np.integer, Variable)) else list(axes)
    normalized = [_axis(a, ndim, what) for a in axes]
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{what}: repeated axis in {axes}")
    return normalized


def moveaxis(x, source, destination):
    """``numpy.moveaxis``: the axes ``source`` (an int or a sequence) moved to the
    positions ``destination``, the other axes keeping their order."""
    x = as_tensor_variable(x)
    source = _axes(source, x.ndim, "moveaxis")
    destination = _axes(destination, x.ndim, "moveaxis")
    if len(source) != len(destination):
        raise ValueError("moveaxis: source and destination must have the same number of axes")
    order = [a for a in range(x.ndim) if a not in source]
    for dest, src in sorted(zip(destination, source, strict=True)):
        order.insert(dest, src)
    return x.dimshuffle(order)


def expand_dims(x, axis):
    """``numpy.expand_dims``: new axes of length 1 at the positions ``axis`` (an int or a
    sequence) of the result."""
    x = as_tensor_variable(x)
    if not isinstance(axis, (int, np.integer, Variable)):
        axis = list(axis)
    ndim = x.ndim + (1 if isinstance(axis, (int, np.integer, Variable)) else len(axis))
    new = set(_axes(axis, ndim, "expand_dims"))
    old = iter(range(x.ndim))
    return x.dimshuffle(["x" if a in new else next(old) for a in range(ndim)])


def flip(x, axis=None):
    """``numpy.flip``: ``x`` reversed along ``axis`` (an int, a sequence, or all axes)."""
    x = as_tensor_variable(x)
    axes = range(x.ndim) if axis is None else _axes(axis, x.ndim, "flip")
    index = [slice(None, None, -1) if a in axes else slice(None) for a in range(x.ndim)]
    return x[tuple(index)] if index else x


def _atleast(ndim: int, arys, place):
    result = []
    for a in arys:
        a = as_tensor_variable(a)
        result.append(a if a.ndim >= ndim else a.dimshuffle(place(a.ndim)))
    return result[0] if len(result) == 1 else result


def atleast_1d(*arys):
    """Each argument with at least one axis (a scalar becomes a vector of one)."""
    return _atleast(1, arys, lambda n: ["x"])


def atleast_2d(*arys):
    """Each argument with at least two axes, new ones in front (``numpy.atleast_2d``)."""
    return _atleast(2, arys, lambda n: ["x"] * (2 - n) + list(range(n)))


def atleast_3d(*arys):
    """Each argument with at least three axes, as ``numpy.atleast_3d``: a vector of
    length n becomes ``(1, n, 1)``, a matrix ``(m, n, 1)``."""
    patterns = {0: ["x", "x", "x"], 1: ["x", 0, "x"], 2: [0, 1, "x"]}
    return _atleast(3, arys, patterns.__getitem__)


def full_like(x, fill_value, dtype=None):
    """An array of the shape of ``x`` filled with ``fill_value`` (``x``'s dtype by
    default)."""
    return _like(x, fill_value, dtype)


def empty_like(x, dtype=None):
    """An array of the shape (and by default the dtype) of ``x``; croton fills it with
    zeros, since a graph has no uninitialised memory to hand out."""
    return _like(x, 0, dtype)


def tri(N, M=None, k: int = 0, dtype=None):
    """An ``N`` by ``M`` matrix with ones at and below diagonal ``k`` and zeros above
    (``config.floatX`` by default; ``N`` and ``M`` may be integer scalars)."""
    from croton.tensor.math import cast, ge

    dtype = normalize_dtype("floatX" if dtype is None else dtype)
    rows = arange(N).dimshuffle(0, "x")
    columns = arange(N if M is None else M).dimshuffle("x", 0)
    return cast(ge(rows + k, columns), dtype)


def _triangle(m, k: int, lower: bool):
    from croton.tensor.math import logical_not, switch

    m = as_tensor_variable(m)
    if m.ndim == 0:
        raise ValueError(f"{'tril' if lower else 'triu'}: m must have at least 1 dimension")
    s = shape(m)
    rows, columns = (s[-2], s[-1]) if m.ndim >= 2 else (s[0], s[0])
    if lower:
        mask = tri(rows, columns, k, dtype="bool")
    else:
        mask = logical_not(tri(rows, columns, k - 1, dtype="bool"))
    return switch(mask, m, 0)


def tril(m, k: int = 0):
    """``m`` with the elements above diagonal ``k`` of its last two axes set to zero
    (a vector is first repeated into a square matrix, as in ``numpy.tril``)."""
    return _triangle(m, k, lower=True)


def triu(m, k: int = 0):
    """``m`` with the elements below diagonal ``k`` of its last two axes set to zero."""
    return _triangle(m, k, lower=False)


def stacklists(arg):
    """Nested lists of scalars or tensors stacked into one tensor, a new leading axis
    per level of nesting (Theano's ``stacklists``)."""
    if isinstance(arg, (tuple, list)):
        return stack([stacklists(item) for item in arg])
    return as_tensor_variable(arg)
