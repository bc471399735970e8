"""dot, matmul, outer, tensordot, batched_dot."""

from __future__ import annotations

from croton.ops.blas import Dot, Matmul
from croton.tensor.variable import as_tensor_variable

_dot = Dot()
_matmul = Matmul()


def dot(a, b):
    """Theano's ``dot``: ``numpy.dot`` semantics for any rank.

    Scalars multiply; 1-d and 2-d inputs are one `Dot`; higher ranks contract the last
    axis of ``a`` with the second-to-last of ``b`` (the first if ``b`` is 1-d).
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.ndim <= 2 and b.ndim <= 2:
        return _dot(a, b)
    return tensordot(a, b, [[a.ndim - 1], [max(b.ndim - 2, 0)]])


def matmul(a, b):
    """``numpy.matmul`` (the ``@`` operator): batched over leading axes."""
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
    """Matrix products of matching batches: ``a[i] @ b[i]`` for each ``i``."""
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim == 2 and b.ndim == 2:
        return (a * b).sum(axis=1)
    return matmul(a, b)


def outer(x, y):
    """The outer product of two vectors."""
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    return _dot(x.dimshuffle(0, "x"), y.dimshuffle("x", 0))


def tensordot(a, b, axes=2):
    """``numpy.tensordot``, built from transposes, reshapes and one `Dot`."""
    from croton.tensor.math import prod
    from croton.tensor.shape import reshape, stack

    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if isinstance(axes, int):
        a_axes, b_axes = list(range(a.ndim - axes, a.ndim)), list(range(axes))
    else:
        a_axes, b_axes = ([ax] if isinstance(ax, int) else list(ax) for ax in axes)
    a_axes = [ax % a.ndim for ax in a_axes]
    b_axes = [ax % b.ndim for ax in b_axes]
    if len(a_axes) != len(b_axes):
        raise ValueError(f"tensordot: {len(a_axes)} axes of a against {len(b_axes)} axes of b")
    a_free = [i for i in range(a.ndim) if i not in a_axes]
    b_free = [i for i in range(b.ndim) if i not in b_axes]
    a_shape, b_shape = a.shape, b.shape

    def size(shape, axes_):
        return prod(stack([shape[i] for i in axes_])) if axes_ else 1

    a2 = reshape(a.dimshuffle(a_free + a_axes), [size(a_shape, a_free), size(a_shape, a_axes)], ndim=2)
    b2 = reshape(b.dimshuffle(b_axes + b_free), [size(b_shape, b_axes), size(b_shape, b_free)], ndim=2)
    out_shape = [a_shape[i] for i in a_free] + [b_shape[i] for i in b_free]
    product = _dot(a2, b2)
    if not out_shape:
        return product.reshape([], ndim=0)
    return reshape(product, out_shape, ndim=len(out_shape))
