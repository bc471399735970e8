"""A recurrent layer written with scan, forward and forward + gradient, on every backend.

``h[t] = tanh(x[t] W + h[t-1] U + b)`` over 100 steps, a batch of 32, 64 inputs and
128 hidden units in float32: per step two small matrix products and an elementwise
tail, so the cost of running each step (a Python loop or a compiled one) shows.
"""

from __future__ import annotations

import numpy as np

import croton
import croton.tensor as T

from .workloads import BACKENDS, _require, compiled, on_device

STEPS, BATCH, INPUTS, HIDDEN = 100, 32, 64, 128


def rnn_values(seed: int = 0) -> list[np.ndarray]:
    """Inputs, weights, bias and initial state of the layer, float32."""
    rng = np.random.default_rng(seed)
    values = [
        rng.normal(size=(STEPS, BATCH, INPUTS)),
        rng.normal(size=(INPUTS, HIDDEN)) / np.sqrt(INPUTS),
        rng.normal(size=(HIDDEN, HIDDEN)) / np.sqrt(HIDDEN),
        np.zeros(HIDDEN),
        np.zeros((BATCH, HIDDEN)),
    ]
    return [v.astype("float32") for v in values]


def rnn_graph(theano=croton, tensor=T):
    """The layer's inputs, its states and the gradient of ``sum(states**2)``, built with
    Theano's API from ``theano`` and its ``tensor`` module (croton's, or PyTensor's)."""
    X = tensor.tensor3("X", dtype="float32")
    W, U = tensor.fmatrix("W"), tensor.fmatrix("U")
    b, h0 = tensor.fvector("b"), tensor.fmatrix("h0")
    states, _ = theano.scan(
        lambda x, h: tensor.tanh(tensor.dot(x, W) + tensor.dot(h, U) + b),
        sequences=X,
        outputs_info=h0,
    )
    gradients = theano.grad((states**2).sum(), [W, U, b, h0])
    return [X, W, U, b, h0], states, gradients


class RecurrentLayer:
    params = BACKENDS[1:] + ["jax"]
    param_names = ["backend"]
    timeout = 600

    def setup(self, backend):
        _require(backend)
        inputs, states, gradients = rnn_graph()
        self.values = [on_device(backend, v) for v in rnn_values()]
        self.forward = compiled(inputs, states, backend)
        self.both = compiled(inputs, [states, *gradients], backend)
        self.forward(*self.values)  # compiled and warm
        self.both(*self.values)

    def time_forward(self, backend):
        self.forward(*self.values)

    def time_forward_and_gradient(self, backend):
        self.both(*self.values)
