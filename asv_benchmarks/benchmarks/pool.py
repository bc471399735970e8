"""pool_2d forward and forward + gradient on every backend, next to numpy eager.

A float32 batch of 32 images of 16 channels, 64 by 64: 2x2 max pooling (the usual
convolutional-network layer) and 3x3 windows with stride 2 and padding 1 averaged
(overlapping windows, the costlier geometry).
"""

from __future__ import annotations

import numpy as np

import croton
import croton.tensor as T
from croton.tensor.signal.pool import pool_2d

from .workloads import BACKENDS, _require, compiled, on_device

SHAPE = (32, 16, 64, 64)
GEOMETRIES = {
    "max-2x2": {"ws": (2, 2), "mode": "max"},
    "average-3x3-stride2-pad1": {
        "ws": (3, 3),
        "stride": (2, 2),
        "pad": (1, 1),
        "mode": "average_exc_pad",
    },
}


def _eager_max_2x2(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def _eager_max_2x2_with_gradient(x, weights):
    n, c, h, w = x.shape
    windows = x.reshape(n, c, h // 2, 2, w // 2, 2)
    pooled = windows.max(axis=(3, 5), keepdims=True)
    grad = (windows == pooled) * weights[:, :, :, None, :, None]
    return pooled[:, :, :, 0, :, 0], grad.reshape(x.shape)


class Pool2d:
    params = (BACKENDS + ["jax"], list(GEOMETRIES))
    param_names = ["backend", "geometry"]
    timeout = 300

    def setup(self, backend, geometry):
        _require(backend)
        rng = np.random.default_rng(0)
        self.x = rng.normal(size=SHAPE).astype("float32")
        options = GEOMETRIES[geometry]
        if backend == "numpy-eager":
            if geometry != "max-2x2":
                raise NotImplementedError("numpy eager is measured on 2x2 max pooling only")
            self.weights = rng.normal(size=(*SHAPE[:2], SHAPE[2] // 2, SHAPE[3] // 2))
            self.weights = self.weights.astype("float32")
            self.forward = _eager_max_2x2
            self.both = _eager_max_2x2_with_gradient
        else:
            x = T.tensor("float32", shape=(None,) * 4, name="x")
            w = T.tensor("float32", shape=(None,) * 4, name="w")
            pooled = pool_2d(x, ignore_border=True, **options)
            grad = croton.grad((pooled * w).sum(), x)
            self.forward = compiled([x], pooled, backend)
            self.both = compiled([x, w], [pooled, grad], backend)
            self.x = on_device(backend, self.x)
            self.weights = rng.normal(size=self.forward(self.x).shape).astype("float32")
            self.weights = on_device(backend, self.weights)
        self.forward(self.x)  # compiled and warm
        self.both(self.x, self.weights)

    def time_forward(self, backend, geometry):
        self.forward(self.x)

    def time_forward_and_gradient(self, backend, geometry):
        self.both(self.x, self.weights)
