"""Helpers: compile a graph on the jax and on the numpy backend and compare the results."""

from __future__ import annotations

import numpy as np
import pytest

import croton

#: (rtol, atol) by dtype. XLA's transcendental functions and summation order differ
#: from numpy's in the last bits; atol covers XLA flushing subnormals to zero.
TOLERANCE = {
    "float16": (2e-3, 1e-4),
    "float32": (2e-6, 1e-30),
    "float64": (1e-12, 1e-300),
    "complex64": (2e-6, 1e-30),
    "complex128": (1e-12, 1e-300),
}


def assert_same(got, want, rtol: float | None = None, atol: float | None = None) -> None:
    """``got`` (jax backend) equals ``want`` (numpy backend): type, dtype, shape, value.

    nan and inf must be at the same places; floats agree within the dtype's tolerance,
    everything else exactly.
    """
    assert isinstance(got, np.ndarray), type(got)
    want = np.asarray(want)
    assert got.dtype == want.dtype, f"dtype {got.dtype}, the numpy backend gives {want.dtype}"
    assert got.shape == want.shape, f"shape {got.shape}, the numpy backend gives {want.shape}"
    if want.dtype.kind in "fc":
        default_rtol, default_atol = TOLERANCE[want.dtype.name]
        np.testing.assert_allclose(
            got,
            want,
            rtol=default_rtol if rtol is None else rtol,
            atol=default_atol if atol is None else atol,
            equal_nan=True,
        )
    else:
        np.testing.assert_array_equal(got, want)


class Pair:
    """One graph compiled on the jax backend and on the numpy reference backend."""

    def __init__(self, inputs, outputs, **kwargs):
        self.jax = croton.function(inputs, outputs, backend="jax", **kwargs)
        self.numpy = croton.function(inputs, outputs, backend="numpy", **kwargs)

    def check(self, *values, rtol=None, atol=None):
        """Call both on ``values``; the results must agree. Returns the jax results."""
        with np.errstate(all="ignore"):
            want = self.numpy(*values)
        got = self.jax(*values)
        if isinstance(want, list):
            assert isinstance(got, list) and len(got) == len(want)
            for g, w in zip(got, want, strict=True):
                assert_same(g, w, rtol, atol)
        else:
            assert_same(got, want, rtol, atol)
        return got

    def check_raises(self, error_type, *values):
        """Both backends raise ``error_type`` on ``values``."""
        with np.errstate(all="ignore"), pytest.raises(error_type):
            self.numpy(*values)
        with pytest.raises(error_type) as info:
            self.jax(*values)
        return info.value

    def op_classes(self) -> set[type]:
        """The op classes in the graph compiled for jax."""
        return {type(node.op) for node in self.jax.maker.fgraph.apply_nodes}


@pytest.fixture
def pair():
    """``pair(inputs, outputs, **function_kwargs)`` -> a `Pair`."""
    return Pair
