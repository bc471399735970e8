"""Random draws on the numba backend: numpy's numbers, jitted for uniform draws."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.tensor.shared_randomstreams import RandomStreams


def _pair(build):
    """The same graph from two streams of one seed, on numba and on numpy."""
    return [croton.function(*build(RandomStreams(seed=3)), backend=b) for b in ("numba", "numpy")]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_uniform_is_jitted_and_gives_numpys_numbers(dtype):
    n = T.lscalar("n")

    def build(srng):
        # the product makes the segment allow contraction: the draw must still round
        # low + span * u as numpy does
        return [n], srng.uniform((n, 3), low=-2.0, high=5.0, dtype=dtype) * 2

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        on_numba, on_numpy = _pair(build)
    assert "m_hi" in on_numba.source()  # the generator's step is in the generated code
    for size in (500, 0, 7):
        got, expected = on_numba(size), on_numpy(size)
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


def test_uniform_errors_are_numpys():
    f = croton.function([], RandomStreams(1).uniform((2,), low=1.0, high=0.0), backend="numba")
    with pytest.raises(ValueError, match="high - low < 0"):
        f()
    g = croton.function([], RandomStreams(1).uniform((2,), high=np.inf), backend="numba")
    with pytest.raises(OverflowError, match="exceeds valid bounds"):
        g()


def test_other_draws_run_numpys_generator_without_warning():
    def build(srng):
        x = T.dvector("x")
        return [x], [x * srng.normal((4,)), srng.uniform(low=x, high=x + 1)]

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        on_numba, on_numpy = _pair(build)
    values = np.arange(4.0)
    for got, expected in zip(on_numba(values), on_numpy(values)):
        np.testing.assert_array_equal(got, expected)
