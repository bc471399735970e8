"""Theano's older pooling name, ``croton.tensor.signal.downsample.max_pool_2d``."""

from __future__ import annotations

import numpy as np

import croton
import croton.tensor as T
from croton.tensor.signal import downsample


def test_max_pool_2d_is_pool_2d_under_the_old_argument_names():
    x = T.dtensor4("x")
    value = np.random.default_rng(0).normal(size=(2, 3, 5, 6))
    old = downsample.max_pool_2d(x, (2, 3), ignore_border=True, st=(1, 2), mode="sum")
    f = croton.function([x], old, backend="numpy")
    expected = np.zeros((2, 3, 4, 2))
    for i in range(4):
        for j in range(2):
            expected[:, :, i, j] = value[:, :, i : i + 2, 2 * j : 2 * j + 3].sum(axis=(2, 3))
    np.testing.assert_allclose(f(value), expected)
    g = croton.function(
        [x], downsample.max_pool_2d(x, (2, 2), ignore_border=False), backend="numpy"
    )
    padded = np.full((2, 3, 6, 6), -np.inf)
    padded[:, :, :5] = value
    np.testing.assert_allclose(g(value), padded.reshape(2, 3, 3, 2, 3, 2).max(axis=(3, 5)))
