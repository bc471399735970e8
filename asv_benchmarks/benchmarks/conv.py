"""conv2d forward and forward + gradient on every backend and jax.

A float32 batch of 32 grey 28x28 images through 16 filters of 3x3 (a first layer of a
small convolutional network), and a second layer of 16 -> 32 channels on 14x14 maps
("half" padding) where the sums are long enough for im2col and BLAS.
"""

from __future__ import annotations

import numpy as np

import croton
import croton.tensor as T

from .workloads import BACKENDS, _require, compiled, on_device

#: layer name -> (input shape, filter shape, border_mode)
LAYERS = {
    "32x1x28x28-16x1x3x3": ((32, 1, 28, 28), (16, 1, 3, 3), "valid"),
    "32x16x14x14-32x16x3x3-half": ((32, 16, 14, 14), (32, 16, 3, 3), "half"),
}


def conv_data(layer: str):
    """The input and filters of ``layer``, float32."""
    input_shape, filter_shape, _ = LAYERS[layer]
    rng = np.random.default_rng(4)
    x = rng.normal(size=input_shape).astype("float32")
    w = (rng.normal(size=filter_shape) * 0.1).astype("float32")
    return x, w


def conv_functions(backend: str, layer: str):
    """``(forward, forward_and_gradient)`` on a croton backend: ``conv2d(x, w)``, and the
    output with the gradients of ``sum(conv2d(x, w) ** 2)`` wrt the input and the filters.

    On cupy they return device arrays once the device has finished (`compiled`)."""
    border_mode = LAYERS[layer][2]
    x = T.tensor("float32", shape=(None,) * 4, name="x")
    w = T.tensor("float32", shape=(None,) * 4, name="w")
    out = T.nnet.conv2d(x, w, border_mode=border_mode)
    gx, gw = croton.grad((out**2).sum(), [x, w])
    forward = compiled([x, w], out, backend)
    both = compiled([x, w], [out, gx, gw], backend)
    return forward, both


class Conv2d:
    params = (BACKENDS[1:] + ["jax"], list(LAYERS))
    param_names = ["backend", "layer"]
    timeout = 600

    def setup(self, backend, layer):
        _require(backend)
        self.x, self.w = (on_device(backend, a) for a in conv_data(layer))
        self.forward, self.both = conv_functions(backend, layer)
        self.forward(self.x, self.w)  # compiled and warm
        self.both(self.x, self.w)

    def time_forward(self, backend, layer):
        self.forward(self.x, self.w)

    def time_forward_and_gradient(self, backend, layer):
        self.both(self.x, self.w)
