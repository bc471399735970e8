"""dot, matmul, outer, tensordot, batched_dot."""

from __future__ import annotations

from croton.ops.blas import Dot, Matmul
from croton.tensor.variable import as_tensor_variable

_dot = Dot()
_matmul = Matmul()


def dot(a, b):
    """``numpy.dot`` for tensors of any rank (Theano's ``dot``).

    Parameters
    ----------
    a, b
        The operands. Scalars multiply; 1-d and 2-d operands make one `Dot`; otherwise
        the last axis of ``a`` is contracted with the second-to-last of ``b`` (its only
        axis when ``b`` is 1-d).

    Returns
    -------
    TensorVariable
        Of the dtype NumPy gives for the two dtypes.
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.ndim <= 2 and b.ndim <= 2:
        return _dot(a, b)
    return tensordot(a, b, [[a.ndim - 1], [max(b.ndim - 2, 0)]])


def matmul(a, b):
    """``numpy.matmul``, the ``@`` operator: matrix products batched over leading axes.

    Parameters
    ----------
    a, b
        Tensors of rank at least 1. A 1-d operand is a row (``a``) or column (``b``)
        vector whose added axis is dropped from the result; leading batch axes
        broadcast, statically: a length of 1 must be known to stretch.

    Returns
    -------
    TensorVariable
        The products.
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul: scalar operands are not allowed; use *")
    if a.ndim <= 2 and b.ndim <= 2:
        return _dot(a, b)
    squeeze_a, squeeze_b = a.ndim == 1, b.ndim == 1
    if squeeze_a:
        a = a.dimshuffle("x", 0)
    if squeeze_b:
        b = b.dimshuffle(0, "x")
    ndim = max(a.ndim, b.ndim)
    a = a.dimshuffle(["x"] * (ndim - a.ndim) + list(range(a.ndim)))
    b = b.dimshuffle(["x"] * (ndim - b.ndim) + list(range(b.ndim)))
    out = _matmul(a, b)
    if squeeze_a:
        out = out.dimshuffle([i for i in range(ndim) if i != ndim - 2])
    if squeeze_b:
        out = out.dimshuffle([i for i in range(out.ndim) if i != out.ndim - 1])
    return out


def batched_dot(a, b):
    """Products of matching batches: ``a[i] . b[i]`` for each ``i`` (Theano's ``batched_dot``).

    Parameters
    ----------
    a, b
        Tensors whose first axes have the same length. A 1-d operand scales the
        other's batches; otherwise the last axis of ``a[i]`` is contracted with the
        second-to-last axis of ``b[i]`` (its only axis when ``b`` is 2-d).

    Returns
    -------
    TensorVariable
        Of shape ``(batch, *a.shape[1:-1], *b[i]'s remaining axes)``.
    """
    from croton.tensor.shape import reshape

    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim == 0 or b.ndim == 0:
        raise TypeError(
            f"batched_dot needs a batch axis on both operands, got {a.type} and {b.type}"
        )
    if a.ndim == 1:
        return a.dimshuffle([0] + ["x"] * (b.ndim - 1)) * b
    if b.ndim == 1:
        return a * b.dimshuffle([0] + ["x"] * (a.ndim - 1))
    contracted = max(1, b.ndim - 2)
    b_front = b.dimshuffle([0, contracted] + [i for i in range(1, b.ndim) if i != contracted])
    batch, length = a.shape[0], a.shape[-1]
    a3 = reshape(a, [batch, -1, length], ndim=3)
    b3 = reshape(b_front, [batch, length, -1], ndim=3)
    out_shape = [a.shape[i] for i in range(a.ndim - 1)] + [
        b_front.shape[i] for i in range(2, b.ndim)
    ]
    return reshape(_matmul(a3, b3), out_shape, ndim=len(out_shape))


def outer(x, y):
    """The outer product of two vectors (other inputs are flattened first, as NumPy).

    Parameters
    ----------
    x, y
        The vectors.

    Returns
    -------
    TensorVariable
        The matrix ``x[i] * y[j]``.
    """
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    if x.ndim != 1:
        x = x.flatten()
    if y.ndim != 1:
        y = y.flatten()
    return _dot(x.dimshuffle(0, "x"), y.dimshuffle("x", 0))


