"""The registry of jax rules and what the rules share.

Besides computing its output, a kernel may say how it must be run, with attributes:

``concrete_inputs``
    Input positions whose *values* the kernel needs while tracing (a shape, a slice
    bound, a boolean mask): jit cannot trace an output shape that depends on values.
``gives_concrete``
    The output is known while tracing whatever the inputs (`Shape`).
``runs_eagerly``
    The kernel cannot be traced at all and runs outside ``jax.jit`` on concrete arrays.
"""

from __future__ import annotations

import numpy as np

from croton.backend import LoweringRegistry
from croton_jax.lazy_jax import is_traced

registry = LoweringRegistry("jax")
lowers = registry.lowers


def out_dtype(node, i: int = 0) -> np.dtype:
    """The dtype of output ``i`` of ``node``."""
    return np.dtype(node.outputs[i].type.dtype)


def needs_concrete(kernel, positions):
    """Mark ``kernel`` as needing the values of the inputs at ``positions`` while tracing."""
    kernel.concrete_inputs = tuple(positions)
    return kernel


def concrete(value, what: str) -> np.ndarray:
    """``value`` as a numpy array; it must not be traced (the planner sees to that)."""
    if is_traced(value):
        raise TypeError(
            f"{what} must be known when the jax backend traces the function, but it is "
            "computed from traced values (this is a bug in croton-jax's planner)"
        )
    return np.asarray(value)


def single_output(kernel, node):
    """Kernels return a tuple only for nodes with several outputs."""
    if len(node.outputs) > 1:
        return kernel

    def first(*args):
        return kernel(*args)[0]

    for attribute in ("concrete_inputs", "gives_concrete", "runs_eagerly"):
        if hasattr(kernel, attribute):
            setattr(first, attribute, getattr(kernel, attribute))
    return first


def within(index, length: int):
    """``-length <= index < length`` without wrapping unsigned indices (jax would cast -length)."""
    if isinstance(index, int):
        return -length <= index < length
    if index.dtype == np.uint64:
        return index < np.uint64(length)
    wide = index.astype("int64")
    return (wide >= -length) & (wide < length)
