"""Tensor variables: operator overloading and Theano's methods."""

from __future__ import annotations

import numpy as np

from croton.graph.basic import Constant, Variable
from croton.graph.type import TensorType


def _m():
    import croton.tensor.math as tm

    return tm


class _TensorOperators:
    """Arithmetic, comparisons and array methods shared by all tensor variables.

    ``==`` and ``!=`` stay identity comparisons, as in Theano; use `eq` and `neq`.
    """

    type: TensorType

    # -- arithmetic ------------------------------------------------------------------
    def __add__(self, other):
        return _m().add(self, other)

    def __radd__(self, other):
        return _m().add(other, self)

    def __sub__(self, other):
        return _m().sub(self, other)

    def __rsub__(self, other):
        return _m().sub(other, self)

    def __mul__(self, other):
        return _m().mul(self, other)

    def __rmul__(self, other):
        return _m().mul(other, self)

    def __truediv__(self, other):
        return _m().true_div(self, other)

    def __rtruediv__(self, other):
        return _m().true_div(other, self)

    def __floordiv__(self, other):
        return _m().int_div(self, other)

    def __rfloordiv__(self, other):
        return _m().int_div(other, self)

    def __mod__(self, other):
        return _m().mod(self, other)

    def __rmod__(self, other):
        return _m().mod(other, self)

    def __pow__(self, other):
        return _m().pow(self, other)

    def __rpow__(self, other):
        return _m().pow(other, self)

    def __matmul__(self, other):
        from croton.tensor.blas import matmul

        return matmul(self, other)

    def __rmatmul__(self, other):
        from croton.tensor.blas import matmul

        return matmul(other, self)

    def __neg__(self):
        return _m().neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _m().abs(self)

    def __invert__(self):
        return _m().invert(self)

    def __and__(self, other):
        return _m().and_(self, other)

    def __rand__(self, other):
        return _m().and_(other, self)

    def __or__(self, other):
        return _m().or_(self, other)

    def __ror__(self, other):
        return _m().or_(other, self)

    def __xor__(self, other):
        return _m().xor(self, other)

    def __rxor__(self, other):
        return _m().xor(other, self)

    # -- comparisons (symbolic, except == and != which are identity) --------------------
    def __lt__(self, other):
        return _m().lt(self, other)

    def __le__(self, other):
        return _m().le(self, other)

    def __gt__(self, other):
        return _m().gt(self, other)

    def __ge__(self, other):
        return _m().ge(self, other)

    __hash__ = object.__hash__

    def __bool__(self):
        raise TypeError(
            f"a symbolic variable ({self}) has no truth value while the graph is built. "
            "Use croton.tensor.switch or croton.ifelse.ifelse for a condition on its value."
        )

    def __len__(self):
        raise TypeError(f"len() of a symbolic variable ({self}); use {self}.shape[0]")

    def __iter__(self):
        length = self.type.shape[0] if self.ndim else None
        if length is None:
            raise TypeError(f"cannot iterate over {self}: its length is not known statically")
        for i in range(length):
            yield self[i]

    def __getitem__(self, index):
        from croton.tensor.subtensor import getitem

        return getitem(self, index)

    # -- attributes --------------------------------------------------------------------
    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self.type.ndim

    @property
    def dtype(self) -> str:
        """The dtype's name, e.g. ``'float64'``."""
        return self.type.dtype

    @property
    def broadcastable(self) -> tuple[bool, ...]:
        """Theano's broadcastable pattern: True where the static length is 1."""
        return self.type.broadcastable

    @property
    def shape(self):
        """The shape as a symbolic int64 vector (``x.shape[0]`` is a scalar)."""
        from croton.tensor.shape import shape

        return shape(self)

    @property
    def size(self):
        """The number of elements, as a symbolic int64 scalar."""
        return _m().prod(self.shape)

    @property
    def T(self):
        """The transpose: the axes in reverse order."""
        return self.transpose()

    # -- methods -----------------------------------------------------------------------
    def dimshuffle(self, *pattern):
        """Reorder axes, insert broadcastable ones (``'x'``) and drop length-1 ones."""
        from croton.ops.elemwise import DimShuffle

        if len(pattern) == 1 and isinstance(pattern[0], (list, tuple)):
            pattern = tuple(pattern[0])
        return DimShuffle(self.ndim, pattern)(self)

    def transpose(self, *axes):
        """Permute the axes (reversed when none are given); negative axes count from the end."""
        if len(axes) == 1 and isinstance(axes[0], (list, tuple)):
            axes = tuple(axes[0])
        if not axes:
            axes = tuple(reversed(range(self.ndim)))
        if len(axes) != self.ndim:
            raise ValueError(
                f"transpose of {self}: axes {axes} do not match its {self.ndim} dimensions"
            )
        return self.dimshuffle([a + self.ndim if isinstance(a, int) and a < 0 else a for a in axes])

    def swapaxes(self, axis1: int, axis2: int):
        """Exchange two axes."""
        order = list(range(self.ndim))
        order[axis1], order[axis2] = order[axis2], order[axis1]
        return self.dimshuffle(order)

    def reshape(self, shape, ndim: int | None = None):
        """A new shape with the same elements; see `croton.tensor.reshape`."""
        from croton.tensor.shape import reshape

        return reshape(self, shape, ndim=ndim)

    def flatten(self, ndim: int = 1):
        """Collapse the trailing axes so ``ndim`` remain; see `croton.tensor.flatten`."""
        from croton.tensor.shape import flatten

        return flatten(self, ndim)

    def ravel(self):
        """The elements as a vector."""
        return self.flatten()

    def squeeze(self, axis=None):
        """Drop axes of length 1; see `croton.tensor.squeeze`."""
        from croton.tensor.shape import squeeze

        return squeeze(self, axis)

    def astype(self, dtype):
        """The elements converted to ``dtype``."""
        return _m().cast(self, dtype)

    def dot(self, other):
        """``numpy.dot`` of this tensor and ``other``."""
        from croton.tensor.blas import dot

        return dot(self, other)

    def sum(self, axis=None, dtype=None, keepdims: bool = False, acc_dtype=None):
        """Sum over ``axis`` (all axes by default)."""
        return _m().sum(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def prod(self, axis=None, dtype=None, keepdims: bool = False, acc_dtype=None):
        """Product over ``axis``."""
        return _m().prod(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def mean(self, axis=None, dtype=None, keepdims: bool = False, acc_dtype=None):
        """Arithmetic mean over ``axis``."""
        return _m().mean(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def var(self, axis=None, ddof: int = 0, keepdims: bool = False):
        """Variance over ``axis``."""
        return _m().var(self, axis=axis, ddof=ddof, keepdims=keepdims)

    def std(self, axis=None, ddof: int = 0, keepdims: bool = False):
        """Standard deviation over ``axis``."""
        return _m().std(self, axis=axis, ddof=ddof, keepdims=keepdims)

    def max(self, axis=None, keepdims: bool = False):
        """Largest element over ``axis``."""
        return _m().max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims: bool = False):
        """Smallest element over ``axis``."""
        return _m().min(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis=None, keepdims: bool = False):
        """Index of the largest element along ``axis`` (of the flattened tensor by default)."""
        return _m().argmax(self, axis=axis, keepdims=keepdims)

    def argmin(self, axis=None, keepdims: bool = False):
        """Index of the smallest element along ``axis`` (of the flattened tensor by default)."""
        return _m().argmin(self, axis=axis, keepdims=keepdims)

    def all(self, axis=None, keepdims: bool = False):
        """True where every element over ``axis`` is non-zero."""
        return _m().all(self, axis=axis, keepdims=keepdims)

    def any(self, axis=None, keepdims: bool = False):
        """True where some element over ``axis`` is non-zero."""
        return _m().any(self, axis=axis, keepdims=keepdims)

    def norm(self, L=2, axis=None, keepdims: bool = False):
        """The ``L``-norm over ``axis`` (all elements by default): ``sum(abs(x)**L)**(1/L)``."""
        tm = _m()
        if L == 1:
            return tm.sum(tm.abs(self), axis=axis, keepdims=keepdims)
        if L == 2:
            return tm.sqrt(tm.sum(tm.sqr(self), axis=axis, keepdims=keepdims))
        return tm.sum(tm.abs(self) ** L, axis=axis, keepdims=keepdims) ** (1.0 / L)

    def clip(self, a_min, a_max):
        """The elements limited to ``[a_min, a_max]``."""
        return _m().clip(self, a_min, a_max)

    def round(self, mode: str | None = None):
        """Round to the nearest integer; see `croton.tensor.round`."""
        return _m().round(self, mode)

    def repeat(self, repeats, axis=None):
        """``numpy.repeat``: repeat elements along ``axis`` (of the flattened tensor if None)."""
        from croton.tensor.shape import repeat

        return repeat(self, repeats, axis)

    def copy(self, name=None):
        """A copy of this tensor (a new variable of the same value)."""
        return _m().identity(self, name=name)

    def zeros_like(self, dtype=None):
        """Zeros of this shape (and dtype, by default)."""
        from croton.tensor.shape import zeros_like

        return zeros_like(self, dtype)

    def ones_like(self, dtype=None):
        """Ones of this shape (and dtype, by default)."""
        from croton.tensor.shape import ones_like

        return ones_like(self, dtype)

    def nonzero_values(self):
        """The non-zero elements, as a vector."""
        return self[_m().neq(self, 0)]

    def cumsum(self, axis=None):
        """The running sum along ``axis`` (`croton.tensor.extra_ops.cumsum`)."""
        from croton.tensor.extra_ops import cumsum

        return cumsum(self, axis)

    def cumprod(self, axis=None):
        """The running product along ``axis`` (`croton.tensor.extra_ops.cumprod`)."""
        from croton.tensor.extra_ops import cumprod

        return cumprod(self, axis)

    def sort(self, axis=-1, kind: str = "quicksort", order=None):
        """``numpy.sort`` along ``axis`` (`croton.tensor.extra_ops.sort`)."""
        from croton.tensor.extra_ops import sort

        return sort(self, axis, kind, order)

    def argsort(self, axis=-1, kind: str = "quicksort", order=None):
        """``numpy.argsort`` along ``axis`` (`croton.tensor.extra_ops.argsort`)."""
        from croton.tensor.extra_ops import argsort

        return argsort(self, axis, kind, order)

    def diagonal(self, offset: int = 0, axis1: int = 0, axis2: int = 1):
        """``numpy.diagonal`` (`croton.tensor.diagonal`)."""
        from croton.tensor.subtensor import diagonal

        return diagonal(self, offset, axis1, axis2)

    def trace(self, offset: int = 0, axis1: int = 0, axis2: int = 1):
        """``numpy.trace`` (`croton.tensor.trace`)."""
        from croton.tensor.subtensor import trace

        return trace(self, offset, axis1, axis2)

    def nonzero(self, return_matrix: bool = False):
        """``numpy.nonzero``: the coordinates of the non-zero elements, one vector per
        axis (`croton.tensor.nonzero`)."""
        from croton.tensor.subtensor import nonzero

        return nonzero(self, return_matrix)

    def take(self, indices, axis=None):
        """``numpy.take``: the elements at ``indices`` along ``axis`` (of the flattened
        tensor if None)."""
        from croton.tensor.subtensor import take

        return take(self, indices, axis)

    def fill(self, value):
        """A tensor of this one's shape filled with ``value`` (Theano's ``fill``)."""
        from croton.tensor.shape import fill

        return fill(self, value)


class TensorVariable(_TensorOperators, Variable):
    """A symbolic tensor: an input, or the result of an operation."""


class TensorConstant(_TensorOperators, Constant):
    """A tensor whose value is known when the graph is built."""

    @property
    def value(self) -> np.ndarray:
        """The constant's data."""
        return self.data


def constant(value, name: str | None = None, ndim: int | None = None, dtype=None) -> TensorConstant:
    """A constant tensor holding ``value`` (converted with ``numpy.asarray``)."""
    data = np.array(value, dtype=dtype)
    if data.dtype == object:
        raise TypeError(f"cannot make a tensor constant of {type(value).__name__}")
    if ndim is not None and data.ndim != ndim:
        if data.ndim > ndim:
            raise ValueError(f"constant of shape {data.shape} has more than {ndim} dimensions")
        data = data.reshape((1,) * (ndim - data.ndim) + data.shape)
    data.setflags(write=False)
    return TensorConstant(TensorType(data.dtype.name, shape=data.shape), data, name=name)


def as_tensor_variable(x, name: str | None = None, ndim: int | None = None):
    """``x`` if it is a tensor variable, else a constant holding it."""
    if isinstance(x, Variable):
        if not isinstance(x.type, TensorType):
            raise TypeError(f"{x} is not a tensor variable (its type is {x.type})")
        if ndim is not None and x.ndim != ndim:
            raise TypeError(f"expected a {ndim}-d tensor, got {x} with {x.ndim} dimensions")
        return x
    if isinstance(x, (list, tuple)) and any(isinstance(e, Variable) for e in x):
        from croton.tensor.shape import stack

        return stack([as_tensor_variable(e) for e in x])
    return constant(x, name=name, ndim=ndim)