def tensordot(a, b, axes=2):
    """``numpy.tensordot``, built from transposes, reshapes and one `Dot`.

    Parameters
    ----------
    a, b
        The tensors to contract.
    axes
        An int ``n`` (the last ``n`` axes of ``a`` with the first ``n`` of ``b``) or a
        pair of axis lists (or ints) to contract against each other.

    Returns
    -------
    TensorVariable
        The free axes of ``a`` followed by the free axes of ``b``.
    """
    from croton.tensor.shape import reshape

    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if isinstance(axes, int):
        if axes < 0 or axes > min(a.ndim, b.ndim):
            raise ValueError(
                f"tensordot: cannot contract {axes} axes of {a.ndim}-d and {b.ndim}-d tensors"
            )
        a_axes, b_axes = list(range(a.ndim - axes, a.ndim)), list(range(axes))
    else:
        a_axes, b_axes = ([ax] if isinstance(ax, int) else list(ax) for ax in axes)
    a_axes = [ax % a.ndim for ax in a_axes]
    b_axes = [ax % b.ndim for ax in b_axes]
    if len(a_axes) != len(b_axes):
        raise ValueError(f"tensordot: {len(a_axes)} axes of a against {len(b_axes)} axes of b")
    for i, j in zip(a_axes, b_axes, strict=True):
        if None not in (a.type.shape[i], b.type.shape[j]) and a.type.shape[i] != b.type.shape[j]:
            raise ValueError(
                f"tensordot: axis {i} of {a} (length {a.type.shape[i]}) and axis {j} of {b} "
                f"(length {b.type.shape[j]}) differ"
            )
    a_free = [i for i in range(a.ndim) if i not in a_axes]
    b_free = [i for i in range(b.ndim) if i not in b_axes]

    def length(x, i):
        return x.shape[i] if x.type.shape[i] is None else x.type.shape[i]

    def size(x, axes_):
        total = 1
        for i in axes_:
            total = total * length(x, i)
        return total

    a2 = reshape(a.dimshuffle(a_free + a_axes), [size(a, a_free), size(a, a_axes)], ndim=2)
    b2 = reshape(b.dimshuffle(b_axes + b_free), [size(b, b_axes), size(b, b_free)], ndim=2)
    out_shape = [length(a, i) for i in a_free] + [length(b, i) for i in b_free]
    product = _dot(a2, b2)
    return reshape(product, out_shape, ndim=len(out_shape))


def inner(a, b):
    """``numpy.inner``: sums of products over the last axes (a product for scalars)."""
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return tensordot(a, b, axes=[[a.ndim - 1], [b.ndim - 1]])


def vdot(a, b):
    """``numpy.vdot`` of real tensors: the sum of products of the flattened inputs."""
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.dtype.startswith("complex") or b.dtype.startswith("complex"):
        raise TypeError("vdot: complex inputs are not supported (it conjugates the first)")
    return _dot(a.flatten(), b.flatten())


def kron(a, b):
    """``numpy.kron``: the Kronecker product, blocks ``a[i] * b`` (the input of fewer
    axes taking leading axes of length 1)."""
    from croton.tensor.shape import reshape

    a, b = as_tensor_variable(a), as_tensor_variable(b)
    ndim = max(a.ndim, b.ndim)
    a = a.dimshuffle(*(["x"] * (ndim - a.ndim) + list(range(a.ndim))))
    b = b.dimshuffle(*(["x"] * (ndim - b.ndim) + list(range(b.ndim))))
    # a's axes interleaved with length-1 axes, and b's the other way round
    spread_a = a.dimshuffle(*[entry for d in range(ndim) for entry in (d, "x")])
    spread_b = b.dimshuffle(*[entry for d in range(ndim) for entry in ("x", d)])
    shape = [a.shape[d] * b.shape[d] for d in range(ndim)]
    return reshape(spread_a * spread_b, shape, ndim=ndim)
