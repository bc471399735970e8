"""Ops written in Python: Theano's ``as_op`` decorator.

An op subclass that defines ``perform(node, inputs, output_storage)`` runs on any backend
without a lowering rule (see `croton.backend.resolve_rules`); `as_op` makes such an op
from a plain function of numpy arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from croton.graph.basic import Op
from croton.graph.type import TensorType


class FromFunctionOp(Op):
    """An op running ``fn`` on numpy arrays: inputs of ``itypes``, outputs of ``otypes``
    (`Op.make_node` checks them)."""

    __props__ = ("fn", "itypes", "otypes", "shape_fn")

    def __init__(
        self,
        fn: Callable,
        itypes: Sequence[TensorType],
        otypes: Sequence[TensorType],
        shape_fn: Callable | None = None,
    ):
        for kind, types in (("itypes", itypes), ("otypes", otypes)):
            if not all(isinstance(t, TensorType) for t in types):
                raise TypeError(
                    f"as_op: {kind} must be a list of TensorTypes (such as T.dmatrix), "
                    f"got {list(types)!r}"
                )
        self.fn = fn
        self.itypes = tuple(itypes)
        self.otypes = tuple(otypes)
        self.shape_fn = shape_fn

    def __str__(self) -> str:
        return f"FromFunctionOp{{{getattr(self.fn, '__name__', self.fn)}}}"

    __repr__ = __str__

    def perform(self, node, inputs, output_storage) -> None:
        results = self.fn(*inputs)
        if len(self.otypes) == 1:
            results = [results]
        elif not isinstance(results, (list, tuple)) or len(results) != len(self.otypes):
            raise TypeError(
                f"{self} declares {len(self.otypes)} outputs; its function must return a "
                f"list or tuple of that many arrays"
            )
        for cell, value in zip(output_storage, results):
            cell[0] = value

    def infer_shape(self, node, input_shapes):
        if self.shape_fn is None:
            return super().infer_shape(node, input_shapes)
        return self.shape_fn(node, input_shapes)


def as_op(itypes: Sequence[TensorType], otypes: Sequence[TensorType], infer_shape=None):
    """Decorator: a Python function of numpy arrays as an op, as Theano's ``as_op``.

    Parameters
    ----------
    itypes, otypes
        The types of the inputs and of the outputs (``[T.dmatrix, T.dvector]``); the
        function returns one array, or a list of them for several outputs.
    infer_shape
        Optionally ``infer_shape(node, input_shapes) -> output shapes``, so that the
        shape of an output is known without running the function.

    The op has no gradient. On a backend that compiles (numba, cupy) it runs as a
    Python step between compiled segments.

    Examples
    --------
    >>> import numpy as np
    >>> import croton.tensor as T
    >>> @as_op(itypes=[T.dmatrix, T.dmatrix], otypes=[T.dmatrix])
    ... def numpy_dot(a, b):
    ...     return np.dot(a, b)
    """

    def decorate(fn: Callable) -> FromFunctionOp:
        return FromFunctionOp(fn, itypes, otypes, infer_shape)

    return decorate
