"""The cupy backend against the GPU's own limits (issue: the CuPy backend).

Two targets of the backend are relative to the device rather than to another library:

- a fused elementwise chain on 1e8 float32 elements reaches at least 80% of the device's
  measured copy bandwidth (`ChainBandwidth`: the chain's bandwidth, the copy's, and their
  ratio, timed with CUDA events);
- the MLP training step (784-256-10, batch 256, float32) runs no slower than the same step
  written with CuPy by hand (`MLPStepByHand`, next to ``workloads.MLPTrainingStep``).

Without a GPU every benchmark here is n/a (``NotImplementedError`` in ``setup``).
"""

from __future__ import annotations

import numpy as np

import croton.tensor as T

from .workloads import _require, chain, compiled, mlp_data

#: elements of the chain's float32 vectors (400 MB each)
CHAIN_SIZE = 10**8


def _median_milliseconds(cupy, call, repeat: int = 20) -> float:
    """The median device time of ``call()``, measured with CUDA events after a warm-up."""
    call()
    times = []
    for _ in range(repeat):
        start, end = cupy.cuda.Event(), cupy.cuda.Event()
        start.record()
        call()
        end.record()
        end.synchronize()
        times.append(cupy.cuda.get_elapsed_time(start, end))
    return float(np.median(times))


class ChainBandwidth:
    """``chain(x, y)`` on float32 vectors of 1e8 elements: reads 8 bytes, writes 4 per element."""

    params = ["cupy"]
    param_names = ["backend"]
    timeout = 600

    def setup(self, backend):
        _require(backend)
        import cupy

        self.cupy = cupy
        rng = cupy.random.default_rng(0)
        self.x = rng.standard_normal(CHAIN_SIZE, dtype=cupy.float32)
        self.y = rng.standard_normal(CHAIN_SIZE, dtype=cupy.float32)
        self.copy = cupy.empty_like(self.x)
        x, y = T.fvectors("x", "y")
        self.f = compiled([x, y], chain(x, y, T), backend).function
        self.chain_ms = _median_milliseconds(cupy, lambda: self.f(self.x, self.y))
        self.copy_ms = _median_milliseconds(cupy, lambda: cupy.copyto(self.copy, self.x))

    def track_chain_gb_per_s(self, backend):
        return 3 * self.x.nbytes / (self.chain_ms * 1e-3) / 1e9

    track_chain_gb_per_s.unit = "GB/s"

    def track_copy_gb_per_s(self, backend):
        return 2 * self.x.nbytes / (self.copy_ms * 1e-3) / 1e9

    track_copy_gb_per_s.unit = "GB/s"

    def track_fraction_of_copy_bandwidth(self, backend):
        """The target is 0.8 or more."""
        return self.track_chain_gb_per_s(backend) / self.track_copy_gb_per_s(backend)

    track_fraction_of_copy_bandwidth.unit = "fraction"


def mlp_step_by_hand(xp, params, x, labels, rate):
    """One SGD step of the 784-256-10 MLP written with array functions only (``xp`` is
    ``cupy``, or ``numpy`` to check it): the cost, with ``params`` updated in place.

    The same graph as ``workloads.mlp_step``: relu hidden layer, softmax output,
    mean categorical cross-entropy.
    """
    W1, b1, W2, b2 = params
    rows = xp.arange(x.shape[0])
    pre_activation = x @ W1 + b1
    hidden = xp.maximum(pre_activation, 0)
    logits = hidden @ W2 + b2
    logits -= logits.max(axis=1, keepdims=True)
    probabilities = xp.exp(logits)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    cost = -xp.log(probabilities[rows, labels]).mean()
    grad_logits = probabilities
    grad_logits[rows, labels] -= 1
    grad_logits /= x.shape[0]
    grad_hidden = (grad_logits @ W2.T) * (pre_activation > 0)
    grads = [x.T @ grad_hidden, grad_hidden.sum(axis=0), hidden.T @ grad_logits]
    grads.append(grad_logits.sum(axis=0))
    for param, grad in zip(params, grads):
        param -= rate * grad
    return cost


class MLPStepByHand:
    """The MLP step of ``workloads.MLPTrainingStep`` written with CuPy by hand."""

    params = ["cupy"]
    param_names = ["backend"]
    timeout = 300

    def setup(self, backend):
        _require(backend)
        import cupy

        self.cupy = cupy
        values, data, labels = mlp_data()
        self.params = [cupy.asarray(v) for v in values]
        self.data, self.labels = cupy.asarray(data), cupy.asarray(labels)
        self.rate = np.float32(0.1)
        self.time_step(backend)

    def time_step(self, backend):
        mlp_step_by_hand(self.cupy, self.params, self.data, self.labels, self.rate)
        self.cupy.cuda.get_current_stream().synchronize()
