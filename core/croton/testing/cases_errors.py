"""Conformance cases for bad inputs: where NumPy raises, every backend raises the same.

Each case is a graph and values that NumPy refuses (an integer to a negative power,
shapes that do not broadcast or align, an index out of bounds, a reduction with no
identity over nothing, a reshape to another size, a zero ``arange`` step). A backend
must raise the exception class the reference raises, when the function is called, and
may word the message its own way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ErrorCase:
    """``build() -> (inputs, outputs)``; ``values() -> arrays`` that make the call fail
    with ``error``."""

    id: str
    build: Callable
    values: Callable
    error: type


def _graph(make, *specs):
    """``build`` for a graph of inputs ``specs`` ((dtype, shape) pairs) made by ``make``."""

    def build():
        import croton.tensor as T

        inputs = [T.tensor(dtype=d, shape=s, name=f"x{k}") for k, (d, s) in enumerate(specs)]
        return inputs, [make(T, *inputs)]

    return build


def _values(*arrays):
    return lambda: [np.array(a, copy=True) for a in arrays]


def error_cases() -> list[ErrorCase]:
    """The bad-input cases of the catalogue."""
    vec, mat, ivec, iscalar = (
        ("float64", (None,)),
        ("float64", (None, None)),
        ("int64", (None,)),
        ("int64", ()),
    )
    ones = np.ones((3, 2))
    return [
        ErrorCase(
            "elemwise.pow/int64/negative-exponent",
            _graph(lambda T, x, y: x**y, ivec, ivec),
            _values([2, 3, 4], [1, -1, 2]),
            ValueError,
        ),
        ErrorCase(
            "Reduce.sum/int32/prologue-negative-exponent",
            _graph(lambda T, x, y: T.sum(x ** (y - 1)), ("int32", (None,)), ("int32", (None,))),
            _values(np.array([2, 3], "int32"), np.array([1, 0], "int32")),
            ValueError,
        ),
        ErrorCase(
            "elemwise.add/float64/shapes-do-not-broadcast",
            _graph(lambda T, x, y: x + y, vec, vec),
            _values(np.ones(3), np.ones(4)),
            ValueError,
        ),
        ErrorCase(
            "Reduce.max/float64/empty",
            _graph(lambda T, x: T.max(x), vec),
            _values(np.ones(0)),
            ValueError,
        ),
        ErrorCase(
            "Reduce.min/float64/empty-axis",
            _graph(lambda T, x: T.min(x, axis=1), mat),
            _values(np.ones((3, 0))),
            ValueError,
        ),
        ErrorCase(
            "Argmax/float64/empty",
            _graph(lambda T, x: T.argmax(x), vec),
            _values(np.ones(0)),
            ValueError,
        ),
        ErrorCase(
            "Reshape/float64/other-size",
            _graph(lambda T, x, s: x.reshape(s, ndim=2), vec, ("int64", (2,))),
            _values(np.ones(6), [4, 2]),
            ValueError,
        ),
        ErrorCase(
            "Dot/float64/not-aligned",
            _graph(lambda T, x, y: T.dot(x, y), mat, vec),
            _values(ones, np.ones(3)),
            ValueError,
        ),
        ErrorCase(
            "ARange/int64/zero-step",
            _graph(lambda T, n: T.arange(0, 5, n), iscalar),
            _values(np.array(0)),
            ValueError,
        ),
        ErrorCase(
            "Subtensor/float64/index-array-out-of-bounds",
            _graph(lambda T, x, i: x[i], mat, ivec),
            _values(ones, [0, 3]),
            IndexError,
        ),
        ErrorCase(
            "Subtensor/float64/negative-index-out-of-bounds",
            _graph(lambda T, x, i: x[i], mat, ivec),
            _values(ones, [-4]),
            IndexError,
        ),
        ErrorCase(
            "Subtensor/float64/scalar-index-out-of-bounds",
            _graph(lambda T, x, i: x[i], mat, iscalar),
            _values(ones, np.array(3)),
            IndexError,
        ),
        ErrorCase(
            "IncSubtensor/float64/index-out-of-bounds",
            _graph(lambda T, x, i: T.inc_subtensor(x[i], 1.0), mat, ivec),
            _values(ones, [5]),
            IndexError,
        ),
        ErrorCase(
            "IncSubtensor/float64/value-does-not-broadcast",
            _graph(lambda T, x, y: T.inc_subtensor(x[1:4], y), vec, vec),
            _values(np.arange(5.0), [10.0, 20.0]),
            ValueError,
        ),
        ErrorCase(
            "IncSubtensor/float64/set-row-does-not-broadcast",
            _graph(lambda T, x, y: T.set_subtensor(x[0], y), mat, vec),
            _values(ones, [1.0, 2.0, 3.0]),
            ValueError,
        ),
        ErrorCase(
            "Eye/float64/negative-size",
            _graph(lambda T, n: T.eye(n), iscalar),
            _values(np.array(-2)),
            ValueError,
        ),
        ErrorCase(
            "elemwise.pow/int64/minus-one-constant",
            _graph(lambda T, x: x**-1, ivec),
            _values([2, 1, -1]),
            ValueError,
        ),
        ErrorCase(
            "Join/float64/lengths-differ",
            _graph(lambda T, x, y: T.concatenate([x, y], axis=1), mat, mat),
            _values(ones, np.ones((2, 2))),
            ValueError,
        ),
    ]
